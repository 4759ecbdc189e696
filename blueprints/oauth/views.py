"""OAuth2 for department systems: POST /oauth/token (client credentials) and POST /oauth/revoke (RFC 7009).

Unlike the rest of the API these answer errors in RFC 6749's format, not in our envelope (see
app/oauth/server.py for why); rate limits (429) and server errors still come in the envelope.
"""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity.policy import public
from app.oauth import server
from app.rate_limits import rate_limit
from blueprints.oauth.schemas import (
    ClientTokenRequestSchema,
    ClientTokenSchema,
    OAuthErrorSchema,
    RevocationRequestSchema,
    RevokedSchema,
)

blp = Blueprint(
    "oauth",
    __name__,
    url_prefix="/oauth",
    description="Department systems: OAuth2 client credentials tokens and their revocation",
)

ERROR_FORMAT = (
    '\n\nErrors here use RFC 6749\'s format `{"error": "invalid_client", "error_description": ...}`, '
    "not the platform's error envelope, because department systems call these endpoints with standard "
    "OAuth client libraries. A rate limit (429, with Retry-After) and server errors use the envelope."
)
CLIENT_AUTH = (
    "The client authenticates with HTTP Basic (`client_id:client_secret`, client_secret_basic) "
    "or with `client_id` and `client_secret` in the form (client_secret_post)."
)
UNAUTHORIZED = {
    "schema": OAuthErrorSchema,
    "description": "invalid_client: unknown, disabled or wrong credentials",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Basic error="invalid_client"'}},
}


def _form(schema) -> dict:
    return {"required": True, "content": {server.FORM: {"schema": schema}}}


@blp.after_request
def _no_store(response):
    # Tokens must not sit in any cache (RFC 6749 5.1); errors neither, they follow a credential.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@blp.route("/token")
class Token(MethodView):
    @public  # the client authenticates inside, with its secret
    @rate_limit("60 per minute", per="ip")  # app.oauth.server adds a per-client limit
    @blp.doc(
        requestBody=_form(ClientTokenRequestSchema),
        description=(
            "Client credentials grant (RFC 6749 4.4). " + CLIENT_AUTH + " The access token is a JWT "
            "carrying the granted scopes and the client's department; there is no refresh token: ask again "
            "when it expires." + ERROR_FORMAT
        ),
    )
    @blp.response(200, ClientTokenSchema)
    @blp.alt_response(
        400,
        schema=OAuthErrorSchema,
        description="invalid_request, invalid_scope (a scope the client does not hold), unsupported_grant_type",
    )
    @blp.alt_response(401, **UNAUTHORIZED)
    def post(self):
        """Get an access token for a department system"""
        return server.token_response()


@blp.route("/revoke")
class Revoke(MethodView):
    @public  # the client authenticates inside, with its secret
    @rate_limit("60 per minute", per="ip")
    @blp.doc(
        requestBody=_form(RevocationRequestSchema),
        description=(
            "Token revocation (RFC 7009). " + CLIENT_AUTH + " One of the client's own tokens stops working "
            "at once; any other token (unknown, expired, malformed or another client's) gets the same 200 "
            "and nothing changes." + ERROR_FORMAT
        ),
    )
    @blp.response(200, RevokedSchema, description="revoked, or nothing to revoke")
    @blp.alt_response(400, schema=OAuthErrorSchema, description="invalid_request: no token, or not a form")
    @blp.alt_response(401, **UNAUTHORIZED)
    def post(self):
        """Revoke an access token of this department system"""
        return server.revocation_response()
