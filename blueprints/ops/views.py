import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit import outbox_ops
from app.audit import service as audit
from app.errors import AppError, envelope
from app.identity import tokens
from app.identity.policy import bearer_token, require_role
from app.outbox.service import list_messages
from blueprints.ops.schemas import (
    AuditPageSchema,
    AuditQuerySchema,
    OutboxMessageSchema,
    OutboxQuerySchema,
)

blp = Blueprint(
    "ops", __name__, url_prefix="/api/v1/ops", description="Platform operators and auditors: audit log, outbox"
)

# Endpoint -> (action, object type, path variable naming the object): what a refused caller tried to do.
REFUSALS = {
    "ops.audit": ("audit.read", "audit_log", None),
    "ops.outbox": ("outbox.list", "outbox_message", None),
    "ops.outbox_retry": ("outbox.retry", "outbox_message", "message_id"),
}


@blp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.errorhandler(AppError)
def _record_refusals(error: AppError):
    """Staff, operators and department systems turned away here are worth an auditor's look."""
    if error.status == 403 and request.endpoint in REFUSALS:
        action, object_type, variable = REFUSALS[request.endpoint]
        try:
            # The policy refused before it set the caller; this second look must not count again.
            caller = tokens.verify(bearer_token() or "", count=False)
        except AppError:
            caller = None
        if caller is not None:
            object_id = (request.view_args or {}).get(variable) if variable else None
            audit.record_now(action, object_type, object_id, outcome="denied", details=error.details, caller=caller)
    return envelope(error.status, error.code, error.message, error.details, error.headers)


@blp.route("/audit", endpoint="audit")
class AuditLog(MethodView):
    @require_role("auditor")
    @blp.arguments(AuditQuerySchema, location="query", unknown=ma.RAISE)  # a mistyped filter must not widen it
    @blp.response(200, AuditPageSchema)
    def get(self, query):
        """Audit entries, newest first; filter, and page with next_cursor (this read is recorded too)"""
        cursor, limit = query.pop("cursor", None), query.pop("limit")
        items, next_cursor = audit.search(audit.AuditQuery(**query), cursor=cursor, limit=limit)
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/outbox", endpoint="outbox")
class OutboxMessages(MethodView):
    @require_role("operator")
    @blp.arguments(OutboxQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, OutboxMessageSchema(many=True))
    def get(self, query):
        """Outbox messages, newest first: dead letters unless another status is asked for"""
        return list_messages(query["status"], query["limit"])


@blp.route("/outbox/<uuid:message_id>/retry", endpoint="outbox_retry")
class OutboxRetry(MethodView):
    @require_role("operator")
    @blp.response(200, OutboxMessageSchema)
    def post(self, message_id):
        """Give a dead letter a fresh set of attempts (recorded as outbox.retry)"""
        return outbox_ops.retry(message_id)
