"""The transport cloud: a token kept and renewed, MyBatis-style pages, epoch-millis GPS times, normalized."""

import hashlib
import hmac
import time
from datetime import datetime, timedelta

import pytest
import requests

from integrations.clouds.transport import sandbox as twin
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.sandbox import keyring


def test_lines_follow_the_twins_pages(connect):
    answer = connect("transport").run("lines", {})
    lines = {line["line"]: line for line in answer.result["lines"]}
    assert len(lines) == 9  # two pages of six
    b1 = lines["B1"]
    assert b1 == {
        "line": "B1",
        "name": "B1路",
        "type": "brt",
        "first_bus": "06:00",
        "last_bus": "21:30",
        "fare_fen": 200,
        "from": "枣庄学院",
        "to": "火车站",
    }
    assert lines["101"]["type"] == "bus" and lines["101"]["fare_fen"] == 100
    assert {f"B{n}" for n in range(1, 7)} <= set(lines)
    assert answer.as_of.isoformat().endswith("+08:00")


def test_lines_by_stop_name_and_a_keyword_nobody_serves(connect):
    connector = connect("transport")
    through = connector.run("lines", {"keyword": "光明广场"}).result["lines"]
    assert {"B1", "B2", "101"} <= {line["line"] for line in through}
    assert "202" not in {line["line"] for line in through}
    assert connector.run("lines", {"keyword": "机场"}).result["lines"] == []


def test_stops_of_a_line_both_ways(connect):
    result = connect("transport").run("stops", {"line": "B1"}).result
    up, down = result["directions"]
    assert (up["direction"], up["from"], up["to"]) == ("up", "枣庄学院", "火车站")
    assert [stop["name"] for stop in down["stops"]] == [stop["name"] for stop in reversed(up["stops"])]
    assert [stop["order"] for stop in up["stops"]] == list(range(1, len(up["stops"]) + 1))
    assert "光明广场" in [stop["name"] for stop in up["stops"]]


def test_unknown_line_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("transport").run("stops", {"line": "B10"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "线路不存在")


def test_arrivals_at_a_stop_in_both_directions(connect):
    answer = connect("transport").run("arrivals", {"line": "B1", "stop": "光明广场"})
    result = answer.result
    assert (result["line"], result["stop"]) == ("B1", "光明广场")
    assert [(d["direction"], d["towards"]) for d in result["directions"]] == [("up", "火车站"), ("down", "枣庄学院")]
    for direction in result["directions"]:
        assert 1 <= len(direction["buses"]) <= 3
        bus = direction["buses"][0]
        assert bus["vehicle"].startswith("鲁D")
        assert bus["eta_minutes"] >= 1 and bus["distance_m"] >= 0
        assert [b["stops_away"] for b in direction["buses"]] == sorted(b["stops_away"] for b in direction["buses"])
    assert answer.as_of.isoformat().endswith("+08:00")
    assert timedelta(0) <= datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(minutes=2)


def test_arrivals_for_a_stop_the_line_does_not_serve(connect):
    connector = connect("transport")
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("arrivals", {"line": "B1", "stop": "台儿庄古城"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "该线路无此站点")
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("arrivals", {"line": "B10", "stop": "光明广场"})
    assert refused.value.reason == "not_found"


def test_inputs_are_checked_before_the_department_sees_them(connect):
    import marshmallow as ma

    with pytest.raises(ma.ValidationError):
        connect("transport").run("stops", {"line": "b1; drop"})


def test_one_token_serves_many_calls_and_an_expired_one_is_renewed(connect):
    connector = connect("transport")
    connector.run("stops", {"line": "K3"})
    connector.run("stops", {"line": "202"})
    assert twin.tokens_issued() == 1
    twin.expire_tokens()
    assert connector.run("stops", {"line": "K3"}).result["line"] == "K3"
    assert twin.tokens_issued() == 2


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("transport", app_secret="not-the-transport-secret").run("stops", {"line": "B1"})
    assert refused.value.public_message is None


def test_a_replayed_token_request_is_refused(sandbox_url):
    key, stamp, nonce = keyring.cloud_app_key("transport"), str(int(time.time() * 1000)), "replayed-nonce-1"
    mac = hmac.new(keyring.cloud_app_secret("transport").encode(), f"{key}{stamp}{nonce}".encode(), hashlib.sha256)
    payload = {"appKey": key, "timestamp": stamp, "nonce": nonce, "signature": mac.hexdigest()}
    url = f"{sandbox_url}/transport/openapi/auth/accessToken"
    assert requests.post(url, json=payload, timeout=5).json()["resultCode"] == "0000"
    again = requests.post(url, json=payload, timeout=5)
    assert (again.status_code, again.json()["resultCode"]) == (401, "4013")


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    connector = connect("transport")
    connector.run("stops", {"line": "B2"})  # the token first, so the garbage lands on the query itself
    fault_once("transport")
    with pytest.raises(UpstreamBadResponse):
        connector.run("arrivals", {"line": "B2", "stop": "光明广场"})
