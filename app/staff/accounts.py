"""Console accounts: creation, password login with lockout, TOTP for operators, password changes.

Login answers the same INVALID_CREDENTIALS for an unknown name, a wrong password and a disabled
account, so the console cannot be used to find out who works here.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.audit import service as audit
from app.city.models import Department
from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import sessions
from app.identity.models import AuthSession
from app.identity.tokens import Caller
from app.staff import passwords, totp
from app.staff.models import ROLES_BY_KIND, StaffAccount

CONSOLE_ROLES = tuple(sorted(ROLES_BY_KIND["staff"] | ROLES_BY_KIND["operator"]))
_BAD_LOGIN = ("INVALID_CREDENTIALS", "用户名或密码错误", 401)


@dataclass(frozen=True)
class Created:
    account: StaffAccount
    initial_password: str
    totp_uri: str | None


def caller_of(account: StaffAccount, session_id: str | None = None) -> Caller:
    roles = frozenset(account.roles)
    return Caller(account.kind, str(account.id), session_id, roles, frozenset(), account.department_code)


def _normalized(username: str) -> str:
    return username.strip().lower()


def _check_roles(kind: str, roles: list[str], department_code: str | None) -> None:
    if kind not in ROLES_BY_KIND:
        raise AppError("UNKNOWN_ACCOUNT_KIND", "账号类型只能是 staff 或 operator", 422)
    unknown = sorted(set(roles) - ROLES_BY_KIND[kind])
    if not roles or unknown:
        allowed = sorted(ROLES_BY_KIND[kind])
        raise AppError("UNKNOWN_ROLE", f"角色须为 {', '.join(allowed)} 之一", 422, {"allowed": allowed})
    known = db.session.scalar(sa.select(Department.id).where(Department.code == department_code))
    if kind == "staff" and known is None:
        raise AppError("UNKNOWN_DEPARTMENT", "没有这个部门", 422, {"department": department_code})
    if kind == "operator" and department_code:
        raise AppError("OPERATOR_HAS_NO_DEPARTMENT", "平台运营人员不属于任何部门", 422)


def create(username: str, display_name: str, kind: str, roles: list[str], department_code: str | None) -> Created:
    """A new account with a random initial password that must be changed at first login."""
    username = _normalized(username)
    with unit_of_work() as s:
        _check_roles(kind, roles, department_code)
        if s.scalar(sa.select(StaffAccount.id).where(StaffAccount.username == username)) is not None:
            raise AppError("USERNAME_TAKEN", "用户名已被使用", 409)
        initial = secrets.token_urlsafe(12)
        now = utcnow()
        account = StaffAccount(
            username=username,
            display_name=display_name,
            kind=kind,
            department_code=department_code if kind == "staff" else None,
            roles=sorted(set(roles)),
            status="active",
            password_hash=passwords.hash_password(initial),
            password_changed_at=now,
            must_change_password=True,
            failed_logins=0,
            created_at=now,
        )
        # Operators approve and audit: a password alone is not enough for them.
        account.totp_secret = totp.new_secret() if kind == "operator" else None
        s.add(account)
        s.flush()
        details = {"kind": kind, "roles": account.roles, "department": account.department_code}
        audit.record("staff.create", "staff_account", account.id, details=details)
    uri = totp.provisioning_uri(account.totp_secret, username) if account.totp_secret else None
    return Created(account, initial, uri)


def login(username: str, password: str, totp_code: str | None, new_password: str | None) -> sessions.TokenPair:
    """Check the password (and TOTP), count failures, lock after too many; start a console session.

    Every refusal is audited, kept even though the login's own work rolls back. The typed username
    is not: people type their password into it by mistake. The account's id is, when there is one.
    """
    seen: dict = {}
    try:
        return _login(username, password, totp_code, new_password, seen)
    except AppError as refusal:
        audit.record_now("staff.login_failed", "staff_account", seen.get("id"), details={"code": refusal.code})
        raise


def _login(username, password, totp_code, new_password, seen: dict) -> sessions.TokenPair:
    refusal = None
    with unit_of_work() as s:
        account = s.scalar(
            sa.select(StaffAccount).where(StaffAccount.username == _normalized(username)).with_for_update()
        )
        seen["id"] = account.id if account is not None else None
        now = utcnow()
        if account is not None and account.locked_until is not None and account.locked_until > now:
            # Wrong guesses while locked change nothing: an attacker cannot keep the lock on forever.
            raise _locked(account.locked_until - now)
        password_ok = passwords.verify(account.password_hash if account else None, password)
        if account is None or account.status != "active":
            raise AppError(*_BAD_LOGIN)
        if password_ok and account.totp_secret and not totp_code:
            # The password was right; ask for the second factor without counting a failure.
            raise AppError("TOTP_REQUIRED", "请输入动态验证码", 401, {"totp_required": True})
        step = totp.accepted_step(account.totp_secret, totp_code or "", account.totp_last_step) if password_ok else None
        if not password_ok or (account.totp_secret and step is None):
            refusal = _count_failure(account, now, "INVALID_TOTP" if password_ok else "INVALID_CREDENTIALS")
        else:
            if account.must_change_password:
                if not new_password:
                    details = {"new_password_required": True}
                    raise AppError("PASSWORD_CHANGE_REQUIRED", "首次登录请设置新密码", 403, details)
                _set_password(account, new_password)
            elif passwords.needs_rehash(account.password_hash):
                account.password_hash = passwords.hash_password(password)
            account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
            account.totp_last_step = step if step is not None else account.totp_last_step
            audit.record("staff.login", "staff_account", account.id, caller=caller_of(account))
            return sessions.start(caller_of(account))
    raise refusal  # after the unit of work: the failure count is committed


def _count_failure(account: StaffAccount, now, code: str) -> AppError:
    account.failed_logins += 1
    if account.failed_logins >= current_app.config["STAFF_LOCKOUT_FAILURES"]:
        lock = timedelta(minutes=current_app.config["STAFF_LOCKOUT_MINUTES"])
        account.failed_logins, account.locked_until = 0, now + lock
        return _locked(lock)
    if code == "INVALID_TOTP":
        return AppError("INVALID_TOTP", "动态验证码错误或已使用", 401)
    return AppError(*_BAD_LOGIN)


def _locked(remaining: timedelta) -> AppError:
    seconds = max(1, int(remaining.total_seconds()))
    return AppError(
        "ACCOUNT_LOCKED",
        f"连续登录失败次数过多，账号已锁定，请 {seconds // 60 + 1} 分钟后再试",
        403,
        {"retry_after_seconds": seconds},
        {"Retry-After": str(seconds)},
    )


def _set_password(account: StaffAccount, new_password: str) -> None:
    passwords.check_new_password(new_password, account.username)
    if passwords.verify(account.password_hash, new_password):
        raise AppError("PASSWORD_UNCHANGED", "新密码不能与当前密码相同", 422)
    account.password_hash = passwords.hash_password(new_password)
    account.password_changed_at, account.must_change_password = utcnow(), False


def change_password(caller: Caller, current_password: str, new_password: str) -> None:
    """Change one's own password; every other console session of the account ends."""
    with unit_of_work() as s:
        account = get(caller, for_update=True)
        if not passwords.verify(account.password_hash, current_password):
            raise AppError("INVALID_CREDENTIALS", "当前密码错误", 401)
        _set_password(account, new_password)
        audit.record("staff.password_change", "staff_account", account.id)
        others = s.scalars(
            sa.select(AuthSession.id).where(
                AuthSession.principal_id == caller.subject,
                AuthSession.revoked_at.is_(None),
                AuthSession.id != uuid.UUID(caller.session_id),
            )
        ).all()
    for session_id in others:
        sessions.revoke(str(session_id), "password_changed")


def refresh(refresh_token: str) -> sessions.TokenPair:
    def caller_for(session: AuthSession) -> Caller:
        account = None
        if session.principal_kind in ROLES_BY_KIND:
            account = db.session.get(StaffAccount, uuid.UUID(session.principal_id))
        if account is None or account.status != "active":
            raise AppError("INVALID_REFRESH_TOKEN", "登录已过期，请重新登录", 401)
        # Roles are read afresh: a role taken away yesterday is not in today's token.
        return caller_of(account, str(session.id))

    return sessions.refresh(refresh_token, caller_for)


def get(caller: Caller, for_update: bool = False) -> StaffAccount:
    """The caller's own console account."""
    try:
        account = db.session.get(StaffAccount, uuid.UUID(caller.subject), with_for_update=for_update)
    except ValueError:
        account = None
    if account is None or account.kind != caller.kind:
        raise AppError("NOT_FOUND", "账号不存在", 404)
    return account
