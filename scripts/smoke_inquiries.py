"""Smoke test of a running server's demo catalog: every live inquiry answers its example through its twin,
and says "not found" for its documented missing inputs.

    make run                                  # in one terminal
    .venv/bin/python scripts/smoke_inquiries.py --base-url http://127.0.0.1:5000

Logs in through the WeChat twin as two citizens: one real-name verified as a demo person of the
population twin (for one's own records), one not; guests ask the public services. Exit status 1 if any
service answered otherwise. The test suite runs the same check against a served app (tests/catalog).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.catalog.demo import demo_services
from integrations.clouds.sharing.people import DEMO_CITIZENS


def _login(base: str, sandbox: str, user: str) -> dict:
    code = requests.post(f"{sandbox}/wechat/code", json={"user": user}, timeout=10).json()["code"]
    answer = requests.post(f"{base}/api/v1/auth/wechat", json={"code": code}, timeout=10)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def citizens(base: str, sandbox: str) -> tuple[dict, dict]:
    """(a real-name verified citizen, a citizen who is not)."""
    run = uuid.uuid4().hex[:8]
    verified, plain = _login(base, sandbox, f"smoke-{run}-a"), _login(base, sandbox, f"smoke-{run}-b")
    person = {k: DEMO_CITIZENS[0][k] for k in ("name", "id_number")}
    answer = requests.put(f"{base}/api/v1/me/real-name", json=person, headers=verified, timeout=10)
    if answer.status_code != 200:
        raise SystemExit(f"real-name verification failed: {answer.status_code} {answer.text[:200]}")
    return verified, plain


def smoke(base: str, sandbox: str, out=print) -> list[str]:
    """Ask every live inquiry of the demo; the problems found (empty when all is well)."""
    verified, plain = citizens(base, sandbox)
    live = {item["code"] for item in requests.get(f"{base}/api/v1/catalog/services", timeout=10).json()}
    problems = []
    for item in demo_services():
        if item.kind != "inquiry":
            continue
        if item.code not in live:
            problems.append(f"{item.code}: not live")
            continue
        who = verified if item.real_name_required else plain if item.login_required else {}
        cases = [(item.example, 200)] + ([(item.missing, 404)] if item.missing is not None else [])
        for inputs, expected in cases:
            started = time.perf_counter()
            answer = requests.post(
                f"{base}/api/v1/services/{item.code}/query", json={"inputs": inputs}, headers=who, timeout=15
            )
            ms = (time.perf_counter() - started) * 1000
            body = answer.json()
            via = "/".join(item.via) if item.via else "contract"
            detail = body.get("as_of") if answer.status_code == 200 else body.get("error", {}).get("code")
            out(f"{item.code:<18} {via:<32} {answer.status_code} {ms:7.1f} ms  {detail}")
            if answer.status_code != expected:
                problems.append(f"{item.code} {inputs}: {answer.status_code} {body}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:5000")
    parser.add_argument("--sandbox-url", default=None, help="default: <base-url>/_sandbox")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    problems = smoke(base, (args.sandbox_url or f"{base}/_sandbox").rstrip("/"))
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    print("all live inquiries answered as expected" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
