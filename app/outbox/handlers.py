"""Delivery handlers by topic. Later domains register their own next to their services."""

from __future__ import annotations

from flask import current_app

from app.outbox.delivery import Claimed, outbox_handler
from integrations import http

HTTP_POST = "http.post"


@outbox_handler(HTTP_POST)
def post_to_destination(message: Claimed) -> None:
    """POST the payload as JSON; any 2xx is delivered. The receiver de-duplicates by Idempotency-Key."""
    http.post_json(
        "outbox",
        message.destination,
        message.payload,
        headers={"Idempotency-Key": message.idempotency_key, "X-Delivery-Attempt": str(message.attempts)},
        timeout=current_app.config["OUTBOX_HTTP_TIMEOUT_SECONDS"],
        expect_json=False,
    )
