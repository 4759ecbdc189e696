"""Running a live service: a citizen (or a guest, where the service allows) sends the form's answers."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity.policy import allow_citizen, current_caller
from app.inquiry import run
from app.rate_limits import rate_limit
from blueprints.services.schemas import QueryAnswerSchema, QuerySchema

blp = Blueprint("services", __name__, url_prefix="/api/v1", description="Running services: inquiry")


@blp.route("/services/<code>/query")
class Query(MethodView):
    @allow_citizen
    @rate_limit("30 per minute")  # per citizen, or per address for guests: each run costs a department a call
    @blp.arguments(QuerySchema)
    @blp.response(200, QueryAnswerSchema)
    def post(self, body, code):
        """Run an inquiry service: the department's answer, when it was current, and whose it is"""
        return run.query(current_caller(), code, body["inputs"])
