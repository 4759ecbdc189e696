"""Write-off (销账) of bills paid on our platform, with the energy, social security and community clouds, each
connector against its twin served for real: receipts, the bills read paid after, the same payment again, and
the departments' refusals (reason "rejected": the citizen is refunded)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import requests

from integrations.clouds.community import twin_data as community_ledger
from integrations.clouds.energy import twin_data as energy_ledger
from integrations.clouds.sharing.people import DEMO_CITIZENS
from integrations.clouds.social_security import twin_data as social_security_ledger
from integrations.connectors.base import REGISTRY, Identity
from integrations.errors import UpstreamRejected, UpstreamUnavailable

PEOPLE = {p["name"]: Identity(p["name"], p["id_number"]) for p in DEMO_CITIZENS}


@dataclass(frozen=True)
class Case:
    cloud: str
    kind: str
    account_no: str
    total: str  # the field of the bills answer that sums what is owed
    identity: Identity | None = None
    paid_words: str = ""  # the twin's words for a bill already paid
    unknown_words: str = ""  # and for a bill it does not know


CASES = [
    # Power: three bills unpaid, the older ones overdue with late fees.
    Case(
        "energy",
        "power",
        "3700012345",
        "arrears_fen",
        paid_words="账单已缴清，请勿重复缴费",
        unknown_words="账单不存在或不属于该户号",
    ),
    # 李娜, in flexible employment: this month's bill unpaid, last month's overdue.
    Case(
        "social_security",
        "si",
        "B37040412",
        "total_due_fen",
        identity=PEOPLE["李娜"],
        paid_words="该期费用已缴纳，请勿重复缴费",
        unknown_words="缴费单据不存在",
    ),
    # 张伟's home: three months unpaid.
    Case(
        "community",
        "property",
        "GM0302501",
        "arrears_fen",
        paid_words="账单已缴清，请勿重复缴费",
        unknown_words="未查询到该账单",
    ),
]
LEDGERS = {"energy": energy_ledger, "social_security": social_security_ledger, "community": community_ledger}
by_cloud = pytest.mark.parametrize("case", CASES, ids=[case.cloud for case in CASES])


def bills_of(connector, case: Case) -> dict:
    return connector.run(connector.bills[case.kind], {"account_no": case.account_no}, case.identity).result


def owed(bill: dict) -> int:
    return bill["amount_fen"] + bill.get("late_fee_fen", 0)


def write_off(connector, case: Case, bills, *, amount_fen=None, payment_id=None, bill_ids=None, **more):
    inputs = {
        "kind": case.kind,
        "account_no": case.account_no,
        "bill_ids": bill_ids or [b["bill_id"] for b in bills],
        "amount_fen": sum(owed(b) for b in bills) if amount_fen is None else amount_fen,
        "payment_id": payment_id or f"PAY{uuid.uuid4().hex[:20]}",
        "channel": "wechat",
        "transaction_id": f"4200{uuid.uuid4().int % 10**24:024d}",
        "paid_at": datetime.now(UTC).isoformat(),
        **more,
    }
    return connector.run("write_off", inputs, case.identity)


def refusal(connector, case: Case, bills: list[dict], **changes) -> UpstreamRejected:
    with pytest.raises(UpstreamRejected) as refused:
        write_off(connector, case, bills, **changes)
    assert refused.value.reason == "rejected"
    return refused.value


@by_cloud
def test_unpaid_bills_are_written_off_and_read_paid_after(connect, case):
    connector = connect(case.cloud)
    before = bills_of(connector, case)
    unpaid = [b for b in before["bills"] if b["status"] != "paid"]
    assert len(unpaid) >= 2 and before[case.total] == sum(owed(b) for b in unpaid) > 0

    answer = write_off(connector, case, unpaid, payment_id="PAY-first-0001")
    receipt = answer.result
    assert set(receipt) == {"receipt_no", "written_off_at"} and receipt["receipt_no"]
    written_off_at = datetime.fromisoformat(receipt["written_off_at"])
    assert written_off_at.utcoffset() == timedelta(hours=8)
    assert abs(datetime.now(UTC) - written_off_at) < timedelta(minutes=1)
    assert answer.as_of.utcoffset() == timedelta(hours=8)

    after = bills_of(connector, case)
    assert after[case.total] == 0
    assert {b["bill_id"]: b["status"] for b in after["bills"]} == {b["bill_id"]: "paid" for b in before["bills"]}

    # A retry after a lost answer: the first receipt, nothing paid twice (though the bills now read paid).
    again = write_off(connector, case, unpaid, payment_id="PAY-first-0001")
    assert again.result == receipt
    reversed_order = write_off(
        connector, case, unpaid, payment_id="PAY-first-0001", bill_ids=[b["bill_id"] for b in unpaid][::-1]
    )
    assert reversed_order.result == receipt
    assert bills_of(connector, case) == after


@by_cloud
def test_a_payment_id_used_again_for_another_amount_or_other_bills_is_refused(connect, case):
    connector = connect(case.cloud)
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    first = write_off(connector, case, unpaid[:1], payment_id="PAY-reused-0001").result
    refused = refusal(connector, case, unpaid[:1], payment_id="PAY-reused-0001", amount_fen=owed(unpaid[0]) + 100)
    assert "流水号" in refused.public_message  # the payment's number, not the amount, is what is wrong
    other_bills = refusal(connector, case, unpaid[1:2], payment_id="PAY-reused-0001")
    assert other_bills.public_message == refused.public_message
    assert write_off(connector, case, unpaid[:1], payment_id="PAY-reused-0001").result == first


@by_cloud
def test_writing_off_one_bill_lowers_what_is_owed_by_that_bill(connect, case):
    connector = connect(case.cloud)
    before = bills_of(connector, case)
    unpaid = [b for b in before["bills"] if b["status"] != "paid"]
    write_off(connector, case, unpaid[-1:])
    after = bills_of(connector, case)
    assert after[case.total] == before[case.total] - owed(unpaid[-1])
    statuses = {b["bill_id"]: b["status"] for b in after["bills"]}
    assert statuses[unpaid[-1]["bill_id"]] == "paid"
    assert all(statuses[b["bill_id"]] == b["status"] for b in unpaid[:-1])


@by_cloud
def test_the_channels_transaction_number_may_be_missing(connect, case):
    connector = connect(case.cloud)
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    paid_at = datetime(2026, 1, 31, 16, 30, tzinfo=UTC).isoformat()  # each twin is sent its own zone
    assert write_off(connector, case, unpaid, transaction_id="", channel="alipay", paid_at=paid_at).result["receipt_no"]
    assert bills_of(connector, case)[case.total] == 0


@by_cloud
def test_a_wrong_amount_is_refused_and_nothing_is_written_off(connect, case):
    connector = connect(case.cloud)
    before = bills_of(connector, case)
    unpaid = [b for b in before["bills"] if b["status"] != "paid"]
    total = sum(owed(b) for b in unpaid)
    for amount in (total - 1, total + 1):
        refused = refusal(connector, case, unpaid, amount_fen=amount)
        assert refused.public_message and "金额" in refused.public_message
        assert str(amount) not in str(refused) and case.account_no not in str(refused)
    assert bills_of(connector, case) == before
    # Refusals are not remembered: the same payment with the right amount goes through.
    assert write_off(connector, case, unpaid, payment_id="PAY-fixed-0001").result["receipt_no"]


def test_energy_late_fees_are_part_of_what_is_owed(connect):
    case = CASES[0]
    connector = connect("energy")
    overdue = [b for b in bills_of(connector, case)["bills"] if b["status"] == "overdue"]
    assert overdue and all(b["late_fee_fen"] > 0 for b in overdue)
    refusal(connector, case, overdue, amount_fen=sum(b["amount_fen"] for b in overdue))
    assert write_off(connector, case, overdue).result["receipt_no"]


@by_cloud
def test_a_bill_paid_elsewhere_is_refused_in_the_departments_words(connect, case, sandbox_url):
    connector = connect(case.cloud)
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    control = f"{sandbox_url}/{case.cloud}/_control/paid-elsewhere"
    marked = requests.post(control, json={"account_no": case.account_no, "bill_id": unpaid[0]["bill_id"]}, timeout=5)
    assert marked.status_code == 200 and marked.json()["paid"] is True
    after = bills_of(connector, case)
    assert {b["bill_id"]: b["status"] for b in after["bills"]}[unpaid[0]["bill_id"]] == "paid"
    assert after[case.total] == sum(owed(b) for b in unpaid[1:])

    refused = refusal(connector, case, unpaid)
    assert refused.public_message == case.paid_words
    assert write_off(connector, case, unpaid[1:]).result["receipt_no"]  # the rest can still be paid

    unknown = {"account_no": case.account_no, "bill_id": "NO-SUCH-BILL"}
    assert requests.post(control, json=unknown, timeout=5).status_code == 404
    assert requests.post(control, data="not json", timeout=5).status_code == 404


@by_cloud
def test_a_bill_already_paid_before_is_refused(connect, case):
    connector = connect(case.cloud)
    paid = [b for b in bills_of(connector, case)["bills"] if b["status"] == "paid"]
    assert paid
    assert refusal(connector, case, paid[:1]).public_message == case.paid_words


@by_cloud
def test_an_unknown_bill_is_refused(connect, case):
    connector = connect(case.cloud)
    before = bills_of(connector, case)
    unpaid = [b for b in before["bills"] if b["status"] != "paid"]
    stranger = {**unpaid[0], "bill_id": unpaid[0]["bill_id"][:-6] + "199901"}  # a month long gone
    refused = refusal(connector, case, [unpaid[0], stranger], amount_fen=2 * owed(unpaid[0]))
    assert refused.public_message == case.unknown_words
    assert bills_of(connector, case) == before  # nothing written off, not even the bill it knows


@pytest.mark.parametrize(
    ("index", "account_no", "words"),
    [
        (0, "3700012340", "户号不存在，请核对后重新输入"),  # numbers ending in 0 were never issued (or are closed)
        (1, "A37040000", "社会保障卡号不存在"),
        (2, "GM0302500", "未查询到该物业账户"),
    ],
)
def test_an_account_that_is_gone_is_refused_for_good(connect, index, account_no, words):
    case = CASES[index]
    connector = connect(case.cloud)
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    gone = Case(case.cloud, case.kind, account_no, case.total, case.identity)
    assert refusal(connector, gone, unpaid).public_message == words


def test_another_persons_card_is_refused_for_good(connect):
    case = CASES[1]
    connector = connect("social_security")
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    theirs = Case(case.cloud, case.kind, "A37048133", case.total, case.identity)  # 孙浩's card, 李娜 paying
    assert refusal(connector, theirs, unpaid).public_message == "社会保障卡与本人身份信息不符"


def test_another_persons_bill_is_not_found_on_this_account(connect):
    case = CASES[2]
    connector = connect("community")
    theirs = bills_of(connector, Case("community", "property", "BX1102601", "arrears_fen"))["bills"][0]
    refused = refusal(connector, case, [theirs])
    assert refused.public_message == "未查询到该账单"


def test_social_security_contributions_read_the_written_off_months_paid(connect):
    case = CASES[1]
    connector = connect("social_security")
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]

    def records():
        return connector.run("contributions", {}, case.identity).result["records"]

    before = records()
    owed_months = {r["month"] for r in before if r["status"] == "owed"}
    assert owed_months and owed_months <= {b["period"] for b in unpaid}
    write_off(connector, case, unpaid)
    after = records()
    assert len(after) == len(before) and {r["status"] for r in after} == {"paid"}
    assert sum(r["personal_fen"] for r in after) == sum(r["personal_fen"] for r in before)


@by_cloud
def test_the_departments_own_trouble_is_worth_retrying(connect, case, monkeypatch):
    connector = connect(case.cloud)
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    ledger = LEDGERS[case.cloud]
    monkeypatch.setattr(ledger, "LOCK_WAIT_SECONDS", 0.1)  # the twin runs in this process: wait less
    # The twin's ledger stays locked past its wait: it answers "busy".
    with ledger._lock, pytest.raises(UpstreamUnavailable):
        write_off(connector, case, unpaid, payment_id="PAY-busy-0001")
    assert write_off(connector, case, unpaid, payment_id="PAY-busy-0001").result["receipt_no"]


@by_cloud
def test_a_failed_attempt_is_retried_safely(connect, case, fault_once):
    connector = connect(case.cloud)
    unpaid = [b for b in bills_of(connector, case)["bills"] if b["status"] != "paid"]
    fault_once(case.cloud, "fail")  # HTTP 503 once: the connector tries again, the department de-duplicates
    receipt = write_off(connector, case, unpaid, payment_id="PAY-retry-0001").result
    assert write_off(connector, case, unpaid, payment_id="PAY-retry-0001").result == receipt
    assert bills_of(connector, case)[case.total] == 0


@by_cloud
def test_the_sandbox_reset_forgets_write_offs_and_counter_payments(connect, case, sandbox_url):
    connector = connect(case.cloud)
    before = bills_of(connector, case)
    unpaid = [b for b in before["bills"] if b["status"] != "paid"]
    write_off(connector, case, unpaid[:1], payment_id="PAY-reset-0001")
    control = f"{sandbox_url}/{case.cloud}/_control/paid-elsewhere"
    marked = {"account_no": case.account_no, "bill_id": unpaid[1]["bill_id"]}
    requests.post(control, json=marked, timeout=5).raise_for_status()
    assert bills_of(connector, case)[case.total] == before[case.total] - owed(unpaid[0]) - owed(unpaid[1])
    requests.post(f"{sandbox_url}/_control/reset", timeout=5).raise_for_status()
    assert bills_of(connector, case) == before
    # The payment id is forgotten too: used again for other bills, it is a new write-off.
    assert write_off(connector, case, unpaid[1:2], payment_id="PAY-reset-0001").result["receipt_no"]


@by_cloud
def test_a_write_off_of_another_kind_never_leaves(connect, case):
    connector = connect(case.cloud)
    elsewhere = Case(case.cloud, "no-such-kind", case.account_no, case.total, case.identity)
    with pytest.raises(ValueError):
        write_off(connector, elsewhere, [{"bill_id": "X", "amount_fen": 100}])


@pytest.mark.parametrize(
    ("cloud", "bills"),
    [
        ("energy", {"water": "water_bills", "power": "power_bills", "gas": "gas_bills"}),
        ("social_security", {"si": "contribution_bills"}),
        ("community", {"property": "property_bills"}),
    ],
)
def test_the_connectors_declare_their_bills_and_write_off(connect, cloud, bills):
    cls = type(connect(cloud))
    assert cls is REGISTRY[cloud] and cls.bills == bills
    for kind, operation in bills.items():
        assert kind in cls.accounts and cls.operations[operation].account == kind
    op = cls.operations["write_off"]
    assert (op.internal, op.idempotent, op.fresh_seconds, op.stale_seconds) == (True, True, 0, 0)
    assert "write_off" not in cls.describe()["operations"]  # never bindable by a department
