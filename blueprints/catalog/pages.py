"""Finished answers of the citizens' catalog reads, kept per process for the current catalog generation.

The catalog changes a few times a day and is read by every phone opening the mini-program. Building an
answer (filters, search, marshmallow, JSON) costs far more than serving it, so each distinct answer is
built once per generation per process and served as bytes afterwards. The generation is read from
Redis at most once a second per process (app/catalog/reads.py), so a request usually costs no Redis
round trip besides its rate limit, and a publish is seen everywhere within a second.

The ETag is the hash of the bytes: the same list after an unrelated publish keeps its ETag, and every
process gives the same one, so a phone's revalidation is answered 304 wherever it lands.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import Response, request

from app.catalog import reads

MAX_PAGES = 512  # distinct filters and searches kept per generation; the oldest used goes first
MAX_AGE_SECONDS = 60


class Pages:
    def __init__(self):
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._pages: OrderedDict[tuple, tuple[str, bytes, bytes]] = OrderedDict()

    def get(self, generation: int, key: tuple) -> tuple[str, bytes, bytes] | None:
        with self._lock:
            if generation != self._generation:
                return None
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, generation: int, key: tuple, page: tuple[str, bytes, bytes]) -> None:
        with self._lock:
            if generation != self._generation:
                self._generation, self._pages = generation, OrderedDict()
            self._pages[key] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)


_PAGES = Pages()


def _key() -> tuple:
    # The raw path and query string: a request whose answer is kept skips even the parsing of its
    # arguments. Only answers built after the arguments passed validation are ever kept.
    return request.path, request.query_string


def cached(view):
    """Serve the kept answer for this path and query under the current generation, if there is one.

    Goes above @blp.arguments, so a kept answer costs no argument parsing; below the policy decorator.
    """

    @functools.wraps(view)
    def serve(*args, **kwargs):
        generation = reads.generation()
        found = _PAGES.get(generation, _key()) if generation >= 0 else None
        return _response(*found) if found is not None else view(*args, **kwargs)

    return serve


def page(build: Callable[[], object]) -> Response:
    """Build the answer of a @cached view and keep it under the generation read before building: a
    change made meanwhile can only make the kept answer newer than its generation, never older.
    Nothing is kept while Redis cannot say which generation is current."""
    generation = reads.generation()
    found = _finished(build())
    if generation >= 0:
        _PAGES.put(generation, _key(), found)
    return _response(*found)


def uncached(data) -> Response:
    """An answer that changes too often to keep (hot services), with the same ETag and 304 handling."""
    return _response(*_finished(data))


def _finished(data) -> tuple[str, bytes, bytes]:
    """The ETag, the JSON and the JSON gzipped once (a catalog page shrinks to a fifth on a weak signal)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(body).hexdigest()[:32], body, gzip.compress(body, compresslevel=6, mtime=0)


def _response(etag: str, body: bytes, zipped: bytes) -> Response:
    # A phone that has this answer already gets a few bytes instead of the list. The ETag is weak: the
    # gzipped and the plain bytes are one answer, and If-None-Match compares weakly anyway.
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    elif "gzip" in request.accept_encodings:
        response = Response(zipped, mimetype="application/json", headers={"Content-Encoding": "gzip"})
    else:
        response = Response(body, mimetype="application/json")
    response.vary.add("Accept-Encoding")
    response.set_etag(etag, weak=True)
    response.cache_control.public, response.cache_control.max_age = True, MAX_AGE_SECONDS
    return response
