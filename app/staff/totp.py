"""TOTP (RFC 6238) for operators, through pyotp. A code is good for its 30-second step and the
neighbouring ones (clock drift of a phone), and only once: the step last accepted is remembered."""

from __future__ import annotations

import time

import pyotp

ISSUER = "枣庄市民服务平台"
STEP_SECONDS = 30
DRIFT_STEPS = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def accepted_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step `code` belongs to, if it is valid and newer than `last_step`; else None."""
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp, current = pyotp.TOTP(secret), int((now or time.time()) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (last_step is None or step > last_step) and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
