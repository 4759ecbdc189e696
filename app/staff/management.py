"""Managing department staff from the console.

A department admin manages the staff of their own department; a platform operator may act on any
department's staff. Operator accounts are managed only from the command line (`flask staff`).
Someone else's account is "not found": its existence is not the caller's business.
"""

from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa

from app.audit import service as audit
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import sessions
from app.identity.tokens import Caller
from app.staff import accounts, passwords
from app.staff.models import StaffAccount


def _may_manage(caller: Caller, account: StaffAccount) -> bool:
    """Operators manage any staff; a department admin only the clerks of their own department.

    Never oneself, and never a fellow admin: a stolen admin session must not become a reset
    password, a takeover of another admin, or actions logged under someone else's name."""
    if account.kind != "staff" or str(account.id) == caller.subject:
        return False
    if caller.kind == "operator" and "operator" in caller.roles:
        return True
    return (
        "dept_admin" in caller.roles
        and account.department_code == caller.department
        and "dept_admin" not in account.roles
    )


def _managed(caller: Caller, account_id: str, for_update: bool = False) -> StaffAccount:
    try:
        key = uuid.UUID(account_id)
    except ValueError:
        key = None
    account = db.session.get(StaffAccount, key, with_for_update=for_update) if key else None
    if account is None or not _may_manage(caller, account):
        raise AppError("NOT_FOUND", "没有这个账号", 404)
    return account


def list_staff(caller: Caller, department_code: str | None = None) -> list[StaffAccount]:
    department = caller.department if caller.kind == "staff" else department_code
    query = sa.select(StaffAccount).where(StaffAccount.kind == "staff").order_by(StaffAccount.username)
    if department or caller.kind == "staff":
        query = query.where(StaffAccount.department_code == department)
    return list(db.session.scalars(query))


def create_staff(caller: Caller, username: str, display_name: str, roles: list[str], department_code: str | None):
    """A department admin adds staff to their own department; an operator names the department."""
    department = caller.department if caller.kind == "staff" else department_code
    if not department:
        raise AppError("DEPARTMENT_REQUIRED", "请指定部门", 422)
    return accounts.create(username, display_name, "staff", roles, department)


def disable(caller: Caller, account_id: str) -> StaffAccount:
    """Disabled at once: every session of the account ends now."""
    with unit_of_work():
        account = _managed(caller, account_id, for_update=True)
        account.status = "disabled"
        audit.record("staff.disable", "staff_account", account.id)
        sessions.revoke_all(account.kind, str(account.id), "account_disabled")
    return account


def unlock(caller: Caller, account_id: str) -> StaffAccount:
    with unit_of_work():
        account = _managed(caller, account_id, for_update=True)
        account.failed_logins, account.locked_until = 0, None
        audit.record("staff.unlock", "staff_account", account.id)
    return account


def reset_password(caller: Caller, account_id: str) -> tuple[StaffAccount, str]:
    """A new one-time password, shown once; the holder must choose their own at the next login."""
    with unit_of_work():
        account = _managed(caller, account_id, for_update=True)
        initial = secrets.token_urlsafe(12)
        account.password_hash, account.must_change_password = passwords.hash_password(initial), True
        account.failed_logins, account.locked_until = 0, None
        audit.record("staff.reset_password", "staff_account", account.id)
        sessions.revoke_all(account.kind, str(account.id), "password_reset")
    return account, initial
