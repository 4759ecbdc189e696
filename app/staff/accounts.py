"""Console accounts: creation, password login with lockout, TOTP for operators, password changes.

Login answers the same INVALID_CREDENTIALS for an unknown name, a wrong password and a disabled
account, so the console cannot be used to find out who works here.
"""

from __future__ import annotations

import logging
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
from app.extensions import db, redis
from app.identity import sessions
from app.identity.models import AuthSession
from app.identity.tokens import Caller
from app.security.pii import blind_index
from app.staff import passwords, totp
from app.staff.models import ROLES_BY_KIND, StaffAccount

log = logging.getLogger(__name__)
CONSOLE_ROLES = tuple(sorted(ROLES_BY_KIND["staff"] | ROLES_BY_KIND["operator"]))
_BAD_LOGIN = ("INVALID_CREDENTIALS", "用户名或密码错误", 401)
# 403, not 401: the session is fine, and a 401 would send the console back to its login page.
_WRONG_CURRENT = ("CURRENT_PASSWORD_WRONG", "当前密码错误", 403)
_SESSION_OVER = ("INVALID_REFRESH_TOKEN", "登录已过期，请重新登录", 401)


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
    try:
        account, initial = _insert(username, display_name, kind, roles, department_code)
    except sa.exc.IntegrityError:
        # Two admins adding the same name at once: the unique index decides; the loser hears why.
        raise AppError("USERNAME_TAKEN", "用户名已被使用", 409) from None
    uri = totp.provisioning_uri(account.totp_secret, username) if account.totp_secret else None
    return Created(account, initial, uri)


def _insert(username, display_name, kind, roles, department_code) -> tuple[StaffAccount, str]:
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
    return account, initial


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
        if account is None:
            raise _unknown_name_failure(username)
        if password_ok and account.status == "active" and account.totp_secret and not totp_code:
            # The password was right; ask for the second factor without counting a failure.
            raise AppError("TOTP_REQUIRED", "请输入动态验证码", 401, {"totp_required": True})
        step = totp.accepted_step(account.totp_secret, totp_code or "", account.totp_last_step) if password_ok else None
        if account.status != "active" or not password_ok or (account.totp_secret and step is None):
            # A disabled account fails like a wrong password, and locks like one: nothing tells them apart.
            totp_wrong = password_ok and account.status == "active"
            refusal = _count_failure(account, now, "INVALID_TOTP" if totp_wrong else "INVALID_CREDENTIALS")
        else:
            # The code is spent now, even if the login is refused below for want of a new password.
            account.totp_last_step = step if step is not None else account.totp_last_step
            refusal = _first_login_password(account, password, new_password)
            if refusal is None:
                account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
                audit.record("staff.login", "staff_account", account.id, caller=caller_of(account))
                return sessions.start(caller_of(account))
    raise refusal  # after the unit of work: the failure count (or the spent TOTP step) is committed


def _first_login_password(account: StaffAccount, password: str, new_password: str | None) -> AppError | None:
    """A one-time password is good only for choosing a new one; a weak choice is refused."""
    if not account.must_change_password:
        if passwords.needs_rehash(account.password_hash):
            account.password_hash = passwords.hash_password(password)
        return None
    if not new_password:
        return AppError("PASSWORD_CHANGE_REQUIRED", "首次登录请设置新密码", 403, {"new_password_required": True})
    try:
        _set_password(account, new_password)
    except AppError as weak:
        return weak
    return None


def _count_failure(account: StaffAccount, now, code: str) -> AppError:
    account.failed_logins += 1
    if account.failed_logins >= current_app.config["STAFF_LOCKOUT_FAILURES"]:
        lock = timedelta(minutes=current_app.config["STAFF_LOCKOUT_MINUTES"])
        account.failed_logins, account.locked_until = 0, now + lock
        return _locked(lock)
    if code == "INVALID_TOTP":
        return AppError("INVALID_TOTP", "动态验证码错误或已使用", 401)
    return AppError(*_BAD_LOGIN)


def _unknown_name_failure(username: str) -> AppError:
    """Names nobody has lock after as many failures as real ones, so a lockout does not reveal who works here.

    Counted in Redis under a keyed hash of the name (not the name: it may be a mistyped password)."""
    key = "console:unknown-login:" + blind_index("staff_username", _normalized(username))
    limit, minutes = current_app.config["STAFF_LOCKOUT_FAILURES"], current_app.config["STAFF_LOCKOUT_MINUTES"]
    try:
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, minutes * 60, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
    except Exception:  # noqa: BLE001 - without Redis the plain refusal is still right
        log.warning("could not count a failed console login for an unknown name")
        return AppError(*_BAD_LOGIN)
    return _locked(timedelta(seconds=max(ttl, 1))) if count >= limit else AppError(*_BAD_LOGIN)


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
    """Change one's own password; every other console session of the account ends in the same commit.

    A wrong current password counts towards the lockout like a failed login: a stolen session must
    not be a way to guess the password at leisure."""
    refusal = None
    with unit_of_work():
        account = get(caller, for_update=True)
        if not passwords.verify(account.password_hash, current_password):
            counted = _count_failure(account, utcnow(), "INVALID_CREDENTIALS")
            refusal = counted if counted.code == "ACCOUNT_LOCKED" else AppError(*_WRONG_CURRENT)
        else:
            _set_password(account, new_password)
            audit.record("staff.password_change", "staff_account", account.id)
            sessions.revoke_all(account.kind, caller.subject, "password_changed", keep=caller.session_id)
    if refusal is not None:
        raise refusal


def refresh(refresh_token: str) -> sessions.TokenPair:
    def caller_for(session: AuthSession) -> Caller:
        account = None
        if session.principal_kind in ROLES_BY_KIND:
            account = db.session.get(StaffAccount, uuid.UUID(session.principal_id))
        if account is None or account.status != "active":
            raise AppError(*_SESSION_OVER)
        # However often it is refreshed, a console session ends a working day after the login.
        if utcnow() - session.created_at > timedelta(hours=current_app.config["STAFF_SESSION_HOURS"]):
            raise AppError(*_SESSION_OVER)
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
