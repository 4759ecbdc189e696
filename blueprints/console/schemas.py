import marshmallow as ma

from app.clock import shown, utcnow
from app.staff.models import ROLES_BY_KIND

ALL_ROLES = sorted(ROLES_BY_KIND["staff"] | ROLES_BY_KIND["operator"])


class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    totp = ma.fields.String(
        load_default=None, validate=ma.validate.Length(max=6), metadata={"description": "6-digit code; operators only"}
    )
    new_password = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(max=128),
        metadata={"description": "required at the first login after an account is created or reset"},
    )


class ConsoleTokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)


class PasswordChangeSchema(ma.Schema):
    current_password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    new_password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))


class StaffAccountSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    username = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    department_code = ma.fields.String(allow_none=True)
    roles = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(required=True)
    locked = ma.fields.Function(lambda a: a.locked_until is not None and a.locked_until > utcnow(), required=True)
    totp_enabled = ma.fields.Function(lambda a: a.totp_secret is not None, required=True)
    last_login_at = ma.fields.Function(
        lambda a: shown(a.last_login_at),
        allow_none=True,
        metadata={"description": "Asia/Shanghai, with its offset"},
    )


class StaffListQuerySchema(ma.Schema):
    department = ma.fields.String(load_default=None, metadata={"description": "operators only: one department"})


class NewStaffSchema(ma.Schema):
    username = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$", error="3–64 个字母、数字或 ._-"),
    )
    display_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    roles = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(ROLES_BY_KIND["staff"]))),
        required=True,
        validate=ma.validate.Length(min=1),
    )
    department = ma.fields.String(
        load_default=None, metadata={"description": "operators only; admins add to their own department"}
    )


class CreatedStaffSchema(ma.Schema):
    account = ma.fields.Nested(StaffAccountSchema, required=True)
    initial_password = ma.fields.String(
        required=True, metadata={"description": "shown once; the holder sets their own at first login"}
    )
