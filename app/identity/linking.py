"""Linking a WeChat login and an Alipay login of one person into one account, through a verified phone.

Each first login creates its own citizen. A person who logs in from both mini-programs joins them so:

1. Account R (say, Alipay) verifies a phone the usual way: `PUT /me/phone` with an SMS code or the
   WeChat phone button. The phone is bound to account H (say, WeChat) already, so the answer is
   409 PHONE_IN_USE. When the two may be linked, its details say `link_available: true` and carry a
   `link_proof`: an opaque token meaning "R proved this phone just now", kept in Redis (by its hash)
   for PROOF_SECONDS. Nothing is stored in the database yet.
2. R asks to merge: `POST /me/links {"link_proof"}`. A pending LinkRequest R -> H is stored, valid for
   REQUEST_SECONDS. The same proof again gives the same request: one proof, at most one request.
3. H, logged in, sees it in `GET /me/links` with what identifies R (`requester`: its nickname, its real
   name masked, its logins, when it was created) and answers `POST /me/links/{id}/confirm` or `/decline`.
   R sees it too and may withdraw it with `/decline` (it becomes "cancelled"). Nobody else sees it (404).
   To confirm, H proves the phone again, now: phone numbers are recycled, and the old owner of a number
   would otherwise see their own masked number and confirm, handing their account (real name, family)
   to the number's new owner. Either
   - `POST /me/links/{id}/confirm-code` texts a code to the phone H has bound (H never types the number;
     the usual SMS limits apply), then `POST /me/links/{id}/confirm {"sms_code"}`; or
   - in the WeChat mini-program, one step: `POST /me/links/{id}/confirm {"wechat_code"}` with the code of
     the getPhoneNumber button; the number WeChat gives must be the one H has bound.
   A wrong or spent code merges nothing (SMS_CODE_WRONG / SMS_CODE_EXPIRED, LINK_PHONE_MISMATCH).
4. Confirm merges in one transaction: R's logins, its real name (when H has none) and its family members
   move to H; R's sessions are revoked; R stays as an empty shell, status "merged", merged_into = H.
   From then on either mini-program logs in as H.

So a merge needs the phone proved from R, R asking, and H, logged in, proving the phone again. Only
accounts of different providers merge (WeChat + Alipay; never two WeChat accounts), and not two accounts
with real names: an ID number is real-named on one account only, so two real names are two people.

Concurrency: writers lock the two citizens' rows (in id order) before the request's row, so confirms,
declines, binds and erasure take turns; a second confirm finds the request merged and answers it again
(without a proof: the code was spent by the first).
Domains that keep rows per citizen register `on_merge(hook)` to move them in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError

from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db, redis
from app.identity import citizens, phone, providers, sessions
from app.identity.link_reads import (
    CANCELLED,
    DECLINED,
    DONE,
    EXPIRED,
    PENDING,
    LinkView,
    providers_of,
    status_of,
    view_of,
)
from app.identity.models import ACTIVE, MERGED, Citizen, CitizenIdentity, FamilyMember, LinkRequest
from app.identity.tokens import Caller
from app.security import pii

log = logging.getLogger(__name__)

PROOF_SECONDS = 600
REQUEST_SECONDS = 900
_MERGE_HOOKS: list = []


def on_merge(hook) -> None:
    """`hook(from_citizen_id, into_citizen_id)` runs inside the merge's unit of work."""
    _MERGE_HOOKS.append(hook)


# --- the rules --------------------------------------------------------------------------------------


def _obstacle(requester: Citizen, holder: Citizen) -> AppError | None:
    """Why these two cannot become one, or None."""
    if providers_of(requester.id) & providers_of(holder.id):
        return AppError("LINK_SAME_PROVIDER", "只能合并一个微信账号和一个支付宝账号", 409)
    if requester.id_number_hash and holder.id_number_hash and requester.id_number_hash != holder.id_number_hash:
        return AppError("LINK_REAL_NAME_CONFLICT", "两个账号的实名信息不是同一人，无法合并", 409)
    return None


def _lock_pair(first_id: uuid.UUID, second_id: uuid.UUID) -> tuple[Citizen, Citizen]:
    """Both rows FOR UPDATE, always in the same order, so two writers never wait on each other in a circle."""
    locked = {
        cid: db.session.get(Citizen, cid, with_for_update=True, populate_existing=True)
        for cid in sorted({first_id, second_id})
    }
    return locked[first_id], locked[second_id]


# --- step 1: the offer in the 409 of a phone bind -----------------------------------------------------


def _proof_key(token: str) -> str:
    return f"link:proof:{hashlib.sha256(token.encode()).hexdigest()}"


def phone_in_use(caller: Caller, phone_hash: str) -> AppError:
    """The answer to binding a phone another account holds, after the caller proved the phone."""
    details: dict = {"link_available": False}
    holder = db.session.scalar(sa.select(Citizen).where(Citizen.phone_hash == phone_hash))
    requester = db.session.get(Citizen, uuid.UUID(caller.subject))
    if holder is None or requester is None or holder.status != ACTIVE or requester.status != ACTIVE:
        return AppError("PHONE_IN_USE", "该手机号已绑定其他账号", 409, details)
    obstacle = _obstacle(requester, holder)
    if obstacle is not None:
        return AppError("PHONE_IN_USE", "该手机号已绑定其他账号", 409, {**details, "reason": obstacle.code})
    token = secrets.token_urlsafe(32)
    proof = {"citizen": caller.subject, "phone_hash": phone_hash, "request": None}
    try:
        redis.set(_proof_key(token), json.dumps(proof), ex=PROOF_SECONDS)
    except RedisError:
        log.warning("could not keep a link proof; answering without the offer")
        return AppError("PHONE_IN_USE", "该手机号已绑定其他账号", 409, {**details, "reason": "LINK_UNAVAILABLE"})
    return AppError(
        "PHONE_IN_USE",
        "该手机号已绑定另一个账号，可申请把两个账号合并",
        409,
        {"link_available": True, "link_proof": token, "link_proof_expires_in": PROOF_SECONDS},
    )


# --- step 2: the requester asks ---------------------------------------------------------------------


def _proof(caller: Caller, token: str) -> dict:
    try:
        raw = redis.get(_proof_key(token))
    except RedisError:
        raise AppError(
            "LINK_UNAVAILABLE", "账号合并服务暂时不可用，请稍后再试", 503, {}, {"Retry-After": "30"}
        ) from None
    proof = json.loads(raw) if raw else None
    if proof is None or proof["citizen"] != caller.subject:  # another citizen's proof is no proof
        raise AppError("LINK_PROOF_INVALID", "手机号验证已过期，请重新验证手机号", 422)
    return proof


def request_link(caller: Caller, token: str) -> tuple[LinkView, bool]:
    """The request this proof stands for, and whether it was created now."""
    proof = _proof(caller, token)
    me = uuid.UUID(caller.subject)
    if proof["request"]:
        earlier = db.session.get(LinkRequest, uuid.UUID(proof["request"]))
        if earlier is not None and earlier.requester_id == me:
            return view_of(earlier, me, utcnow()), False
    holder_id = db.session.scalar(sa.select(Citizen.id).where(Citizen.phone_hash == proof["phone_hash"]))
    gone = AppError("LINK_HOLDER_GONE", "该手机号已不再绑定其他账号，请重新绑定手机号", 409)
    if holder_id is None or holder_id == me:
        raise gone
    now = utcnow()
    with unit_of_work():
        requester, holder = _lock_pair(me, holder_id)
        if requester.status != ACTIVE:
            raise citizens.closed(requester)
        if holder.status != ACTIVE or holder.phone_hash != proof["phone_hash"]:
            raise gone
        link = db.session.scalar(
            sa.select(LinkRequest).where(
                LinkRequest.requester_id == me,
                LinkRequest.holder_id == holder_id,
                LinkRequest.status == PENDING,
                LinkRequest.expires_at > now,
            )
        )
        created = link is None
        if created:
            obstacle = _obstacle(requester, holder)
            if obstacle is not None:
                raise obstacle
            link = LinkRequest(
                id=uuid.uuid4(),
                requester_id=me,
                holder_id=holder_id,
                phone_hash=proof["phone_hash"],
                status=PENDING,
                created_at=now,
                expires_at=now + timedelta(seconds=REQUEST_SECONDS),
            )
            db.session.add(link)
    try:  # spend the proof on this request; if Redis misses it, the pending request still answers a retry
        redis.set(_proof_key(token), json.dumps({**proof, "request": str(link.id)}), keepttl=True, xx=True)
    except RedisError:
        log.warning("could not mark a link proof as used")
    return view_of(link, me, now), created


# --- step 3: what each side sees ----------------------------------------------------------------------


# --- step 4: the holder confirms (or either side declines) -------------------------------------------


def _not_found() -> AppError:
    return AppError("LINK_NOT_FOUND", "未找到该合并申请", 404)


def _phone_changed() -> AppError:
    return AppError("LINK_PHONE_CHANGED", "该账号已更换手机号，请对方重新验证后再申请", 409)


def _find(me: uuid.UUID, link_id: uuid.UUID, confirming: bool) -> LinkRequest:
    link = db.session.get(LinkRequest, link_id)
    if link is None or me not in (link.requester_id, link.holder_id):
        raise _not_found()  # another pair's request looks like none at all
    if confirming and me != link.holder_id:
        raise AppError("LINK_CONFIRM_BY_HOLDER", "请登录已绑定该手机号的账号确认合并", 403)
    return link


def send_confirm_code(caller: Caller, link_id: uuid.UUID) -> tuple[str, int]:
    """Text a code to the phone the holder has bound, to confirm this request with: (the phone, seconds)."""
    me = uuid.UUID(caller.subject)
    link = _find(me, link_id, confirming=True)
    holder = db.session.get(Citizen, me)
    if holder is None or holder.status != ACTIVE:
        raise citizens.closed(holder)
    status = status_of(link, utcnow())
    if status == EXPIRED:
        raise AppError("LINK_EXPIRED", "合并申请已过期，请重新发起", 409)
    if status != PENDING:
        raise AppError("LINK_NOT_PENDING", "该合并申请已处理", 409, {"status": status})
    if holder.phone_hash != link.phone_hash:
        raise _phone_changed()
    return holder.phone, phone.send_code(caller, holder.phone)


def confirm(
    caller: Caller, link_id: uuid.UUID, *, sms_code: str | None = None, wechat_code: str | None = None
) -> LinkView:
    """Merge, once the holder has proved the phone again: an SMS code (send_confirm_code) or the WeChat button."""
    if (sms_code is None) == (wechat_code is None):
        raise ValueError("give sms_code or wechat_code")
    link = _find(uuid.UUID(caller.subject), link_id, confirming=True)
    if sms_code is not None:

        def prove(holder: Citizen) -> None:
            phone._check_code(caller, holder.phone, sms_code)  # the bind's own check: same code, same tries

    else:
        # WeChat is asked before any row is locked. A request no longer pending needs no proof (a retry).
        shown = None
        if link.status == PENDING:
            shown = pii.blind_index("phone", providers.wechat_phone_number(wechat_code))

        def prove(holder: Citizen) -> None:
            if shown != holder.phone_hash:
                raise AppError("LINK_PHONE_MISMATCH", "该手机号不是本账号绑定的手机号", 422)

    return _decide(caller, link_id, confirming=True, prove=prove)


def decline(caller: Caller, link_id: uuid.UUID) -> LinkView:
    return _decide(caller, link_id, confirming=False)


def _decide(caller: Caller, link_id: uuid.UUID, confirming: bool, prove=None) -> LinkView:
    me = uuid.UUID(caller.subject)
    link = _find(me, link_id, confirming)
    now, expired = utcnow(), False
    with unit_of_work():
        requester, holder = _lock_pair(link.requester_id, link.holder_id)
        link = db.session.get(LinkRequest, link_id, with_for_update=True, populate_existing=True)
        if link is None:
            raise _not_found()  # erased meanwhile
        mine = holder if me == link.holder_id else requester
        if mine.status != ACTIVE:
            raise citizens.closed(mine)
        settled = {DONE} if confirming else {DECLINED, CANCELLED}
        if link.status in settled:
            pass  # the same answer again (a retry, or two taps at once): nothing more happens
        elif link.status == PENDING and link.expires_at <= now:
            link.status, link.decided_at, expired = EXPIRED, now, True
        elif link.status != PENDING:
            raise AppError("LINK_NOT_PENDING", "该合并申请已处理", 409, {"status": link.status})
        elif confirming:
            _merge(link, requester, holder, now, prove)
        else:
            link.status, link.decided_at = (DECLINED if me == link.holder_id else CANCELLED), now
    if expired:  # after the unit of work, so the expiry is recorded
        raise AppError("LINK_EXPIRED", "合并申请已过期，请重新发起", 409)
    return view_of(link, me, now)


def _merge(link: LinkRequest, requester: Citizen, holder: Citizen, now: datetime, prove) -> None:
    if requester.status != ACTIVE or holder.status != ACTIVE:
        raise AppError("LINK_ACCOUNT_CLOSED", "对方账号已注销或已合并，无法完成合并", 409)
    if holder.phone_hash != link.phone_hash:
        raise _phone_changed()
    obstacle = _obstacle(requester, holder)
    if obstacle is not None:
        raise obstacle
    # Last, so a refusal above does not spend the code; under the lock, so two taps at once spend it once
    # and the second sees the merge. Only Redis is asked here (WeChat was asked before the lock).
    prove(holder)
    if requester.id_number_hash and not holder.id_number_hash:
        person = (requester.real_name, requester.id_number, requester.id_number_hash, requester.real_name_verified_at)
        requester.real_name = requester.id_number = requester.id_number_hash = None
        requester.real_name_verified_at = None
        db.session.flush()  # free the unique hash before the holder takes it
        holder.real_name, holder.id_number, holder.id_number_hash, holder.real_name_verified_at = person
    # Family members need a real name, and two real names never merge: only one side can have any.
    db.session.execute(
        sa.update(FamilyMember).where(FamilyMember.citizen_id == requester.id).values(citizen_id=holder.id)
    )
    db.session.execute(
        sa.update(CitizenIdentity).where(CitizenIdentity.citizen_id == requester.id).values(citizen_id=holder.id)
    )
    holder.nickname = holder.nickname or requester.nickname
    holder.updated_at = now
    requester.nickname = requester.phone = requester.phone_hash = None
    requester.real_name = requester.id_number = requester.id_number_hash = requester.real_name_verified_at = None
    requester.status, requester.merged_into, requester.updated_at = MERGED, holder.id, now
    link.status, link.decided_at = DONE, now
    # Other requests of the account that is going away can no longer be answered.
    db.session.execute(
        sa.update(LinkRequest)
        .where(
            sa.or_(LinkRequest.requester_id == requester.id, LinkRequest.holder_id == requester.id),
            LinkRequest.status == PENDING,
            LinkRequest.id != link.id,
        )
        .values(status=CANCELLED, decided_at=now)
    )
    for hook in _MERGE_HOOKS:
        hook(requester.id, holder.id)
    sessions.revoke_all("citizen", str(requester.id), reason="merged")  # joins this unit of work
    log.info("citizen accounts merged", extra={"link_id": str(link.id)})


# --- erasure -------------------------------------------------------------------------------------------


def erase_all(citizen_id: uuid.UUID) -> None:
    """Inside the erasure's unit of work: the requests hold a keyed hash of the phone."""
    involved = sa.or_(LinkRequest.requester_id == citizen_id, LinkRequest.holder_id == citizen_id)
    db.session.execute(sa.delete(LinkRequest).where(involved))
