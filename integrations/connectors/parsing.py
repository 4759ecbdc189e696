"""Reading a party's answer: the small conversions adapters share, each raising UpstreamBadResponse (naming the
party) when the answer is not what it should be, so no KeyError, ValueError or TypeError escapes an adapter."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal, DecimalException

from integrations.errors import UpstreamBadResponse

BEIJING = timezone(timedelta(hours=8))


def as_int(party: str, value, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UpstreamBadResponse(party, f"{what} is not a number") from None


def as_records(party: str, body: dict, field: str) -> list[dict]:
    """`body[field]`, which must be a list of objects (it may be empty)."""
    rows = body.get(field)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise UpstreamBadResponse(party, f"{field} is not a list of records")
    return rows


def beijing(party: str, text, fmt: str) -> datetime:
    """A time the party writes in `fmt` (strptime's codes), as an aware Beijing time."""
    try:
        return datetime.strptime(str(text), fmt).replace(tzinfo=BEIJING)
    except ValueError:
        raise UpstreamBadResponse(party, f"a time not in {fmt}") from None


def from_epoch(party: str, value, *, millis: bool = False) -> datetime:
    """Epoch seconds (or milliseconds), as a number or its digits, as an aware Beijing time."""
    try:
        return datetime.fromtimestamp(int(value) / 1000 if millis else int(value), BEIJING)
    except (TypeError, ValueError, OverflowError, OSError):
        raise UpstreamBadResponse(party, f"a time that is not epoch {'millis' if millis else 'seconds'}") from None


def fen_to_yuan(fen: int) -> str:
    """Whole fen as the "12.34" yuan text the parties (and receipts) write."""
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(party: str, value) -> int:
    """An amount in yuan, a string or a JSON number, as whole fen; a fraction of a fen is not understood.
    Through str: the float 0.1 is not quite a tenth."""
    try:
        fen = None if isinstance(value, bool) else Decimal(str(value)) * 100
    except DecimalException:
        fen = None
    if fen is None or not fen.is_finite() or fen != fen.to_integral_value():
        raise UpstreamBadResponse(party, "an amount in yuan that is not whole fen")
    return int(fen)


def write_off_receipt(party: str, answer: dict, payment_id: str, *, echo: str, number: str, at: str, fmt: str) -> dict:
    """An issuer's write-off answer as WriteOffReceipt: it must name our payment (field `echo`), its receipt
    number (`number`) and when (`at`, in `fmt`); anything else is not a receipt we can settle on."""
    try:
        if str(answer[echo]) != payment_id:
            raise ValueError("the receipt of another payment")
        return {"receipt_no": str(answer[number]), "written_off_at": beijing(party, answer[at], fmt).isoformat()}
    except (KeyError, TypeError, ValueError):
        raise UpstreamBadResponse(party, "write_off: an answer without its receipt") from None
