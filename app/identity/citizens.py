"""Citizens: login from the two mini-programs, and their own profile."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import providers, sessions
from app.identity.models import ACTIVE, AuthSession, Citizen, CitizenIdentity
from app.identity.tokens import Caller

log = logging.getLogger(__name__)


def _caller(citizen_id: uuid.UUID | str) -> Caller:
    return Caller("citizen", str(citizen_id))


def _find_or_create(provider: str, app_id: str, subject: str, union_id: str | None) -> Citizen:
    """The citizen behind a login, created on first sight."""
    now = utcnow()
    identity = db.session.scalar(
        sa.select(CitizenIdentity).where(
            CitizenIdentity.provider == provider, CitizenIdentity.app_id == app_id, CitizenIdentity.subject == subject
        )
    )
    if identity is not None:
        identity.last_login_at = now
        if union_id and identity.union_id != union_id:
            identity.union_id = union_id
        return identity.citizen
    citizen = Citizen(id=uuid.uuid4(), status=ACTIVE, created_at=now, updated_at=now)
    db.session.add(citizen)
    db.session.add(
        CitizenIdentity(
            citizen=citizen,
            provider=provider,
            app_id=app_id,
            subject=subject,
            union_id=union_id,
            created_at=now,
            last_login_at=now,
        )
    )
    return citizen


def _login(provider: str, app_id: str, subject: str, union_id: str | None) -> tuple[sessions.TokenPair, Citizen]:
    # Two first logins of one person can race (a double tap): the loser's insert fails on the unique
    # login key, and its second try finds the citizen the winner created.
    for attempt in range(2):
        try:
            with unit_of_work():
                citizen = _find_or_create(provider, app_id, subject, union_id)
                if citizen.status != ACTIVE:
                    raise AppError("ACCOUNT_CLOSED", "该账号已注销", 403)
                pair = sessions.start(_caller(citizen.id))
            return pair, citizen
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def login_with_wechat(code: str):
    """wx.login() code -> jscode2session (outside any transaction) -> our citizen and tokens."""
    wechat_session = providers.wechat_code_to_session(code)
    return _login("wechat", providers.wechat_app_id(), wechat_session.openid, wechat_session.unionid)


def login_with_alipay(auth_code: str):
    user = providers.alipay_oauth_token(auth_code)
    return _login("alipay", providers.alipay_app_id(), user.user_id or user.open_id, None)


def refresh(refresh_token: str) -> sessions.TokenPair:
    def caller_for(session: AuthSession) -> Caller:
        citizen = db.session.get(Citizen, uuid.UUID(session.principal_id))
        if citizen is None or citizen.status != ACTIVE:
            raise AppError("ACCOUNT_CLOSED", "该账号已注销", 403)
        return Caller("citizen", session.principal_id, str(session.id))

    return sessions.refresh(refresh_token, caller_for)


def get(caller: Caller) -> Citizen:
    """The caller's own record: a citizen only ever reaches their own."""
    citizen = db.session.get(Citizen, uuid.UUID(caller.subject))
    if citizen is None or citizen.status != ACTIVE:
        raise AppError("ACCOUNT_CLOSED", "该账号已注销", 403)
    return citizen


def update(caller: Caller, changes: dict) -> Citizen:
    with unit_of_work():
        citizen = get(caller)
        if "nickname" in changes:
            citizen.nickname = changes["nickname"]
        citizen.updated_at = utcnow()
    return citizen
