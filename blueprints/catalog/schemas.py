import marshmallow as ma

from app.catalog.models import KINDS
from app.city.clouds import PLATFORMS
from app.clock import shown


class NewServiceSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "e.g. gjj-balance: 3–64 of a-z, 0-9 and -"})
    cloud = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(PLATFORMS)))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    content = ma.fields.Dict(required=True, metadata={"description": "names, texts, rules, form, binding"})


class DraftSchema(ma.Schema):
    content = ma.fields.Dict(
        load_default=None, metadata={"description": "omitted: a copy of the newest version's content"}
    )


class EditSchema(ma.Schema):
    content = ma.fields.Dict(required=True)


class MoveSchema(ma.Schema):
    comment = ma.fields.String(
        load_default=None, validate=ma.validate.Length(max=2000), metadata={"description": "required to reject"}
    )


class VersionSchema(ma.Schema):
    service = ma.fields.Function(lambda v: v.service.code, required=True)
    department = ma.fields.Function(lambda v: v.service.department_code, required=True)
    cloud = ma.fields.Function(lambda v: v.service.cloud, required=True)
    kind = ma.fields.Function(lambda v: v.service.kind, required=True)
    number = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    live = ma.fields.Function(lambda v: v.service.live_version_id == v.id, required=True)
    content = ma.fields.Dict(required=True)
    review_comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.Function(lambda v: shown(v.created_at), required=True)
    submitted_at = ma.fields.Function(lambda v: shown(v.submitted_at), allow_none=True)
    decided_at = ma.fields.Function(lambda v: shown(v.decided_at), allow_none=True)


class ContractKeySchema(ma.Schema):
    key_id = ma.fields.String(required=True)
    secret = ma.fields.String(required=True, metadata={"description": "shown once; HMAC-SHA256 key"})


class WhereQuerySchema(ma.Schema):
    district = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9]{6}$"))
    audience = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["citizen", "tourist", "enterprise"]))


class ListingQuerySchema(WhereQuerySchema):
    category = ma.fields.String(load_default=None, metadata={"description": "see /catalog/categories"})
    q = ma.fields.String(
        load_default=None, validate=ma.validate.Length(max=100), metadata={"description": "公积金, gjj"}
    )


class CategorySchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    clouds = ma.fields.List(ma.fields.String(), required=True)


class LiveServiceSchema(ma.Schema):
    code = ma.fields.String(required=True)
    department = ma.fields.String(required=True)
    cloud = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    name = ma.fields.Dict(required=True)
    description = ma.fields.Dict(allow_none=True)
    icon = ma.fields.String(allow_none=True)
    keywords = ma.fields.List(ma.fields.String(), required=True)
    districts = ma.fields.List(ma.fields.String(), required=True)
    audience = ma.fields.List(ma.fields.String(), required=True)
    login_required = ma.fields.Boolean(required=True)
    real_name_required = ma.fields.Boolean(required=True)
    uses = ma.fields.Integer(required=True)


class ServiceDetailSchema(LiveServiceSchema):
    version = ma.fields.Integer(required=True)
    privacy_notice = ma.fields.String(allow_none=True)
    contact = ma.fields.String(allow_none=True)
    form = ma.fields.Dict(allow_none=True)


class HotQuerySchema(WhereQuerySchema):
    limit = ma.fields.Integer(load_default=8, validate=ma.validate.Range(min=1, max=50))


class HotServiceSchema(LiveServiceSchema):
    recent_uses = ma.fields.Integer(required=True, metadata={"description": "runs in the last 7 days"})


class WebhookUrlSchema(ma.Schema):
    url = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=2048),
        metadata={"description": "https:// URL of the department's system; the rules of a contract endpoint"},
    )


class WebhookSchema(ma.Schema):
    url = ma.fields.String(allow_none=True, metadata={"description": "null: no webhooks are sent"})
    key_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "the contract key deliveries are signed with (the newest live one); null: none yet"},
    )
