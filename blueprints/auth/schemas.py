import re

import marshmallow as ma

from app.clock import local, shown
from app.identity.models import RELATIONS
from app.security.pii import mask_id_number, mask_name, mask_phone

PHONE, SMS_CODE = "^1[3-9][0-9]{9}$", "^[0-9]{6}$"


def fullmatch(pattern: str, error: str):
    """Like Regexp, but `$` may not pass a trailing newline, and only ASCII digits count."""
    compiled = re.compile(pattern.strip("^$"), re.ASCII)

    def check(value: str) -> None:
        if not compiled.fullmatch(value):
            raise ma.ValidationError(error)

    return check


class WeChatLoginSchema(ma.Schema):
    code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=128), metadata={"description": "the code from wx.login()"}
    )


class AlipayLoginSchema(ma.Schema):
    auth_code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "the code from my.getAuthCode()"},
    )


class RefreshSchema(ma.Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256))


class CitizenSchema(ma.Schema):
    """A citizen as they see themselves: personal data masked."""

    id = ma.fields.UUID(required=True)
    nickname = ma.fields.String(allow_none=True)
    phone = ma.fields.Function(
        lambda c: mask_phone(c.phone), allow_none=True, metadata={"description": "masked, e.g. 138****8000"}
    )
    real_name = ma.fields.Function(lambda c: mask_name(c.real_name), allow_none=True)
    id_number = ma.fields.Function(
        lambda c: mask_id_number(c.id_number),
        allow_none=True,
        metadata={"description": "masked, e.g. 3704**********1234"},
    )
    real_name_verified = ma.fields.Function(lambda c: c.real_name_verified_at is not None)
    logins = ma.fields.List(ma.fields.String(), metadata={"description": "wechat, alipay"})
    created_at = ma.fields.Function(
        lambda c: local(c.created_at).isoformat(),
        required=True,
        metadata={"description": "Asia/Shanghai, with its offset"},
    )


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"description": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
    citizen = ma.fields.Nested(CitizenSchema)


class CitizenUpdateSchema(ma.Schema):
    nickname = ma.fields.String(validate=ma.validate.Length(min=1, max=40))


class SmsCodeRequestSchema(ma.Schema):
    phone = ma.fields.String(required=True, validate=fullmatch(PHONE, "不是有效的手机号"), metadata={"pattern": PHONE})


class SmsCodeSentSchema(ma.Schema):
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds the code stays valid"})


class PhoneBindSchema(ma.Schema):
    """Either phone + sms_code, or the code of WeChat's getPhoneNumber button."""

    phone = ma.fields.String(validate=fullmatch(PHONE, "不是有效的手机号"), metadata={"pattern": PHONE})
    sms_code = ma.fields.String(validate=fullmatch(SMS_CODE, "验证码为6位数字"), metadata={"pattern": SMS_CODE})
    wechat_code = ma.fields.String(validate=ma.validate.Length(min=1, max=128))

    @ma.validates_schema
    def one_way(self, data, **kwargs):
        by_sms = "phone" in data and "sms_code" in data
        if by_sms == ("wechat_code" in data):
            raise ma.ValidationError("give phone and sms_code, or wechat_code")


class RealNameSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=30))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=15, max=20))


class ExportSchema(ma.Schema):
    profile = ma.fields.Dict(required=True)
    logins = ma.fields.List(ma.fields.Dict(), required=True)
    sessions = ma.fields.List(ma.fields.Dict(), required=True)
    family = ma.fields.List(ma.fields.Dict(), required=True)
    links = ma.fields.List(ma.fields.Dict(), required=True)
    exported_at = ma.fields.String(required=True)


SHOWN = {"description": "Asia/Shanghai, with its offset"}
MASKED_ID = "masked, e.g. 3704**********1234"


class FamilyMemberCreateSchema(ma.Schema):
    relation = ma.fields.String(required=True, validate=ma.validate.OneOf(RELATIONS))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=30))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=15, max=20))


class FamilyMemberSchema(ma.Schema):
    """A family member as the citizen sees them: personal data masked."""

    id = ma.fields.UUID(required=True)
    relation = ma.fields.String(required=True, metadata={"enum": list(RELATIONS)})
    name = ma.fields.Function(lambda m: mask_name(m.name), required=True)
    id_number = ma.fields.Function(
        lambda m: mask_id_number(m.id_number), required=True, metadata={"description": MASKED_ID}
    )
    verified_at = ma.fields.Function(lambda m: shown(m.verified_at), required=True, metadata=SHOWN)
    created_at = ma.fields.Function(lambda m: shown(m.created_at), required=True, metadata=SHOWN)


class FamilyListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(FamilyMemberSchema), required=True)
    max = ma.fields.Integer(required=True, metadata={"description": "how many members a citizen may have"})


class LinkCreateSchema(ma.Schema):
    link_proof = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "details.link_proof of the 409 PHONE_IN_USE answer to PUT /me/phone"},
    )


class LinkRequesterSchema(ma.Schema):
    """The account asking to join mine, so I can tell whether it is my own before I confirm."""

    nickname = ma.fields.String(allow_none=True)
    real_name = ma.fields.Function(
        lambda a: mask_name(a.real_name), allow_none=True, metadata={"description": "masked, e.g. 张*"}
    )
    logins = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "wechat, alipay"})
    created_at = ma.fields.Function(
        lambda a: shown(a.created_at), required=True, metadata={"description": "when that account was created"}
    )


class LinkSchema(ma.Schema):
    """A request to merge two accounts that share a phone."""

    id = ma.fields.UUID(required=True)
    direction = ma.fields.String(
        required=True,
        metadata={"enum": ["incoming", "outgoing"], "description": "incoming: another account asks to join mine"},
    )
    status = ma.fields.String(
        required=True, metadata={"enum": ["pending", "merged", "declined", "cancelled", "expired"]}
    )
    phone = ma.fields.Function(
        lambda v: mask_phone(v.phone), allow_none=True, metadata={"description": "the shared phone, masked"}
    )
    other_logins = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "wechat, alipay"})
    created_at = ma.fields.Function(lambda v: shown(v.created_at), required=True, metadata=SHOWN)
    expires_at = ma.fields.Function(lambda v: shown(v.expires_at), required=True, metadata=SHOWN)
    decided_at = ma.fields.Function(lambda v: shown(v.decided_at), allow_none=True, metadata=SHOWN)
    requester = ma.fields.Nested(
        LinkRequesterSchema, allow_none=True, metadata={"description": "incoming requests only, else null"}
    )


class LinkListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LinkSchema), required=True)


class LinkConfirmSchema(ma.Schema):
    """The holder proves the phone again: a code from POST /me/links/{id}/confirm-code, or the WeChat button."""

    sms_code = ma.fields.String(validate=fullmatch(SMS_CODE, "验证码为6位数字"), metadata={"pattern": SMS_CODE})
    wechat_code = ma.fields.String(
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "the code of WeChat's getPhoneNumber button, for the phone bound to this account"},
    )

    @ma.validates_schema
    def one_way(self, data, **kwargs):
        if ("sms_code" in data) == ("wechat_code" in data):
            raise ma.ValidationError("give sms_code or wechat_code")


class LinkConfirmCodeSchema(ma.Schema):
    phone = ma.fields.Function(
        lambda sent: mask_phone(sent["phone"]), required=True, metadata={"description": "where it went, masked"}
    )
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds the code stays valid"})
