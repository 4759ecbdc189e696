"""Linking a WeChat and an Alipay account of one person (the flow is in app/identity/linking.py)."""

from flask.views import MethodView

from app.identity import linking
from app.identity.policy import current_caller, require_citizen
from app.rate_limits import rate_limit
from blueprints.auth.schemas import LinkCreateSchema, LinkListSchema, LinkSchema
from blueprints.auth.views import blp


@blp.route("/me/links")
class Links(MethodView):
    @require_citizen
    @blp.response(200, LinkListSchema)
    def get(self):
        """Requests to merge accounts: ones I sent, and ones waiting for my confirmation"""
        return {"items": linking.list_links(current_caller())}

    @require_citizen
    @rate_limit("60 per hour")
    @blp.arguments(LinkCreateSchema)
    @blp.response(201, LinkSchema)
    @blp.alt_response(200, schema=LinkSchema, description="the request this proof already made")
    def post(self, body):
        """Ask the account that holds my verified phone to merge with mine"""
        view, created = linking.request_link(current_caller(), body["link_proof"])
        return view, 201 if created else 200


@blp.route("/me/links/<uuid:link_id>/confirm")
class LinkConfirm(MethodView):
    @require_citizen
    @rate_limit("30 per hour")
    @blp.response(200, LinkSchema)
    def post(self, link_id):
        """Confirm a request to merge another account into mine (the holder of the phone only)"""
        return linking.confirm(current_caller(), link_id)


@blp.route("/me/links/<uuid:link_id>/decline")
class LinkDecline(MethodView):
    @require_citizen
    @rate_limit("30 per hour")
    @blp.response(200, LinkSchema)
    def post(self, link_id):
        """Decline a request to merge (or withdraw my own)"""
        return linking.decline(current_caller(), link_id)
