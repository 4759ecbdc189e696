"""A department puts a new inquiry service live against its own endpoint: no code change, no redeploy.
Its endpoint must pass the signed health check to go live."""

import importlib.util
import uuid
from pathlib import Path

import pytest

from app.identity.tokens import Caller
from tests.catalog.test_catalog_api import token
from tests.factories import make_department
from tests.identity.helpers import bearer, login_wechat
from tests.servers import serving

RECEIVER = Path(__file__).resolve().parents[2] / "docs/examples/department_receiver.py"
FORM = {
    "type": "object",
    "properties": {"case_no": {"title": "办件编号", "x-kind": "text", "maxLength": 20}},
    "required": ["case_no"],
}


def receiver_app(key_id, secret):
    spec = importlib.util.spec_from_file_location("department_receiver", RECEIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create_app({key_id: secret})


class Switch:
    """The department's server, which can be taken down (503) and brought back."""

    def __init__(self, app):
        self.app, self.up = app, True

    def __call__(self, environ, start_response):
        if self.up:
            return self.app(environ, start_response)
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"down for maintenance"]


@pytest.fixture
def people(app_ctx):
    make_department("gjj")
    return {
        "system": token(Caller("client", "client-gjj", scopes=frozenset({"catalog:write"}), department="gjj")),
        "operator": token(Caller("operator", str(uuid.UUID(int=3)), roles=frozenset({"operator"}))),
    }


def test_an_inquiry_service_goes_live_only_while_its_endpoint_answers(client, people, sandbox_url):
    key = client.post("/api/v1/catalog/contract-keys", headers=people["system"])
    assert key.status_code == 201
    key_id, secret = key.json["key_id"], key.json["secret"]
    department = Switch(receiver_app(key_id, secret))
    with serving(department) as url:
        content = {
            "name": {"zh": "住房公积金余额查询"},
            "privacy_notice": "仅用于查询本人公积金余额",
            "contact": "0632-12329",
            "form": FORM,
            "binding": {"type": "contract", "url": url, "key_id": key_id},
        }
        created = client.post(
            "/api/v1/catalog/services",
            json={"code": "gjj-balance", "cloud": "housing", "kind": "inquiry", "content": content},
            headers=people["system"],
        )
        assert created.status_code == 201, created.json
        base = "/api/v1/catalog/services/gjj-balance/versions/1"
        assert client.post(f"{base}/submit", json={}, headers=people["system"]).status_code == 200
        assert client.post(f"{base}/approve", json={}, headers=people["operator"]).status_code == 200

        department.up = False
        refused = client.post(f"{base}/publish", json={}, headers=people["system"])
        assert refused.status_code == 409 and refused.json["error"]["code"] == "CHECKLIST_FAILED"
        assert refused.json["error"]["details"]["problems"][0].startswith("binding.url")

        department.up = True
        live = client.post(f"{base}/publish", json={}, headers=people["system"])
        assert live.status_code == 200 and live.json["status"] == "LIVE"

        # A citizen finds it and runs it: the department's server answers, through no code of ours.
        citizen = bearer(login_wechat(client, sandbox_url)["access_token"])
        found = client.get("/api/v1/catalog/services?q=公积金余额")
        assert [s["code"] for s in found.json] == ["gjj-balance"]
        answer = client.post(
            "/api/v1/services/gjj-balance/query", json={"inputs": {"case_no": " ZZ2026001 "}}, headers=citizen
        )
        assert answer.status_code == 200, answer.json
        assert answer.json["result"] == {
            "case_no": "ZZ2026001",
            "status": "办理中",
            "accepted_at": "2026-11-20T09:30:00+08:00",
        }
        assert answer.json["source"] == {"department": "gjj", "name": "枣庄市住房公积金管理中心"}
        assert answer.json["as_of"].endswith("+08:00") and answer.json["stale"] is False


def test_a_key_of_another_department_does_not_bind(client, people, app_ctx):
    make_department("jxw", name="枣庄市工业和信息化局", clouds=("industry",))
    other = token(Caller("client", "client-jxw", scopes=frozenset({"catalog:write"}), department="jxw"))
    foreign = client.post("/api/v1/catalog/contract-keys", headers=other).json["key_id"]
    content = {
        "name": {"zh": "住房公积金余额查询"},
        "privacy_notice": "仅用于查询本人公积金余额",
        "contact": "0632-12329",
        "form": FORM,
        "binding": {"type": "contract", "url": "http://127.0.0.1:9/", "key_id": foreign},
    }
    client.post(
        "/api/v1/catalog/services",
        json={"code": "gjj-balance", "cloud": "housing", "kind": "inquiry", "content": content},
        headers=people["system"],
    )
    refused = client.post("/api/v1/catalog/services/gjj-balance/versions/1/submit", json={}, headers=people["system"])
    assert refused.status_code == 409
    assert refused.json["error"]["details"]["problems"] == ["binding.key_id: 不是本部门有效的接口密钥"]
