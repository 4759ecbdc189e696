from openapi_spec_validator import validate


def test_openapi_document_is_valid_and_everything_is_under_v1(client):
    spec = client.get("/api/openapi.json").json
    validate(spec)
    assert spec["openapi"].startswith("3.")
    # Besides the versioned API, only the OAuth endpoints the issue names (/oauth/token, RFC 7009 revocation).
    assert all(path.startswith(("/api/v1/", "/oauth/")) for path in spec["paths"])
    assert {"citizenToken", "staffToken", "departmentClient"} <= set(spec["components"]["securitySchemes"])


def test_errors_are_documented_as_the_envelope(client):
    spec = client.get("/api/openapi.json").json
    envelope = spec["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["properties"]["error"]["$ref"].endswith("/ErrorBody")
    detail = spec["paths"]["/api/v1/departments"]["get"]["responses"]
    unprocessable = spec["components"]["responses"][detail["422"]["$ref"].rsplit("/", 1)[1]]
    assert unprocessable["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")


def test_docs_page_renders_from_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html and "/api/openapi.json" in html
    bundle = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and b"SwaggerUIBundle" in bundle.data
