"""The work safety cloud: certificates come out normalized from the twin's camelCase, yyyy/MM/dd and HTTP 4xx."""

from datetime import date, datetime, timedelta

import marshmallow as ma
import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_a_certificate_is_normalized(connect):
    answer = connect("work_safety").run("certificate", {"cert_no": "TZ2026004561"})
    cert = answer.result
    assert cert["cert_no"] == "TZ2026004561"
    assert cert["holder"] == "张*"  # masked: the register holds the full name
    assert (cert["operation_type"], cert["operation_item"]) == ("电工作业", "低压电工作业")
    assert (cert["issued_on"], cert["review_due"], cert["valid_until"]) == ("2026-03-18", "2029-03-18", "2032-03-17")
    assert (cert["status"], cert["status_name"]) == ("valid", "有效")
    assert answer.as_of.isoformat().endswith("+08:00")
    assert abs(datetime.now(answer.as_of.tzinfo) - answer.as_of) < timedelta(minutes=1)


def test_an_old_certificate_has_expired_and_a_withdrawn_one_is_revoked(connect):
    connector = connect("work_safety")
    old = connector.run("certificate", {"cert_no": "TZ2015003217"}).result
    assert date.fromisoformat(old["valid_until"]) < date.today()
    assert (old["status"], old["status_name"]) == ("expired", "已过期")
    assert old["holder"].endswith("*")
    withdrawn = connector.run("certificate", {"cert_no": "TZ2023002469"}).result
    assert (withdrawn["status"], withdrawn["operation_type"]) == ("revoked", "焊接与热切割作业")


def test_unknown_certificate_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("work_safety").run("certificate", {"cert_no": "TZ2026004560"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到该证书信息"


@pytest.mark.parametrize("number", ["TZ202600456", "tz2026004561", "TS2026004561", "TZ2026-04561"])
def test_malformed_certificate_numbers_never_reach_the_department(connect, number):
    with pytest.raises(ma.ValidationError):
        connect("work_safety").run("certificate", {"cert_no": number})


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("work_safety", app_secret="not-the-work-safety-secret").run("certificate", {"cert_no": "TZ2026004561"})
    assert refused.value.public_message is None
    assert refused.value.status == 401


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("work_safety")
    connector.run("certificate", {"cert_no": "TZ2026004561"})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("certificate", {"cert_no": "TZ2026004561"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("work_safety")
    with pytest.raises(UpstreamBadResponse):
        connect("work_safety").run("certificate", {"cert_no": "TZ2026004561"})
