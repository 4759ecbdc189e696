"""A department's status webhook: where its system is told of each status change of its services
(docs/department-contract.md, "Status webhooks"). Each department sees and sets only its own."""

from flask.views import MethodView

from app.catalog import webhooks
from app.identity.policy import current_caller, require_any
from blueprints.catalog.schemas import WebhookSchema, WebhookUrlSchema
from blueprints.catalog.views import DEPARTMENT, blp


@blp.route("/catalog/webhook")
class Webhook(MethodView):
    @require_any(**DEPARTMENT)
    @blp.response(200, WebhookSchema)
    def get(self):
        """My department's webhook URL and the key id its deliveries are signed with"""
        return webhooks.get_url(current_caller())

    @require_any(**DEPARTMENT)
    @blp.arguments(WebhookUrlSchema)
    @blp.response(200, WebhookSchema)
    def put(self, body):
        """Send my department a signed webhook on each status change of its services (422 for a URL we refuse)"""
        return webhooks.set_url(current_caller(), body["url"])

    @require_any(**DEPARTMENT)
    @blp.response(204)
    def delete(self):
        """Stop the webhooks (messages already written are still delivered)"""
        webhooks.set_url(current_caller(), None)
