"""The lifecycle of a service version: one transition table, enforced in one place, every move audited.

    DRAFT → SUBMITTED → APPROVED → LIVE        (department submits, operator approves, publish)
    SUBMITTED → REJECTED → DRAFT               (operator rejects with comments; department reopens)
    LIVE ⇄ SUSPENDED                           (department suspends its own, operator any)
    DRAFT / REJECTED / APPROVED / LIVE / SUSPENDED → RETIRED

Publishing a version retires the one live before it, in the same transaction, and points the service
at the new one: citizens see either the old version or the new, never none.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.audit import service as audit
from app.catalog.models import Service, ServiceVersion
from app.clock import utcnow
from app.errors import AppError
from app.identity.tokens import Caller

DEPARTMENT, OPERATOR = "department", "operator"


@dataclass(frozen=True)
class Move:
    action: str
    source: str
    target: str
    by: frozenset[str]  # DEPARTMENT (its own services) and/or OPERATOR


def _move(action: str, source: str, target: str, *by: str) -> Move:
    return Move(action, source, target, frozenset(by))


TRANSITIONS: tuple[Move, ...] = (
    _move("submit", "DRAFT", "SUBMITTED", DEPARTMENT),
    _move("approve", "SUBMITTED", "APPROVED", OPERATOR),
    _move("reject", "SUBMITTED", "REJECTED", OPERATOR),
    _move("reopen", "REJECTED", "DRAFT", DEPARTMENT),
    _move("publish", "APPROVED", "LIVE", DEPARTMENT, OPERATOR),
    _move("suspend", "LIVE", "SUSPENDED", DEPARTMENT, OPERATOR),
    _move("resume", "SUSPENDED", "LIVE", DEPARTMENT, OPERATOR),
    *(
        _move("retire", source, "RETIRED", DEPARTMENT, OPERATOR)
        for source in ("DRAFT", "REJECTED", "APPROVED", "LIVE", "SUSPENDED")
    ),
)
_BY_ACTION_AND_SOURCE = {(m.action, m.source): m for m in TRANSITIONS}
ACTIONS = tuple(dict.fromkeys(m.action for m in TRANSITIONS))


def side_of(caller: Caller, service: Service) -> str | None:
    """Which side of the table the caller acts for on this service, if any."""
    if caller.kind == "operator" and "operator" in caller.roles:
        return OPERATOR
    if caller.department == service.department_code and (
        (caller.kind == "staff" and caller.roles & {"dept_admin", "clerk"})
        or (caller.kind == "client" and "catalog:write" in caller.scopes)
    ):
        return DEPARTMENT
    return None


def actor_name(caller: Caller) -> str:
    return f"{caller.kind}:{caller.subject}"


def move(caller: Caller, service: Service, version: ServiceVersion, action: str, comment: str | None = None) -> Move:
    """Apply `action` to `version` (inside the caller's unit of work, rows locked by the caller)."""
    side = side_of(caller, service)
    found = _BY_ACTION_AND_SOURCE.get((action, version.status))
    if found is None:
        allowed = sorted(m.action for m in TRANSITIONS if m.source == version.status)
        details = {"status": version.status, "action": action, "allowed": allowed}
        raise AppError("ILLEGAL_TRANSITION", f"当前状态（{version.status}）不能执行该操作", 409, details)
    if side not in found.by:
        raise AppError("FORBIDDEN", "无权进行此操作", 403, {"action": action, "needs": sorted(found.by)})
    if action == "resume" and side == DEPARTMENT and (version.decided_by or "").startswith("operator:"):
        # A suspension by the platform is lifted by the platform, not by the department it concerned.
        raise AppError("SUSPENDED_BY_OPERATOR", "该服务由平台暂停，需平台恢复", 403)
    if action == "reject" and not (comment and comment.strip()):
        raise AppError("COMMENT_REQUIRED", "驳回时请填写意见", 422)
    now = utcnow()
    if action == "submit":
        version.submitted_at = now
    if action in {"approve", "reject", "suspend", "resume"}:
        version.decided_at, version.decided_by = now, actor_name(caller)
    if action in {"approve", "reject"}:
        version.review_comment = (comment or "").strip() or None
    source = version.status
    version.status, version.updated_at = found.target, now
    audit.record(
        f"service.{action}",
        "service_version",
        version.id,
        details={"service": service.code, "version": version.number, "from": source, "to": found.target},
    )
    return found


def supersede(service: Service, version: ServiceVersion) -> None:
    """The live (or suspended) version a newer one replaces: retired as part of publishing that one."""
    source, version.status, version.updated_at = version.status, "RETIRED", utcnow()
    audit.record(
        "service.supersede",
        "service_version",
        version.id,
        details={"service": service.code, "version": version.number, "from": source, "to": "RETIRED"},
    )
