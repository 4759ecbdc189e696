"""The social security cloud: a person's insurances, contributions, pension account, bills and card."""

from datetime import date, datetime, timedelta, timezone

import marshmallow as ma
import pytest

from app.identity.resident_id import make_valid
from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from integrations.connectors.base import Identity
from integrations.errors import UpstreamBadResponse, UpstreamRejected

PEOPLE = {p["name"]: Identity(p["name"], p["id_number"]) for p in (*DEMO_CITIZENS, *DEMO_RELATIVES)}
ZHANG_WEI, LI_NA, SUN_HAO, CHEN_JING = PEOPLE["张伟"], PEOPLE["李娜"], PEOPLE["孙浩"], PEOPLE["陈静"]
STRANGER = Identity("钱七", make_valid("37040219991231999"))
BEIJING = timezone(timedelta(hours=8))


def today() -> date:
    return datetime.now(BEIJING).date()  # the department's day, whatever the machine's clock zone


LAST_YEAR = today().year - 1


def test_insured_info_is_normalized(connect):
    answer = connect("social_security").run("insured_info", {}, ZHANG_WEI)
    info = answer.result
    assert info["employer"] == "枣庄鲁南机械制造有限公司"
    types = [i["type"] for i in info["insurances"]]
    assert types == ["pension", "unemployment", "medical", "work_injury", "maternity"]
    pension = info["insurances"][0]
    assert pension["type_name"] == "企业职工基本养老保险"
    assert (pension["status"], pension["status_name"]) == ("active", "参保缴费")
    assert pension["since"] == "2008-07-01"
    assert pension["base_fen"] == 650_000
    assert pension["months_paid"] > 200
    assert answer.as_of.isoformat().endswith("+08:00")
    assert abs(datetime.now(answer.as_of.tzinfo) - answer.as_of) < timedelta(minutes=5)


def test_flexible_employment_and_retirement_read_differently(connect):
    connector = connect("social_security")
    li_na = connector.run("insured_info", {}, LI_NA).result
    assert li_na["employer"] is None  # 灵活就业
    assert {i["type"]: i["status"] for i in li_na["insurances"]}["unemployment"] == "stopped"
    sun_hao = {i["type"]: i["status"] for i in connector.run("insured_info", {}, SUN_HAO).result["insurances"]}
    assert sun_hao == {"pension": "active", "medical": "suspended"}
    chen_jing = connector.run("pension_account", {}, CHEN_JING).result
    assert chen_jing["last_credit_month"] == "2022-04"  # retired: no more credits


def test_contributions_follow_the_twins_pages(connect):
    answer = connect("social_security").run("contributions", {"year": LAST_YEAR}, ZHANG_WEI)
    records = answer.result["records"]
    assert answer.result["year"] == LAST_YEAR
    assert len(records) == 60  # five insurances, twelve months: three pages of twenty
    assert len({(r["month"], r["type"]) for r in records}) == 60
    assert [r["month"] for r in records[::5]] == [f"{LAST_YEAR}-{m:02d}" for m in range(1, 13)]
    pension = records[0]
    assert pension["type"] == "pension"
    assert pension["personal_fen"] == pension["base_fen"] * 8 // 100
    assert pension["employer_fen"] == pension["base_fen"] * 16 // 100
    assert {r["status"] for r in records} == {"paid"}
    assert answer.result["personal_total_fen"] == sum(r["personal_fen"] for r in records)


def test_contributions_default_to_this_year_and_show_owed_months(connect):
    connector = connect("social_security")
    li_na = connector.run("contributions", {}, LI_NA).result
    assert li_na["year"] == today().year
    this_month = f"{today():%Y-%m}"
    assert {r["status"] for r in li_na["records"] if r["month"] == this_month} == {"owed"}
    assert {r["employer_fen"] for r in li_na["records"]} == {0}  # a flexible-employment person pays it all
    assert connector.run("contributions", {"year": 2001}, SUN_HAO).result["records"] == []


@pytest.mark.parametrize("year", [1999, 2101, "last year"])
def test_a_nonsense_year_never_reaches_the_department(connect, year):
    with pytest.raises(ma.ValidationError):
        connect("social_security").run("contributions", {"year": year}, ZHANG_WEI)


def test_pension_account(connect):
    answer = connect("social_security").run("pension_account", {}, ZHANG_WEI)
    account = answer.result
    assert account["balance_fen"] > account["personal_part_fen"] > 0
    assert account["months_paid"] > 200
    assert account["last_credit_month"] == f"{today():%Y-%m}"


def test_contribution_bills_of_a_flexible_employment_person(connect):
    answer = connect("social_security").run("contribution_bills", {"account_no": " b3704 0412 "}, LI_NA)
    result = answer.result
    assert result["account_no"] == "B370****2"
    bills = result["bills"]
    assert [b["status"] for b in bills[:3]] == ["unpaid", "overdue", "paid"]
    assert bills[0]["period"] == f"{today():%Y-%m}"
    assert date.fromisoformat(bills[0]["due_date"]) >= today()
    assert result["total_due_fen"] == bills[0]["amount_fen"] + bills[1]["amount_fen"] == 232_000
    assert all(b["bill_id"] for b in bills)


def test_contribution_bills_refusals(connect):
    connector = connect("social_security")
    with pytest.raises(UpstreamRejected) as not_flexible:
        connector.run("contribution_bills", {"account_no": "A37040219"}, ZHANG_WEI)
    assert (not_flexible.value.reason, not_flexible.value.public_message) == (
        "not_found",
        "未查询到灵活就业人员参保登记",
    )
    with pytest.raises(UpstreamRejected) as not_hers:
        connector.run("contribution_bills", {"account_no": "A37040219"}, LI_NA)
    assert not_hers.value.reason == "forbidden"


def test_verify_si_account(connect):
    answer = connect("social_security").run("verify_si_account", {"account_no": "A37040219"}, ZHANG_WEI)
    assert answer.result == {"account_no": "A37040219", "holder": "张*", "label": "社会保障卡 · 中国工商银行"}


@pytest.mark.parametrize(
    ("card", "reason", "words"),
    [("A37040388", "forbidden", "社会保障卡与本人身份信息不符"), ("A37049999", "not_found", "社会保障卡号不存在")],
)
def test_verify_si_account_refuses_other_and_unknown_cards(connect, card, reason, words):
    with pytest.raises(UpstreamRejected) as refused:
        connect("social_security").run("verify_si_account", {"account_no": card}, ZHANG_WEI)
    assert (refused.value.reason, refused.value.public_message) == (reason, words)


@pytest.mark.parametrize("card", ["A3704", "A37040219-1", "社保卡A37040219"])
def test_malformed_card_numbers_never_reach_the_department(connect, card):
    with pytest.raises(ma.ValidationError):
        connect("social_security").run("verify_si_account", {"account_no": card}, ZHANG_WEI)


@pytest.mark.parametrize(
    ("operation", "inputs"),
    [
        ("insured_info", {}),
        ("contributions", {}),
        ("pension_account", {}),
        ("contribution_bills", {"account_no": "A37040219"}),
    ],
)
def test_someone_without_records_is_the_departments_no(connect, operation, inputs):
    with pytest.raises(UpstreamRejected) as refused:
        connect("social_security").run(operation, inputs, STRANGER)
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到参保人员信息"
    assert STRANGER.id_number not in str(refused.value)


def test_a_relative_without_records_and_a_wrong_name_are_not_found(connect):
    connector = connect("social_security")
    for identity in (PEOPLE["张子涵"], Identity("张三", ZHANG_WEI.id_number)):
        with pytest.raises(UpstreamRejected) as refused:
            connector.run("insured_info", {}, identity)
        assert refused.value.reason == "not_found"


def test_personal_operations_need_the_identity(connect):
    with pytest.raises(ValueError):
        connect("social_security").run("insured_info", {})


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("social_security", app_secret="not-the-social-security-secret").run("insured_info", {}, ZHANG_WEI)
    assert refused.value.public_message is None


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("social_security")
    connector.run("pension_account", {}, ZHANG_WEI)
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("pension_account", {}, ZHANG_WEI)
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("social_security")
    with pytest.raises(UpstreamBadResponse):
        connect("social_security").run("insured_info", {}, ZHANG_WEI)


def test_the_connector_declares_its_account_kind(connect):
    connector = connect("social_security")
    assert connector.accounts == {"si": "verify_si_account"}
    assert connector.operations["contribution_bills"].account == "si"
    assert all(op.identity for op in connector.operations.values())
