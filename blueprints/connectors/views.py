"""Connectors to the clouds: the kinds there are (for departments choosing an operation to bind), and
their configuration and health (for platform operators). Secrets go in, never out."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.connectors import service
from app.identity.policy import current_caller, require_any, require_role
from blueprints.connectors.schemas import ConfigureSchema, ConnectorKindSchema, ConnectorSchema, ConnectorStatusSchema

blp = Blueprint(
    "connectors", __name__, url_prefix="/api/v1", description="Connectors to the clouds: kinds, configuration, health"
)


@blp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/connectors")
class Kinds(MethodView):
    @require_any(roles=("dept_admin", "clerk", "operator"), scopes=("catalog:write",))
    @blp.response(200, ConnectorKindSchema(many=True))
    def get(self):
        """Every kind of connector, its operations (inputs and outputs) and its configuration schema"""
        return service.kinds()


@blp.route("/ops/connectors")
class Connectors(MethodView):
    @require_role("operator")
    @blp.response(200, ConnectorStatusSchema(many=True))
    def get(self):
        """Configured connectors: circuit state, error rate, p95 latency and last error over 15 minutes"""
        return service.overview()


@blp.route("/ops/connectors/<name>")
class Connector(MethodView):
    @require_role("operator")
    @blp.arguments(ConfigureSchema)
    @blp.response(200, ConnectorSchema)
    def put(self, body, name):
        """Configure a connector (recorded in the audit log); secrets are stored encrypted, never shown"""
        return service.configure(current_caller(), name, body)
