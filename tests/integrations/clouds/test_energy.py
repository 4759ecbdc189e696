"""The energy cloud: bills, use and account checks of the three utilities, through the twin's OAuth-like token."""

from datetime import date, datetime, timedelta

import pytest

from integrations.clouds.energy import sandbox as twin
from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_water_bills_of_a_demo_citizen_are_normalized(connect):
    answer = connect("energy").run("water_bills", {"account_no": "10203041"})
    result = answer.result
    assert result["utility"] == "water"
    assert result["company"] == "枣庄市自来水公司(示例)"
    assert result["holder"] == "张*"
    assert "光明路" in result["address"] and not any(c.isdigit() for c in result["address"])
    assert result["usage"]["unit"] == "吨" and isinstance(result["usage"]["amount"], float)
    bills = result["bills"]
    assert len(bills) == 6
    assert [b["period"] for b in bills] == sorted((b["period"] for b in bills), reverse=True)
    assert bills[0]["period"] == result["usage"]["period"]
    assert bills[0]["bill_id"] == f"SW10203041{bills[0]['period'].replace('-', '')}"
    assert all(isinstance(b["amount_fen"], int) and b["amount_fen"] > 0 for b in bills)
    date.fromisoformat(bills[0]["due_date"])
    owing = [b for b in bills if b["status"] != "paid"]
    assert len(owing) == 2  # this account leaves its two latest bills unpaid
    assert result["arrears_fen"] == sum(b["amount_fen"] + b["late_fee_fen"] for b in owing)
    assert answer.as_of.isoformat().endswith("+08:00")
    assert datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(minutes=5)


def test_power_and_gas_bills_and_overdue_late_fees(connect):
    connector = connect("energy")
    power = connector.run("power_bills", {"account_no": "3700012345"}).result
    assert power["usage"]["unit"] == "千瓦时"
    assert len([b for b in power["bills"] if b["status"] != "paid"]) == 3
    overdue = [b for b in power["bills"] if b["status"] == "overdue"]
    assert overdue and all(b["late_fee_fen"] > 0 for b in overdue)
    assert all(b["late_fee_fen"] == 0 for b in power["bills"] if b["status"] == "paid")
    gas = connector.run("gas_bills", {"account_no": "66001234567"}).result
    assert gas["usage"]["unit"] == "立方米"
    assert gas["arrears_fen"] == 0 and {b["status"] for b in gas["bills"]} == {"paid"}


def test_bills_are_steady(connect):
    connector = connect("energy")
    first = connector.run("power_bills", {"account_no": "3700023456"}).result
    assert connector.run("power_bills", {"account_no": "3700023456"}).result == first


def test_an_account_ending_in_zero_does_not_exist(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("energy").run("water_bills", {"account_no": "10203040"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "户号不存在，请核对后重新输入"


def test_a_number_of_the_wrong_length_never_reaches_the_company(connect):
    import marshmallow as ma

    with pytest.raises(ma.ValidationError):
        connect("energy").run("gas_bills", {"account_no": "10203041"})
    with pytest.raises(ma.ValidationError):
        connect("energy").run("usage", {"utility": "power", "account_no": "10203041"})


def test_usage_follows_the_twins_pages(connect):
    answer = connect("energy").run("usage", {"utility": "gas", "account_no": "66001234567"})
    months = answer.result["months"]
    assert len(months) == 12  # three pages of five
    periods = [m["period"] for m in months]
    assert periods == sorted(periods, reverse=True) and len(set(periods)) == 12
    assert all(m["unit"] == "立方米" and isinstance(m["amount_fen"], int) for m in months)
    assert answer.result["utility"] == "gas"


def test_usage_of_an_unknown_account(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("energy").run("usage", {"utility": "power", "account_no": "3700012340"})
    assert refused.value.reason == "not_found"


def test_the_company_checks_the_holders_name(connect):
    connector = connect("energy")
    verified = connector.run("verify_power_account", {"account_no": "3700012345", "holder_name": "张伟"})
    assert verified.result == {
        "account_no": "3700012345",
        "holder": "张*",
        "label": "市中区光明路**号院*号楼*单元***室",
    }
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("verify_water_account", {"account_no": "10203041", "holder_name": "王芳"})
    assert refused.value.reason == "forbidden"
    assert refused.value.public_message == "户名与户号不一致"
    with pytest.raises(UpstreamRejected) as missing:
        connector.run("verify_gas_account", {"account_no": "66001234560", "holder_name": "张伟"})
    assert missing.value.reason == "not_found"


def test_the_token_is_reused_and_renewed_when_expired(connect):
    connector = connect("energy")
    before = twin.issued_tokens()
    connector.run("water_bills", {"account_no": "10203041"})
    connector.run("power_bills", {"account_no": "3700012345"})
    assert twin.issued_tokens() == before + 1
    twin.expire_tokens()
    assert connector.run("gas_bills", {"account_no": "66001234567"}).result["holder"] == "张*"
    assert twin.issued_tokens() == before + 2


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("energy", app_secret="not-the-energy-secret").run("water_bills", {"account_no": "10203041"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    connector = connect("energy")
    connector.run("water_bills", {"account_no": "10203041"})  # holds a token: the garbage hits the bill query
    fault_once("energy")
    with pytest.raises(UpstreamBadResponse):
        connector.run("water_bills", {"account_no": "10203041"})


def test_a_token_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("energy")
    with pytest.raises(UpstreamBadResponse):
        connect("energy").run("usage", {"utility": "water", "account_no": "10203041"})
