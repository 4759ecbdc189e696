"""What the clouds' twins keep alike: the nonces they have seen, the age of a request's timestamp, the tokens
handed out by the token-style twins, when a department's daily batch last ran, and the write-off (销账)
ledger of the twins that take payments (bills written off through us, bills paid elsewhere, each payment's
receipt), the form of a write-off's payment fields, and the sandbox's unsigned control that marks a bill paid
elsewhere.

Only memory, clock and the form of fields live here. Each twin still checks signatures with its own code, its
own string to sign and header names: a twin sharing the client's signer (integrations/connectors/signing.py)
would agree with its bugs. Each twin also keeps its own error codes, so these answer plain facts, never a
refusal: the ledger says which fact stops a write-off (Refused.kind) or that it stayed locked (Busy), and the
twin words it; its bills, amounts, field names and receipt numbers are the twin's too.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Literal, NamedTuple

from flask import jsonify, request

BEIJING = timezone(timedelta(hours=8))
MAX_AGE_SECONDS = 300  # how far a request's timestamp may be from the twin's clock, either way
NONCE_SECONDS = 600  # longer than MAX_AGE_SECONDS: a replay is refused for as long as its timestamp passes
TOKEN_SECONDS = 7200
EXPIRED_KEPT_SECONDS = 3600  # an expired token is still told apart from an unknown one this long


def last_daily_at(hour: int, minute: int = 0) -> datetime:
    """The latest time a daily batch at hour:minute (Beijing) has run: today's, or yesterday's before then."""
    now = datetime.now(BEIJING)
    today = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def timestamp_problem(stamp, *, millis: bool = False) -> Literal["malformed", "stale"] | None:
    """None when `stamp` (epoch seconds, or milliseconds) is within MAX_AGE_SECONDS of now."""
    try:
        seconds = int(stamp) / 1000 if millis else int(stamp)
    except (TypeError, ValueError):
        return "malformed"
    return "stale" if abs(time.time() - seconds) > MAX_AGE_SECONDS else None


class NonceMemory:
    """The nonces seen in the last NONCE_SECONDS, thread-safe (the sandbox serves from several threads)."""

    def __init__(self):
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def seen_before(self, nonce: str) -> bool:
        """True for a nonce seen lately, or none at all; otherwise False, and the nonce is remembered."""
        now = time.monotonic()
        with self._lock:
            for old in [n for n, until in self._until.items() if until < now]:
                del self._until[old]
            if not nonce or nonce in self._until:
                return True
            self._until[nonce] = now + NONCE_SECONDS
            return False

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


class TokenBook:
    """The access tokens a twin has handed out, each with its expiry, and how many it has handed out."""

    def __init__(self, make_token: Callable[[], str] = lambda: secrets.token_hex(16), lifetime: int = TOKEN_SECONDS):
        self.make_token, self.lifetime = make_token, lifetime
        self._until: dict[str, float] = {}
        self._issued = 0
        self._lock = threading.Lock()

    def issue(self) -> tuple[str, int]:
        """A new token and its lifetime in seconds."""
        token, now = self.make_token(), time.monotonic()
        with self._lock:
            for old in [t for t, until in self._until.items() if until < now - EXPIRED_KEPT_SECONDS]:
                del self._until[old]
            self._until[token] = now + self.lifetime
            self._issued += 1
        return token, self.lifetime

    def state(self, token: str) -> Literal["valid", "expired", "unknown"]:
        with self._lock:
            until = self._until.get(token)
        if until is None:
            return "unknown"
        return "valid" if time.monotonic() < until else "expired"

    def valid(self, token: str) -> bool:
        return self.state(token) == "valid"

    def issued(self) -> int:
        with self._lock:
            return self._issued

    def expire_all(self) -> None:
        """For tests: every token handed out so far runs out now, as if its lifetime had passed."""
        now = time.monotonic()
        with self._lock:
            for token in self._until:
                self._until[token] = now

    def revoke_all(self) -> None:
        """For tests: forget every token, as a platform does when it restarts (they become unknown)."""
        with self._lock:
            self._until.clear()

    def clear(self) -> None:
        """Forget every token and the count (the twin's reset)."""
        with self._lock:
            self._until.clear()
            self._issued = 0


class Busy(Exception):
    """The ledger stayed locked: the twin answers its own "system busy", worth trying again."""


class Refused(Exception):
    """The ledger will not write these bills off: `kind` is unknown_bill, paid, amount or reused."""

    def __init__(self, kind: Literal["unknown_bill", "paid", "amount", "reused"]):
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class Receipt:
    number: str  # the twin's own 销账 number
    at: datetime
    account: Hashable  # the twin's own key of the account (an account number, a card…)
    bills: frozenset[str]
    amount: Decimal | int  # in the twin's own unit


class ShownBill(NamedTuple):
    """A bill as the twin shows it now: the ledger's key for it, and what it owes (None: it reads paid)."""

    key: Hashable
    owes: Decimal | int | None


class WriteOffLedger:
    """A twin's memory of bills paid since they were issued, written off through us or paid elsewhere, and of
    each payment's receipt. Thread-safe; the lock is reentrant, as a write-off reads the bills (which read the
    ledger) while it holds it."""

    def __init__(self, tz: tzinfo, receipt_prefix: str, receipt_digits: int):
        self.tz, self.receipt_prefix, self.receipt_digits = tz, receipt_prefix, receipt_digits
        self.lock = threading.RLock()
        self._written_off: dict[Hashable, datetime] = {}  # bill's key → when it was paid through us
        self._paid_elsewhere: dict[Hashable, datetime] = {}  # bill's key → when it was paid elsewhere
        self._receipts: dict[str, Receipt] = {}  # payment id → its write-off: the same payment answers the same

    def settled(self) -> set[Hashable]:
        """The keys of the bills paid since they were issued, through us or elsewhere."""
        with self.lock:
            return set(self._written_off) | set(self._paid_elsewhere)

    def write_off(
        self,
        account: Hashable,
        numbers: list[str],
        amount: Decimal | int,
        payment: str,
        shown: Callable[[], Mapping[str, ShownBill]],
        *,
        wait: float,
    ) -> Receipt:
        """Write the bills `numbers` of `account` off as paid by `payment`, whose amount must be what they owe
        as `shown` (the account's bills by number) reads them; the same payment again answers its first receipt.
        Raises Refused, or Busy when the ledger stays locked longer than `wait` seconds."""
        if not self.lock.acquire(timeout=wait):
            raise Busy
        try:
            wanted = frozenset(numbers)
            earlier = self._receipts.get(payment)
            if earlier is not None:
                if (earlier.account, earlier.bills, earlier.amount) != (account, wanted, amount):
                    raise Refused("reused")
                return earlier
            bills = shown()
            if not wanted <= bills.keys():
                raise Refused("unknown_bill")
            if any(bills[number].owes is None for number in wanted):
                raise Refused("paid")
            if sum(bills[number].owes for number in wanted) != amount:
                raise Refused("amount")
            now = datetime.now(self.tz).replace(microsecond=0)
            serial = f"{secrets.randbelow(10**self.receipt_digits):0{self.receipt_digits}d}"
            receipt = Receipt(f"{self.receipt_prefix}{now:%Y%m%d%H%M%S}{serial}", now, account, wanted, amount)
            self._receipts[payment] = receipt
            self._written_off.update(dict.fromkeys((bills[number].key for number in wanted), now))
            return receipt
        finally:
            self.lock.release()

    def pay_elsewhere(self, number: str, shown: Callable[[], Mapping[str, ShownBill]]) -> bool:
        """Mark the bill `number` paid elsewhere; False when `shown` (the account's bills) has no such bill."""
        with self.lock:
            bill = shown().get(number)
            if bill is None:
                return False
            self._paid_elsewhere.setdefault(bill.key, datetime.now(self.tz))
            return True

    def reset(self) -> None:
        with self.lock:
            self._written_off.clear()
            self._paid_elsewhere.clear()
            self._receipts.clear()


def payment_fields(
    body: dict,
    *,
    bills: str,
    serial: str,
    channel: str,
    channels: Collection[str],
    channel_no: str,
    paid_at: str,
    time_format: str,
) -> tuple[list[str], str] | None:
    """(bill numbers, our payment's serial) of a write-off whose fields, under the twin's own names, are well
    formed: distinct non-empty bill numbers, a serial of 6 to 64 characters, one of `channels`, the channel's
    own number a string (it may be empty) and the time paid in `time_format`; otherwise None. The amount is in
    the twin's own form: the twin checks it first (a channel of a type `channels` cannot hold raises here)."""
    numbers, payment = body.get(bills), str(body.get(serial) or "")
    if not (isinstance(numbers, list) and numbers and all(isinstance(n, str) and n for n in numbers)):
        return None
    if len(set(numbers)) != len(numbers) or not 6 <= len(payment) <= 64 or body.get(channel) not in channels:
        return None
    if not isinstance(body.get(channel_no, ""), str):
        return None
    try:
        datetime.strptime(str(body.get(paid_at)), time_format)
    except ValueError:
        return None
    return numbers, payment


def paid_elsewhere_control(pay: Callable[[str, str], bool], *, upper: bool = False, of: str = "account"):
    """The sandbox's control POST /_control/paid-elsewhere {account_no, bill_id}: `pay(account_no, bill_id)`
    marks the bill paid elsewhere, or answers False when the account (upper-cased first if `upper`) has no such
    bill: 404 "no such bill of that `of`"."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    number, bill = str(body.get("account_no") or ""), str(body.get("bill_id") or "")
    number = number.upper() if upper else number
    if not pay(number, bill):
        return jsonify(error=f"no such bill of that {of}"), 404
    return jsonify(account_no=number, bill_id=bill, paid=True)
