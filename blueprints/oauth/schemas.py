"""Documentation of the OAuth endpoints (authlib reads the form itself, so nothing here parses)."""

import marshmallow as ma

OAUTH_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_scope",
    "unsupported_grant_type",
    "unauthorized_client",
    "insecure_transport",
)


class ClientAuthFields(ma.Schema):
    client_id = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": "client_secret_post only; with client_secret_basic it is the Basic user"},
    )
    client_secret = ma.fields.String(
        validate=ma.validate.Length(max=128),
        metadata={"description": "client_secret_post only; with client_secret_basic it is the Basic password"},
    )


class ClientTokenRequestSchema(ClientAuthFields):
    grant_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["client_credentials"]))
    scope = ma.fields.String(
        metadata={
            "description": "space-separated scopes, each one the client holds; none = every scope it holds",
            "example": "catalog:write schedules:write",
        }
    )


class ClientTokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True, metadata={"description": "JWT; send as Authorization: Bearer"})
    token_type = ma.fields.String(required=True, metadata={"description": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "seconds"})
    scope = ma.fields.String(required=True, metadata={"description": "the scopes granted, space-separated"})


class RevocationRequestSchema(ClientAuthFields):
    token = ma.fields.String(required=True, metadata={"description": "an access token this client obtained"})
    token_type_hint = ma.fields.String(
        metadata={"description": "accepted and not needed: clients only hold access tokens", "example": "access_token"}
    )


class RevokedSchema(ma.Schema):
    """An empty object: RFC 7009 gives the answer no content."""


class OAuthErrorSchema(ma.Schema):
    """RFC 6749 5.2, not our envelope: standard OAuth client libraries read this shape."""

    error = ma.fields.String(required=True, metadata={"enum": list(OAUTH_ERRORS)})
    error_description = ma.fields.String(metadata={"description": "for the developer, in English (ASCII)"})
    error_uri = ma.fields.String()
