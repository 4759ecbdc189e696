"""Process health for load balancers and Prometheus; outside /api, not rate limited."""

from flask import Blueprint, Response, jsonify

from app import readiness
from app.errors import envelope
from app.identity.policy import public
from app.observability.metrics import render_metrics
from app.outbox.service import count_by_status

blp = Blueprint("health", __name__)


@blp.get("/healthz")
@public
def healthz():
    """The process answers. Touches nothing else, so it stays cheap under load."""
    return jsonify(status="ok")


@blp.get("/readyz")
@public
def readyz():
    checks = readiness.check()
    reasons = {name: reason for name, (ok, reason) in checks.items()}
    if all(ok for ok, _ in checks.values()):
        return jsonify(status="ready", checks=reasons)
    return envelope(503, "NOT_READY", "服务尚未就绪", {"checks": reasons}, {"Retry-After": "5"})


@blp.get("/metrics")
@public  # restricted to the monitoring network by nginx (docs/deploy.md), like every scrape endpoint
def metrics():
    body, content_type = render_metrics(count_by_status)
    return Response(body, content_type=content_type)
