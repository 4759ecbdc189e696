"""The demo city's connectors: one per cloud and the sharing platform, pointed at the twins with the
sandbox credentials (integrations/sandbox/keyring.py). Seeded by `flask seed-demo` with SANDBOX on only:
those credentials must never exist outside the sandbox. Safe to run twice: a configured connector is
left as an operator may have changed it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.connectors import service
from app.connectors.models import ConnectorConfig
from app.extensions import db
from app.identity.tokens import Caller
from integrations.clouds import CLOUD_PACKAGES
from integrations.connectors.base import REGISTRY
from integrations.sandbox import keyring

# Whose system each is. The sharing platform is the city's own, open to every department.
OWNERS = {
    "city_services": "jxw",
    "industry": "jxw",
    "energy": "jxw",
    "community": "mzj",
    "housing": "gjj",
    "medical": "wjw",
    "tourism": "lfw",
    "social_security": "rsj",
    "transport": "jtj",
    "environment": "hbj",
    "city_management": "cgj",
    "food_drug": "syj",
    "work_safety": "ajj",
    "education": "jyj",
    "agriculture": "nyj",
    "commerce": "swj",
    "sharing": None,
}


def _credentials(cloud: str) -> dict:
    if cloud == "sharing":  # the population twin already knows our sharing-platform key
        return {"app_key": keyring.SHARING_APP_KEY, "app_secret": keyring.SHARING_APP_SECRET}
    return {"app_key": keyring.cloud_app_key(cloud), "app_secret": keyring.cloud_app_secret(cloud)}


def seed_connectors(operator: Caller) -> list[str]:
    """Configure the connectors not configured yet; the names of those added."""
    base = current_app.config["CLOUDS_SANDBOX_BASE_URL"].rstrip("/")
    present = set(db.session.scalars(sa.select(ConnectorConfig.name)))
    added = []
    for cloud in CLOUD_PACKAGES:
        if cloud in present or cloud not in REGISTRY:
            continue
        body = {"kind": cloud, "department": OWNERS[cloud], "enabled": True}
        service.configure(operator, cloud, body | {"settings": {"base_url": f"{base}/{cloud}", **_credentials(cloud)}})
        added.append(cloud)
    return added
