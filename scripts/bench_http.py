"""Load one of our endpoints on the real server (gunicorn, production settings) beside a bare Flask hello app.

Both run under the same gunicorn settings, one after the other, in the same run, loaded by wrk.
Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL) and wrk (`apt-get install wrk`).

    .venv/bin/python scripts/bench_http.py [--endpoint healthz|me] [--seconds 10] [--connections 32] [--rounds 5]

`me` is GET /api/v1/me with a valid citizen token: a JWT check, a Redis revocation check, a rate-limit
count in Redis and one PostgreSQL read.
`catalog` is GET /api/v1/catalog/services, anonymous, on the demo catalog (seed-demo, run first): the cached
read a mini-program's front page makes.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ENDPOINTS = {"healthz": "/healthz", "me": "/api/v1/me", "catalog": "/api/v1/catalog/services"}


def production_env() -> dict:
    env = dict(os.environ)
    from app.config import DEMO_IDS, OUTSIDE_BASE_URLS, REQUIRED_SECRETS

    jwt_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    env.update(dict.fromkeys(REQUIRED_SECRETS, "bench-not-used"))
    env.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "SANDBOX": "0",
            "PUBLIC_BASE_URL": "https://bench.invalid",
            "RATELIMIT_DEFAULT": "100000000 per minute",  # one client (wrk) sends everything
            **{name: "bench-" + name.lower() for name in DEMO_IDS},
            "PAYMENT_CHANNELS": "",  # no channel keys here: the payment benchmark configures its own
            "JWT_PRIVATE_KEYS": json.dumps({"bench-1": jwt_pem.decode()}),
            "PII_KEYS": json.dumps({"bench-1": base64.b64encode(os.urandom(32)).decode()}),
            "PII_HASH_KEY": base64.b64encode(os.urandom(32)).decode(),
            "WEB_THREADS": env.get("WEB_THREADS", "4"),
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY", "2"),
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-"),
        }
    )
    for name in OUTSIDE_BASE_URLS:
        env[name] = "http://127.0.0.1:9/not-called"
    return env


def prepare_database(env: dict) -> None:
    url = sa.engine.make_url(DATABASE_URL)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # Afresh each run: its personal data and keys are encrypted with keys made for this run only.
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    subprocess.run(
        [BIN / "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL
    )


def citizen_token(env: dict) -> str:
    """A citizen with a phone on record, and an access token of theirs, made in-process with the same keys."""
    os.environ.update(env)
    import uuid

    from app import create_app
    from app.clock import utcnow
    from app.db import unit_of_work
    from app.identity import sessions
    from app.identity.models import Citizen
    from app.identity.tokens import Caller

    app = create_app()
    with app.app_context(), unit_of_work() as session:
        citizen = Citizen(
            id=uuid.uuid4(),
            status="active",
            nickname="压测",
            phone="13800138000",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        session.add(citizen)
        return sessions.start(Caller("citizen", str(citizen.id))).access_token


def seed_demo_catalog(env: dict) -> None:
    """The demo catalog, taken live by `flask seed-demo` (it needs the sandbox, so not in production mode)."""
    seeding = {**env, "APP_ENV": "development", "SANDBOX": "1", "PUBLIC_BASE_URL": "http://127.0.0.1:9"}
    seeding["DEPARTMENT_SYSTEM_BASE_URL"] = ""  # the twin under /_sandbox, served in process while seeding
    subprocess.run([BIN / "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT, env=seeding, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(target: str, env: dict, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", target],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{target} did not start; see the log")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(20)


def wrk(url: str, seconds: int, connections: int, headers: list[str], extra: list[str] | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", *(extra or [])]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def latency(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=sorted(ENDPOINTS), default="healthz")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    env = production_env()
    prepare_database(env)
    headers = [f"Authorization: Bearer {citizen_token(env)}"] if args.endpoint == "me" else []
    if args.endpoint == "catalog":
        seed_demo_catalog(env)
    ours = f"our {ENDPOINTS[args.endpoint]}"
    targets = {
        "bare hello": ("scripts.bench_hello:app", "/healthz", []),
        ours: ("wsgi:app", ENDPOINTS[args.endpoint], headers),
    }
    results: dict[str, list[dict]] = {name: [] for name in targets}
    log_path = Path(tempfile.gettempdir()) / "bench_http.log"
    print(
        f"gunicorn workers={env['WEB_CONCURRENCY']} threads={env['WEB_THREADS']} gthread; "
        f"wrk 2 threads, {args.connections} connections, {args.seconds}s each; log {log_path}"
    )
    with open(log_path, "w") as log:
        for round_no in range(1, args.rounds + 1):
            for name, (target, path, extra_headers) in targets.items():
                process, base = start(target, env, log)
                try:
                    wrk(base + path, 2, args.connections, extra_headers)  # warm-up, not counted
                    result = wrk(base + path, args.seconds, args.connections, extra_headers)
                finally:
                    stop(process)
                results[name].append(result)
                print(
                    f"round {round_no}  {name:<18} {result['rps']:>9.0f} req/s   p50 {result['p50_ms']:6.2f} ms"
                    f"   p99 {result['p99_ms']:6.2f} ms   non-2xx {result['non_2xx']}"
                )
    ours_median = statistics.median(r["rps"] for r in results[ours])
    bare_median = statistics.median(r["rps"] for r in results["bare hello"])
    # Each round runs the two back to back, so its ratio is least disturbed by the machine's drift.
    ratios = [o["rps"] / b["rps"] for o, b in zip(results[ours], results["bare hello"], strict=True)]
    print(
        f"medians: ours {ours_median:.0f} req/s, bare {bare_median:.0f} req/s -> {100 * ours_median / bare_median:.1f}%"
    )
    print(
        f"per-round ratios: {', '.join(f'{100 * r:.0f}%' for r in ratios)}; "
        f"median {100 * statistics.median(ratios):.1f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
