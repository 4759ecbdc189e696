"""The sandbox: one WSGI app hosting the twin of every outside party, plus control endpoints.

Served under /_sandbox by `make run` (SANDBOX=1) and as a real HTTP server in the tests.
See docs/sandbox.md.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from integrations.sandbox import faults
from integrations.sandbox.twins import TWINS, configure_twins


def create_sandbox_app() -> Flask:
    app = Flask("sandbox")
    configure_twins()
    board = faults.FaultBoard()
    app.extensions["faults"] = board

    for name, twin in TWINS.items():
        app.register_blueprint(twin.blueprint, url_prefix=f"/{name}")

    @app.before_request
    def _inject_fault():
        twin = request.path.strip("/").split("/", 1)[0]
        if twin in TWINS:
            fault = board.take(twin)
            if fault is not None:
                return faults.apply(fault)
        return None

    @app.get("/_control/faults")
    def list_faults():
        return jsonify(board.describe())

    @app.put("/_control/faults/<twin>")
    def set_fault(twin):
        if twin not in TWINS:
            return jsonify(error=f"no twin {twin!r}", twins=sorted(TWINS)), 404
        try:
            fault = board.set(twin, request.get_json(force=True, silent=True) or {})
        except (ValueError, TypeError) as error:
            return jsonify(error=str(error)), 400
        return jsonify(twin=twin, fault=fault.__dict__)

    @app.delete("/_control/faults/<twin>")
    def clear_fault(twin):
        board.clear(twin)
        return "", 204

    @app.post("/_control/reset")
    def reset():
        board.clear()
        for twin in TWINS.values():
            twin.reset()
        configure_twins()  # a test may have given a twin other credentials
        return "", 204

    @app.errorhandler(HTTPException)
    def _json_errors(error):
        # Twins speak JSON, like the parties they stand in for; no HTML pages from the sandbox.
        return jsonify(error=error.name, status=error.code), error.code

    @app.get("/")
    def index():
        return jsonify(twins=sorted(TWINS), control=["/_control/faults", "/_control/reset"])

    return app
