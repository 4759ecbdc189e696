import marshmallow as ma

from app.inquiry.accounts import KIND_NAMES


class QuerySchema(ma.Schema):
    inputs = ma.fields.Dict(load_default=dict, metadata={"description": "answers to the service's form, by field name"})
    account = ma.fields.UUID(
        load_default=None,
        metadata={"description": "one of your bound accounts, instead of typing its number (GET /me/accounts)"},
    )


class SourceSchema(ma.Schema):
    department = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class QueryAnswerSchema(ma.Schema):
    service = ma.fields.String(required=True)
    result = ma.fields.Dict(required=True, metadata={"description": "the department's answer"})
    as_of = ma.fields.String(required=True, metadata={"description": "when the department's data was current"})
    source = ma.fields.Nested(SourceSchema, required=True)
    stale = ma.fields.Boolean(required=True, metadata={"description": "true: from cache while the source is down"})
    age_seconds = ma.fields.Integer(
        allow_none=True, metadata={"description": "how old a stale answer is; null for a fresh one"}
    )


class BindAccountSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(list(KIND_NAMES)))
    account_no = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9-]{4,32}$"))
    holder_name = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=40),
        metadata={"description": "the name on a utility or property account, which the company checks"},
    )


class AccountSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    kind_name = ma.fields.String(required=True)
    account_no = ma.fields.String(required=True, metadata={"description": "masked: only the last 4 characters"})
    holder = ma.fields.String(required=True, metadata={"description": "the holder's name as the department masks it"})
    label = ma.fields.String(allow_none=True)
    bound_at = ma.fields.String(required=True)


class HistoryQuerySchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class HistoryItemSchema(ma.Schema):
    service = ma.fields.String(required=True)
    inputs = ma.fields.Dict(required=True, metadata={"description": "masked: accounts and ID numbers"})
    outcome = ma.fields.String(required=True, metadata={"description": "ok, stale, or the error code"})
    at = ma.fields.String(required=True)


class HistoryPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(HistoryItemSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True)
