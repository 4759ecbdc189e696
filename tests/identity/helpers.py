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
