"""Inquiries on the real server (gunicorn, production settings) beside a bare Flask hello app, in one run.

    .venv/bin/python scripts/bench_inquiry.py --mode cached     # POST /services/air/query, answered from Redis
    .venv/bin/python scripts/bench_inquiry.py --mode uncached   # POST /services/fd-licence/query, a new licence
        number each time, so every request goes to the food-and-drug twin, which takes 50 ms to answer

Guests of public services, as phones on a carrier's network: each request comes from one of 20,000
addresses (X-Forwarded-For behind one trusted proxy), so the per-address limits are counted as in life
without one address tripping them. The twin runs in gunicorn processes of its own (scripts/bench_twin.py).
`--think-ms` gives each of the clients a pause between requests, as people reading an answer do.
Needs PostgreSQL, Redis and wrk, as scripts/bench_http.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.bench_http import BIN, ROOT, prepare_database, production_env, start, stop, wrk

LUA = """
local addresses = 20000
local think = %(think)d
local uncached = %(uncached)s
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time())
request = function()
  local n = math.random(0, addresses - 1)
  local f = math.floor
  wrk.headers["X-Forwarded-For"] = string.format("10.%%d.%%d.%%d", f(n / 65536), f(n / 256) %% 256, n %% 256)
  local body = '{"inputs": {"district": "370405"}}'
  if uncached then
    body = string.format('{"inputs": {"licence_no": "JY1370402%%06d1"}}', math.random(0, 999999))
  end
  return wrk.format("POST", nil, nil, body)
end
if think > 0 then
  delay = function() return math.random(math.floor(think / 2), math.floor(think * 3 / 2)) end
end
"""
PATHS = {"cached": "/api/v1/services/air/query", "uncached": "/api/v1/services/fd-licence/query"}


def seed(env: dict, twin_base: str) -> None:
    """The demo catalog, its connectors pointed at the twin server (seed-demo needs the sandbox mode)."""
    seeding = {**env, "APP_ENV": "development", "SANDBOX": "1", "PUBLIC_BASE_URL": "http://127.0.0.1:9"}
    seeding |= {"DEPARTMENT_SYSTEM_BASE_URL": "", "CLOUDS_SANDBOX_BASE_URL": twin_base}
    subprocess.run([BIN / "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT, env=seeding, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=sorted(PATHS), default="cached")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=None, help="default: 32 cached, 200 uncached")
    parser.add_argument("--think-ms", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--twin-delay-ms", type=int, default=50)
    parser.add_argument("--warm-up-seconds", type=int, default=5)
    args = parser.parse_args()
    connections = args.connections or (200 if args.mode == "uncached" else 32)
    env = production_env() | {"TRUSTED_PROXIES": "1"}
    # The production settings gunicorn.conf.py recommends, 2 workers per core of 32 threads, unless given.
    env["WEB_CONCURRENCY"] = os.environ.get("WEB_CONCURRENCY", str(2 * os.cpu_count()))
    env["WEB_THREADS"] = os.environ.get("WEB_THREADS", "32")
    prepare_database(env)
    script = Path(tempfile.mkdtemp(prefix="bench-inquiry-")) / "inquiry.lua"
    script.write_text(LUA % {"think": args.think_ms, "uncached": str(args.mode == "uncached").lower()})
    log_path = Path(tempfile.gettempdir()) / "bench_inquiry.log"
    twin_env = {**env, "BENCH_TWIN_DELAY_MS": str(args.twin_delay_ms), "WEB_THREADS": "128"}
    with open(log_path, "w") as log:
        twin, twin_base = start("scripts.bench_twin:app", twin_env, log)
        try:
            seed(env, twin_base)
            results = run_rounds(args, env, connections, script, log)
        finally:
            stop(twin)
    report(results, args, connections, env, log_path)
    return 0


def run_rounds(args, env: dict, connections: int, script: Path, log) -> dict[str, list[dict]]:
    ours = f"our {args.mode} inquiry"
    targets = {"bare hello": ("scripts.bench_hello:app", "/healthz", []), ours: ("wsgi:app", PATHS[args.mode], [])}
    results: dict[str, list[dict]] = {name: [] for name in targets}
    for round_no in range(1, args.rounds + 1):
        for name, (target, path, _) in targets.items():
            process, base = start(target, env, log)
            try:
                extra = ["-s", str(script)] if name == ours else []
                # Warm-up, not counted: a fresh worker's first seconds (its pools, the live catalog, the
                # connectors built, a department token) are a cold start, not the steady state measured.
                wrk(base + path, args.warm_up_seconds, connections, [], extra)
                result = wrk(base + path, args.seconds, connections, [], extra)
            finally:
                stop(process)
            results[name].append(result)
            print(
                f"round {round_no}  {name:<22} {result['rps']:>8.0f} req/s   p50 {result['p50_ms']:7.2f} ms"
                f"   p99 {result['p99_ms']:7.2f} ms   non-2xx {result['non_2xx']}   errors {result['errors']}"
            )
    return results


def report(results: dict, args, connections: int, env: dict, log_path: Path) -> None:
    ours, bare = results[f"our {args.mode} inquiry"], results["bare hello"]
    ratios = [o["rps"] / b["rps"] for o, b in zip(ours, bare, strict=True)]
    print(
        f"gunicorn workers={env['WEB_CONCURRENCY']} threads={env['WEB_THREADS']} gthread; {connections} connections, "
        f"think {args.think_ms} ms, twin delay {args.twin_delay_ms} ms; log {log_path}"
    )
    print(
        f"per-round ratios to the hello: {', '.join(f'{100 * r:.0f}%' for r in ratios)}; "
        f"median {100 * statistics.median(ratios):.1f}%"
    )
    p99s = [o["p99_ms"] for o in ours]
    print(f"our p99: {', '.join(f'{p:.0f} ms' for p in p99s)}; worst {max(p99s):.0f} ms")


if __name__ == "__main__":
    sys.exit(main())
