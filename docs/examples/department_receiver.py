"""A department's receiver for the city-services contract, in a few lines of Flask (copy it and adapt).

    pip install flask
    CITY_KEY_ID=demo CITY_SECRET=... python docs/examples/department_receiver.py --port 8081

It serves GET /health and POST / with one operation, "query" (办件进度查询: inputs {"case_no": "..."}),
and POST /events for the city's status webhooks (set {endpoint}/events as the webhook URL). It refuses
any request that is not signed by the city platform, is older than 5 minutes or is a replay.
Only the standard library and Flask, so it runs anywhere; see docs/department-contract.md.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import re
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import Flask, jsonify, request

WINDOW_SECONDS = 300
NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")
BEIJING = timezone(timedelta(hours=8))


class SignatureRefused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class NonceMemory:
    """Nonces seen in the last 10 minutes. One process only: with several, use Redis SET NX EX 600."""

    def __init__(self, clock=time.time):
        self.clock, self.lock, self.seen = clock, threading.Lock(), {}

    def __call__(self, nonce):
        now = self.clock()
        with self.lock:
            self.seen = {n: until for n, until in self.seen.items() if until > now}
            if nonce in self.seen:
                return True
            self.seen[nonce] = now + 2 * WINDOW_SECONDS
            return False


def verify_request(secret, method, path, body, headers, now=None, seen_nonce=None):
    """Raise SignatureRefused(reason) unless the request is the city's, fresh and new."""
    timestamp = headers.get("X-City-Timestamp")
    nonce = headers.get("X-City-Nonce")
    given = headers.get("X-City-Signature")
    if not timestamp or not nonce or not given:
        raise SignatureRefused("missing_header")
    if not TIMESTAMP_RE.fullmatch(timestamp):
        raise SignatureRefused("bad_timestamp")
    if abs((time.time() if now is None else now) - int(timestamp)) > WINDOW_SECONDS:
        raise SignatureRefused("stale_timestamp")
    if not NONCE_RE.fullmatch(nonce):
        raise SignatureRefused("bad_nonce")
    canonical = "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()])
    expected = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    if not SIGNATURE_RE.fullmatch(given.lower()) or not hmac.compare_digest(expected, given.lower()):
        raise SignatureRefused("bad_signature")
    if seen_nonce is not None and seen_nonce(nonce):
        raise SignatureRefused("replayed_nonce")


def create_app(keys, clock=time.time):
    """keys: {key id: secret}. Two entries while the city rotates the secret."""
    app = Flask("department_receiver")
    seen_nonce = NonceMemory(clock)

    @app.before_request
    def check_signature():
        secret = keys.get(request.headers.get("X-City-Key-Id", ""))
        try:
            if secret is None:
                raise SignatureRefused("unknown_key")
            # The path as the city sent it: root_path is the prefix when the app is mounted below one.
            path = request.root_path + request.path
            verify_request(secret, request.method, path, request.get_data(), request.headers, clock(), seen_nonce)
        except SignatureRefused as refused:
            return jsonify(ok=False, code="BAD_SIGNATURE", message="签名校验失败", reason=refused.reason), 401
        return None

    @app.get("/health")
    def health():
        return jsonify(ok=True)

    @app.post("/")
    def operation():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or body.get("contract") != "city-services/1":
            return jsonify(ok=False, code="INVALID_INPUT", message="请求格式不正确")
        if body.get("operation") != "query":
            return jsonify(ok=False, code="NOT_ALLOWED", message="不支持该操作")
        case_no = str((body.get("inputs") or {}).get("case_no", "")).strip()
        if not case_no:
            return jsonify(ok=False, code="INVALID_INPUT", message="请填写办件编号")
        if case_no.endswith("0"):  # the demo's way of "no such case"
            return jsonify(ok=False, code="NOT_FOUND", message="未查询到该办件，请核对办件编号")
        as_of = datetime.fromtimestamp(clock(), BEIJING).isoformat(timespec="seconds")
        result = {"case_no": case_no, "status": "办理中", "accepted_at": "2026-11-20T09:30:00+08:00"}
        return jsonify(ok=True, result=result, as_of=as_of)

    handled = set()  # Idempotency-Keys of status webhooks already handled: keep them in your database

    @app.post("/events")
    def status_webhook():
        # Signed like every call (checked above). A retry repeats the Idempotency-Key: handle it once.
        key = request.headers.get("Idempotency-Key", "")
        if key not in handled:
            handled.add(key)
            event = request.get_json(silent=True) or {}
            app.logger.info(
                "%s v%s: %s -> %s", event.get("service"), event.get("version"), event.get("from"), event.get("to")
            )
        return jsonify(ok=True)

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    key_id = os.environ.get("CITY_KEY_ID", "demo")
    secret = os.environ.get("CITY_SECRET", "demo-secret-change-me")  # demo only: the city gives you the real one
    # Behind TLS (nginx, a load balancer) in production: the city calls https:// only.
    create_app({key_id: secret}).run(host=args.host, port=args.port)
