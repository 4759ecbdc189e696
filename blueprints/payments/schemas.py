import marshmallow as ma

from blueprints.services.schemas import AccountSchema

KEY = r"^[A-Za-z0-9_\-]{8,64}$"


class BillPaymentSchema(ma.Schema):
    id = ma.fields.String(required=True)
    state = ma.fields.String(required=True)


class BillSchema(ma.Schema):
    account = ma.fields.Nested(AccountSchema, required=True)
    issuer = ma.fields.String(required=True)
    bill_id = ma.fields.String(required=True)
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    amount_fen = ma.fields.Integer(required=True)
    late_fee_fen = ma.fields.Integer(required=True)
    total_fen = ma.fields.Integer(required=True, metadata={"description": "what paying it costs"})
    due_date = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"description": "unpaid, overdue or paid, as the issuer says"})
    payable = ma.fields.Boolean(required=True, metadata={"description": "unpaid and in no open or paid order here"})
    payment = ma.fields.Nested(BillPaymentSchema, allow_none=True, metadata={"description": "our order holding it"})
    as_of = ma.fields.String(required=True)
    stale = ma.fields.Boolean(required=True, metadata={"description": "from cache while the issuer is down"})


class ProblemSchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class UnavailableSchema(ma.Schema):
    account = ma.fields.Nested(AccountSchema, required=True)
    error = ma.fields.Nested(ProblemSchema, required=True)


class BillsSchema(ma.Schema):
    bills = ma.fields.List(ma.fields.Nested(BillSchema), required=True)
    unavailable = ma.fields.List(
        ma.fields.Nested(UnavailableSchema), required=True, metadata={"description": "accounts whose issuer failed"}
    )


class PayHeadersSchema(ma.Schema):
    idempotency_key = ma.fields.String(
        required=True,
        data_key="Idempotency-Key",
        validate=ma.validate.Regexp(KEY),
        metadata={"description": "8-64 of A-Z a-z 0-9 _ -: the same key and body give the same order"},
    )


class PayRequestSchema(ma.Schema):
    account_id = ma.fields.UUID(required=True, metadata={"description": "one of your bound accounts"})
    bill_ids = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        required=True,
        validate=ma.validate.Length(min=1, max=24),
    )
    channel = ma.fields.String(required=True, validate=ma.validate.OneOf(["wechat", "alipay"]))


class OrderBillSchema(ma.Schema):
    bill_id = ma.fields.String(required=True)
    period = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(required=True)
    due_date = ma.fields.String(allow_none=True)


class OrderAccountSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    account_no = ma.fields.String(required=True, metadata={"description": "masked"})


class PaymentSchema(ma.Schema):
    id = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    finished = ma.fields.Boolean(required=True, metadata={"description": "no further change without an action"})
    channel = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(required=True)
    refunded_fen = ma.fields.Integer(required=True)
    refundable_fen = ma.fields.Integer(required=True)
    subject = ma.fields.String(required=True)
    issuer = ma.fields.String(required=True)
    account = ma.fields.Nested(OrderAccountSchema, required=True)
    bills = ma.fields.List(ma.fields.Nested(OrderBillSchema), required=True)
    transaction_id = ma.fields.String(allow_none=True, metadata={"description": "the channel's transaction id"})
    notice = ma.fields.String(allow_none=True, metadata={"description": "what happened, e.g. why it was refunded"})
    created_at = ma.fields.String(required=True)
    expires_at = ma.fields.String(required=True)
    paid_at = ma.fields.String(allow_none=True)
    settled_at = ma.fields.String(allow_none=True)
    pay_params = ma.fields.Dict(
        allow_none=True,
        metadata={"description": "while payable: wx.requestPayment's fields (WeChat) or {tradeNO} (my.tradePay)"},
    )


class RefundRequestSchema(ma.Schema):
    refundable_fen = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=0),
        metadata={"description": "the amount still refundable as you saw it; if it changed since, 412"},
    )
    amount_fen = ma.fields.Integer(
        load_default=None, validate=ma.validate.Range(min=1), metadata={"description": "omitted: all refundable"}
    )
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=80))
    notice = ma.fields.String(
        load_default=None, validate=ma.validate.Length(max=200), metadata={"description": "what the citizen reads"}
    )


class RefundSchema(ma.Schema):
    id = ma.fields.String(required=True)
    payment_id = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"description": "PROCESSING, SUCCEEDED or FAILED"})
    created_at = ma.fields.String(required=True)
    finished_at = ma.fields.String(allow_none=True)


class DiscrepancySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    channel = ma.fields.String(required=True)
    out_trade_no = ma.fields.String(required=True)
    payment_id = ma.fields.String(allow_none=True)
    kind = ma.fields.String(required=True)
    details = ma.fields.Dict(required=True)
    seen = ma.fields.Integer(required=True)
    found_at = ma.fields.String(required=True)
    resolved_at = ma.fields.String(allow_none=True)
    resolution = ma.fields.String(allow_none=True)


class DiscrepancyQuerySchema(ma.Schema):
    open = ma.fields.Boolean(load_default=True, metadata={"description": "only those not yet resolved"})
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class ResolveSchema(ma.Schema):
    resolution = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))


class TransitionSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", allow_none=True)
    to = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    at = ma.fields.String(required=True)


class PaymentDetailSchema(PaymentSchema):
    out_trade_no = ma.fields.String(required=True)
    connector = ma.fields.String(required=True)
    write_off_receipt = ma.fields.String(allow_none=True)
    transitions = ma.fields.List(ma.fields.Nested(TransitionSchema), required=True)
    refunds = ma.fields.List(ma.fields.Nested(RefundSchema), required=True)
    discrepancies = ma.fields.List(ma.fields.Nested(DiscrepancySchema), required=True)
