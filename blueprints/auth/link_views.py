"""Linking a WeChat and an Alipay account of one person (the flow is in app/identity/linking.py)."""

from flask.views import MethodView

from app.identity import link_reads, linking
from app.identity.policy import current_caller, require_citizen
from app.rate_limits import rate_limit
from blueprints.auth.schemas import (
    LinkConfirmCodeSchema,
    LinkConfirmSchema,
    LinkCreateSchema,
    LinkListSchema,
    LinkSchema,
)
from blueprints.auth.views import blp


# Reading and asking are two endpoints on one path: a rate limit counts per endpoint, and polling the
# list must not use up the limit on asking.
@blp.route("/me/links")
class LinkList(MethodView):
    @require_citizen
    @blp.response(200, LinkListSchema)
    def get(self):
        """Requests to merge accounts: ones I sent, and ones waiting for my confirmation"""
        return {"items": link_reads.list_links(current_caller())}


@blp.route("/me/links")
class LinkAsk(MethodView):
    @require_citizen
    @rate_limit("60 per hour")
    @blp.arguments(LinkCreateSchema)
    @blp.response(201, LinkSchema)
    @blp.alt_response(200, schema=LinkSchema, description="the request this proof already made")
    def post(self, body):
        """Ask the account that holds my verified phone to merge with mine

        The holder will see my nickname, my real name masked, my logins and when my account was created.
        """
        view, created = linking.request_link(current_caller(), body["link_proof"])
        return view, 201 if created else 200


@blp.route("/me/links/<uuid:link_id>/confirm-code")
class LinkConfirmCode(MethodView):
    @require_citizen
    @rate_limit("10 per hour")  # on top of the per-phone and per-citizen SMS limits in the service
    @blp.response(202, LinkConfirmCodeSchema)
    def post(self, link_id):
        """Text a code to the phone bound to my account, to confirm a request with (the holder only)"""
        sent_to, expires_in = linking.send_confirm_code(current_caller(), link_id)
        return {"phone": sent_to, "expires_in": expires_in}


@blp.route("/me/links/<uuid:link_id>/confirm")
class LinkConfirm(MethodView):
    @require_citizen
    @rate_limit("30 per hour")
    @blp.arguments(LinkConfirmSchema)
    @blp.response(200, LinkSchema)
    def post(self, body, link_id):
        """Confirm a request to merge another account into mine (the holder of the phone only)

        The holder proves the phone again: `sms_code` from POST /me/links/{id}/confirm-code, or, in the
        WeChat mini-program, `wechat_code` from the getPhoneNumber button.
        """
        return linking.confirm(current_caller(), link_id, **body)


@blp.route("/me/links/<uuid:link_id>/decline")
class LinkDecline(MethodView):
    @require_citizen
    @rate_limit("30 per hour")
    @blp.response(200, LinkSchema)
    def post(self, link_id):
        """Decline a request to merge (or withdraw my own)"""
        return linking.decline(current_caller(), link_id)
