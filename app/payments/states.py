"""The payment state machine: one transition table, and nothing else moves an order (docs/payments.md).

CREATED → PAYING → PAID → SETTLED (the issuer confirmed the write-off, 销账); CREATED|PAYING → CLOSED
(unpaid after the expiry, or cancelled); PAID|SETTLED|PARTIALLY_REFUNDED → REFUNDING → REFUNDED or
PARTIALLY_REFUNDED. A refund that the channel refuses puts the order back where it was.
"""

from __future__ import annotations

from app.errors import AppError

CREATED, PAYING, PAID, SETTLED, CLOSED = "CREATED", "PAYING", "PAID", "SETTLED", "CLOSED"
REFUNDING, REFUNDED, PARTIALLY_REFUNDED = "REFUNDING", "REFUNDED", "PARTIALLY_REFUNDED"
STATES = (CREATED, PAYING, PAID, SETTLED, CLOSED, REFUNDING, REFUNDED, PARTIALLY_REFUNDED)

# (from, to): why that move happens. A refund's way back (REFUNDING → PAID, SETTLED or PARTIALLY_REFUNDED)
# is there because a refund the channel refused leaves the payment as it was.
TRANSITIONS: dict[tuple[str, str], str] = {
    (CREATED, PAYING): "the channel took the order (prepay id, trade number)",
    (CREATED, CLOSED): "expired or cancelled before the channel took it",
    (PAYING, CLOSED): "expired or cancelled unpaid; the channel's order is closed too",
    (PAYING, PAID): "the channel says the citizen paid (notification or query)",
    (PAID, SETTLED): "the issuer acknowledged the write-off",
    (PAID, REFUNDING): "a refund was asked (the issuer refused the write-off, an operator, the department)",
    (SETTLED, REFUNDING): "a refund was asked",
    (PARTIALLY_REFUNDED, REFUNDING): "a further refund was asked",
    (REFUNDING, REFUNDED): "the channel refunded everything paid",
    (REFUNDING, PARTIALLY_REFUNDED): "the channel refunded part of the payment (or refused a further one)",
    (REFUNDING, PAID): "the channel refused the refund; not yet settled",
    (REFUNDING, SETTLED): "the channel refused the refund; settled before",
}

FINISHED = frozenset({SETTLED, CLOSED, REFUNDED, PARTIALLY_REFUNDED})
OPEN = frozenset({CREATED, PAYING})  # the citizen may still pay
HOLDS_BILLS = frozenset({CREATED, PAYING, PAID, SETTLED, REFUNDING, PARTIALLY_REFUNDED})
REFUNDABLE = frozenset({PAID, SETTLED, PARTIALLY_REFUNDED})


def allowed(current: str, target: str) -> bool:
    return (current, target) in TRANSITIONS


def check(current: str, target: str) -> None:
    if not allowed(current, target):
        raise AppError("ILLEGAL_TRANSITION", "订单当前状态不允许此操作", 409, {"state": current, "requested": target})
