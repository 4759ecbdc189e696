"""A citizen's bills, from the issuers behind their bound accounts (energy, social security, property).

Listing reads through the connectors' cache (a cloud that is down shows its last answer, marked stale,
or is named as unavailable: one issuer's trouble does not hide the others' bills). Paying re-checks the
chosen bills live with the issuer: the amount is what the issuer says now, never what a phone sends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import marshmallow as ma
import sqlalchemy as sa

from app.clock import shown
from app.connectors import service as connectors
from app.connectors.errors import as_cloud_error
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller
from app.inquiry import accounts
from app.inquiry.models import BoundAccount
from app.payments import states
from app.payments.models import OrderBill, PaymentOrder
from app.security.pii import blind_index
from integrations.connectors.base import Identity
from integrations.errors import IntegrationError

PAYABLE = ("unpaid", "overdue")
PAID_HERE = (states.PAID, states.SETTLED)


@dataclass(frozen=True)
class Source:
    """Where a bound account's bills come from."""

    account: dict  # as GET /me/accounts shows it: read before the session lets go of the row
    account_no: str
    connector_name: str
    kind: str
    connector: object  # integrations.connectors.base.Connector
    operation: str
    identity: Identity | None


def bill_key(connector: str, kind: str, account_no: str, bill_id: str) -> str:
    return blind_index(f"bill:{connector}:{kind}", f"{account_no}/{bill_id}")


def issuer_of(result: dict, connector) -> str:
    return str(result.get("company") or result.get("property_company") or connector.title)[:80]


def source_of(account: BoundAccount, citizen) -> Source | None:
    """None when no enabled connector lists bills for this account (a 公积金 account has none)."""
    target = connectors.built(account.connector)
    if target is None:
        return None
    operation = type(target.connector).bills.get(account.kind)
    if operation is None:
        return None
    op = target.connector.operations[operation]
    identity = accounts.identity_of(citizen) if op.identity else None
    return Source(
        accounts.view(account), account.number, account.connector, account.kind, target.connector, operation, identity
    )


def listing(caller: Caller) -> dict:
    try:
        citizen_id = uuid.UUID(caller.subject)
        rows = db.session.scalars(
            sa.select(BoundAccount).where(BoundAccount.citizen_id == citizen_id).order_by(BoundAccount.created_at)
        ).all()
        citizen = accounts.citizen_of(caller) if rows else None
        sources = []
        for account in rows:
            try:
                source = source_of(account, citizen)
            except AppError as error:  # a personal account before real name: say so for that account only
                sources.append((accounts.view(account), None, error))
                continue
            if source is not None:
                sources.append((source.account, source, None))
        holding = _orders_holding(citizen_id)
    finally:
        db.session.rollback()  # no connection held while the issuers answer
    bills, unavailable = [], []
    for account, source, problem in sources:
        if problem is None:
            try:
                outcome = connectors.gateway().call(
                    source.connector, source.operation, {"account_no": source.account_no}, source.identity,
                    allow_stale=True,
                )  # fmt: skip
            except IntegrationError as error:
                problem = as_cloud_error(error)
            except ma.ValidationError:
                problem = AppError("ACCOUNT_NOT_APPLICABLE", "此账户无法查询账单", 422)
        if problem is not None:
            unavailable.append({"account": account, "error": {"code": problem.code, "message": problem.message}})
            continue
        for bill in outcome.result.get("bills", []):
            key = bill_key(source.connector_name, source.kind, source.account_no, str(bill["bill_id"]))
            bills.append(_bill_view(account, source, outcome, bill, holding.get(key)))
    return {"bills": bills, "unavailable": unavailable}


def _bill_view(account, source, outcome, bill: dict, order: tuple | None) -> dict:
    late_fee = int(bill.get("late_fee_fen") or 0)
    return {
        "account": account,
        "issuer": issuer_of(outcome.result, source.connector),
        "bill_id": str(bill["bill_id"]),
        "period": bill["period"],
        "amount_fen": int(bill["amount_fen"]),
        "late_fee_fen": late_fee,
        "total_fen": int(bill["amount_fen"]) + late_fee,
        "due_date": str(bill.get("due_date") or "") or None,
        # Paid through us: the issuer's (possibly cached) answer may not know yet.
        "status": "paid" if order is not None and order[1] in PAID_HERE else bill["status"],
        "payable": bill["status"] in PAYABLE and order is None,
        "payment": None if order is None else {"id": str(order[0]), "state": order[1]},
        "as_of": shown(outcome.as_of),
        "stale": outcome.stale,
    }


def _orders_holding(citizen_id: uuid.UUID) -> dict[str, tuple]:
    """bill_key → (order id, state) for the citizen's orders that hold a bill (open, or paid)."""
    rows = db.session.execute(
        sa.select(OrderBill.bill_key, PaymentOrder.id, PaymentOrder.state)
        .join(PaymentOrder, PaymentOrder.id == OrderBill.order_id)
        .where(PaymentOrder.citizen_id == citizen_id, OrderBill.holds.is_(True))
    ).all()
    return {key: (order_id, state) for key, order_id, state in rows}


def recheck(source: Source, bill_ids: list[str]) -> tuple[str, list[dict]]:
    """The issuer's name and the chosen bills as it has them now, each still payable; otherwise the
    citizen is told which bill is not (paid meanwhile, unknown)."""
    try:
        outcome = connectors.gateway().call(
            source.connector, source.operation, {"account_no": source.account_no}, source.identity, use_cache=False
        )
    except IntegrationError as error:
        raise as_cloud_error(error) from None
    by_id = {str(bill["bill_id"]): bill for bill in outcome.result.get("bills", [])}
    chosen = []
    for bill_id in bill_ids:
        bill = by_id.get(bill_id)
        if bill is None:
            raise AppError("BILL_NOT_FOUND", "没有找到这张账单", 404, {"bill_id": bill_id})
        if bill["status"] not in PAYABLE:
            raise AppError(
                "BILL_NOT_PAYABLE", "这张账单已缴清或不可缴", 409, {"bill_id": bill_id, "status": bill["status"]}
            )
        chosen.append(bill)
    return issuer_of(outcome.result, source.connector), chosen
