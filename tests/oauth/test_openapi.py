"""The OAuth endpoints are in the API document, with their form bodies, scopes and error format."""

from app.oauth.scopes import SCOPES


def test_the_document_lists_the_real_scopes_and_the_token_url(client):
    spec = client.get("/api/openapi.json").json
    flow = spec["components"]["securitySchemes"]["departmentClient"]["flows"]["clientCredentials"]
    assert flow == {"tokenUrl": "/oauth/token", "scopes": SCOPES}
    assert set(SCOPES) >= {"catalog:write", "schedules:write", "requests:write", "bills:write"}
    assert all(SCOPES.values()), "every scope says what it allows"


def test_token_and_revoke_are_documented_as_form_posts_with_oauth_errors(client):
    spec = client.get("/api/openapi.json").json
    for path in ("/oauth/token", "/oauth/revoke"):
        operation = spec["paths"][path]["post"]
        assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
        assert "RFC 6749" in operation["description"] and "envelope" in operation["description"]
        for status in ("400", "401"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/OAuthError")
        assert operation["security"] == []
