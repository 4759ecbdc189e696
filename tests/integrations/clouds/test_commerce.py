"""The commerce cloud: a prepaid card merchant's filing comes out normalized from the twin's rtnCode envelope."""

from datetime import datetime, timedelta

import marshmallow as ma
import pytest

from integrations.clouds.commerce import twin_data
from integrations.errors import UpstreamBadResponse, UpstreamRejected

DEMO_MERCHANT = "91370402MA3C12345M"


def test_the_twins_merchants_have_valid_credit_codes():
    assert twin_data.check_character("91370402MA3C12345") == "M"
    assert all(twin_data.is_valid(code) for code in twin_data.MERCHANTS)
    assert not twin_data.is_valid("91370402MA3C123456")


def test_a_filed_merchant_is_normalized(connect):
    answer = connect("commerce").run("prepaid_merchant", {"credit_code": DEMO_MERCHANT})
    merchant = answer.result
    assert merchant["merchant_name"] == "枣庄悦颜美业有限公司"
    assert (merchant["credit_code"], merchant["filed"], merchant["industry"]) == (DEMO_MERCHANT, True, "美容美发")
    assert merchant["filing_no"] == "ZZYFK2024030015"
    assert merchant["custody_deposit_fen"] == 12_500_000
    assert merchant["prepaid_balance_fen"] == 9_860_050
    assert (merchant["risk_level"], merchant["risk_level_name"]) == ("none", "无风险")
    assert merchant["complaints_last_12_months"] == 0
    assert answer.as_of.isoformat().endswith("+08:00")
    assert timedelta(0) <= datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(days=1)


def test_a_merchant_selling_far_beyond_its_deposit_is_warned_of(connect):
    merchant = connect("commerce").run("prepaid_merchant", {"credit_code": "91370403MA3D456781"}).result
    assert (merchant["industry"], merchant["risk_level"]) == ("健身", "warning")
    assert merchant["prepaid_balance_fen"] > merchant["custody_deposit_fen"]


def test_a_known_merchant_that_never_filed(connect):
    merchant = connect("commerce").run("prepaid_merchant", {"credit_code": "92370402ma3g13579y"}).result
    assert (merchant["merchant_name"], merchant["filed"]) == ("枣庄市市中区洁丽洗衣店", False)
    assert merchant["filing_no"] is None and merchant["custody_deposit_fen"] is None
    assert merchant["risk_level"] is None
    assert merchant["credit_code"] == "92370402MA3G13579Y"  # typed in lower case, asked in capitals


def test_unknown_merchant_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("commerce").run("prepaid_merchant", {"credit_code": "91370402MA3C1234X0"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到该商户信息"


def test_a_wrong_check_character_is_the_departments_invalid(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("commerce").run("prepaid_merchant", {"credit_code": "91370402MA3C123456"})
    assert refused.value.reason == "invalid"
    assert refused.value.public_message == "统一社会信用代码有误"


@pytest.mark.parametrize(
    "code", ["91370402MA3C12345", "91370402MA3C12345MM", "91370402MA3C1234SM", "9137O402MA3C12345M"]
)
def test_malformed_credit_codes_never_reach_the_department(connect, code):
    with pytest.raises(ma.ValidationError):
        connect("commerce").run("prepaid_merchant", {"credit_code": code})


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("commerce", app_secret="not-the-commerce-secret").run(
            "prepaid_merchant", {"credit_code": DEMO_MERCHANT}
        )
    assert refused.value.public_message is None
    assert refused.value.status == 403


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("commerce")
    connector.run("prepaid_merchant", {"credit_code": DEMO_MERCHANT})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("prepaid_merchant", {"credit_code": DEMO_MERCHANT})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("commerce")
    with pytest.raises(UpstreamBadResponse):
        connect("commerce").run("prepaid_merchant", {"credit_code": DEMO_MERCHANT})
