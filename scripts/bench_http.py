"""Load /healthz of the real server (gunicorn, production settings) against a bare Flask hello app.

Both run under the same gunicorn settings, one after the other, in the same run, loaded by wrk.
Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL) and wrk (`apt-get install wrk`).

    .venv/bin/python scripts/bench_http.py [--seconds 10] [--connections 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
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

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def production_env() -> dict:
    env = dict(os.environ)
    env.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": DATABASE_URL,
            "REDIS_URL": REDIS_URL,
            "SANDBOX": "0",
            "PUBLIC_BASE_URL": "https://bench.invalid",
            "RATELIMIT_DEFAULT": "100000000 per minute",  # one client (wrk) sends everything
            "DEPARTMENT_SYSTEM_BASE_URL": "http://127.0.0.1:9/not-called",
            "WEB_THREADS": env.get("WEB_THREADS", "4"),
            "WEB_CONCURRENCY": env.get("WEB_CONCURRENCY", "2"),
            "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-"),
        }
    )
    return env


def prepare_database(env: dict) -> None:
    url = sa.engine.make_url(DATABASE_URL)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()
    subprocess.run(
        [BIN / "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL
    )


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
    url = f"http://127.0.0.1:{port}/healthz"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{target} did not start; see the log")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(20)


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    env = production_env()
    prepare_database(env)
    log_path = Path(tempfile.gettempdir()) / "bench_http.log"
    targets = {"bare hello": "scripts.bench_hello:app", "our /healthz": "wsgi:app"}
    results: dict[str, list[dict]] = {name: [] for name in targets}
    print(
        f"gunicorn workers={env['WEB_CONCURRENCY']} threads={env['WEB_THREADS']} gthread; "
        f"wrk 2 threads, {args.connections} connections, {args.seconds}s each; log {log_path}"
    )
    with open(log_path, "w") as log:
        for round_no in range(1, args.rounds + 1):
            for name, target in targets.items():
                process, url = start(target, env, log)
                try:
                    wrk(url, 2, args.connections)  # warm-up, not counted
                    result = wrk(url, args.seconds, args.connections)
                finally:
                    stop(process)
                results[name].append(result)
                print(
                    f"round {round_no}  {name:<13} {result['rps']:>9.0f} req/s   p50 {result['p50_ms']:6.2f} ms"
                    f"   p99 {result['p99_ms']:6.2f} ms   non-2xx {result['non_2xx']}"
                )
    ours = statistics.median(r["rps"] for r in results["our /healthz"])
    bare = statistics.median(r["rps"] for r in results["bare hello"])
    # Each round runs the two back to back, so its ratio is least disturbed by the machine's drift.
    ratios = [o["rps"] / b["rps"] for o, b in zip(results["our /healthz"], results["bare hello"], strict=True)]
    print(f"medians: ours {ours:.0f} req/s, bare {bare:.0f} req/s -> {100 * ours / bare:.1f}%")
    print(
        f"per-round ratios: {', '.join(f'{100 * r:.0f}%' for r in ratios)}; "
        f"median {100 * statistics.median(ratios):.1f}% (goal >= 75%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
