"""Logging in through the twins, the way the mini-programs do."""

import requests


def wechat_code(sandbox_url: str, user: str) -> str:
    return requests.post(f"{sandbox_url}/wechat/code", json={"user": user}, timeout=5).json()["code"]


def alipay_code(sandbox_url: str, user: str) -> str:
    return requests.post(f"{sandbox_url}/alipay/code", json={"user": user}, timeout=5).json()["auth_code"]


def login_wechat(client, sandbox_url: str, user: str = "alice") -> dict:
    response = client.post("/api/v1/auth/wechat", json={"code": wechat_code(sandbox_url, user)})
    assert response.status_code == 200, response.json
    return response.json


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login_alipay(client, sandbox_url: str, user: str = "alice") -> dict:
    response = client.post("/api/v1/auth/alipay", json={"auth_code": alipay_code(sandbox_url, user)})
    assert response.status_code == 200, response.json
    return response.json


def wechat_phone_code(sandbox_url: str, user: str, phone: str) -> str:
    """The getPhoneNumber button on `user`'s phone."""
    body = {"user": user, "phone": phone}
    return requests.post(f"{sandbox_url}/wechat/phone-code", json=body, timeout=5).json()["code"]


def bind_phone_by_sms(client, token: str, phone: str):
    """Ask for a code, read it from the SMS twin in-process (a request would log the phone), bind.

    Steps past the one-text-a-minute limit per phone: these tests bind one phone from two accounts.
    """
    from app.extensions import redis
    from integrations.sms import sandbox as sms_twin

    with client.application.app_context():
        for key in redis.scan_iter("sms:minute:*"):
            redis.delete(key)
    sent = client.post("/api/v1/me/phone/sms-code", json={"phone": phone}, headers=bearer(token))
    assert sent.status_code == 202, sent.json
    code = sms_twin.sent_to(phone)[-1]["params"]["code"]
    return client.put("/api/v1/me/phone", json={"phone": phone, "sms_code": code}, headers=bearer(token))


def verify_real_name(client, token: str, person: dict) -> None:
    response = client.put("/api/v1/me/real-name", json=person, headers=bearer(token))
    assert response.status_code == 200, response.json


def table_dump(app) -> str:
    """Every row of every table, as text: for asserting that personal data is not stored in clear."""
    import sqlalchemy as sa

    from app.extensions import db

    with app.app_context():
        return "".join(
            repr(db.session.execute(sa.select(sa.text("*")).select_from(t)).all()) for t in db.metadata.sorted_tables
        )
