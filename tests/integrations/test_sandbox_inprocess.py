"""The sandbox served in process to our own outbound calls, while nothing listens at its address."""

import json
import threading

import pytest
import requests
from flask import Flask, jsonify, request

from integrations.department_contract import health_check
from integrations.http import pooled_session
from integrations.sandbox import keyring
from integrations.sandbox.inprocess import sandbox_in_process

BASE = "http://127.0.0.1:9/_sandbox"  # nothing listens here


def echo_app():
    app = Flask("echo")

    @app.route("/echo/<path:rest>", methods=["GET", "POST"])
    def echo(rest):
        answer = {
            "method": request.method,
            "script_root": request.root_path,
            "path": request.path,
            "query": request.args.to_dict(),
            "body": request.get_data(as_text=True),
            "signed": request.headers.get("X-Test"),
        }
        return jsonify(answer), 201, {"X-Twin": "echo"}

    return app


def test_requests_reach_the_app_mounted_at_the_sandbox_path_and_stream():
    with sandbox_in_process(BASE, echo_app()):
        answer = pooled_session().post(
            f"{BASE}/echo/a/b?x=1&y=%E4%B8%AD", data="中文".encode(), headers={"X-Test": "yes"}, stream=True
        )
        raw = b"".join(answer.iter_content(7))  # in small chunks, as the contract client reads
    assert answer.status_code == 201 and answer.headers["X-Twin"] == "echo"
    assert answer.reason == "CREATED"
    seen = json.loads(raw)
    assert seen == {
        "method": "POST",
        "script_root": "/_sandbox",
        "path": "/echo/a/b",
        "query": {"x": "1", "y": "中"},
        "body": "中文",
        "signed": "yes",
    }


def test_the_adapter_is_gone_afterwards_and_never_served_other_threads():
    secret = keyring.department_contract_secret("gjj")
    url = f"{BASE}/department/gjj/contract"
    elsewhere = {}
    with sandbox_in_process(BASE):
        assert health_check(url, "gjj-sandbox", secret).ok  # the real sandbox app, signature and all
        assert pooled_session().get(f"{BASE}/nothing").status_code == 404
        thread = threading.Thread(target=lambda: elsewhere.update(result=health_check(url, "gjj-sandbox", secret)))
        thread.start()
        thread.join()
    assert not elsewhere["result"].ok  # another thread's session went to the network
    assert not health_check(url, "gjj-sandbox", secret).ok
    with pytest.raises(requests.ConnectionError):
        pooled_session().get(f"{BASE}/nothing", timeout=1)


def test_an_adapter_mounted_before_is_put_back():
    session = pooled_session()
    before = requests.adapters.HTTPAdapter()
    session.mount(f"{BASE}/", before)
    try:
        with sandbox_in_process(BASE, echo_app()):
            assert session.get_adapter(f"{BASE}/echo/x") is not before
        assert session.get_adapter(f"{BASE}/echo/x") is before
    finally:
        session.adapters.pop(f"{BASE}/", None)
