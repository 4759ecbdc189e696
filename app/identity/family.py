"""Family members (就诊人/游客): people a real-name citizen books for, each real-name verified too.

At most MAX_MEMBERS per citizen. The count is checked under a row lock on the citizen, so members added
at the same moment take turns and the last ones over the limit are refused. The population database is
asked before the lock is taken: no row waits on an outside call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.clock import shown, utcnow
from app.db import single_read, unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import citizens, real_name
from app.identity.models import ACTIVE, Citizen, FamilyMember
from app.identity.tokens import Caller
from app.security import pii

MAX_MEMBERS = 5


@dataclass(frozen=True)
class Person:
    """A verified person to book for, as other domains (appointments, tickets) see one."""

    member_id: uuid.UUID
    citizen_id: uuid.UUID
    relation: str
    name: str
    id_number: str
    id_number_hash: str  # for "one booking per ID" rules
    verified_at: datetime


def _not_found() -> AppError:
    return AppError("FAMILY_MEMBER_NOT_FOUND", "未找到该家庭成员", 404)


def _members(citizen_id: uuid.UUID) -> list[FamilyMember]:
    return list(
        db.session.scalars(
            sa.select(FamilyMember)
            .where(FamilyMember.citizen_id == citizen_id)
            .order_by(FamilyMember.created_at, FamilyMember.id)
        )
    )


def list_members(caller: Caller) -> list[FamilyMember]:
    return _members(citizens.get(caller).id)


def _hashes(read, citizen_id: uuid.UUID) -> list[str]:
    return list(read(sa.select(FamilyMember.id_number_hash).where(FamilyMember.citizen_id == citizen_id)).scalars())


def _check_room(own_hash: str | None, verified: bool, taken: list[str], id_hash: str) -> None:
    """The rules for one more member: run once early (a clear answer before any outside call) and again
    under the lock (the answer that counts)."""
    if not verified or own_hash is None:
        raise AppError("REAL_NAME_REQUIRED", "请先完成本人实名认证，再添加家庭成员", 403)
    if id_hash == own_hash:
        raise AppError("FAMILY_MEMBER_IS_SELF", "不能把本人添加为家庭成员", 422)
    if id_hash in taken:
        raise AppError("FAMILY_MEMBER_EXISTS", "该家庭成员已添加", 409)
    if len(taken) >= MAX_MEMBERS:
        raise AppError("FAMILY_LIMIT", f"最多添加{MAX_MEMBERS}位家庭成员", 409, {"max": MAX_MEMBERS})


def add(caller: Caller, relation: str, name: str, id_number: str) -> FamilyMember:
    name = name.strip()
    number = real_name.valid_number(id_number)
    id_hash = pii.blind_index("id_number", number)
    me = uuid.UUID(caller.subject)
    # The early check reads outside any transaction: none stays open while the population database answers.
    with single_read() as connection:
        own = connection.execute(
            sa.select(Citizen.status, Citizen.id_number_hash, Citizen.real_name_verified_at).where(Citizen.id == me)
        ).first()
        taken = _hashes(connection.execute, me)
    if own is None or own.status != ACTIVE:
        raise citizens.closed(own)
    _check_room(own.id_number_hash, own.real_name_verified_at is not None, taken, id_hash)
    mismatch = AppError("FAMILY_MEMBER_MISMATCH", "家庭成员姓名与身份证号不一致", 422)
    person = real_name.check_person(caller, name, number, mismatch)
    now = utcnow()
    try:
        with unit_of_work():
            citizen = citizens.get(caller, for_update=True)
            verified = citizen.real_name_verified_at is not None
            _check_room(citizen.id_number_hash, verified, _hashes(db.session.execute, citizen.id), id_hash)
            member = FamilyMember(
                id=uuid.uuid4(),
                citizen_id=citizen.id,
                relation=relation,
                name=person.name,
                id_number=person.id_number,
                id_number_hash=person.id_number_hash,
                verified_at=now,
                created_at=now,
            )
            db.session.add(member)
    except IntegrityError:  # the unique key backs the check above
        raise AppError("FAMILY_MEMBER_EXISTS", "该家庭成员已添加", 409) from None
    return member


def remove(caller: Caller, member_id: uuid.UUID) -> None:
    with unit_of_work():
        citizen = citizens.get(caller, for_update=True)
        member = db.session.get(FamilyMember, member_id)
        if member is None or member.citizen_id != citizen.id:
            raise _not_found()  # another citizen's member looks like no member at all
        db.session.delete(member)


def member_for(citizen_id: uuid.UUID | str, member_id: uuid.UUID | str) -> Person:
    """The verified person behind one of a citizen's members, or 404 (also for another citizen's member)."""
    try:
        citizen_id, member_id = uuid.UUID(str(citizen_id)), uuid.UUID(str(member_id))
    except ValueError:
        raise _not_found() from None
    member = db.session.get(FamilyMember, member_id)
    if member is None or member.citizen_id != citizen_id:
        raise _not_found()
    return Person(
        member.id,
        member.citizen_id,
        member.relation,
        member.name,
        member.id_number,
        member.id_number_hash,
        member.verified_at,
    )


def export_rows(citizen_id: uuid.UUID) -> list[dict]:
    """The citizen's own export: unmasked."""
    return [
        {
            "id": str(m.id),
            "relation": m.relation,
            "name": m.name,
            "id_number": m.id_number,
            "verified_at": shown(m.verified_at),
            "created_at": shown(m.created_at),
        }
        for m in _members(citizen_id)
    ]


def erase_all(citizen_id: uuid.UUID) -> None:
    """Inside the erasure's unit of work."""
    db.session.execute(sa.delete(FamilyMember).where(FamilyMember.citizen_id == citizen_id))
