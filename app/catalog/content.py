"""What a service version says to citizens and what it is bound to: checked when it is saved, and
the go-live checklist checked when it is submitted and published."""

from __future__ import annotations

import marshmallow as ma

from app.errors import AppError

AUDIENCES = ("citizen", "tourist", "enterprise")
NEEDS_FORM = ("inquiry", "payment", "appointment", "report")


class Texts(ma.Schema):
    zh = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    en = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))


class ShortTexts(Texts):
    zh = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=40))
    en = ma.fields.String(load_default=None, validate=ma.validate.Length(max=80))


class Binding(ma.Schema):
    """contract: the department's own endpoint; connector: a built-in connector operation;
    link: an H5 page or another mini-program's path."""

    type = ma.fields.String(required=True, validate=ma.validate.OneOf(["contract", "connector", "link"]))
    url = ma.fields.Url(load_default=None, schemes={"https", "http"}, require_tld=False)
    key_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    connector = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    operation = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    miniprogram_app_id = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    miniprogram_path = ma.fields.String(load_default=None, validate=ma.validate.Length(max=256))
    # How long a citizen waits for the department's answer (docs/department-contract.md: 5 s unless set).
    timeout_seconds = ma.fields.Float(load_default=None, validate=ma.validate.Range(min=0.5, max=10))
    # "verified": the department is sent the citizen's verified name and ID number, so it can answer only
    # for the citizen's own records. Needs real_name_required; the privacy notice must say so.
    identity = ma.fields.String(load_default="none", validate=ma.validate.OneOf(["none", "verified"]))
    # connector: while the department's system is down, answer from the last answer, marked stale with
    # its age, where the operation allows it (data that would mislead when old, like bus arrivals, never).
    allow_stale = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def _complete(self, data, **_):
        needs = {"contract": ("url", "key_id"), "connector": ("connector", "operation"), "link": ()}[data["type"]]
        missing = [name for name in needs if not data.get(name)]
        if data["type"] == "link" and not (data.get("url") or data.get("miniprogram_path")):
            missing.append("url")
        if missing:
            raise ma.ValidationError({name: ["必填"] for name in missing})


class Content(ma.Schema):
    name = ma.fields.Nested(ShortTexts, required=True)
    description = ma.fields.Nested(Texts, load_default=None)
    icon = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    keywords = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=1, max=20)), load_default=list)
    districts = ma.fields.List(ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{6}$")), load_default=list)
    audience = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(AUDIENCES)), load_default=lambda: ["citizen"])
    login_required = ma.fields.Boolean(load_default=True)
    real_name_required = ma.fields.Boolean(load_default=False)
    privacy_notice = ma.fields.String(load_default=None, validate=ma.validate.Length(max=2000))
    contact = ma.fields.String(load_default=None, validate=ma.validate.Length(max=200))
    form = ma.fields.Dict(load_default=None)
    binding = ma.fields.Nested(Binding, load_default=None)

    @ma.validates_schema
    def _bounds(self, data, **_):
        if len(data.get("keywords") or []) > 20:
            raise ma.ValidationError({"keywords": ["最多 20 个"]})
        if data.get("real_name_required") and not data.get("login_required"):
            raise ma.ValidationError({"real_name_required": ["实名要求以登录为前提"]})
        if (data.get("binding") or {}).get("identity") == "verified" and not data.get("real_name_required"):
            raise ma.ValidationError({"binding": {"identity": ["向部门提供实名身份须先要求实名认证"]}})


def check_content(kind: str, content: dict | None) -> dict:
    """The content normalised, or 422 INVALID_CONTENT listing every field that is wrong."""
    try:
        loaded = Content().load(content or {})
    except ma.ValidationError as error:
        raise AppError("INVALID_CONTENT", "服务信息有误，请检查后重试", 422, {"fields": error.messages}) from None
    if loaded.get("form") is not None:
        from app.catalog.forms import check_form

        loaded["form"] = check_form(loaded["form"])
    return Content().dump(loaded) | {"form": loaded.get("form")}


def checklist(kind: str, content: dict, department_code: str) -> list[str]:
    """What stands between this version and going live; empty when nothing does. A department's own
    endpoint must answer its signed health check now (docs/department-contract.md)."""
    problems = []
    if kind in NEEDS_FORM and not content.get("form"):
        problems.append("form: 缺少输入表单")
    if not (content.get("privacy_notice") or "").strip():
        problems.append("privacy_notice: 缺少隐私说明")
    if not (content.get("contact") or "").strip():
        problems.append("contact: 缺少联系方式")
    binding = content.get("binding") or {}
    if not binding:
        problems.append("binding: 未绑定接口或链接")
    elif kind == "link" and binding.get("type") != "link":
        problems.append("binding: 链接类服务只能绑定链接")
    elif kind == "inquiry" and binding.get("type") not in ("contract", "connector"):
        problems.append("binding: 查询类服务须绑定部门接口或内置连接器")
    elif binding.get("type") == "contract":
        problems += _endpoint_problems(binding, department_code)
    elif binding.get("type") == "connector":
        from app.catalog.connector_binding import connector_problems

        problems += connector_problems(content, binding, department_code)
    return problems


def _endpoint_problems(binding: dict, department_code: str) -> list[str]:
    from app.catalog.contract_keys import secret_for
    from integrations.department_contract.client import health_check

    secret = secret_for(department_code, binding.get("key_id"))
    if secret is None:
        return ["binding.key_id: 不是本部门有效的接口密钥"]
    health = health_check(binding["url"], binding["key_id"], secret)
    return [] if health.ok else [f"binding.url: 健康检查未通过（{health.problem}）"]
