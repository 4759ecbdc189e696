"""A department's system under test, and services put live against it through the real lifecycle."""

import threading
import time

import pytest
import requests
from flask import Flask, jsonify, request

from app.catalog import contract_keys, service
from integrations.clouds.sharing.people import DEMO_CITIZENS
from integrations.department_contract.signing import ContractSignatureError, verify
from tests.catalog.test_lifecycle import LINK, OPERATOR, SYSTEM, acting
from tests.factories import make_department
from tests.identity.helpers import bearer, login_wechat
from tests.servers import serving

FORM = {
    "type": "object",
    "properties": {"account": {"title": "公积金账号", "x-kind": "account", "minLength": 6, "maxLength": 12}},
    "required": ["account"],
}
PERSON = {k: DEMO_CITIZENS[0][k] for k in ("name", "id_number")}  # the population twin knows them


class Department:
    """A department's system that checks our signature, records what it was asked and answers as told."""

    def __init__(self):
        self.key_id = self.secret = None
        self.received, self.delay, self.down = [], 0.0, False
        self.waiting, self.peak, self.lock = 0, 0, threading.Lock()
        self.app = Flask("recording_department")
        self.app.add_url_rule("/health", view_func=lambda: jsonify(ok=True))
        self.app.add_url_rule("/", view_func=self.answer, methods=["POST"])
        self.app.before_request(self.check)

    def check(self):
        if self.down:
            return "down", 503
        try:
            verify(self.secret, request.method, request.path, request.get_data(), request.headers)
        except ContractSignatureError:
            return jsonify(ok=False, code="BAD_SIGNATURE", message="签名校验失败"), 401
        return None

    def answer(self):
        body = request.get_json()
        self.received.append(body)
        with self.lock:
            self.waiting += 1
            self.peak = max(self.peak, self.waiting)
        time.sleep(self.delay)
        with self.lock:
            self.waiting -= 1
        account = body["inputs"]["account"]
        if account.endswith("0"):
            return jsonify(ok=False, code="NOT_FOUND", message="未查询到该公积金账号")
        return jsonify(ok=True, result={"account": account, "balance_fen": 1234500}, as_of="2026-11-21T08:00:00")


@pytest.fixture
def department(app):
    department = Department()
    with serving(department.app) as url:
        department.url = url
        yield department


@pytest.fixture
def go_live(app, app_ctx, department):
    make_department("gjj")
    with acting(app, SYSTEM):
        department.key_id, department.secret = contract_keys.issue(SYSTEM)

    def put_live(code="gjj-balance", kind="inquiry", **rules):
        content = {
            "name": {"zh": "住房公积金余额查询"},
            "privacy_notice": "仅用于查询本人公积金余额",
            "contact": "0632-12329",
            "form": FORM,
            "binding": {"type": "contract", "url": department.url, "key_id": department.key_id},
            **rules,
        }
        if kind == "link":
            content = LINK
        with acting(app, SYSTEM):
            service.register(SYSTEM, code, "housing", kind, content)
            service.transition(SYSTEM, code, 1, "submit")
        with acting(app, OPERATOR):
            service.transition(OPERATOR, code, 1, "approve")
        with acting(app, SYSTEM):
            service.transition(SYSTEM, code, 1, "publish")

    return put_live


@pytest.fixture
def citizen(client, sandbox_url):
    return bearer(login_wechat(client, sandbox_url)["access_token"])


@pytest.fixture
def twin(sandbox_url):
    """The environment twin: make it fail, heal it, and count what it served meanwhile."""

    class Twin:
        def fault(self, **spec):
            requests.put(f"{sandbox_url}/_control/faults/environment", json=spec, timeout=5).raise_for_status()

        def heal(self):
            requests.delete(f"{sandbox_url}/_control/faults/environment", timeout=5)

        def served(self):
            faults = requests.get(f"{sandbox_url}/_control/faults", timeout=5).json()
            return faults.get("environment", {}).get("served", 0)

    return Twin()
