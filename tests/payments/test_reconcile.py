"""The daily reconciliation: the channels' statements of yesterday (from their twins) against our orders and
refunds. What an operator sees is the summary line and the discrepancies; orders are never moved by it."""

from __future__ import annotations

import io
import time as clock
import zipfile
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.clock import CITY_TZ
from app.db import unit_of_work
from app.extensions import celery, db
from app.payments import channels, refunds, states
from app.payments.models import Discrepancy, PaymentOrder, Refund, Transition
from app.payments.reconcile import StatementNotReady, beijing_today, reconcile, reconcile_yesterday
from app.payments.statements import StatementError, parse_alipay, parse_wechat
from integrations.alipay import sandbox as alipay_twin
from integrations.wechatpay import sandbox as wechatpay_twin
from integrations.wechatpay import twin_bills
from tests.payments.conftest import pay, payable, twin_pays

CHANNELS = ["wechat", "alipay"]


@pytest.fixture
def twin_clocks():
    """back(days) runs both channels' twins that many days behind (0: now); always put back afterwards."""

    def back(days: int) -> None:
        wechatpay_twin.set_clock(timedelta(days=-days))
        alipay_twin.shift_clock(timedelta(days=-days))

    yield back
    back(0)


@pytest.fixture
def citizen(request, channel):
    return request.getfixturevalue(f"{channel}_citizen")


def yesterday():
    return beijing_today() - timedelta(days=1)


def paid_at_twin(client, who, channel, sandbox_url, bill, notify=True) -> PaymentOrder:
    """An order for one bill, paid in the channel's cashier (notified to us, or not)."""
    created = pay(client, who, [bill["bill_id"]], channel=channel)
    assert created.status_code == 201, created.json
    params = created.json["pay_params"]
    reference = params["package"].removeprefix("prepay_id=") if channel == "wechat" else params["tradeNO"]
    twin_pays(sandbox_url, channel, reference, notify=notify)
    return order_of(created.json["id"])


def order_of(order_id) -> PaymentOrder:
    order = db.session.get(PaymentOrder, order_id, populate_existing=True)
    db.session.expunge(order)
    db.session.rollback()
    return order


def discrepancies() -> list[Discrepancy]:
    rows = db.session.scalars(sa.select(Discrepancy).order_by(Discrepancy.id)).all()
    db.session.rollback()
    return list(rows)


# -- against the twins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_clean_day_reconciles_with_nothing_to_see(client, citizen, channel, served, sandbox_url, twin_clocks):
    twin_clocks(1)
    orders = [paid_at_twin(client, citizen, channel, sandbox_url, bill) for bill in payable(client, citizen)]
    twin_clocks(0)
    assert len(orders) >= 2, "the demo water account owes two bills or more"
    assert all(order.paid_at.astimezone(CITY_TZ).date() == yesterday() for order in orders)  # the channel's time

    summary = reconcile(channel, yesterday())

    assert summary == {
        "channel": channel,
        "day": yesterday().isoformat(),
        "statement_payments": len(orders),
        "statement_refunds": 0,
        "ours_payments": len(orders),
        "ours_refunds": 0,
        "matched": len(orders),
        "discrepancies": {},
        "no_statement": False,
    }
    assert discrepancies() == []
    assert {order_of(order.id).state for order in orders} == {states.SETTLED}


def test_a_payment_the_channel_has_and_we_never_heard_of_is_missing_here(
    client, app, wechat_citizen, served, sandbox_url, twin_clocks
):
    first, second = payable(client, wechat_citizen)[:2]
    twin_clocks(1)
    heard = paid_at_twin(client, wechat_citizen, "wechat", sandbox_url, first)
    unheard = paid_at_twin(client, wechat_citizen, "wechat", sandbox_url, second, notify=False)
    twin_clocks(0)
    moves = db.session.scalar(sa.select(sa.func.count()).select_from(Transition))

    summary = reconcile("wechat", yesterday())

    assert (summary["statement_payments"], summary["ours_payments"], summary["matched"]) == (2, 1, 1)
    assert summary["discrepancies"] == {"missing_here": 1}
    [row] = discrepancies()
    assert (row.kind, row.out_trade_no, row.order_id, row.seen) == ("missing_here", unheard.out_trade_no, unheard.id, 1)
    twin = wechatpay_twin.order(unheard.out_trade_no)
    assert row.details == {
        "day": yesterday().isoformat(),
        "transaction_id": twin["transaction_id"],
        "statement_fen": unheard.amount_fen,
        "our_state": states.PAYING,
    }
    # Kept for an operator; the order is not moved (the sync job or an operator takes the payment).
    assert order_of(unheard.id).state == states.PAYING and order_of(heard.id).state == states.SETTLED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Transition)) == moves


def test_an_order_paid_here_the_statement_lacks_is_missing_in_statement_and_a_second_run_adds_no_rows(
    client, app, alipay_citizen, served, sandbox_url, twin_clocks
):
    first, second = payable(client, alipay_citizen)[:2]
    twin_clocks(1)
    paid_at_twin(client, alipay_citizen, "alipay", sandbox_url, first)
    twin_clocks(0)
    unpaid = pay(client, alipay_citizen, [second["bill_id"]], channel="alipay").json
    noon_yesterday = datetime.combine(yesterday(), time(12), CITY_TZ)
    with unit_of_work():  # as if a bug had taken a payment the channel never had
        order = db.session.get(PaymentOrder, unpaid["id"])
        order.state, order.paid_at, order.transaction_id = states.PAID, noon_yesterday, "2099010122001000000000000001"
        out_trade_no = order.out_trade_no

    summaries = [reconcile("alipay", yesterday()) for _ in range(2)]

    assert summaries[0] == summaries[1]
    assert (summaries[0]["statement_payments"], summaries[0]["ours_payments"], summaries[0]["matched"]) == (1, 2, 1)
    assert summaries[0]["discrepancies"] == {"missing_in_statement": 1}
    [row] = discrepancies()  # the second run counted it again, adding nothing
    assert (row.kind, row.out_trade_no, str(row.order_id), row.seen) == (
        "missing_in_statement",
        out_trade_no,
        unpaid["id"],
        2,
    )
    assert row.details == {
        "day": yesterday().isoformat(),
        "transaction_id": "2099010122001000000000000001",
        "ours_fen": unpaid["amount_fen"],
    }
    assert order_of(unpaid["id"]).state == states.PAID


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_refund_is_matched(client, citizen, channel, served, sandbox_url, twin_clocks):
    twin_clocks(1)
    order = paid_at_twin(client, citizen, channel, sandbox_url, payable(client, citizen)[0])
    done = refunds.start(order.id, order.amount_fen // 2, "operator", "operator:test")
    refund = _settled(done["id"])  # WeChat finishes it a moment later (its notification); Alipay at once
    twin_clocks(0)
    with unit_of_work():  # our own clock cannot be set back: date our record of it as the twin dated its own
        row = db.session.get(Refund, refund.id)
        row.created_at, row.finished_at = order.paid_at + timedelta(seconds=5), order.paid_at + timedelta(seconds=6)

    summary = reconcile(channel, yesterday())

    assert (summary["statement_payments"], summary["statement_refunds"]) == (1, 1)
    assert (summary["ours_payments"], summary["ours_refunds"], summary["matched"]) == (1, 1, 2)
    assert summary["discrepancies"] == {} and discrepancies() == []


def test_amounts_that_differ_and_refunds_only_one_side_has_are_each_kept(
    client, alipay_citizen, served, sandbox_url, twin_clocks
):
    twin_clocks(1)
    first, second = (paid_at_twin(client, alipay_citizen, "alipay", sandbox_url, bill)
                     for bill in payable(client, alipay_citizen)[:2])  # fmt: skip
    ours = _settled(refunds.start(first.id, 100, "operator", "operator:test")["id"])
    # Refunded in Alipay's merchant console, past us:
    channels.alipay().refund(second.out_trade_no, "RF-CONSOLE-1", 50, "console")
    twin_clocks(0)
    ghost = "RF" + second.out_trade_no[2:] + "99"
    noon = datetime.combine(yesterday(), time(12), CITY_TZ)
    with unit_of_work():  # our record, spoilt as a bug might: another amount, a refund Alipay never made
        db.session.get(PaymentOrder, first.id).amount_fen += 1
        refund = db.session.get(Refund, ours.id)
        refund.amount_fen, refund.created_at, refund.finished_at = 101, noon, noon
        db.session.add(Refund(order_id=second.id, out_refund_no=ghost, amount_fen=70, reason="operator",
                              requested_by="operator:test", state=refunds.SUCCEEDED, created_at=noon,
                              finished_at=noon))  # fmt: skip

    summary = reconcile("alipay", yesterday())

    assert (summary["statement_payments"], summary["statement_refunds"]) == (2, 2)
    assert (summary["ours_payments"], summary["ours_refunds"], summary["matched"]) == (2, 2, 1)
    assert summary["discrepancies"] == {
        "statement_amount_mismatch": 1,
        "refund_missing_here": 1,
        "refund_missing_in_statement": 1,
        "refund_amount_mismatch": 1,
    }
    found = {row.kind: (row.out_trade_no, row.details) for row in discrepancies()}
    day = yesterday().isoformat()
    assert found == {
        "statement_amount_mismatch": (first.out_trade_no, {"day": day, "transaction_id": first.transaction_id,
                                                           "statement_fen": first.amount_fen,
                                                           "ours_fen": first.amount_fen + 1}),
        "refund_amount_mismatch": (f"{first.out_trade_no}/{ours.out_refund_no}",
                                   {"day": day, "out_refund_no": ours.out_refund_no, "statement_fen": 100,
                                    "ours_fen": 101}),
        "refund_missing_here": (f"{second.out_trade_no}/RF-CONSOLE-1",
                                {"day": day, "out_refund_no": "RF-CONSOLE-1", "statement_fen": 50, "our_state": None}),
        "refund_missing_in_statement": (f"{second.out_trade_no}/{ghost}", {"day": day, "out_refund_no": ghost,
                                                                         "ours_fen": 70}),
    }  # fmt: skip


def test_a_day_without_trades_is_an_empty_statement_and_today_is_refused(app_ctx):
    quiet = beijing_today() - timedelta(days=3)
    for channel in CHANNELS:
        summary = reconcile(channel, quiet)
        assert (summary["statement_payments"], summary["ours_payments"], summary["discrepancies"]) == (0, 0, {})
    # WeChat says NO_STATEMENT_EXIST for a day without trades; the Alipay twin sends a file with no lines.
    assert reconcile("wechat", quiet)["no_statement"] is True
    with pytest.raises(StatementNotReady, match="from the next day"):
        reconcile("alipay", beijing_today())


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_statement_not_made_yet_is_not_ready_and_records_nothing(
    client, citizen, channel, served, sandbox_url, twin_clocks
):
    twin_clocks(1)
    paid_at_twin(client, citizen, channel, sandbox_url, payable(client, citizen)[0])
    # The twin still lives yesterday: for it, yesterday's statement is today's, not made yet. WeChat says
    # so (STATEMENT_CREATING); Alipay answers isp.bill_not_exist, which with our payment that day means the same.
    with pytest.raises(StatementNotReady):
        reconcile(channel, yesterday())
    assert discrepancies() == []


def test_the_job_reconciles_yesterday_once_after_the_statements_are_out(
    app, client, wechat_citizen, served, sandbox_url, twin_clocks
):
    twin_clocks(1)
    paid_at_twin(client, wechat_citizen, "wechat", sandbox_url, payable(client, wechat_citizen)[0])
    morning = datetime.combine(beijing_today(), time(9), CITY_TZ)
    assert reconcile_yesterday(morning) == {"day": yesterday().isoformat(), "waiting_until": "10:30:00"}

    late_morning = morning.replace(hour=11)
    first = reconcile_yesterday(late_morning)  # the WeChat twin has not made the statement yet
    assert first["wechat"].startswith("not reconciled: wechat") and first["alipay"]["ours_payments"] == 0
    twin_clocks(0)
    second = reconcile_yesterday(late_morning)  # tried again; Alipay's day is not done twice
    assert second["wechat"]["matched"] == 1 and second["alipay"] == "done or running"
    assert reconcile_yesterday(late_morning)["wechat"] == "done or running"
    # Beat runs it hourly (a timedelta: the embedded beat knows nothing else); the task waits for 10:30 itself.
    assert celery.conf.beat_schedule["payments-reconcile"] == {
        "task": "payments.reconcile_yesterday",
        "schedule": timedelta(hours=1),
    }
    assert "payments.reconcile_yesterday" in celery.tasks


# -- the command ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--from", "2025-03-02", "--to", "2025-03-01"], "is before --from"),
        (["--from", "2025-01-01", "--to", "2025-04-30"], "at most 92"),
        (["--from", "{today}"], "not over yet"),
        (["--from", "2025-03-01", "--channel", "cash"], "'cash' is not one of"),
        (["--from", "March 1st"], "March 1st"),
    ],
)
def test_the_command_refuses_a_range_it_cannot_do(app, args, complaint):
    args = [arg.format(today=beijing_today().isoformat()) for arg in args]
    result = app.test_cli_runner().invoke(args=["payments", "reconcile", *args])
    assert result.exit_code == 2 and complaint in result.output, result.output


def test_the_command_prints_a_line_per_day_and_channel_and_fails_for_a_day_not_ready(
    app, client, wechat_citizen, served, sandbox_url, twin_clocks
):
    twin_clocks(1)
    paid_at_twin(client, wechat_citizen, "wechat", sandbox_url, payable(client, wechat_citizen)[0])
    day, before = yesterday().isoformat(), (yesterday() - timedelta(days=1)).isoformat()
    runner = app.test_cli_runner()

    not_ready = runner.invoke(args=["payments", "reconcile", "--from", day, "--channel", "wechat"])
    assert not_ready.exit_code == 1
    assert f"{day} wechat: NOT RECONCILED: wechat {day}: 微信支付 is still making the statement" in not_ready.output
    assert "1 of 1 day(s) and channel(s) could not be reconciled" in not_ready.output

    twin_clocks(0)
    done = runner.invoke(args=["payments", "reconcile", "--from", before, "--to", day])
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if line[:10] in (day, before)]
    assert lines == [
        f"{before} wechat: statement 0 payments 0 refunds, ours 0 payments 0 refunds, matched 0, discrepancies: "
        "none (the channel said it has no statement of that day)",
        f"{before} alipay: statement 0 payments 0 refunds, ours 0 payments 0 refunds, matched 0, discrepancies: none",
        f"{day} wechat: statement 1 payments 0 refunds, ours 1 payments 0 refunds, matched 1, discrepancies: none",
        f"{day} alipay: statement 0 payments 0 refunds, ours 0 payments 0 refunds, matched 0, discrepancies: none",
    ]


# -- reading statements that are not what they should be ---------------------------------------------------


def _wechat_order(n: int, total: int, description: str = "自来水公司 水费****3041 2026-11") -> dict:
    at = datetime(2026, 12, 1, 10, n, tzinfo=CITY_TZ)
    return {"appid": "wx0", "mchid": "190", "transaction_id": f"42000{n:023d}", "out_trade_no": f"ZZ{n:024d}",
            "openid": "o-someone", "currency": "CNY", "description": description, "attach": None,
            "total": total, "success_time": at}  # fmt: skip


def wechat_statement() -> bytes:
    paid, other = _wechat_order(1, 2300, "水费,含滞纳金"), _wechat_order(2, 2423)
    refund = {"refund": 1000, "create_time": paid["success_time"] + timedelta(hours=1), "refund_id": "50001",
              "out_refund_no": "RF01", "status": "SUCCESS", "success_time": None}  # fmt: skip
    pending = refund | {"refund": 100, "refund_id": "50002", "out_refund_no": "RF02", "status": "PROCESSING"}
    rows = [twin_bills.payment_row(paid), twin_bills.payment_row(other)]
    rows += [twin_bills.refund_row(paid, refund), twin_bills.refund_row(paid, pending)]
    return twin_bills.statement(rows, "ALL")


def alipay_statement(subject: str = "自来水公司 水费****3041 2026-11") -> bytes:
    base = {"trade_no": "2026120122001" + "0" * 15, "out_trade_no": "ZZ" + "1" * 24, "subject": subject,
            "body": "", "buyer": "135****0001", "created": "2026-12-01 10:00:00"}  # fmt: skip
    entries = [
        base | {"kind": "交易", "at": "2026-12-01 10:00:05", "amount": Decimal("23.00"), "batch": ""},
        base | {"kind": "退款", "at": "2026-12-01 11:00:00", "amount": Decimal("-10.00"), "batch": "RF01"},
    ]
    _, archive = alipay_twin._bill_zip("2088102000000001", "2026-12-01", entries, datetime(2026, 12, 2, 9))
    with zipfile.ZipFile(io.BytesIO(archive), metadata_encoding="gbk") as zipped:
        return zipped.read(next(name for name in zipped.namelist() if "汇总" not in name))


def test_the_twins_statements_read_as_payments_and_refunds():
    wechat = parse_wechat(wechat_statement())
    assert [(p.out_trade_no, p.amount_fen) for p in wechat.payments] == [("ZZ" + "0" * 23 + "1", 2300),
                                                                          ("ZZ" + "0" * 23 + "2", 2423)]  # fmt: skip
    assert [(r.out_refund_no, r.amount_fen, r.status) for r in wechat.refunds] == [
        ("RF01", 1000, "SUCCESS"),
        ("RF02", 100, "PROCESSING"),
    ]
    alipay = parse_alipay(alipay_statement(subject="水费,含滞纳金"))  # a comma Alipay does not quote
    assert [(p.out_trade_no, p.transaction_id, p.amount_fen) for p in alipay.payments] == [
        ("ZZ" + "1" * 24, "2026120122001" + "0" * 15, 2300)
    ]
    assert [(r.out_refund_no, r.amount_fen) for r in alipay.refunds] == [("RF01", 1000)]


def _on_line(number: int, change):
    def spoil(content: bytes) -> bytes:
        lines = content.decode().split("\r\n")
        lines[number - 1] = change(lines[number - 1])
        return "\r\n".join(lines).encode()

    return spoil


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (_on_line(2, lambda line: line.rsplit(",", 3)[0]), "line 2: 24 cells where the header has 27"),
        (_on_line(3, lambda line: line.replace("`24.23", "`24.2x")), "line 3: 订单金额 is not an amount"),
        (_on_line(2, lambda line: line.replace("`2026-12-01", "`2026/12/01")), "line 2: 交易时间 is not a time"),
        (_on_line(3, lambda line: line.replace("`SUCCESS", "`REVOKED")), "line 3: 交易状态"),
        (lambda s: s.rsplit(b"\r\n", 3)[0], "cut short"),
        (lambda s: s.replace(b"\r\n`4,", b"\r\n`5,"), "line 7: 总交易单数"),
        (lambda s: b"\xff" + s, "line 1: not utf-8"),
    ],
)
def test_a_spoilt_wechat_statement_names_the_line(spoil, complaint):
    with pytest.raises(StatementError, match=complaint):
        parse_wechat(spoil(wechat_statement()))


@pytest.mark.parametrize(
    ("spoil", "complaint"),
    [
        (lambda s: s.replace("\t,23.00,".encode("gbk"), b"\t,"), "line 6: cells do not line up"),
        (lambda s: s.replace(b",-10.00,", b",10.00,"), "line 7: a refund"),
        (lambda s: s.replace("#交易合计：1笔".encode("gbk"), "#交易合计：2笔".encode("gbk")), "states 2 lines"),
        (lambda s: s.split("#退款合计".encode("gbk"))[0], "no #退款合计 line"),
        (lambda s: s.replace("支付宝交易号,".encode("gbk"), b"trade_no,"), "line 5: no header"),
        (lambda s: s.replace(b"RF01", b"\xff\xff"), "line 7: not gb18030"),
    ],
)
def test_a_spoilt_alipay_statement_names_the_line(spoil, complaint):
    with pytest.raises(StatementError, match=complaint):
        parse_alipay(spoil(alipay_statement()))


def _settled(refund_id, seconds: float = 10.0) -> Refund:
    deadline = clock.monotonic() + seconds
    while True:
        refund = db.session.get(Refund, refund_id, populate_existing=True)
        db.session.rollback()
        if refund.state != refunds.PROCESSING or clock.monotonic() > deadline:
            assert refund.state == refunds.SUCCEEDED, refund.failure
            return refund
        clock.sleep(0.1)
