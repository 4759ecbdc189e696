"""Payments for operators and departments: a payment's whole trail, refunds, discrepancies."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity.policy import current_caller, require_any, require_role
from app.payments import operations
from blueprints.payments.schemas import (
    DiscrepancyQuerySchema,
    DiscrepancySchema,
    PaymentDetailSchema,
    RefundRequestSchema,
    RefundSchema,
    ResolveSchema,
)

blp = Blueprint("payments_ops", __name__, url_prefix="/api/v1", description="Payments for operators and departments")
# Operators on any payment; a department's clerks and its system on payments of its own bills only.
STAFF_ROLES = ("operator", "clerk")


@blp.route("/ops/payments/<uuid:payment_id>")
class PaymentDetail(MethodView):
    @require_any(roles=STAFF_ROLES, scopes=("bills:write",))
    @blp.response(200, PaymentDetailSchema)
    def get(self, payment_id):
        """A payment with every move of its state, its refunds and discrepancies"""
        return operations.detail(current_caller(), payment_id)


@blp.route("/ops/payments/<uuid:payment_id>/refunds")
class Refunds(MethodView):
    @require_any(roles=STAFF_ROLES, scopes=("bills:write",))
    @blp.arguments(RefundRequestSchema)
    @blp.response(201, RefundSchema)
    def post(self, body, payment_id):
        """Refund all or part of a payment through its channel (412 if the refundable amount changed)"""
        return operations.refund(current_caller(), payment_id, body)


@blp.route("/ops/payments/discrepancies")
class Discrepancies(MethodView):
    @require_role("operator", "auditor")
    @blp.arguments(DiscrepancyQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, DiscrepancySchema(many=True))
    def get(self, query):
        """What the channels told us that disagrees with our records, newest first"""
        return operations.discrepancies(query["open"], query["limit"])


@blp.route("/ops/payments/discrepancies/<int:discrepancy_id>/resolve")
class Resolve(MethodView):
    @require_role("operator")
    @blp.arguments(ResolveSchema)
    @blp.response(200, DiscrepancySchema)
    def post(self, body, discrepancy_id):
        """Mark a discrepancy handled, saying how (the order itself is changed only by its own routes)"""
        return operations.resolve(discrepancy_id, body["resolution"])
