"""The tourism cloud: X-Lyj signed headers, pinyin field names and slash-dated counts come out normalized."""

from datetime import datetime, timedelta

import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_spots_are_normalized(connect):
    answer = connect("tourism").run("spots", {})
    spots = {spot["spot"]: spot for spot in answer.result["spots"]}
    assert len(spots) == 7
    assert spots["tezgc"] == {
        "spot": "tezgc",
        "name": "台儿庄古城",
        "level": "5A",
        "district": "370405",
        "district_name": "台儿庄区",
        "opening_hours": "08:00-22:00",
        "ticket_price_fen": 16000,
    }
    assert spots["mzjng"]["ticket_price_fen"] == 0 and spots["mzjng"]["level"] == "4A"
    assert answer.as_of.isoformat().endswith("+08:00")
    assert abs(datetime.now(answer.as_of.tzinfo) - answer.as_of) < timedelta(minutes=1)


def test_spot_status_counts_visitors_now(connect):
    answer = connect("tourism").run("spot_status", {"spot": "tezgc"})
    status = answer.result
    assert (status["spot"], status["name"], status["capacity"]) == ("tezgc", "台儿庄古城", 40000)
    assert status["opening_hours"] == "08:00-22:00"
    assert isinstance(status["open_now"], bool)
    assert 0 <= status["visitors_now"] <= status["capacity"] * 1.2
    if not status["open_now"]:
        assert status["visitors_now"] == 0
    assert status["load_percent"] == round(100 * status["visitors_now"] / status["capacity"])
    expected = "comfortable" if status["load_percent"] < 50 else "busy" if status["load_percent"] < 80 else "crowded"
    assert status["crowding"] == expected
    assert status["crowding_label"] == {"comfortable": "舒适", "busy": "较拥挤", "crowded": "拥挤"}[expected]
    # counted every five minutes, in Beijing time
    assert answer.as_of.minute % 5 == 0 and answer.as_of.isoformat().endswith("+08:00")
    assert timedelta(0) <= datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(minutes=6)


def test_unknown_spot_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("tourism").run("spot_status", {"spot": "dongwuyuan"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "景区不存在")


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("tourism", app_secret="not-the-tourism-secret").run("spots", {})
    assert refused.value.public_message is None


def test_a_replayed_request_is_refused(signed_get):
    send = signed_get("tourism", "/api/v2/jq/kl", {"jqbm": "gsly"})
    assert send().json()["ret"] == 0
    again = send()
    assert (again.status_code, again.json()["ret"]) == (401, 1003)


def test_a_request_signed_six_minutes_ago_is_refused(connect, signed_six_minutes_ago):
    with pytest.raises(UpstreamRejected) as refused:
        connect("tourism").run("spots", {})
    assert refused.value.public_message is None and "1002" in refused.value.message


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("tourism")
    with pytest.raises(UpstreamBadResponse):
        connect("tourism").run("spot_status", {"spot": "tezgc"})
