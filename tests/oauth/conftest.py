import base64

import pytest

from app.oauth import service
from tests.factories import make_department


@pytest.fixture
def department(app_ctx):
    return make_department("gjj", "枣庄市住房公积金管理中心")


@pytest.fixture
def make_client(department):
    """make_client(*scopes, department="gjj") -> Credentials, created the way the CLI does it."""

    def make(*scopes, department_code="gjj", name="公积金业务系统"):
        return service.create_client(department_code, name, list(scopes or ["catalog:write", "schedules:write"]))

    return make


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def ask_token(client, credentials=None, *, scope=None, post=False, secret=None, grant_type="client_credentials"):
    """POST /oauth/token as a standard OAuth client library would (form body)."""
    form = {"grant_type": grant_type}
    if scope is not None:
        form["scope"] = scope
    headers = {}
    if credentials is not None:
        client_secret = credentials.client_secret if secret is None else secret
        if post:
            form.update(client_id=credentials.client_id, client_secret=client_secret)
        else:
            headers = basic(credentials.client_id, client_secret)
    return client.post("/oauth/token", data=form, headers=headers)
