"""What citizens see of the catalog: live services by category, district and audience, search, detail.

The live catalog is small and read all day, so it is read from PostgreSQL once per change and kept in
Redis as one JSON document under a generation number; every publish, suspension, resumption or
retirement sets a new generation after its commit. Generations are random, never counted up from 0:
a process keeps its search index (and the API its finished answers) under the generation it was built
for, and a count restarting after Redis lost its data would hand an old one out again. The ETag lets a phone
that has the list already gets 304 for a few bytes.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.models import Service, ServiceVersion
from app.catalog.search import SearchDoc, SearchIndex, index
from app.db import after_commit
from app.errors import AppError
from app.extensions import db, redis

log = logging.getLogger(__name__)
GENERATION_KEY, DOCUMENT_KEY = "catalog:generation", "catalog:live:{generation}"
DOCUMENT_SECONDS = 24 * 3600

# The clouds grouped the way a citizen thinks of them; a payment service of any cloud is 生活缴费.
CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "social_security": ("社保", ("social_security",)),
    "housing_fund": ("公积金", ("housing",)),
    "bills": ("生活缴费", ("energy",)),
    "medical": ("医疗", ("medical",)),
    "tourism": ("旅游", ("tourism",)),
    "transport": ("交通", ("transport",)),
    "community": ("社区", ("community",)),
    "education": ("教育", ("education",)),
    "environment": ("环境", ("environment",)),
    "business": ("企业服务", ("industry", "commerce", "agriculture", "food_drug", "work_safety")),
    "government": ("政务办事", ("city_services", "city_management", "sharing")),
}
_CATEGORY_OF_CLOUD = {cloud: code for code, (_, clouds) in CATEGORIES.items() for cloud in clouds}


def category_of(cloud: str, kind: str) -> str:
    return "bills" if kind == "payment" else _CATEGORY_OF_CLOUD.get(cloud, "government")


def invalidate() -> None:
    """After the commit of any change to what is live: the next read rebuilds the document."""

    def bump():
        _Trusted.forget()
        try:
            redis.set(GENERATION_KEY, _new_generation())
        except Exception:  # noqa: BLE001 - the document expires within a day; log loudly meanwhile
            log.error("could not invalidate the catalog cache; citizens may see the old catalog for a while")

    after_commit(bump)


def _build() -> list[dict]:
    rows = db.session.execute(
        sa.select(Service, ServiceVersion)
        .join(ServiceVersion, ServiceVersion.id == Service.live_version_id)
        .where(ServiceVersion.status == "LIVE")
        .order_by(Service.uses.desc(), Service.code)
    ).all()
    return [_entry(service, version) for service, version in rows]


def _entry(service: Service, version: ServiceVersion) -> dict:
    content = version.content
    return {
        "code": service.code,
        "department": service.department_code,
        "cloud": service.cloud,
        "category": category_of(service.cloud, service.kind),
        "kind": service.kind,
        "name": content["name"],
        "description": content.get("description"),
        "icon": content.get("icon"),
        "keywords": content.get("keywords") or [],
        "districts": content.get("districts") or [],
        "audience": content.get("audience") or ["citizen"],
        "login_required": content.get("login_required", True),
        "real_name_required": content.get("real_name_required", False),
        "uses": service.uses,
    }


@dataclass(frozen=True)
class LiveCatalog:
    generation: int
    services: list[dict]


_INDEXES: dict[int, SearchIndex] = {}


def _new_generation() -> int:
    return secrets.randbits(62)


class _Trusted:
    """The generation this process read last, trusted for GENERATION_TRUST_SECONDS: the catalog's
    front-page read then costs no Redis round trip of its own. A change made in this process is seen
    at once (invalidate() sets it); one made in another process within that second."""

    value: int | None = None
    until: float = 0.0

    @classmethod
    def keep(cls, value: int) -> None:
        cls.value, cls.until = value, time.monotonic() + GENERATION_TRUST_SECONDS

    @classmethod
    def forget(cls) -> None:
        cls.value, cls.until = None, 0.0


GENERATION_TRUST_SECONDS = 1.0
forget_generation = _Trusted.forget  # after Redis was emptied under this process (the tests do)


def generation() -> int:
    """The current catalog generation (starting one if Redis has none), or -1 when Redis cannot say."""
    value = _Trusted.value
    if value is not None and time.monotonic() < _Trusted.until:
        return value
    try:
        current = redis.get(GENERATION_KEY)
        if current is None:
            redis.set(GENERATION_KEY, _new_generation(), nx=True)  # two processes at once: one wins
            current = redis.get(GENERATION_KEY)
    except Exception:  # noqa: BLE001 - Redis down: callers read the database and keep nothing
        return -1
    _Trusted.keep(int(current))
    return int(current)


def live() -> LiveCatalog:
    """The live catalog from Redis, or from the database when Redis has none (or is down)."""
    current = generation()
    try:
        cached = redis.get(DOCUMENT_KEY.format(generation=current)) if current >= 0 else None
    except Exception:  # noqa: BLE001 - Redis down: the database answers, a little slower
        current, cached = -1, None
    if current < 0:
        return LiveCatalog(-1, _build())
    if cached is not None:
        return LiveCatalog(current, json.loads(cached))
    services = _build()
    try:
        redis.set(
            DOCUMENT_KEY.format(generation=current), json.dumps(services, ensure_ascii=False), ex=DOCUMENT_SECONDS
        )
    except Exception:  # noqa: BLE001
        log.warning("could not cache the live catalog")
    return LiveCatalog(current, services)


def search_index(catalog: LiveCatalog) -> SearchIndex:
    """One index per generation per process: rebuilt (tens of ms) only after a change."""
    found = _INDEXES.get(catalog.generation)
    if found is None or catalog.generation < 0:
        docs = [
            SearchDoc(s["code"], s["name"]["zh"], s["name"].get("en"), tuple(s["keywords"]), s["category"], s["uses"])
            for s in catalog.services
        ]
        found = index(docs)
        _INDEXES.clear()
        _INDEXES[catalog.generation] = found
    return found


def listing(category: str | None, district: str | None, audience: str | None, query: str | None) -> list[dict]:
    catalog = live()
    services = catalog.services
    if query:
        by_code = {s["code"]: s for s in services}
        services = [by_code[code] for code, _ in search_index(catalog).search(query, limit=50) if code in by_code]
    return [s for s in services if (not category or s["category"] == category) and serves(s, district, audience)]


def serves(entry: dict, district: str | None, audience: str | None) -> bool:
    """Whether a live service is for this district (none listed: every district) and this audience."""
    return (not district or not entry["districts"] or district in entry["districts"]) and (
        not audience or audience in entry["audience"]
    )


def live_version_of(code: str) -> sa.Select:
    """The statement for (service, its live version) by code: no row when it is not live."""
    return (
        sa.select(Service, ServiceVersion)
        .join(ServiceVersion, ServiceVersion.id == Service.live_version_id)
        .where(Service.code == code, ServiceVersion.status == "LIVE")
    )


def detail(code: str) -> dict:
    """A live service with its form and its privacy notice and contact."""
    row = db.session.execute(live_version_of(code)).first()
    if row is None:
        raise AppError("SERVICE_NOT_FOUND", "没有这个服务", 404)
    service, version = row
    content = version.content
    extra = {k: content.get(k) for k in ("privacy_notice", "contact", "form")}
    return _entry(service, version) | extra | {"version": version.number}
