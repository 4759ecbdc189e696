"""The one catalog of scopes a department system can hold.

The CLI checks against it, the token server grants from it, and OpenAPI lists it (SECURITY_SCHEMES).
A later area adds its scope here, next to what it lets a client do. Import-safe: no Flask.
"""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "catalog:write": "register and update the department's services in the catalog (live after operator approval)",
    "schedules:write": "publish bookable slots: hospital sessions, timed entry to scenic spots",
    "requests:write": "handle citizens' service requests and reports: accept, progress, resolve",
    "bills:write": "post bills for citizens to pay, and confirm their write-off (销账)",
}


def split(scope: str | None) -> list[str]:
    """An OAuth `scope` parameter (space-separated, RFC 6749 3.3) as a list without repeats."""
    return list(dict.fromkeys((scope or "").split()))


def unknown(scopes) -> list[str]:
    return sorted(set(scopes) - SCOPES.keys())
