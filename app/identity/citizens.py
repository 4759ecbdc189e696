"""Citizens: login from the two mini-programs, and their own profile."""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.clock import shown, utcnow
from app.db import read_once, unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import providers, sessions
from app.identity.models import ACTIVE, ERASED, MERGED, AuthSession, Citizen, CitizenIdentity
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
                if citizen.status != ACTIVE:  # merged: only a login racing the merge sees this; a retry works
                    raise closed(citizen)
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
        if session.principal_kind != "citizen":
            # A console or client session's token is unknown here, exactly like a made-up one.
            raise AppError("INVALID_REFRESH_TOKEN", "登录已过期，请重新登录", 401)
        citizen = db.session.get(Citizen, uuid.UUID(session.principal_id))
        if citizen is None or citizen.status != ACTIVE:
            raise closed(citizen)
        return Caller("citizen", session.principal_id, str(session.id))

    return sessions.refresh(refresh_token, caller_for)


def get(caller: Caller, for_update: bool = False) -> Citizen:
    """The caller's own record: a citizen only ever reaches their own.

    Writers pass for_update, so a change and an erasure of the same account take turns: whichever
    comes second sees the first (a bind after an erasure finds the account closed).
    """
    # Readers get the logins in the same query; a row lock cannot cover an outer join, so writers don't.
    options = [] if for_update else [joinedload(Citizen.identities)]
    # A lock must come with fresh values: the row may have been read earlier in this session.
    citizen = db.session.get(
        Citizen, uuid.UUID(caller.subject), options=options, with_for_update=for_update, populate_existing=for_update
    )
    if citizen is None or citizen.status != ACTIVE:
        raise closed(citizen)
    return citizen


def closed(citizen) -> AppError:
    """Why a citizen (a record, or a row with its status) cannot act: erased, or merged into another."""
    if citizen is not None and citizen.status == MERGED:
        return AppError("ACCOUNT_MERGED", "该账号已与另一账号合并，请重新登录", 403)
    return AppError("ACCOUNT_CLOSED", "该账号已注销", 403)


@dataclass(frozen=True)
class Profile:
    """What a citizen sees of themselves; read with one light query on the hottest route."""

    id: uuid.UUID
    nickname: str | None
    phone: str | None
    real_name: str | None
    id_number: str | None
    real_name_verified_at: datetime | None
    created_at: datetime
    logins: list[str]


# Built once: composing the statement anew costs more CPU than PostgreSQL spends answering it.
_PROFILE_QUERY = (
    sa.select(
        Citizen.id,
        Citizen.status,
        Citizen.nickname,
        Citizen.phone,
        Citizen.real_name,
        Citizen.id_number,
        Citizen.real_name_verified_at,
        Citizen.created_at,
        CitizenIdentity.provider,
    )
    .outerjoin(CitizenIdentity, CitizenIdentity.citizen_id == Citizen.id)
    .where(Citizen.id == sa.bindparam("citizen_id", type_=sa.Uuid))
)


def profile(caller: Caller) -> Profile:
    rows = read_once(_PROFILE_QUERY, {"citizen_id": uuid.UUID(caller.subject)})
    if not rows or rows[0].status != ACTIVE:
        raise closed(rows[0] if rows else None)
    first = rows[0]
    return Profile(
        first.id,
        first.nickname,
        first.phone,
        first.real_name,
        first.id_number,
        first.real_name_verified_at,
        first.created_at,
        sorted({r.provider for r in rows if r.provider}),
    )


@contextmanager
def claiming(caller: Caller, hash_column: str, value_hash: str, conflict: AppError):
    """A unit of work on the caller's own record that also claims a unique personal value (phone, ID).

    Another citizen holding it is `conflict`; so is losing a race for it at commit (the unique index).
    """
    try:
        with unit_of_work() as session:
            holder = session.scalar(sa.select(Citizen).where(getattr(Citizen, hash_column) == value_hash))
            if holder is not None and str(holder.id) != caller.subject:
                raise conflict
            citizen = get(caller, for_update=True)
            yield citizen
            citizen.updated_at = utcnow()
    except IntegrityError:
        raise conflict from None


def update(caller: Caller, changes: dict) -> Citizen:
    with unit_of_work():
        citizen = get(caller, for_update=True)
        if "nickname" in changes:
            citizen.nickname = changes["nickname"]
        citizen.updated_at = utcnow()
    return citizen


def export(caller: Caller) -> dict:
    """Everything we hold about the caller, unmasked: it is their own data (PIPL art. 45)."""
    from app.identity import family, link_reads  # they build on this module
    from app.inquiry import personal_data as inquiry_data  # what the inquiries keep of a citizen

    citizen = get(caller)
    sessions_held = db.session.scalars(
        sa.select(AuthSession).where(
            AuthSession.principal_kind == "citizen", AuthSession.principal_id == caller.subject
        )
    ).all()
    return {
        "profile": {
            "id": str(citizen.id),
            "nickname": citizen.nickname,
            "phone": citizen.phone,
            "real_name": citizen.real_name,
            "id_number": citizen.id_number,
            "real_name_verified_at": shown(citizen.real_name_verified_at),
            "created_at": shown(citizen.created_at),
        },
        "logins": [
            {
                "provider": i.provider,
                "app_id": i.app_id,
                "subject": i.subject,
                "union_id": i.union_id,
                "created_at": shown(i.created_at),
                "last_login_at": shown(i.last_login_at),
            }
            for i in citizen.identities
        ],
        "sessions": [{"created_at": shown(s.created_at), "revoked_at": shown(s.revoked_at)} for s in sessions_held],
        "family": family.export_rows(citizen.id),
        "links": link_reads.export_rows(citizen.id),
        "bound_accounts": inquiry_data.export_accounts(citizen.id),
        "queries": inquiry_data.export_queries(citizen.id),
        "exported_at": shown(utcnow()),
    }


def erase(caller: Caller) -> None:
    """Delete the account: personal data and logins go; the id stays, de-identified, for the records
    the law makes us keep (payments, Wi-Fi logs), which point at it."""
    from app.identity import family, linking  # they build on this module
    from app.inquiry import personal_data as inquiry_data

    with unit_of_work():
        citizen = get(caller, for_update=True)
        for identity in list(citizen.identities):
            db.session.delete(identity)
        family.erase_all(citizen.id)
        linking.erase_all(citizen.id)
        inquiry_data.erase_all(citizen.id)  # bound accounts and query history: nothing the law keeps
        citizen.nickname = citizen.phone = citizen.phone_hash = None
        citizen.real_name = citizen.id_number = citizen.id_number_hash = None
        citizen.real_name_verified_at = None
        citizen.status, citizen.erased_at = ERASED, utcnow()
        citizen.updated_at = citizen.erased_at
    sessions.revoke_all("citizen", caller.subject, reason="erased")
