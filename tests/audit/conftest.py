"""Tokens for staff and operator callers, minted the way the access matrix does (no console login needed)."""

import pytest

from app.audit.models import AuditEntry
from app.db import unit_of_work
from app.extensions import db
from app.identity import sessions
from app.identity.tokens import Caller

AUDITOR = Caller("operator", "audit-1", roles=frozenset({"auditor"}))
OPERATOR = Caller("operator", "op-1", roles=frozenset({"operator"}))
CLERK = Caller("staff", "staff-x", roles=frozenset({"clerk"}), department="jxw")


def headers_for(caller: Caller, **extra) -> dict:
    with unit_of_work():
        token = sessions.start(caller).access_token
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def as_auditor(app_ctx):
    return headers_for(AUDITOR)


@pytest.fixture
def as_operator(app_ctx):
    return headers_for(OPERATOR)


def entries(**where) -> list[AuditEntry]:
    """What is in the log now, oldest first."""
    db.session.expire_all()
    return list(db.session.query(AuditEntry).filter_by(**where).order_by(AuditEntry.id))
