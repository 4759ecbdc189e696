"""The industry cloud: a subsidy application's progress comes out normalized from 万元, node codes and epoch seconds."""

from datetime import datetime, timedelta

import marshmallow as ma
import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_an_application_in_publicity_is_normalized(connect):
    answer = connect("industry").run("subsidy_progress", {"application_no": "JG2026000123"})
    progress = answer.result
    assert progress["enterprise"] == "枣庄鲁南精工机械有限公司"
    assert progress["project"] == "数控机床智能化生产线技术改造项目"
    assert progress["amount_requested_fen"] == 120_000_000  # 120 万元
    assert progress["amount_approved_fen"] == 96_000_000
    assert (progress["stage"], progress["stage_name"]) == ("publicity", "公示")
    steps = progress["steps"]
    assert [s["stage"] for s in steps] == ["submitted", "district_review", "city_review", "publicity"]
    moments = [datetime.fromisoformat(s["done_at"]) for s in steps]
    assert all(s["done_at"].endswith("+08:00") for s in steps)
    assert moments == sorted(moments) and moments[-1] < answer.as_of
    assert abs(datetime.now(answer.as_of.tzinfo) - answer.as_of) < timedelta(minutes=1)


def test_every_application_reads_the_same_and_rejected_ones_have_no_approved_amount(connect):
    connector = connect("industry")
    seen = set()
    for number in (f"JG20260001{n:02d}" for n in range(11, 60) if n % 10):
        progress = connector.run("subsidy_progress", {"application_no": number}).result
        seen.add(progress["stage"])
        if progress["stage"] in {"submitted", "district_review", "city_review", "rejected"}:
            assert progress["amount_approved_fen"] is None
        assert progress["steps"][-1]["stage"] == progress["stage"]
    assert {"rejected", "paid"} <= seen


def test_unknown_application_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("industry").run("subsidy_progress", {"application_no": "JG2026000120"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到该申报信息"


@pytest.mark.parametrize("number", ["JG202600012", "jg2026000123", "JX2026000123", "JG20260001234"])
def test_malformed_application_numbers_never_reach_the_department(connect, number):
    with pytest.raises(ma.ValidationError):
        connect("industry").run("subsidy_progress", {"application_no": number})


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("industry", app_secret="not-the-industry-secret").run(
            "subsidy_progress", {"application_no": "JG2026000123"}
        )
    assert refused.value.public_message is None
    assert refused.value.status == 401


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("industry")
    connector.run("subsidy_progress", {"application_no": "JG2026000123"})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("subsidy_progress", {"application_no": "JG2026000123"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("industry")
    with pytest.raises(UpstreamBadResponse):
        connect("industry").run("subsidy_progress", {"application_no": "JG2026000123"})
