"""Payments on the real server (gunicorn, production settings) beside a bare Flask hello app, in one run.

    .venv/bin/python scripts/bench_payments.py [--seconds 10] [--connections 32] [--rounds 3]

Each round loads, one after the other and with the same wrk settings:
  - the bare hello (scripts/bench_hello.py), for the ratio;
  - POST /api/v1/payments/notify/wechat: TRANSACTION.SUCCESS notifications signed with the platform key and
    sealed with the APIv3 key by this script (integrations/wechatpay/twin_protocol.py), for orders put in
    PAYING straight into the database; half of them are duplicates (WeChat's retries: the same payment with
    a new notification id, nonce, timestamp and signature), sent beside their first copy by the other wrk
    thread. Signed just before each round: the app refuses a timestamp older than 5 minutes;
  - POST /api/v1/payments: a new order for one unpaid bill, with a fresh Idempotency-Key, by citizens with
    WeChat identities and bound water, power and gas accounts; each order is a live bill re-check at the
    energy cloud's twin and a prepay at the WeChat Pay twin (both in gunicorn processes of their own).

The app runs with WECHATPAY_* keys made for this run (merchant and platform RSA keypairs as PEM files,
certificate serial, public key id, 32-character APIv3 key), its WeChat Pay base URL at the twin, which
scripts/bench_payments_setup.py serves (`twin_app()`, a gunicorn factory) configured with the same keys.
A payment's write-off goes to the outbox in the PAID transaction; no Celery worker runs here, so those
messages wait in the table, as they would with the workers down (their broker nudges are dropped from the
bench's Redis at the end). Afterwards the database is checked: every order notified is PAID by exactly one
transition, none twice, no discrepancy, one write-off message per paid order; every 201 is one order.

Its own database (BENCH_PAYMENTS_DATABASE_URL, default city_bench_payments), so a run of bench_http.py
beside it does not drop it. Needs PostgreSQL, Redis and wrk, as scripts/bench_http.py.

Here: the arguments, the rounds, wrk's runs, the check of the database and the report. The preparation (the
twin, keys and settings, citizens and orders, the request files) is in scripts/bench_payments_setup.py;
wrk's replay script in scripts/bench_payments_replay.lua.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import bench_http
from scripts.bench_http import production_env, start, stop
from scripts.bench_inquiry import seed
from scripts.bench_payments_setup import (
    add_citizens,
    add_paying_orders,
    app_settings,
    make_keys,
    merchant_settings,
    notification_file,
    order_file,
)

DATABASE_URL = os.environ.get(
    "BENCH_PAYMENTS_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/city_bench_payments"
)
bench_http.DATABASE_URL = DATABASE_URL  # the database its prepare_database drops and makes afresh
NOTIFY_PATH = "/api/v1/payments/notify/wechat"
PAY_PATH = "/api/v1/payments"
WRK_THREADS = 2
FIRST_NOTIFY_GUESS = 500  # notifications a second assumed for the first round's pool; later rounds measure
SPARE = 1.4  # pools are this much larger than the rate seen, so wrk does not run out

# wrk's replay script: the requests of a file, one a line (see its header).
LUA = Path(__file__).with_name("bench_payments_replay.lua").read_text()


# -- wrk -----------------------------------------------------------------------------------------------------


def run_wrk(url: str, seconds: int, connections: int, replay: dict | None = None) -> dict:
    """wrk's figures; with `replay` ({file, offset, fresh_keys}) the requests of that file, with each
    thread's count of requests and answers."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    env = dict(os.environ)
    if replay is not None:
        command += ["-s", str(replay["script"])]
        env |= {
            "BENCH_REQUESTS": str(replay["file"]),
            "BENCH_OFFSET": str(replay["offset"]),
            "BENCH_THREADS": str(WRK_THREADS),
            "BENCH_FRESH_KEYS": "1" if replay.get("fresh_keys") else "0",
        }
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, env=env).stdout

    def latency(label):
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    threads = [
        {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}
        for line in out.splitlines()
        if line.startswith("BENCH-THREAD ")
    ]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
        "threads": sorted(threads, key=lambda t: t["tid"]),
    }


def answered(result: dict) -> dict:
    """Answers by status, over the threads."""
    return {key: sum(t[key] for t in result["threads"]) for key in ("s200", "s201", "s204", "s409", "s429", "sother")}


def lines_sent(result: dict, offset: int, total: int) -> tuple[set[int], int]:
    """The line numbers the threads sent (each its every WRK_THREADS-th from the offset), and the next offset."""
    sent, furthest = set(), offset
    for thread in result["threads"]:
        count = min(thread["sent"], thread["share"])
        sent |= {offset + thread["tid"] + WRK_THREADS * k for k in range(count)}
        furthest = max(furthest, offset + WRK_THREADS * count)
    return sent, min(furthest, total)


# -- the run ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm-up-seconds", type=int, default=3)
    parser.add_argument("--twin-delay-ms", type=int, default=0, help="the twins' delay before each answer")
    parser.add_argument(
        "--citizens", type=int, default=1000, help="citizens paying bills, 3 accounts each (more if a run wraps)"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # the rounds as they finish, between the servers' output
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-payments-"))
    work.chmod(0o700)
    keys = make_keys(work)
    env = production_env() | {"DATABASE_URL": DATABASE_URL}
    # The production settings gunicorn.conf.py recommends, 2 workers per core of 32 threads, unless given.
    env["WEB_CONCURRENCY"] = os.environ.get("WEB_CONCURRENCY", str(2 * os.cpu_count()))
    env["WEB_THREADS"] = os.environ.get("WEB_THREADS", "32")
    bench_http.prepare_database(env)
    script = work / "replay.lua"
    script.write_text(LUA)
    log_path = Path(tempfile.gettempdir()) / "bench_payments.log"
    twin_env = {**env, **merchant_settings(keys), "WEB_CONCURRENCY": str(os.cpu_count()), "WEB_THREADS": "64"}
    twin_env |= {
        "BENCH_TWIN_MERCHANT_PUBLIC_KEY": keys["merchant_public"],
        "BENCH_TWIN_PLATFORM_PRIVATE_KEY": keys["platform_private"],
        "BENCH_TWIN_TOKEN_SECRET": secrets.token_hex(32),
        "BENCH_TWIN_DELAY_MS": str(args.twin_delay_ms),
    }
    with open(log_path, "w") as log:
        twin, twin_base = start("scripts.bench_payments_setup:twin_app()", twin_env, log)
        try:
            env |= app_settings(keys, twin_base)
            seed(env, twin_base)
            print(f"setup: database, keys, twin and demo catalog in {time.monotonic() - began:.0f} s")
            results, checks = run(args, env, keys, work, script, log)
        finally:
            stop(twin)
    report(results, checks, args, env, log_path, time.monotonic() - began)
    shutil.rmtree(work, ignore_errors=True)
    return 0 if checks["ok"] else 1


def run(args, env: dict, keys: dict, work: Path, script: Path, log) -> tuple[dict, dict]:
    os.environ.update(env)
    from app import create_app

    app = create_app()
    made = time.monotonic()
    payer = add_citizens(app, 1, 0)[0]  # whose orders the notifications pay
    people = add_citizens(app, args.citizens, 3)
    orders = {"file": work / "orders.txt", "offset": 0, "answers_201": 0}
    orders["lines"] = order_file(orders["file"], people)
    took = time.monotonic() - made
    print(f"setup: {args.citizens} citizens with 3 bound accounts, {orders['lines']} payable bills in {took:.0f} s")
    results: dict[str, list[dict]] = {"bare hello": [], "notify": [], "create order": []}
    prepared, notified = [], set()
    for round_no in range(1, args.rounds + 1):
        process, base = start("scripts.bench_hello:app", env, log)
        try:
            run_wrk(base + "/healthz", args.warm_up_seconds, args.connections)  # warm-up, not counted
            results["bare hello"].append(run_wrk(base + "/healthz", args.seconds, args.connections))
        finally:
            stop(process)
        show(round_no, "bare hello", results["bare hello"][-1])
        # Enough for the fastest rate seen yet (a guess in the first round), signed afresh each round.
        rate = max((r["rps"] for r in results["notify"]), default=FIRST_NOTIFY_GUESS)
        pool = math.ceil(rate * SPARE * (args.seconds + args.warm_up_seconds) / 2)
        signing = time.monotonic()
        paying = add_paying_orders(app, payer, pool, f"r{round_no}")
        prepared += [order["out_trade_no"] for order in paying]
        notify_path = work / f"notify-{round_no}.txt"
        line_orders = notification_file(notify_path, keys, paying)
        took = time.monotonic() - signing
        print(f"round {round_no}  {pool} orders put in PAYING, {len(line_orders)} notifications signed in {took:.1f} s")
        process, base = start("wsgi:app", env, log)
        try:
            offset = 0
            for seconds in (args.warm_up_seconds, args.seconds):  # the warm-up pays orders too, not counted
                replay = {"script": script, "file": notify_path, "offset": offset}
                result = run_wrk(base + NOTIFY_PATH, seconds, args.connections, replay)
                lines, offset = lines_sent(result, offset, len(line_orders))
                notified |= {line_orders[i] for i in lines}
            results["notify"].append(result)
            show(round_no, "notify", result)
            for seconds in (args.warm_up_seconds, args.seconds):
                replay = {"script": script, "file": orders["file"], "offset": orders["offset"], "fresh_keys": True}
                result = run_wrk(base + PAY_PATH, seconds, args.connections, replay)
                orders["offset"] = lines_sent(result, orders["offset"], orders["lines"])[1]
                orders["answers_201"] += answered(result)["s201"]
            results["create order"].append(result)
            show(round_no, "create order", result)
        finally:
            stop(process)  # a graceful stop: what was in flight when wrk stopped is finished first
    in_flight = 2 * args.rounds * args.connections  # at most one a connection when each wrk run ends
    checks = verify(app, prepared, notified, people, orders["answers_201"], in_flight)
    drop_broker_queue(env["REDIS_URL"])
    return results, checks


def show(round_no: int, name: str, result: dict) -> None:
    statuses = answered(result) if result["threads"] else {}
    counted = ", ".join(f"{key[1:]}: {value}" for key, value in statuses.items() if value)
    wrapped = sum(t["wrapped"] for t in result["threads"])
    print(
        f"round {round_no}  {name:<13} {result['rps']:>8.0f} req/s   p50 {result['p50_ms']:7.2f} ms   "
        f"p99 {result['p99_ms']:7.2f} ms   non-2xx {result['non_2xx']}   errors {result['errors']}"
        + (f"   [{counted}]" if counted else "")
        + (f"   wrapped {wrapped}" if wrapped else "")
    )


def verify(app, prepared: list[str], notified: set[str], people: list[dict], answers_201: int, in_flight: int) -> dict:
    """What the database says after the run. A request in flight when a wrk run ended (one a connection at
    most) was sent or not: its order may be paid, or made, without wrk having seen the answer."""
    from app.extensions import db
    from app.outbox.models import OutboxMessage
    from app.payments import states
    from app.payments.models import Discrepancy, PaymentOrder, Transition
    from app.payments.settlement import WRITE_OFF

    count = sa.func.count()
    with app.app_context():
        paid_moves = (
            sa.select(PaymentOrder.out_trade_no, PaymentOrder.state, sa.func.count(Transition.id))
            .outerjoin(Transition, (Transition.order_id == PaymentOrder.id) & (Transition.to_state == states.PAID))
            .where(PaymentOrder.out_trade_no.in_(prepared))
            .group_by(PaymentOrder.out_trade_no, PaymentOrder.state)
        )
        by_no = {no: (state, moves) for no, state, moves in db.session.execute(paid_moves)}
        write_offs = dict(
            db.session.execute(
                sa.select(OutboxMessage.status, count)
                .where(OutboxMessage.topic == WRITE_OFF)
                .group_by(OutboxMessage.status)
            ).all()
        )
        made = dict(
            db.session.execute(
                sa.select(PaymentOrder.state, count)
                .where(PaymentOrder.citizen_id.in_([person["id"] for person in people]))
                .group_by(PaymentOrder.state)
            ).all()
        )
        made_moves = db.session.scalar(
            sa.select(count)
            .select_from(Transition)
            .join(PaymentOrder, PaymentOrder.id == Transition.order_id)
            .where(PaymentOrder.citizen_id.in_([person["id"] for person in people]))
        )
        checks = {
            "prepared": len(prepared),
            "notified": len(notified),
            "paid_once": sum(1 for no in notified if by_no[no] == (states.PAID, 1)),
            "notified_unpaid": sum(1 for no in notified if by_no[no] == (states.PAYING, 0)),
            "paid": sum(1 for state, _ in by_no.values() if state == states.PAID),
            "unsent_paid": sum(1 for no, (_, moves) in by_no.items() if no not in notified and moves),
            "most_paid_moves": max((moves for _, moves in by_no.values()), default=0),
            "discrepancies": db.session.scalar(sa.select(count).select_from(Discrepancy)),
            "write_offs": write_offs,
            "made": made,
            "made_moves": made_moves,
            "answers_201": answers_201,
            "in_flight": in_flight,
        }
        db.session.rollback()
    orders_made = sum(made.values())
    checks["ok"] = (
        checks["paid_once"] + checks["notified_unpaid"] == len(notified)  # nothing else: no order paid twice
        and checks["notified_unpaid"] <= in_flight
        and checks["unsent_paid"] == 0
        and checks["most_paid_moves"] <= 1
        and checks["discrepancies"] == 0
        and sum(write_offs.values()) == checks["paid"]  # one write-off each, duplicates queued none
        and set(made) <= {states.PAYING}
        and made_moves == 2 * orders_made  # CREATED, then PAYING once the prepay came back
        and answers_201 <= orders_made <= answers_201 + in_flight
    )
    return checks


def drop_broker_queue(redis_url: str) -> None:
    """The write-off nudges (Celery tasks) no worker took: the outbox rows are the record; the bench's
    Redis database need not keep them."""
    import redis

    redis.Redis.from_url(redis_url).delete("celery")


def report(results: dict, checks: dict, args, env: dict, log_path: Path, took: float) -> None:
    hello = results["bare hello"]
    print()
    print(
        f"gunicorn workers={env['WEB_CONCURRENCY']} threads={env['WEB_THREADS']} gthread; wrk {WRK_THREADS} threads, "
        f"{args.connections} connections, {args.seconds} s each after {args.warm_up_seconds} s of warm-up; "
        f"twin delay {args.twin_delay_ms} ms; {os.cpu_count()} cores; log {log_path}; {took:.0f} s in all"
    )
    print(f"{'':<26}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'worst p99':>11}{'non-2xx':>9}{'vs hello':>10}")
    labels = ("bare hello GET /healthz", "notify, half duplicates", "create order")
    for name, label in zip(("bare hello", "notify", "create order"), labels, strict=True):
        rows = results[name]
        ratio = statistics.median(r["rps"] / h["rps"] for r, h in zip(rows, hello, strict=True))
        print(
            f"{label:<26}{statistics.median(r['rps'] for r in rows):>8.0f}"
            f"{statistics.median(r['p50_ms'] for r in rows):>9.2f}{statistics.median(r['p99_ms'] for r in rows):>9.2f}"
            f"{max(r['p99_ms'] for r in rows):>11.2f}{sum(r['non_2xx'] + r['errors'] for r in rows):>9}"
            f"{100 * ratio:>9.1f}%"
        )
    print("(medians of the rounds; the ratio is each round's own, its median; non-2xx and socket errors summed)")
    notify = [answered(r) for r in results["notify"]]
    create = [answered(r) for r in results["create order"]]
    other = ("s200", "s201", "s409", "s429", "sother")
    print(
        f"notify answers (counted runs): 204 {sum(a['s204'] for a in notify)}, "
        f"other {sum(a[key] for a in notify for key in other)}"
    )
    print(
        f"create answers (counted runs): 201 new {sum(a['s201'] for a in create)}, "
        f"200 the open order again {sum(a['s200'] for a in create)}, 409 {sum(a['s409'] for a in create)}, "
        f"429 {sum(a['s429'] for a in create)}, other {sum(a['sother'] for a in create)}"
    )
    print(
        f"check notify: {checks['notified']} of {checks['prepared']} orders put in PAYING were notified (warm-ups "
        f"included): {checks['paid_once']} PAID by exactly one transition, {checks['notified_unpaid']} still PAYING "
        f"(in flight when wrk stopped; at most {checks['in_flight']} allowed); most PAID transitions of one order "
        f"{checks['most_paid_moves']}; paid without a notification {checks['unsent_paid']}; discrepancies "
        f"{checks['discrepancies']}; write-off messages {checks['write_offs']} for {checks['paid']} paid orders "
        "(pending: no Celery worker runs)"
    )
    print(
        f"check create: {sum(checks['made'].values())} orders made {checks['made']}, with {checks['made_moves']} "
        f"transitions; {checks['answers_201']} answers 201 (warm-ups included; an order whose answer was in flight "
        "when wrk stopped is made, unseen)"
    )
    print("checks: " + ("all hold" if checks["ok"] else "FAILED (see above)"))


if __name__ == "__main__":
    sys.exit(main())
