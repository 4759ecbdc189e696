"""Twin of a generic department system (委办局业务系统): health, a record query, a webhook receiver.

Every department of the demo city has its own space under /department/<dept>/.
It keeps what it received in memory, for tests and the demo to look at.
"""

from __future__ import annotations

import threading

from flask import Blueprint, jsonify, request

blueprint = Blueprint("department_twin", __name__)
_lock = threading.Lock()
_webhooks: dict[str, dict[str, dict]] = {}  # dept -> idempotency key -> delivery


def reset() -> None:
    with _lock:
        _webhooks.clear()


@blueprint.get("/<dept>/health")
def health(dept):
    return jsonify(status="UP", system=f"{dept}-business-system")


@blueprint.post("/<dept>/webhooks")
def receive_webhook(dept):
    key = request.headers.get("Idempotency-Key")
    if not key:
        return jsonify(errcode="MISSING_IDEMPOTENCY_KEY", errmsg="Idempotency-Key header required"), 400
    body = request.get_json(silent=True)
    if body is None:
        return jsonify(errcode="BAD_JSON", errmsg="body must be JSON"), 400
    with _lock:
        received = _webhooks.setdefault(dept, {})
        if key in received:
            received[key]["repeats"] += 1
            return jsonify(errcode="OK", duplicate=True)
        received[key] = {
            "idempotency_key": key,
            "body": body,
            "repeats": 0,
            "attempt": request.headers.get("X-Delivery-Attempt"),
        }
    return jsonify(errcode="OK", duplicate=False)


@blueprint.get("/<dept>/webhooks")
def list_webhooks(dept):
    with _lock:
        return jsonify(items=list(_webhooks.get(dept, {}).values()))


@blueprint.post("/<dept>/records/query")
def query_records(dept):
    """A department's progress lookup (办件进度查询): answers in its own field names."""
    body = request.get_json(silent=True) or {}
    case_no = str(body.get("bjbh", ""))
    if not case_no:
        return jsonify(errcode="E1001", errmsg="办件编号不能为空"), 400
    if case_no.endswith("0"):
        return jsonify(errcode="E2004", errmsg="未查询到该办件"), 404
    return jsonify(
        errcode="OK",
        data={"bjbh": case_no, "sxmc": f"{dept} 示例事项", "blzt": "办理中", "slsj": "2026-11-20 09:30:00"},
    )
