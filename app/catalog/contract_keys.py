"""Issuing the keys that sign our calls to a department's endpoint, and finding one to sign with."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from app.audit import service as audit
from app.catalog.models import ContractKey
from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller


def issue(caller: Caller) -> tuple[str, str]:
    """A new key of the caller's department: its id and secret, the secret shown this once."""
    if caller.kind not in {"staff", "client"} or not caller.department:
        raise AppError("DEPARTMENT_ONLY", "只有部门可以申请接口密钥", 403)
    key_id, secret = f"{caller.department}-{secrets.token_hex(6)}", secrets.token_urlsafe(32)
    with unit_of_work() as s:
        s.add(ContractKey(key_id=key_id, department_code=caller.department, secret=secret, created_at=utcnow()))
        audit.record("contract_key.issue", "contract_key", key_id)
    return key_id, secret


def secret_for(department_code: str, key_id: str | None) -> str | None:
    """The secret of a live key of this department, or None (another department's key is no key)."""
    key = db.session.scalar(
        sa.select(ContractKey).where(
            ContractKey.key_id == (key_id or ""),
            ContractKey.department_code == department_code,
            ContractKey.retired_at.is_(None),
        )
    )
    return key.secret if key else None
