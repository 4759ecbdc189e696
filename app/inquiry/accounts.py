"""Accounts a citizen binds (户号, 公积金账号, 社保卡号) after the department verifies them through its
connector; queries (and payments) then use them without the number being typed again.

A personal account (公积金, 社保) is verified against the citizen's verified identity, so nobody binds
another person's; a utility account against the holder's name the company has on file. Numbers are
stored encrypted, found by a keyed hash, and shown with only their last four characters.
"""

from __future__ import annotations

import uuid

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.catalog.form_inputs import mask_account
from app.clock import shown, utcnow
from app.connectors import service as connectors
from app.connectors.errors import as_cloud_error
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.models import Citizen
from app.identity.tokens import Caller
from app.inquiry.errors import login_required, real_name_required
from app.inquiry.models import BoundAccount
from app.security.pii import blind_index
from integrations.connectors.base import Identity
from integrations.errors import IntegrationError

MAX_ACCOUNTS = 20
KIND_NAMES = {
    "water": "水费户号",
    "power": "电费户号",
    "gas": "燃气户号",
    "property": "物业费户号",
    "gjj": "公积金账号",
    "si": "社会保障卡号",
}


def citizen_of(caller: Caller) -> Citizen:
    citizen = db.session.get(Citizen, uuid.UUID(caller.subject))
    if citizen is None or citizen.status != "active":
        raise login_required()
    return citizen


def identity_of(citizen: Citizen) -> Identity:
    if citizen.real_name_verified_at is None:
        raise real_name_required()
    return Identity(citizen.real_name, citizen.id_number)


def view(account: BoundAccount) -> dict:
    return {
        "id": str(account.id),
        "kind": account.kind,
        "kind_name": KIND_NAMES.get(account.kind, account.kind),
        "account_no": mask_account(account.number),
        "holder": account.holder,
        "label": account.label,
        "bound_at": shown(account.created_at),
    }


def listing(caller: Caller) -> list[dict]:
    rows = db.session.scalars(
        sa.select(BoundAccount)
        .where(BoundAccount.citizen_id == uuid.UUID(caller.subject))
        .order_by(BoundAccount.created_at, BoundAccount.id)
    ).all()
    return [view(row) for row in rows]


def _find(citizen_id: uuid.UUID, kind: str, index: str) -> BoundAccount | None:
    return db.session.scalar(
        sa.select(BoundAccount).where(
            BoundAccount.citizen_id == citizen_id, BoundAccount.kind == kind, BoundAccount.number_index == index
        )
    )


def bind(caller: Caller, kind: str, account_no: str, holder_name: str | None) -> tuple[dict, bool]:
    """The bound account and whether it is new; binding the same account again answers the first."""
    try:
        citizen = citizen_of(caller)
        index = blind_index(f"account:{kind}", account_no)
        existing = _find(citizen.id, kind, index)
        if existing is not None:
            return view(existing), False
        count = db.session.scalar(sa.select(sa.func.count()).where(BoundAccount.citizen_id == citizen.id))
        if count >= MAX_ACCOUNTS:
            raise AppError("TOO_MANY_ACCOUNTS", f"最多绑定 {MAX_ACCOUNTS} 个账户", 409)
        name, operation = connectors.account_verifier(kind) or (None, None)
        target = connectors.built(name) if name else None
        if target is None:  # no connector verifies this kind, or its stored configuration became unusable
            raise AppError("ACCOUNT_KIND_UNAVAILABLE", "暂不支持绑定这类账户", 503, {}, {"Retry-After": "3600"})
        op = target.connector.operations[operation]
        identity = identity_of(citizen) if op.identity else None
        inputs = {"account_no": account_no}
        if "holder_name" in op.inputs().fields:
            if not holder_name:
                raise AppError("VALIDATION_FAILED", "请填写户主姓名", 422, {"fields": {"holder_name": ["必填"]}})
            inputs["holder_name"] = holder_name
    finally:
        db.session.rollback()  # no connection held while the department checks
    try:
        verified = connectors.gateway().call(target.connector, operation, inputs, identity, use_cache=False).result
    except ma.ValidationError as error:
        raise AppError("VALIDATION_FAILED", "填写的信息有误", 422, {"fields": error.messages}) from None
    except IntegrationError as error:
        raise as_cloud_error(error) from None
    account = BoundAccount(
        citizen_id=citizen.id,
        kind=kind,
        connector=name,
        number=account_no,
        number_index=index,
        holder=str(verified.get("holder") or "")[:40],
        label=(verified.get("label") or None) and str(verified["label"])[:80],
        created_at=utcnow(),
    )
    try:
        with unit_of_work() as s:
            s.add(account)
    except IntegrityError:
        db.session.rollback()  # the same account bound by a double tap a moment ago: that one stands
        return view(_find(citizen.id, kind, index)), False
    return view(account), True


def unbind(caller: Caller, account_id: uuid.UUID) -> None:
    with unit_of_work() as s:
        deleted = s.execute(
            sa.delete(BoundAccount).where(
                BoundAccount.id == account_id, BoundAccount.citizen_id == uuid.UUID(caller.subject)
            )
        ).rowcount
    if not deleted:
        raise AppError("ACCOUNT_NOT_FOUND", "没有这个绑定账户", 404)


def number_for(citizen_id: uuid.UUID, account_id: uuid.UUID, kind: str | None) -> str:
    """The number of the citizen's own bound account of this kind, for a query."""
    account = db.session.get(BoundAccount, account_id)
    if account is None or account.citizen_id != citizen_id:
        raise AppError("ACCOUNT_NOT_FOUND", "没有这个绑定账户", 404)
    if kind is None or account.kind != kind:
        raise AppError("ACCOUNT_NOT_APPLICABLE", "此服务不能使用这个账户", 422, {"kind": account.kind})
    return account.number
