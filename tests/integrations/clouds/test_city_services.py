"""The city services cloud: 12345 work orders and procedure guides, through the twin's signed headers and cursor."""

from datetime import datetime

import marshmallow as ma
import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_a_work_order_of_this_month_is_normalized(connect):
    answer = connect("city_services").run("case_progress", {"case_no": "ZZ2026112001"})
    case = answer.result
    assert case["case_no"] == "ZZ2026112001"
    assert case["category"] in {"咨询", "投诉", "建议", "求助"}
    assert case["title"] and case["handling_unit"]
    assert case["accepted_at"].startswith("2026-11-") and case["accepted_at"].endswith("+08:00")
    steps = case["steps"]
    assert steps[0]["at"] == case["accepted_at"] and steps[0]["unit"] == "枣庄市12345政务服务便民热线"
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    if case["status"] in {"replied", "closed"}:
        assert datetime.fromisoformat(case["replied_at"]) > datetime.fromisoformat(case["accepted_at"])
    else:
        assert case["replied_at"] is None
    assert answer.as_of.isoformat().endswith("+08:00")


def test_an_old_work_order_is_answered_and_closed(connect):
    case = connect("city_services").run("case_progress", {"case_no": "ZZ2025060123"}).result
    assert (case["status"], case["status_name"]) == ("closed", "已回访")
    assert case["replied_at"].endswith("+08:00") and len(case["steps"]) == 5


def test_a_work_order_ending_in_zero_or_not_accepted_yet_is_unknown(connect):
    connector = connect("city_services")
    for case_no in ("ZZ2026112000", "ZZ2099010001"):
        with pytest.raises(UpstreamRejected) as refused:
            connector.run("case_progress", {"case_no": case_no})
        assert refused.value.reason == "not_found"
        assert refused.value.public_message == "未查询到该工单信息"


def test_a_malformed_work_order_number_never_reaches_the_hotline(connect):
    with pytest.raises(ma.ValidationError):
        connect("city_services").run("case_progress", {"case_no": "CG2026112001"})


def test_a_guide_is_normalized(connect):
    answer = connect("city_services").run("procedure_guide", {"keyword": "身份证换领"})
    assert answer.result["keyword"] == "身份证换领"
    assert answer.result["items"] == [
        {
            "code": "ZZ-GA-001",
            "name": "居民身份证换领",
            "department": "枣庄市公安局",
            "conditions": "本市户籍居民，居民身份证有效期满或将于三个月内期满",
            "materials": ["原居民身份证", "居民户口簿"],
            "time_limit_days": 15,
            "fee_fen": 2000,
            "where": "户籍所在地派出所户籍窗口",
            "online": False,
        }
    ]


def test_guides_follow_the_twins_cursor(connect):
    items = connect("city_services").run("procedure_guide", {"keyword": "枣庄"}).result["items"]
    assert len(items) == 16  # four pages of five at most
    assert len({item["code"] for item in items}) == 16
    on_the_spot = next(item for item in items if item["code"] == "ZZ-GJJ-001")
    assert on_the_spot["time_limit_days"] == 0 and on_the_spot["fee_fen"] == 0 and on_the_spot["online"] is True


def test_a_keyword_matching_nothing_is_an_empty_answer(connect):
    answer = connect("city_services").run("procedure_guide", {"keyword": "潜水艇驾照"})
    assert answer.result == {"keyword": "潜水艇驾照", "items": []}


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("city_services", app_secret="not-the-city-services-secret").run("procedure_guide", {"keyword": "医保"})
    assert refused.value.public_message is None


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("city_services")
    connector.run("procedure_guide", {"keyword": "医保"})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("procedure_guide", {"keyword": "医保"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("city_services")
    with pytest.raises(UpstreamBadResponse):
        connect("city_services").run("case_progress", {"case_no": "ZZ2026112001"})
