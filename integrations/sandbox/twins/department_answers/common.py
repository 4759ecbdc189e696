"""What the answers have in common: the registry, the refusal, the rule for a missing record and
numbers that depend only on the inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))


class Refusal(Exception):
    """An answer {"ok": false, "code", "message"} in the contract's codes."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code, self.message = code, message


ANSWERS: dict[str, Callable[[dict], dict]] = {}


def answer(service: str, inputs: dict) -> dict:
    """The result for one call; raises Refusal. A service the twin does not know gets a case's progress."""
    return ANSWERS.get(service, case_progress)(inputs)


def answers(*codes: str):
    def register(fn):
        for code in codes:
            ANSWERS[code] = fn
        return fn

    return register


def pick(seed: str, low: int, high: int) -> int:
    """A number in [low, high] that depends only on `seed`."""
    digest = hashlib.sha256(seed.encode()).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def one_of(seed: str, choices):
    return choices[pick(seed, 0, len(choices) - 1)]


def key_input(inputs: dict, name: str, title: str, record: str) -> str:
    value = str(inputs.get(name) or "").strip()
    if not value:
        raise Refusal("INVALID_INPUT", f"请填写{title}")
    if value.endswith("0"):
        raise Refusal("NOT_FOUND", f"未查询到该{record}，请核对{title}")
    return value


def today() -> date:
    return datetime.now(BEIJING).date()


def days_ago(seed: str, low: int, high: int) -> str:
    return (today() - timedelta(days=pick(seed, low, high))).isoformat()


def month(months_back: int) -> str:
    now = today()
    index = now.year * 12 + now.month - 1 - months_back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def case_progress(inputs: dict) -> dict:
    case_no = key_input(inputs, "case_no", "办件编号", "办件")
    status = one_of(case_no, ["已受理", "办理中", "已办结"])
    return {"case_no": case_no, "status": status, "accepted_on": days_ago(case_no, 1, 20)}
