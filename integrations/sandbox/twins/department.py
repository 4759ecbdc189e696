"""Twin of a generic department system (委办局业务系统): health, a record query, a webhook receiver,
and an endpoint that speaks the department contract (docs/department-contract.md).

Every department of the demo city has its own space under /department/<dept>/.
It keeps what it received in memory, for tests and the demo to look at.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.department_contract.signing import (
    KEY_ID_HEADER,
    NONCE_MEMORY_SECONDS,
    ContractSignatureError,
    verify,
)
from integrations.sandbox import keyring
from integrations.sandbox.twins.department_answers import Refusal, answer

blueprint = Blueprint("department_twin", __name__)
_lock = threading.Lock()
_webhooks: dict[str, dict[str, dict]] = {}  # dept -> idempotency key -> delivery
_nonces: dict[str, float] = {}  # nonce -> until when it is remembered
BEIJING = timezone(timedelta(hours=8))


def reset() -> None:
    with _lock:
        _webhooks.clear()
        _nonces.clear()


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


# --- the department contract ----------------------------------------------------------------------


def _seen_nonce(nonce: str) -> bool:
    """True if the nonce was used within NONCE_MEMORY_SECONDS; remembers it otherwise (one process)."""
    now = time.time()
    with _lock:
        for old in [n for n, until in _nonces.items() if until <= now]:
            del _nonces[old]
        if nonce in _nonces:
            return True
        _nonces[nonce] = now + NONCE_MEMORY_SECONDS
        return False


def _refused_signature(dept: str):
    """The contract's 401 unless the request is signed with this department's sandbox key, fresh and new."""
    if request.headers.get(KEY_ID_HEADER) != keyring.department_contract_key_id(dept):
        reason = "unknown_key"
    else:
        try:
            # The path as it was signed: under make run the sandbox is mounted below /_sandbox.
            path = request.root_path + request.path
            secret = keyring.department_contract_secret(dept)
            verify(secret, request.method, path, request.get_data(), request.headers, seen_nonce=_seen_nonce)
            return None
        except ContractSignatureError as refused:
            reason = refused.reason
    return jsonify(ok=False, code="BAD_SIGNATURE", message="签名校验失败", reason=reason), 401


def _refusal(code: str, message: str):
    return jsonify(ok=False, code=code, message=message)


@blueprint.get("/<dept>/contract/health")
def contract_health(dept):
    return _refused_signature(dept) or jsonify(ok=True)


@blueprint.post("/<dept>/contract/")
def contract_call(dept):
    refused = _refused_signature(dept)
    if refused is not None:
        return refused
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("contract") != "city-services/1":
        return _refusal("INVALID_INPUT", "请求格式不正确")
    if body.get("operation") != "query":
        return _refusal("NOT_ALLOWED", "不支持该操作")
    inputs = body.get("inputs") if isinstance(body.get("inputs"), dict) else {}
    try:
        result = answer(str(body.get("service", "")), inputs)
    except Refusal as refusal:
        return _refusal(refusal.code, refusal.message)
    return jsonify(ok=True, result=result, as_of=datetime.now(BEIJING).isoformat(timespec="seconds"))
