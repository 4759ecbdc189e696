"""Bills and payments for citizens, and the channels' notifications (docs/payments.md)."""

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.http_guards import accepts_any_body
from app.identity.policy import current_caller, public, require_citizen
from app.payments import bills, notifications, orders, receipts
from app.rate_limits import rate_limit
from blueprints.payments.notify_docs import ALIPAY_NOTIFY_DOC, WECHAT_NOTIFY_DOC
from blueprints.payments.schemas import BillsSchema, PayHeadersSchema, PaymentSchema, PayRequestSchema

# The channels notify from a few addresses of their own: the default per-address limit would refuse them.
NOTIFY_LIMIT = "60000 per minute"
blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="Bills and payments (缴费)")


@blp.route("/bills")
class Bills(MethodView):
    @require_citizen
    @blp.response(200, BillsSchema)
    def get(self):
        """The bills of your bound accounts (water, power, gas, social insurance, property), from each issuer"""
        return bills.listing(current_caller())


@blp.route("/payments")
class Payments(MethodView):
    @require_citizen
    @blp.response(200, PaymentSchema(many=True))
    def get(self):
        """Your payments, newest first"""
        return orders.listing(current_caller())

    @require_citizen
    @rate_limit("20 per minute")  # each order asks an issuer and a channel
    @blp.arguments(PayHeadersSchema, location="headers")
    @blp.arguments(PayRequestSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(200, schema=PaymentSchema, description="the same order again (same key, or a double tap)")
    def post(self, headers, body):
        """Pay bills of one bound account: the amount is the issuer's, re-checked now; answers pay_params"""
        order, new = orders.create(current_caller(), headers["idempotency_key"], body)
        return order, 201 if new else 200


@blp.route("/payments/<uuid:payment_id>")
class Payment(MethodView):
    @require_citizen
    @blp.response(200, PaymentSchema)
    def get(self, payment_id):
        """One of your payments (pay_params again while it is payable)"""
        return orders.mine(current_caller(), payment_id)


@blp.route("/payments/<uuid:payment_id>/receipt")
class Receipt(MethodView):
    @require_citizen
    @blp.doc(
        responses={
            "200": {"description": "a printable HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
        }
    )
    def get(self, payment_id):
        """The receipt (缴费凭证) of one of your paid payments, as a printable page"""
        page = receipts.receipt(current_caller(), payment_id)
        return page, 200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "private, no-store"}


@blp.route("/payments/<uuid:payment_id>/cancel")
class CancelPayment(MethodView):
    @require_citizen
    @blp.response(200, PaymentSchema)
    def post(self, payment_id):
        """Cancel an unpaid payment (the channel's order is closed too); a paid one stays paid"""
        orders.owned(current_caller(), payment_id)
        orders.cancel(payment_id)
        return orders.view(payment_id)


@blp.route("/payments/notify/wechat")
@accepts_any_body  # checked as WeChat sent it, whatever its Content-Type says
class WeChatNotify(MethodView):
    @public
    @rate_limit(NOTIFY_LIMIT, per="ip", batched=True)
    @blp.doc(**WECHAT_NOTIFY_DOC)
    def post(self):
        status, body = notifications.wechat(request.headers, request.get_data(cache=False))
        return (body, status) if body is not None else ("", status)


@blp.route("/payments/notify/alipay")
@accepts_any_body  # Alipay posts a form
class AlipayNotify(MethodView):
    @public
    @rate_limit(NOTIFY_LIMIT, per="ip", batched=True)
    @blp.doc(**ALIPAY_NOTIFY_DOC)
    def post(self):
        status, text = notifications.alipay(request.form.to_dict())
        return text, status, {"Content-Type": "text/plain; charset=utf-8"}
