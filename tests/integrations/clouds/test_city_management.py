"""The city management cloud: a case's progress through the twin's token, its codes and its times normalized."""

from datetime import datetime

import marshmallow as ma
import pytest

from integrations.clouds.city_management import sandbox as twin
from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_a_case_of_this_month_is_normalized(connect):
    answer = connect("city_management").run("case_progress", {"case_no": "CG2026110087"})
    case = answer.result
    assert case["case_no"] == "CG2026110087"
    assert case["category"] and case["category_group"]
    assert case["reported_at"].startswith("2026-11-") and case["reported_at"].endswith("+08:00")
    assert case["address"].endswith(("交叉口", "段"))
    steps = case["steps"]
    assert steps[0]["at"] == case["reported_at"] and steps[0]["unit"] == "枣庄市数字化城市管理指挥中心"
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    assert case["status"] in {"reported", "registered", "dispatched", "handling", "handled", "closed"}
    assert answer.as_of.isoformat().endswith("+08:00")


def test_an_old_case_is_closed_and_steady(connect):
    connector = connect("city_management")
    case = connector.run("case_progress", {"case_no": "CG2025030011"}).result
    assert (case["status"], case["status_name"]) == ("closed", "结案")
    assert len(case["steps"]) == 6
    assert all(datetime.fromisoformat(s["at"]).utcoffset().total_seconds() == 8 * 3600 for s in case["steps"])
    assert connector.run("case_progress", {"case_no": "CG2025030011"}).result == case


def test_a_case_ending_in_zero_or_not_reported_yet_is_unknown(connect):
    connector = connect("city_management")
    for case_no in ("CG2026110080", "CG2099010001"):
        with pytest.raises(UpstreamRejected) as refused:
            connector.run("case_progress", {"case_no": case_no})
        assert refused.value.reason == "not_found"
        assert refused.value.public_message == "未查询到该案件信息"


def test_a_malformed_case_number_never_reaches_the_department(connect):
    with pytest.raises(ma.ValidationError):
        connect("city_management").run("case_progress", {"case_no": "ZZ2026110087"})


def test_the_token_is_reused_and_renewed_when_expired(connect):
    connector = connect("city_management")
    before = twin.issued_tokens()
    connector.run("case_progress", {"case_no": "CG2026110087"})
    connector.run("case_progress", {"case_no": "CG2025030011"})
    assert twin.issued_tokens() == before + 1
    twin.expire_tokens()
    assert connector.run("case_progress", {"case_no": "CG2026110087"}).result["case_no"] == "CG2026110087"
    assert twin.issued_tokens() == before + 2


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("city_management", app_secret="not-the-city-management-secret").run(
            "case_progress", {"case_no": "CG2026110087"}
        )
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    connector = connect("city_management")
    connector.run("case_progress", {"case_no": "CG2026110087"})  # holds a token: the garbage hits the case query
    fault_once("city_management")
    with pytest.raises(UpstreamBadResponse):
        connector.run("case_progress", {"case_no": "CG2026110087"})
