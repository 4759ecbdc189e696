"""Console accounts for tests: created through the service, first login done, tokens in hand."""

import pyotp

from app.staff import accounts

PASSWORD = "correct horse battery staple"


def make_account(client, username="clerk1", kind="staff", roles=("clerk",), department="gjj") -> dict:
    """Create the account and log in once, choosing PASSWORD; returns what a console user holds."""
    created = accounts.create(username, username.title(), kind, list(roles), department if kind == "staff" else None)
    secret = created.account.totp_secret
    body = {"username": username, "password": created.initial_password, "new_password": PASSWORD}
    if secret:
        body["totp"] = pyotp.TOTP(secret).now()
    response = client.post("/api/v1/console/login", json=body)
    assert response.status_code == 200, response.json
    return {"id": str(created.account.id), "totp_secret": secret, "totp_used": body.get("totp"), **response.json}


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)
