"""Recording actions in the audit log, and reading it back for auditors.

Who must call what is in docs/audit.md. In short: every staff, operator and department write calls
`record()` inside its own unit of work; staff reads of personal data call `record_personal_data_read()`;
what must be kept although the work fails (failed logins, refusals) goes through `record_now()`.
A citizen's own actions are not recorded: the log would become a second copy of their activity.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context

from app.audit.models import OUTCOMES, AuditEntry
from app.clock import utcnow
from app.db import unit_of_work
from app.extensions import db
from app.identity.policy import current_caller
from app.identity.tokens import Caller
from app.request_context import client_address, current_request_id

log = logging.getLogger(__name__)

ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
# A phone or a resident ID number slipped into `details` by mistake; ids never look like these.
_PERSONAL = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx]|\d{15})(?!\d)")
REDACTED = "[redacted]"
MAX_PAGE = 200


def record(
    action: str,
    object_type: str,
    object_id: object,
    *,
    outcome: str = "ok",
    details: dict | None = None,
    caller: Caller | None = None,
) -> AuditEntry | None:
    """Add an entry to the open unit of work: it commits with the write it describes, or not at all.

    Outside a unit of work it commits on its own. Returns None when there is nothing to record
    (a citizen acting for themselves).
    """
    values = _values(action, object_type, object_id, outcome, details, caller)
    if values is None:
        return None
    entry = AuditEntry(**values)
    with unit_of_work() as session:
        session.add(entry)
    return entry


def record_now(
    action: str,
    object_type: str,
    object_id: object,
    *,
    outcome: str = "failed",
    details: dict | None = None,
    caller: Caller | None = None,
) -> None:
    """Commit an entry at once on a connection of its own, so it stays even if the current work rolls back.

    On SQLite (one writer at a time) call it after your unit of work has ended, not in the middle of it.
    """
    values = _values(action, object_type, object_id, outcome, details, caller)
    if values is None:
        return
    with db.engine.begin() as connection:
        connection.execute(sa.insert(AuditEntry.__table__).values(**values))


def record_personal_data_read(
    object_type: str, object_id: object, fields, *, caller: Caller | None = None
) -> AuditEntry | None:
    """A staff member, operator or department system saw personal data: which fields of which object."""
    names = sorted(set(fields))
    if not names:
        raise ValueError("name the personal-data fields that were read")
    return record(f"{object_type}.read_personal_data", object_type, object_id, details={"fields": names}, caller=caller)


def _values(action, object_type, object_id, outcome, details, caller) -> dict | None:
    if not ACTION.fullmatch(action):
        raise ValueError(f"audit action must be a dotted lower-case verb, got {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of {OUTCOMES}, got {outcome!r}")
    in_request = has_request_context()
    caller = caller or (current_caller() if in_request else None)
    if caller is not None and caller.kind == "citizen":
        return None
    return {
        "at": utcnow(),
        "actor_kind": caller.kind if caller else "system",
        "actor_id": caller.subject if caller else None,
        "actor_department": caller.department if caller else None,
        "actor_roles": sorted(caller.roles) if caller else [],
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "outcome": outcome,
        "ip": client_address() if in_request else None,
        "request_id": current_request_id(),
        "details": _scrub(details or {}, action),
    }


def _scrub(value, action: str):
    """Ids and field names only. Anything shaped like a phone or ID number, a number, a dict key or a
    string at any depth, is replaced, and logged as a bug."""
    if isinstance(value, dict):
        scrubbed: dict = {}
        for key, item in value.items():
            name = unique = _scrub(str(key), action)
            count = 1
            while unique in scrubbed:  # two redacted keys: keep both values ("[redacted]", "[redacted]#2")
                count += 1
                unique = f"{name}#{count}"
            scrubbed[unique] = _scrub(item, action)
        return scrubbed
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v, action) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        # 13800138000 is a phone whatever its type; a float is read in full ("1.38e10" hides the digits).
        text = f"{value:f}" if isinstance(value, float) else str(value)
        return REDACTED if _personal(text, action) else value
    text = str(value)
    return REDACTED if _personal(text, action) else text


def _personal(text: str, action: str) -> bool:
    if _PERSONAL.search(text):
        log.warning("personal data kept out of an audit entry", extra={"action": action})
        return True
    return False


@dataclass(frozen=True)
class AuditQuery:
    actor_id: str | None = None
    actor_kind: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." ("outbox.")
    object_type: str | None = None
    object_id: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(query: AuditQuery, *, cursor: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    """Entries newest first, `limit` at a time; pass the returned cursor back for the next page.

    The search itself is recorded ("audit.read"), after the query, so it is not in its own answer.
    """
    limit = max(1, min(limit, MAX_PAGE))
    table = AuditEntry.__table__.c
    conditions = [
        getattr(table, name) == getattr(query, name)
        for name in ("actor_id", "actor_kind", "object_type", "object_id", "outcome")
        if getattr(query, name) is not None
    ]
    if query.action is not None:
        conditions.append(_action_matches(query.action))
    if query.since is not None:
        conditions.append(table.at >= query.since)
    if query.until is not None:
        conditions.append(table.at < query.until)
    if cursor is not None:
        conditions.append(table.id < cursor)
    with unit_of_work() as session:
        # Plain rows, not ORM objects: the commit below would expire those and reload each one.
        rows = (
            session.execute(
                sa.select(AuditEntry.__table__).where(*conditions).order_by(table.id.desc()).limit(limit + 1)
            )
            .mappings()
            .all()
        )
        page, more = rows[:limit], len(rows) > limit
        filters = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in vars(query).items() if v is not None}
        record("audit.read", "audit_log", None, details={"filters": filters, "cursor": cursor, "returned": len(page)})
    return page, (page[-1]["id"] if more else None)


def _action_matches(action: str):
    column = AuditEntry.__table__.c.action
    if action.endswith(".*"):
        action = action[:-1]
    if not action.endswith("."):
        return column == action
    escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")
