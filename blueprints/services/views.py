"""Running a live service: a citizen (or a guest, where the service allows) sends the form's answers.
A citizen's bound accounts and query history live here too."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity.policy import allow_citizen, current_caller, require_citizen
from app.inquiry import accounts, history, run
from app.rate_limits import rate_limit
from blueprints.services import shared_answers
from blueprints.services.schemas import (
    AccountSchema,
    BindAccountSchema,
    HistoryPageSchema,
    HistoryQuerySchema,
    QueryAnswerSchema,
    QuerySchema,
)
from blueprints.services.shared_answers import shared_with_guests

blp = Blueprint("services", __name__, url_prefix="/api/v1", description="Running services: inquiry")


@blp.route("/services/<code>/query")
class Query(MethodView):
    @allow_citizen
    # Per citizen, or per address for guests: each run may cost a department a call. Batched: the busiest
    # route, whose answer is often cheaper than a Redis round trip.
    @rate_limit("30 per minute", batched=True)
    @shared_with_guests
    @blp.arguments(QuerySchema())  # an instance: webargs would build one from a class on every request
    @blp.response(200, QueryAnswerSchema)
    def post(self, body, code):
        """Run an inquiry service: the department's answer, when it was current, and whose it is"""
        answer = run.query(current_caller(), code, body["inputs"], body["account"])
        shared_answers.offer(answer.pop("public_until"))
        return answer


@blp.route("/me/accounts")
class Accounts(MethodView):
    @require_citizen
    @blp.response(200, AccountSchema(many=True))
    def get(self):
        """Your bound accounts (户号, 公积金账号, 社保卡号), numbers masked"""
        return accounts.listing(current_caller())

    @require_citizen
    @rate_limit("10 per minute")  # each binding asks a department to verify
    @blp.arguments(BindAccountSchema)
    @blp.response(201, AccountSchema)
    @blp.alt_response(200, schema=AccountSchema, description="already bound: the same account")
    def post(self, body):
        """Bind an account after the department verifies it is yours (or that the holder's name matches)"""
        account, new = accounts.bind(current_caller(), body["kind"], body["account_no"], body["holder_name"])
        return account, 201 if new else 200


@blp.route("/me/accounts/<uuid:account_id>")
class Account(MethodView):
    @require_citizen
    @blp.response(204)
    def delete(self, account_id):
        """Unbind one of your accounts"""
        accounts.unbind(current_caller(), account_id)


@blp.route("/me/queries")
class Queries(MethodView):
    @require_citizen
    @blp.arguments(HistoryQuerySchema, location="query", unknown=ma.RAISE)
    @blp.response(200, HistoryPageSchema)
    def get(self, query):
        """Your inquiries, newest first, inputs masked; page with next_cursor"""
        return history.listing(current_caller(), query["cursor"], query["limit"])
