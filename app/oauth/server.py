"""The OAuth2 authorization server for department systems (authlib): token and revocation endpoints.

These two endpoints answer in RFC 6749's error format, {"error": "invalid_client", "error_description": ...},
not in our envelope: department systems call them with standard OAuth client libraries, which read that
format. Everything else about the request (rate limits, 5xx) stays in the envelope.

Client authentication: client_secret_basic or client_secret_post. An unknown, disabled or wrong client gets
the same 401 invalid_client with WWW-Authenticate, so the answer does not tell which it was.
"""

from __future__ import annotations

import contextlib

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import current_app, request

from app.oauth import scopes as catalog
from app.oauth import service
from app.request_context import client_address

SECRET_METHODS = ["client_secret_basic", "client_secret_post"]
FORM = "application/x-www-form-urlencoded"


class OAuthClient(ClientMixin):
    """What authlib needs to know of an authenticated department client."""

    def __init__(self, authenticated: service.AuthenticatedClient):
        self.authenticated = authenticated

    def get_client_id(self):
        return self.authenticated.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return " ".join(sorted(self.authenticated.scopes))

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return False  # secrets are checked by service.authenticate, in the auth methods below

    def check_endpoint_auth_method(self, method, endpoint):
        return method in SECRET_METHODS

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


def _found(authenticated: service.AuthenticatedClient | None) -> OAuthClient | None:
    return OAuthClient(authenticated) if authenticated else None


def _basic_credentials(headers) -> tuple[str | None, str | None]:
    """authlib raises UnicodeDecodeError on a Basic value that is not UTF-8: no usable credentials."""
    try:
        return extract_basic_authorization(headers)
    except (UnicodeDecodeError, ValueError):
        return None, None


def _basic(query_client, oauth_request):
    return _found(service.authenticate(*_basic_credentials(oauth_request.headers)))


def _post(query_client, oauth_request):
    form = oauth_request.form
    return _found(service.authenticate(form.get("client_id"), form.get("client_secret")))


class ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS

    def validate_requested_scope(self):
        requested = catalog.split(self.request.payload.scope)
        granted = service.granted_scopes(self.client.authenticated, requested)
        if granted is None:
            raise InvalidScopeError("The client may not request this scope.")
        self.request.granted_scopes = granted

    def create_token_response(self):
        issued = service.issue_token(self.client.authenticated, self.request.granted_scopes)
        if issued is None:  # disabled or re-keyed since it authenticated
            raise InvalidClientError(status_code=401, description="Client authentication failed.")
        body = {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
        return 200, body, self.TOKEN_RESPONSE_HEADER


class ClientTokenRevocation(RevocationEndpoint):
    """RFC 7009. Only access tokens exist for clients, so token_type_hint is accepted and not needed."""

    CLIENT_AUTH_METHODS = SECRET_METHODS

    def authenticate_token(self, oauth_request, client):
        token = oauth_request.form.get("token")
        if not token:
            raise InvalidRequestError("Missing 'token' parameter.")
        # A token that is not this client's live token is "revoked" without any change (RFC 7009 2.2).
        return _Revocable(client.get_client_id(), token)

    def revoke_token(self, token, oauth_request):
        service.revoke_token(token.client_id, token.token)


class _Revocable:
    def __init__(self, client_id: str, token: str):
        self.client_id, self.token = client_id, token


class DepartmentAuthorizationServer(AuthorizationServer):
    def authenticate_client(self, oauth_request, methods, endpoint="token"):
        try:
            return super().authenticate_client(oauth_request, methods, endpoint)
        except InvalidClientError:
            # Always 401 with WWW-Authenticate, and one description whatever went wrong.
            raise InvalidClientError(status_code=401, description="Client authentication failed.") from None


def _query_client(client_id):
    return None  # never used: both auth methods are ours


server = DepartmentAuthorizationServer(query_client=_query_client, save_token=lambda token, request: None)
server.register_grant(ClientCredentials)
server.register_endpoint(ClientTokenRevocation)
server.register_client_auth_method("client_secret_basic", _basic)
server.register_client_auth_method("client_secret_post", _post)


def _error(error: OAuth2Error):
    return server.handle_error_response(None, error)


def presented_client_id() -> str:
    """The client id a request names (Basic or form), checked or not: the per-client limit counts it."""
    client_id, _ = _basic_credentials(request.headers)
    if not client_id and request.mimetype == FORM:
        client_id = request.form.get("client_id")
    return (client_id or "")[:64]


def _per_client_limit():
    # Counted before the secret is checked, so guessing a client's secret is as slow as the limit.
    # One count for both endpoints: each checks the secret. (Flask-Limiter's documented in-view use.)
    # Keyed by client id *and* address: client ids are not secret (they are the `sub` of its tokens),
    # and someone else naming the client from elsewhere must not lock the department system out.
    limiters = current_app.extensions.get("limiter")
    if not limiters:  # RATELIMIT_ENABLED=0 (benchmarks): Flask-Limiter never set itself up
        return contextlib.nullcontext()
    limiter = next(iter(limiters))
    return limiter.shared_limit(
        lambda: current_app.config["OAUTH_CLIENT_RATE_LIMIT"],
        scope="oauth-client",
        key_func=lambda: f"{presented_client_id()}@{client_address()}",
        exempt_when=lambda: not presented_client_id(),  # no client named: the per-IP limit is enough
    )


def _answer(respond):
    if request.mimetype != FORM:
        return _error(InvalidRequestError(f"Send the parameters as {FORM} (RFC 6749 4.4.2)."))
    with _per_client_limit():
        try:
            return respond()
        except OAuth2Error as error:  # e.g. insecure_transport, raised before authlib's own handling
            return _error(error)


def token_response():
    return _answer(server.create_token_response)


def revocation_response():
    return _answer(lambda: server.create_endpoint_response(ClientTokenRevocation.ENDPOINT_NAME))
