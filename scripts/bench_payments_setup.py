"""The preparation behind scripts/bench_payments.py, which runs the bench and reports.

Here: the twin server (`twin_app()`, the gunicorn factory `scripts.bench_payments_setup:twin_app()`, with
SharedTokens, the energy twin's token book shared by its workers); this run's WeChat Pay keys and the
settings made from them (make_keys, merchant_settings, app_settings); citizens with WeChat identities and
bound accounts of the energy twin, and orders put in PAYING, straight in the database (payable_accounts,
add_citizens, add_paying_orders); the request files wrk replays (notification_file, signing the WeChat Pay
notifications in parallel, and order_file), one request a line, as scripts/bench_payments_replay.lua reads.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
import secrets
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

CONNECTOR = "energy"  # the demo connector of the water, power and gas companies (seed-demo)
KINDS = {"water": ("SW", 8), "power": ("DL", 10), "gas": ("RQ", 11)}
# WeChat Pay notifies from addresses of its own, a few of them; behind one trusted proxy (nginx) as in
# production, so the per-address limit of the route (60,000 a minute) counts them as in life.
NOTIFY_ADDRESSES = [f"101.226.103.{n}" for n in range(1, 9)]


# -- the twin server (its own gunicorn processes) ------------------------------------------------------------


class SharedTokens:
    """The energy twin's token book, shared by the twin's gunicorn workers: a token is its expiry signed with
    a key they all have, so one handed out by one worker is good at the others, as at the one real cloud."""

    def __init__(self, secret: bytes, lifetime: int = 7200):
        self.secret, self.lifetime = secret, lifetime

    def _mac(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> tuple[str, int]:
        body = f"{int(time.time()) + self.lifetime}.{secrets.token_hex(6)}"
        return f"{body}.{self._mac(body)}", self.lifetime

    def state(self, token: str) -> str:
        body, _, mac = token.rpartition(".")
        if not body or not hmac.compare_digest(mac, self._mac(body)):
            return "unknown"
        return "valid" if int(body.split(".")[0]) > time.time() else "expired"

    def valid(self, token: str) -> bool:
        return self.state(token) == "valid"


def twin_app():
    """gunicorn's factory (`scripts.bench_payments_setup:twin_app()`): the sandbox's twins, WeChat Pay's configured
    with this run's keys (from the environment), behind BENCH_TWIN_DELAY_MS; /healthz is the bench's probe."""
    from integrations.clouds.energy import sandbox as energy_twin
    from integrations.sandbox import create_sandbox_app, twin_kit
    from integrations.wechatpay import sandbox as wechatpay_twin

    sandbox = create_sandbox_app()
    env = os.environ
    wechatpay_twin.configure(
        env["WECHATPAY_MCH_ID"],
        env["WECHAT_APP_ID"],
        Path(env["BENCH_TWIN_MERCHANT_PUBLIC_KEY"]).read_text(),
        env["WECHATPAY_CERT_SERIAL_NO"],
        Path(env["BENCH_TWIN_PLATFORM_PRIVATE_KEY"]).read_text(),
        env["WECHATPAY_PUBLIC_KEY_ID"],
        env["WECHATPAY_API_V3_KEY"],
    )
    if not isinstance(getattr(energy_twin, "_tokens", None), twin_kit.TokenBook):
        raise RuntimeError("the energy twin keeps its tokens elsewhere now: share them between workers again")
    energy_twin._tokens = SharedTokens(bytes.fromhex(env["BENCH_TWIN_TOKEN_SECRET"]))
    delay = int(env.get("BENCH_TWIN_DELAY_MS", "0")) / 1000

    def app(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if delay:
            time.sleep(delay)
        return sandbox(environ, start_response)

    return app


# -- keys and settings ---------------------------------------------------------------------------------------


def make_keys(folder: Path) -> dict:
    """This run's merchant and platform keypairs (PEM files), serial, public key id and APIv3 key."""
    from integrations.alipay.keys import generate_keypair

    merchant, platform = generate_keypair(), generate_keypair()
    files = {
        "merchant_private": merchant.private_pem,
        "merchant_public": merchant.public_pem,
        "platform_private": platform.private_pem,
        "platform_public": platform.public_pem,
    }
    keys = {}
    for name, pem in files.items():
        path = folder / f"{name}.pem"
        path.write_text(pem)
        path.chmod(0o600)
        keys[name] = str(path)
    return keys | {
        "mchid": "19" + "".join(secrets.choice("0123456789") for _ in range(8)),
        "appid": "wx" + secrets.token_hex(8),
        "serial": secrets.token_hex(20).upper(),
        "public_key_id": "PUB_KEY_ID_" + secrets.token_hex(16).upper(),
        "api_v3_key": secrets.token_hex(16),  # 32 characters
    }


def merchant_settings(keys: dict) -> dict:
    """What both WeChat Pay and we know of the merchant."""
    return {
        "WECHATPAY_MCH_ID": keys["mchid"],
        "WECHAT_APP_ID": keys["appid"],
        "WECHATPAY_CERT_SERIAL_NO": keys["serial"],
        "WECHATPAY_PUBLIC_KEY_ID": keys["public_key_id"],
        "WECHATPAY_API_V3_KEY": keys["api_v3_key"],
    }


def app_settings(keys: dict, twin_base: str) -> dict:
    return merchant_settings(keys) | {
        "PAYMENT_CHANNELS": "wechat",
        "WECHATPAY_PRIVATE_KEY": keys["merchant_private"],  # paths: production's PEM files
        "WECHATPAY_PUBLIC_KEY": keys["platform_public"],
        "WECHATPAY_BASE_URL": f"{twin_base}/wechatpay",
        "TRUSTED_PROXIES": "1",
    }


# -- citizens, accounts, bills and orders, straight in the database ------------------------------------------


def payable_accounts(count: int, taken: set) -> list[tuple[str, str, str, list[str]]]:
    """(kind, number, holder, payable bill numbers) of `count` invented accounts of the energy twin with 2 or 3
    unpaid bills each, from the twin's own data (everything there derives from the number and the date)."""
    from integrations.clouds.energy import twin_data
    from integrations.sandbox.twin_kit import BEIJING

    today = datetime.now(BEIJING).date()
    found = []
    while len(found) < count:
        kind = list(KINDS)[len(found) % len(KINDS)]
        biz_type, digits = KINDS[kind]
        number = "".join(secrets.choice("0123456789") for _ in range(digits - 1)) + secrets.choice("123456789")
        if (biz_type, number) in taken or (biz_type, number) in twin_data.DEMO_ACCOUNTS:
            continue
        account = twin_data.find_account(biz_type, number)
        if account is None or account.unpaid < 2:
            continue
        taken.add((biz_type, number))
        bills = [b["number"] for b in twin_data.bills_of(account, today) if b["state"] in ("0", "2")]
        found.append((kind, number, account.holder, bills))
    return found


def add_citizens(app, count: int, accounts_each: int) -> list[dict]:
    """Citizens with a WeChat identity of our app, bound accounts and an access token each."""
    from app.clock import utcnow
    from app.db import unit_of_work
    from app.identity import sessions
    from app.identity.models import Citizen, CitizenIdentity
    from app.identity.tokens import Caller
    from app.inquiry.models import BoundAccount
    from app.security.pii import blind_index, mask_name

    accounts = payable_accounts(count * accounts_each, set())
    people = []
    with app.app_context():
        for start_at in range(0, count, 500):
            with unit_of_work() as session:
                for n in range(start_at, min(start_at + 500, count)):
                    now, citizen_id = utcnow(), uuid.uuid4()
                    session.add(
                        Citizen(id=citizen_id, status="active", nickname=f"压测{n}", created_at=now, updated_at=now)
                    )
                    session.flush()
                    session.add(
                        CitizenIdentity(
                            citizen_id=citizen_id,
                            provider="wechat",
                            app_id=app.config["WECHAT_APP_ID"],
                            subject="o" + secrets.token_urlsafe(21)[:27],
                            created_at=now,
                            last_login_at=now,
                        )
                    )
                    bound = []
                    for kind, number, holder, bills in accounts[n * accounts_each : (n + 1) * accounts_each]:
                        account_id = uuid.uuid4()
                        session.add(
                            BoundAccount(
                                id=account_id,
                                citizen_id=citizen_id,
                                kind=kind,
                                connector=CONNECTOR,
                                number=number,
                                number_index=blind_index(f"account:{kind}", number),
                                holder=mask_name(holder),
                                created_at=now,
                            )
                        )
                        bound.append((str(account_id), bills))
                    token = sessions.start(Caller("citizen", str(citizen_id))).access_token
                    people.append({"id": citizen_id, "token": token, "accounts": bound})
    return people


def add_paying_orders(app, citizen: dict, count: int, tag: str) -> list[dict]:
    """`count` orders in PAYING, as if made through the API and taken by WeChat Pay (a prepay id each): the
    order, one bill it holds, its CREATED and PAYING transitions."""
    from app.clock import utcnow
    from app.db import unit_of_work
    from app.extensions import db
    from app.identity.models import CitizenIdentity
    from app.payments import bills as bill_source
    from app.payments import orders as payment_orders
    from app.payments import states
    from app.payments.models import OrderBill, PaymentOrder, Transition
    from integrations.wechatpay import twin_protocol as wire

    now = utcnow()
    made, bills, moves = [], [], []
    with app.app_context():
        openid = db.session.scalar(
            sa.select(CitizenIdentity.subject).where(CitizenIdentity.citizen_id == citizen["id"])
        )
        for n in range(count):
            order_id, number = uuid.uuid4(), f"1{secrets.randbelow(10**6):06d}1"
            amount = 1000 + secrets.randbelow(30000)
            made.append(
                {
                    "id": order_id,
                    "out_trade_no": payment_orders.new_out_trade_no(),
                    "citizen_id": citizen["id"],
                    "idempotency_key": f"bench-{tag}-{n}",
                    "request_hash": secrets.token_hex(32),
                    "channel": "wechat",
                    "payer": openid,
                    "state": states.PAYING,
                    "amount_fen": amount,
                    "refunded_fen": 0,
                    "subject": f"枣庄水务 水费户号****{number[-4:]} 2025-01",
                    "connector": CONNECTOR,
                    "account_kind": "water",
                    "account_no": number,
                    "issuer": "枣庄水务集团",
                    "channel_ref": wire.prepay_id(now),
                    "created_at": now,
                    "expires_at": now + timedelta(minutes=15),
                    "updated_at": now,
                }
            )
            bill_id = f"BENCH{tag}{n:06d}"
            bills.append(
                {
                    "order_id": order_id,
                    "bill_key": bill_source.bill_key(CONNECTOR, "water", number, bill_id),
                    "bill_id": bill_id,
                    "period": "2025-01",
                    "amount_fen": amount,
                    "late_fee_fen": 0,
                    "due_date": None,
                    "holds": True,
                }
            )
            moves.append(
                {"order_id": order_id, "from_state": "", "to_state": states.CREATED, "reason": "ordered", "at": now}
            )
            moves.append(
                {
                    "order_id": order_id,
                    "from_state": states.CREATED,
                    "to_state": states.PAYING,
                    "reason": states.TRANSITIONS[(states.CREATED, states.PAYING)],
                    "at": now,
                }
            )
        with unit_of_work() as session:
            session.execute(sa.insert(PaymentOrder), made)
            session.execute(sa.insert(OrderBill), bills)
            session.execute(sa.insert(Transition), moves)
    return [{"out_trade_no": o["out_trade_no"], "amount_fen": o["amount_fen"], "openid": openid} for o in made]


# -- the requests wrk replays ----------------------------------------------------------------------------------


def _line(headers: dict, body: str) -> str:
    fields = [f"{name}: {value}" for name, value in headers.items()]
    if any("\t" in field or "\n" in field for field in [*fields, body]):
        raise ValueError("a request that does not fit on one line")
    return "\t".join([*fields, body])


def _sign_notifications(job: tuple) -> list[tuple[int, str]]:
    """One process's share of the notifications: (line number, request line) each."""
    keys, items = job
    from integrations.sandbox.twin_kit import BEIJING
    from integrations.wechatpay import twin_protocol as wire

    setup = wire.Setup.load(
        keys["mchid"],
        keys["appid"],
        Path(keys["merchant_public"]).read_text(),
        keys["serial"],
        Path(keys["platform_private"]).read_text(),
        keys["public_key_id"],
        keys["api_v3_key"],
    )
    lines = []
    for index, order, transaction_id, paid_at in items:
        amount = order["amount_fen"]
        plaintext = {
            "appid": keys["appid"],
            "mchid": keys["mchid"],
            "out_trade_no": order["out_trade_no"],
            "transaction_id": transaction_id,
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "success_time": wire.rfc3339(datetime.fromtimestamp(paid_at, BEIJING)),
            "payer": {"openid": order["openid"]},
            "amount": {"total": amount, "payer_total": amount, "currency": "CNY", "payer_currency": "CNY"},
        }
        headers, body = wire.notification(
            setup,
            plaintext,
            event_type="TRANSACTION.SUCCESS",
            summary="支付成功",
            original_type="transaction",
            amount_key="total",
        )
        headers["X-Forwarded-For"] = NOTIFY_ADDRESSES[index % len(NOTIFY_ADDRESSES)]
        lines.append((index, _line(headers, body.decode())))
    return lines


def notification_file(path: Path, keys: dict, orders: list[dict]) -> list[str]:
    """Two notifications per order, the second a duplicate (the same payment; another id, nonce, signature):
    order m's first copy at line 2m-1, its duplicate at line 2m+2, so with two wrk threads (odd and even
    lines) each pair is sent at about the same moment on two connections. The out_trade_no of each line."""
    from integrations.wechatpay import twin_protocol as wire

    now = datetime.now()
    payments = [(o, wire.transaction_id(now), time.time()) for o in orders]
    sequence = [0]
    for m in range(1, len(orders)):
        sequence += [m, m - 1]
    sequence.append(len(orders) - 1)
    items = [(index, *payments[m]) for index, m in enumerate(sequence)]
    processes = max(1, os.cpu_count() or 1)
    shares = [(keys, items[i::processes]) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        signed = dict(line for share in pool.map(_sign_notifications, shares) for line in share)
    path.write_text("\n".join(signed[i] for i in range(len(items))) + "\n", encoding="utf-8")
    return [payments[m][0]["out_trade_no"] for m in sequence]


def order_file(path: Path, people: list[dict]) -> int:
    """One request per payable bill, citizens taken in turn (each has a few bills; the route allows a
    citizen 20 a minute). Returns the number of requests."""
    import json

    rows = []
    for person in people:
        mine = [(account_id, bill) for account_id, bills in person["accounts"] for bill in bills]
        rows.append([(person["token"], account_id, bill) for account_id, bill in mine])
    lines = []
    for turn in range(max(len(r) for r in rows)):
        for row in rows:
            if turn < len(row):
                token, account_id, bill = row[turn]
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Idempotency-Key": secrets.token_urlsafe(24),
                    "Content-Type": "application/json",
                }
                body = json.dumps({"account_id": account_id, "bill_ids": [bill], "channel": "wechat"})
                lines.append(_line(headers, body))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)
