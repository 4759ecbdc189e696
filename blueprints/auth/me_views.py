"""The citizen's own account: phone, real name, export and erasure (family and links: family_views, link_views)."""

from flask.views import MethodView

from app.identity import citizens, phone, real_name
from app.identity.policy import current_caller, require_citizen
from app.rate_limits import rate_limit
from blueprints.auth.schemas import (
    CitizenSchema,
    ExportSchema,
    PhoneBindSchema,
    RealNameSchema,
    SmsCodeRequestSchema,
    SmsCodeSentSchema,
)
from blueprints.auth.views import blp


@blp.route("/me/phone/sms-code")
class PhoneSmsCode(MethodView):
    @require_citizen
    # Each citizen apart (a carrier's NAT puts thousands behind one address), with a generous cap per
    # address on top; the service adds its own limits per phone and per citizen.
    @rate_limit("10 per hour")
    @rate_limit("300 per hour", per="ip")
    @blp.arguments(SmsCodeRequestSchema)
    @blp.response(202, SmsCodeSentSchema)
    def post(self, body):
        """Text a 6-digit code to a phone number, to bind it"""
        return {"expires_in": phone.send_code(current_caller(), body["phone"])}


@blp.route("/me/phone")
class PhoneBinding(MethodView):
    @require_citizen
    @rate_limit("30 per hour")
    @blp.arguments(PhoneBindSchema)
    @blp.response(200, CitizenSchema)
    def put(self, body):
        """Bind a verified phone: phone + SMS code, or the WeChat getPhoneNumber code

        A phone bound to another account answers 409 PHONE_IN_USE. When the two accounts may become one
        (a WeChat and an Alipay login), its details carry `link_available: true` and a `link_proof` for
        POST /me/links.
        """
        if "wechat_code" in body:
            return phone.bind_with_wechat(current_caller(), body["wechat_code"])
        return phone.bind_with_sms(current_caller(), body["phone"], body["sms_code"])


@blp.route("/me/real-name")
class RealName(MethodView):
    @require_citizen
    @rate_limit("10 per hour")
    @blp.arguments(RealNameSchema)
    @blp.response(200, CitizenSchema)
    def put(self, body):
        """Verify my real name against the population database"""
        return real_name.verify(current_caller(), body["name"], body["id_number"])


@blp.route("/me/export")
class Export(MethodView):
    @require_citizen
    @blp.response(200, ExportSchema)
    def get(self):
        """All my personal data, unmasked, as JSON"""
        return citizens.export(current_caller())
