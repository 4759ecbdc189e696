import marshmallow as ma

from app.clock import local
from app.security.pii import mask_id_number, mask_name, mask_phone


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
    phone = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^1[3-9]\d{9}$", error="不是有效的手机号"))


class SmsCodeSentSchema(ma.Schema):
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds the code stays valid"})


class PhoneBindSchema(ma.Schema):
    """Either phone + sms_code, or the code of WeChat's getPhoneNumber button."""

    phone = ma.fields.String(validate=ma.validate.Regexp(r"^1[3-9]\d{9}$", error="不是有效的手机号"))
    sms_code = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$", error="验证码为6位数字"))
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
    exported_at = ma.fields.String(required=True)
