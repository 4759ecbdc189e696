"""The housing cloud (住房公积金): accounts, movements across cursor pages, loans, and the centre's tokens."""

import itertools
from datetime import date, datetime, timedelta, timezone

import marshmallow as ma
import pytest

from app.identity.resident_id import make_valid
from integrations.clouds.housing import sandbox as twin
from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from integrations.connectors.base import Identity
from integrations.errors import UpstreamBadResponse, UpstreamRejected

PEOPLE = {p["name"]: Identity(p["name"], p["id_number"]) for p in (*DEMO_CITIZENS, *DEMO_RELATIVES)}
ZHANG_WEI, WANG_FANG, LI_NA, LIU_YANG = PEOPLE["张伟"], PEOPLE["王芳"], PEOPLE["李娜"], PEOPLE["刘洋"]
STRANGER = Identity("钱七", make_valid("37040219991231999"))
BEIJING = timezone(timedelta(hours=8))


def today() -> date:
    return datetime.now(BEIJING).date()


def test_fund_account_is_normalized(connect):
    answer = connect("housing").run("fund_account", {}, ZHANG_WEI)
    account = answer.result
    assert account["account_no"] == "3710****2345"
    assert (account["status"], account["status_name"]) == ("normal", "正常")
    assert account["balance_fen"] == 4_682_350
    assert account["deposit_base_fen"] == 650_000
    assert account["monthly_deposit_fen"] == 156_000  # 6500 yuan x (12% + 12%)
    assert (account["personal_rate_percent"], account["employer_rate_percent"]) == (12.0, 12.0)
    assert account["last_deposit_month"] == f"{today():%Y-%m}"
    assert account["employer"] == "枣庄鲁南机械制造有限公司"
    assert answer.as_of.isoformat().endswith("+08:00")
    assert (answer.as_of.hour, answer.as_of.minute) == (1, 30)  # the nightly batch
    assert datetime.now(BEIJING) - answer.as_of < timedelta(days=1)


def test_a_sealed_account_deposits_nothing(connect):
    account = connect("housing").run("fund_account", {}, LI_NA).result
    assert (account["status"], account["monthly_deposit_fen"], account["last_deposit_month"]) == (
        "sealed",
        0,
        "2019-05",
    )


def test_fund_records_follow_the_cursor_newest_first(connect):
    answer = connect("housing").run("fund_records", {"months": 36}, ZHANG_WEI)
    records = answer.result["records"]
    assert answer.result["months"] == 36
    assert len(records) > 30  # a deposit a month, interest each June, a loan withdrawal each March: 5 pages of 10
    dates = [r["date"] for r in records]
    assert dates == sorted(dates, reverse=True)
    assert {r["kind"] for r in records} == {"deposit", "withdrawal", "interest"}
    newest = records[0]
    assert newest["balance_fen"] == 4_682_350
    for later, earlier in itertools.pairwise(records):  # each balance is the one before plus the amount
        assert later["balance_fen"] == earlier["balance_fen"] + later["amount_fen"]
    withdrawal = next(r for r in records if r["kind"] == "withdrawal")
    assert withdrawal["amount_fen"] == -1_800_000
    assert withdrawal["description"] == "偿还住房贷款本息提取"


def test_fund_records_default_to_twelve_months(connect):
    records = connect("housing").run("fund_records", {}, LIU_YANG).result["records"]
    first_month = today().year * 12 + today().month - 12
    assert min(r["date"] for r in records) >= f"{first_month // 12}-{first_month % 12 + 1:02d}-01"
    assert "租赁住房提取" in {r["description"] for r in records}


@pytest.mark.parametrize("months", [0, 37, "a year"])
def test_nonsense_months_never_reach_the_centre(connect, months):
    with pytest.raises(ma.ValidationError):
        connect("housing").run("fund_records", {"months": months}, ZHANG_WEI)


def test_loan_progress_stages_and_steps(connect):
    connector = connect("housing")
    answer = connector.run("loan_progress", {}, ZHANG_WEI)
    (loan,) = answer.result["loans"]
    assert loan["loan_no"] == "DK370402202103150021"
    assert loan["stage"] == {"code": "disbursed", "name": "已放款"}
    assert loan["amount_fen"] == 60_000_000
    assert loan["applied_on"] == "2021-03-15"
    assert [s["name"] for s in loan["steps"]] == ["受理", "初审", "复审", "审批", "放款"]
    assert loan["steps"][0]["at"] == "2021-03-15T09:30:00+08:00"
    assert answer.as_of.utcoffset() == timedelta(hours=8)
    (reviewing,) = connector.run("loan_progress", {}, WANG_FANG).result["loans"]
    assert reviewing["stage"]["code"] == "reviewing"
    assert date.fromisoformat(reviewing["applied_on"]) == today() - timedelta(days=9)
    assert connector.run("loan_progress", {}, LIU_YANG).result["loans"][0]["stage"]["code"] == "rejected"
    assert connector.run("loan_progress", {}, LI_NA).result == {"loans": []}


def test_verify_gjj_account(connect):
    answer = connect("housing").run("verify_gjj_account", {"account_no": "3710 1001 2345"}, ZHANG_WEI)
    assert answer.result == {
        "account_no": "371010012345",
        "holder": "张*",
        "label": "住房公积金（正常） · 枣庄鲁南机械制造有限公司",
    }


@pytest.mark.parametrize(
    ("number", "reason", "words"),
    [("371010023456", "forbidden", "该账号不属于本人"), ("371010099999", "not_found", "个人账号不存在")],
)
def test_verify_gjj_account_refuses_other_and_unknown_accounts(connect, number, reason, words):
    with pytest.raises(UpstreamRejected) as refused:
        connect("housing").run("verify_gjj_account", {"account_no": number}, ZHANG_WEI)
    assert (refused.value.reason, refused.value.public_message) == (reason, words)


@pytest.mark.parametrize("number", ["3710100", "371010012345123456789", "GJJ371010012345"])
def test_malformed_account_numbers_never_reach_the_centre(connect, number):
    with pytest.raises(ma.ValidationError):
        connect("housing").run("verify_gjj_account", {"account_no": number}, ZHANG_WEI)


@pytest.mark.parametrize(
    ("operation", "identity"),
    [
        ("fund_account", STRANGER),
        ("fund_records", PEOPLE["孙浩"]),
        ("loan_progress", Identity("张三", ZHANG_WEI.id_number)),
    ],
)
def test_someone_without_an_account_is_the_centres_no(connect, operation, identity):
    with pytest.raises(UpstreamRejected) as refused:
        connect("housing").run(operation, {}, identity)
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到住房公积金缴存信息"
    assert identity.id_number not in str(refused.value)


def test_a_token_is_fetched_once_and_reused(connect):
    connector = connect("housing")
    connector.run("fund_account", {}, ZHANG_WEI)
    connector.run("loan_progress", {}, ZHANG_WEI)
    connector.run("fund_records", {"months": 36}, ZHANG_WEI)  # five pages, one token
    assert twin.tokens_issued() == 1


def test_an_expired_token_is_renewed_transparently(connect):
    connector = connect("housing")
    first = connector.run("fund_account", {}, ZHANG_WEI).result
    twin.expire_tokens()
    assert connector.run("fund_account", {}, ZHANG_WEI).result == first
    assert twin.tokens_issued() == 2


def test_a_forgotten_token_is_renewed_transparently(connect):
    connector = connect("housing")
    connector.run("fund_account", {}, ZHANG_WEI)
    twin.reset()  # the centre restarted and lost its tokens: 40014 invalid token
    assert connector.run("fund_account", {}, ZHANG_WEI).result["status"] == "normal"
    assert twin.tokens_issued() == 1


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("housing", app_secret="not-the-housing-secret").run("fund_account", {}, ZHANG_WEI)
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    connector = connect("housing")
    connector.run("fund_account", {}, ZHANG_WEI)  # the token first: the garbage lands on the question
    fault_once("housing")
    with pytest.raises(UpstreamBadResponse):
        connector.run("fund_account", {}, ZHANG_WEI)


def test_a_token_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("housing")
    with pytest.raises(UpstreamBadResponse):
        connect("housing").run("fund_account", {}, ZHANG_WEI)
