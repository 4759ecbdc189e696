"""Every route × every kind of caller: undeclared routes fail, and nobody gets in who should not.

This grows by itself: a new route without a policy fails here, and a new policy kind must say who passes.
"""

import re
import uuid

import pytest

from app.db import unit_of_work
from app.identity import sessions
from app.identity.policy import endpoint_policy
from app.identity.tokens import Caller

CALLERS = {
    "anonymous": None,
    "citizen A": Caller("citizen", str(uuid.uuid4())),
    "citizen B": Caller("citizen", str(uuid.uuid4())),
    "staff of department X": Caller("staff", "staff-x", roles=frozenset({"clerk"}), department="jxw"),
    "client of department Y": Caller("client", "client-y", scopes=frozenset({"catalog:write"}), department="gjj"),
    "operator": Caller("operator", "op-1", roles=frozenset({"operator"})),
    "auditor": Caller("operator", "audit-1", roles=frozenset({"auditor"})),
}
SAMPLE_PATH_VALUES = {"code": "jxw", "filename": "swagger-ui.css", "message_id": str(uuid.UUID(int=1))}
SAMPLE_PATH_VALUES |= {"member_id": str(uuid.UUID(int=2)), "link_id": str(uuid.UUID(int=3))}
SAMPLE_PATH_VALUES |= {"number": "1", "action": "submit", "account_id": str(uuid.UUID(int=4))}
SAMPLE_PATH_VALUES |= {"payment_id": str(uuid.UUID(int=5)), "discrepancy_id": "1"}


def policy_of(app, endpoint: str, method: str):
    return endpoint_policy(app, endpoint, method)


def may_pass(policy: dict, caller: Caller | None) -> bool:
    kind = policy["kind"]
    if kind == "public":
        return True
    if kind == "citizen_or_anonymous":
        return caller is None or caller.kind == "citizen"
    if caller is None:
        return False
    if kind == "citizen":
        return caller.kind == "citizen"
    if kind == "role":
        return caller.kind in {"staff", "operator"} and bool(caller.roles & set(policy["roles"]))
    if kind == "scope":
        return caller.kind == "client" and set(policy["scopes"]) <= caller.scopes
    if kind == "any":
        staff = caller.kind in {"staff", "operator"} and bool(caller.roles & set(policy["roles"]))
        client = caller.kind == "client" and bool(policy["scopes"]) and set(policy["scopes"]) <= caller.scopes
        return staff or client
    raise AssertionError(f"the matrix does not know policy kind {kind!r}: teach it")


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "x"), rule.rule)
            yield rule.endpoint, method, path


def test_every_route_declares_a_policy(app):
    undeclared = [f"{m} {p}" for e, m, p in routes(app) if policy_of(app, e, m) is None]
    assert undeclared == [], "declare @public, @require_citizen, @require_role or @require_scope"


@pytest.mark.parametrize("caller_name", list(CALLERS))
def test_only_the_declared_callers_get_past_the_policy(app, app_ctx, caller_name):
    caller = CALLERS[caller_name]
    wrong = []
    for endpoint, method, path in routes(app):
        headers = {}
        if caller is not None:
            # A fresh session per call: logout routes revoke the one they are called with.
            with unit_of_work():
                headers["Authorization"] = f"Bearer {sessions.start(caller).access_token}"
        response = app.test_client().open(path, method=method, json={}, headers=headers)
        # A channel's notify route answers in the channel's own format, not our envelope.
        body = response.get_json(silent=True)
        error = body.get("error", {}) if isinstance(body, dict) else {}
        refused = response.status_code in {401, 403} and error.get("code") in {
            "UNAUTHORIZED",
            "FORBIDDEN",
            "INVALID_TOKEN",
        }
        if may_pass(policy_of(app, endpoint, method), caller) == refused:
            wrong.append(f"{method} {path} -> {response.status_code}")
    assert wrong == []
