"""Finished answers of public inquiries, shared for a moment by the guests of one worker who ask the same.

Many guests ask the same public question at once (today's air in their district, a bus line's arrivals):
its answer is already in the worker's copy of the department's answer (CONNECTOR_LOCAL_CACHE_SECONDS,
app/connectors/service.py), yet parsing, form checks and rendering it again cost most of the request. So
a guest's answer is kept as bytes under the service and the raw request body, and served to the next
guest who sends the same bytes:

- only a guest's (no Authorization header: a citizen's answer goes to the citizen alone), and only an
  answer that is nobody's own and fresh (the gateway's `public_until`); a stale, personal or contract
  answer, or any error, is never kept;
- for CONNECTOR_LOCAL_CACHE_SECONDS at most, and never past the answer's own freshness;
- under the catalog generation it was built in: a service suspended or changed is not answered from here.
The route's rate limit and the service's use count apply to every request as before; the policy runs
first (this goes below it) and the catalog decides, by generation, that guests may still run the service.
"""

from __future__ import annotations

import functools
import time

from flask import current_app, g, request

from app.catalog import reads
from app.catalog.usage import record_use
from app.rate_limits import address_key

MAX_ANSWERS = 1024  # per worker; past it, start again: many distinct questions at once are not shared
MAX_BODY_BYTES = 1024  # a public question is a few inputs; a longer body is not worth a key


class _Kept:
    def __init__(self):
        # One (generation, answers) pair, replaced whole: a thread still holding the old pair can never
        # file an answer of the old generation under the new one.
        self.current: tuple[int | None, dict[tuple[str, bytes], tuple[float, bytes]]] = (None, {})

    def get(self, generation: int, key: tuple[str, bytes], now: float) -> bytes | None:
        kept_generation, answers = self.current
        found = answers.get(key) if kept_generation == generation else None
        return found[1] if found is not None and found[0] > now else None

    def put(self, generation: int, key: tuple[str, bytes], until: float, body: bytes) -> None:
        kept_generation, answers = self.current
        if kept_generation != generation or len(answers) >= MAX_ANSWERS:
            answers = {}  # many distinct questions at once are not worth sharing: start again
            self.current = (generation, answers)
        answers[key] = (until, body)


_KEPT = _Kept()


def offer(public_until: float | None) -> None:
    """Called by the view with the answer's `public_until`: the answer may be shared until then."""
    g.shared_answer_until = public_until


def shared_with_guests(view):
    """Goes above @blp.arguments (a shared answer costs no parsing) and below the policy decorator."""

    @functools.wraps(view)
    def serve(*args, **kwargs):
        seconds = current_app.config.get("CONNECTOR_LOCAL_CACHE_SECONDS", 0)
        length = request.content_length  # None for a chunked body: its size is unknown until read
        if not seconds or "Authorization" in request.headers or length is None or length > MAX_BODY_BYTES:
            return view(*args, **kwargs)
        generation = reads.generation()
        key = (kwargs["code"], request.get_data())
        now = time.time()
        body = _KEPT.get(generation, key, now) if generation >= 0 else None
        if body is not None:
            record_use(kwargs["code"], f"ip:{address_key()}")
            return current_app.response_class(body, 200, mimetype="application/json")
        response = view(*args, **kwargs)
        until = g.pop("shared_answer_until", None)
        if until is not None and response.status_code == 200 and generation >= 0:
            _KEPT.put(generation, key, min(until, now + seconds), response.get_data())
        return response

    return serve
