"""The baseline for scripts/bench_http.py: a bare Flask app with one JSON route."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/healthz")
def hello():
    return jsonify(status="ok")
