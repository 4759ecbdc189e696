"""A citizen with a bound water account, our app served over HTTP so the channels' twins can notify it."""

import time
import uuid

import pytest
import requests

from tests.identity.helpers import bearer, login_alipay, login_wechat
from tests.servers import serving

WATER = {"kind": "water", "account_no": "10203041", "holder_name": "张伟"}


@pytest.fixture
def served(app):
    """Our app on a real port; the channels notify it there (the clients are rebuilt with those URLs)."""
    with serving(app) as url:
        before = {name: app.config[name] for name in ("WECHATPAY_NOTIFY_URL", "ALIPAY_NOTIFY_URL")}
        app.config["WECHATPAY_NOTIFY_URL"] = f"{url}/api/v1/payments/notify/wechat"
        app.config["ALIPAY_NOTIFY_URL"] = f"{url}/api/v1/payments/notify/alipay"
        for client in ("wechatpay_client", "alipay_trades_client"):
            app.extensions.pop(client, None)
        yield url
        app.config.update(before)
        for client in ("wechatpay_client", "alipay_trades_client"):
            app.extensions.pop(client, None)


@pytest.fixture
def wechat_citizen(client, sandbox_url, clouds):
    return _with_water(client, bearer(login_wechat(client, sandbox_url)["access_token"]))


@pytest.fixture
def alipay_citizen(client, sandbox_url, clouds):
    return _with_water(client, bearer(login_alipay(client, sandbox_url)["access_token"]))


def _with_water(client, who):
    bound = client.post("/api/v1/me/accounts", json=WATER, headers=who)
    assert bound.status_code == 201, bound.json
    who = dict(who)
    who["account_id"] = bound.json["id"]
    return who


def headers_of(who) -> dict:
    return {"Authorization": who["Authorization"]}


def payable(client, who) -> list[dict]:
    listed = client.get("/api/v1/bills", headers=headers_of(who))
    assert listed.status_code == 200, listed.json
    return [bill for bill in listed.json["bills"] if bill["payable"]]


def pay(client, who, bill_ids, channel="wechat", key=None):
    body = {"account_id": who["account_id"], "bill_ids": bill_ids, "channel": channel}
    return client.post(
        "/api/v1/payments", json=body, headers={**headers_of(who), "Idempotency-Key": key or uuid.uuid4().hex}
    )


def twin_pays(sandbox_url, channel: str, ref: str, notify: bool = True) -> dict:
    """The citizen pays in the channel's cashier; the twin notifies our app."""
    if channel == "wechat":
        answer = requests.post(f"{sandbox_url}/wechatpay/pay", json={"prepay_id": ref, "notify": notify}, timeout=30)
    else:
        answer = requests.post(f"{sandbox_url}/alipay/pay", json={"trade_no": ref, "notify": notify}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def until_state(client, who, order_id: str, state: str, seconds: float = 10.0) -> dict:
    """The order once it reaches `state` (the twin completes WeChat refunds a moment later and notifies us)."""
    deadline = time.monotonic() + seconds
    while True:
        order = client.get(f"/api/v1/payments/{order_id}", headers=headers_of(who)).json
        if order["state"] == state or time.monotonic() > deadline:
            assert order["state"] == state, order
            return order
        time.sleep(0.1)
