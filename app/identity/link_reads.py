"""What the two sides of a link request see of it, and what an export shows (the flow: linking.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.clock import shown, utcnow
from app.extensions import db
from app.identity import citizens
from app.identity.models import Citizen, CitizenIdentity, LinkRequest
from app.identity.tokens import Caller

PENDING, DONE, DECLINED, CANCELLED, EXPIRED = "pending", "merged", "declined", "cancelled", "expired"


def providers_of(citizen_id: uuid.UUID) -> set[str]:
    return set(db.session.scalars(sa.select(CitizenIdentity.provider).where(CitizenIdentity.citizen_id == citizen_id)))


@dataclass(frozen=True)
class AskingAccount:
    """What the holder sees of the account that asks to join theirs, to tell whether it is their own."""

    nickname: str | None
    real_name: str | None  # masked in the answer
    logins: list[str]
    created_at: datetime


@dataclass(frozen=True)
class LinkView:
    id: uuid.UUID
    direction: str  # "incoming": another account asks to join mine; "outgoing": I asked
    status: str
    phone: str | None  # the shared phone (masked in the answer)
    other_logins: list[str]
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    requester: AskingAccount | None  # incoming only: the asker learns nothing more of the holder


def status_of(link: LinkRequest, now: datetime) -> str:
    return EXPIRED if link.status == PENDING and link.expires_at <= now else link.status


def involving(citizen_id: uuid.UUID, limit: int | None = None) -> list[LinkRequest]:
    query = (
        sa.select(LinkRequest)
        .where(sa.or_(LinkRequest.requester_id == citizen_id, LinkRequest.holder_id == citizen_id))
        .order_by(LinkRequest.created_at.desc())
    )
    return list(db.session.scalars(query.limit(limit) if limit else query))


def view_of(link: LinkRequest, me: uuid.UUID, now: datetime) -> LinkView:
    incoming = link.holder_id == me
    holder = db.session.get(Citizen, link.holder_id)
    shared = holder.phone if holder is not None and holder.phone_hash == link.phone_hash else None
    other = link.requester_id if incoming else link.holder_id
    logins = sorted(providers_of(other))
    requester = None
    if incoming:
        asking = db.session.get(Citizen, link.requester_id)
        requester = AskingAccount(asking.nickname, asking.real_name, logins, asking.created_at)
    return LinkView(
        link.id,
        "incoming" if incoming else "outgoing",
        status_of(link, now),
        shared,
        logins,
        link.created_at,
        link.expires_at,
        link.decided_at,
        requester,
    )


def list_links(caller: Caller) -> list[LinkView]:
    me, now = citizens.get(caller).id, utcnow()
    return [view_of(link, me, now) for link in involving(me, limit=20)]


def export_rows(citizen_id: uuid.UUID) -> list[dict]:
    now = utcnow()
    return [
        {
            "id": str(link.id),
            "direction": "incoming" if link.holder_id == citizen_id else "outgoing",
            "status": status_of(link, now),
            "created_at": shown(link.created_at),
            "decided_at": shown(link.decided_at),
        }
        for link in involving(citizen_id)
    ]
