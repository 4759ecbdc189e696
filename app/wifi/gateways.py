"""Registering gateways and recognising them. The portal and heartbeat handlers come with the Wi-Fi issue."""

from __future__ import annotations

import hmac
import re
import secrets

import sqlalchemy as sa

from app.audit import service as audit
from app.city.models import District
from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.wifi.models import WifiGateway

# What wifidog-gateway accepts for GatewayID: it lands in URLs unescaped, so keep it plain.
GW_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", re.ASCII)
HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


def register(gw_id: str, site_code: str, name: str, district_code: str | None = None) -> tuple[WifiGateway, str]:
    """A new gateway and its secret, returned once (the installer types it into the gateway)."""
    if not GW_ID.fullmatch(gw_id):
        raise AppError("INVALID_GATEWAY_ID", "网关编号只能包含字母、数字和 _.:-，最长 64 位", 422)
    try:
        return _insert(gw_id, site_code, name, district_code)
    except sa.exc.IntegrityError:
        # Two installers registering one gateway at once: the unique index decides.
        raise AppError("GATEWAY_EXISTS", "该网关已登记", 409) from None


def _insert(gw_id: str, site_code: str, name: str, district_code: str | None) -> tuple[WifiGateway, str]:
    with unit_of_work() as s:
        if district_code and s.get(District, district_code) is None:
            raise AppError("UNKNOWN_DISTRICT", "没有这个区县", 422, {"district": district_code})
        if s.scalar(sa.select(WifiGateway.id).where(WifiGateway.gw_id == gw_id)) is not None:
            raise AppError("GATEWAY_EXISTS", "该网关已登记", 409)
        secret = secrets.token_urlsafe(24)
        gateway = WifiGateway(
            gw_id=gw_id,
            site_code=site_code,
            district_code=district_code,
            name=name,
            secret=secret,
            status="active",
            created_at=utcnow(),
        )
        s.add(gateway)
        s.flush()
        audit.record("wifi_gateway.register", "wifi_gateway", gateway.gw_id, details={"site": site_code})
    return gateway, secret


def active(gw_id: str) -> WifiGateway | None:
    """The gateway behind a `gw_id`, if registered and not disabled. Unknown gateways get no service."""
    gateway = db.session.scalar(sa.select(WifiGateway).where(WifiGateway.gw_id == gw_id))
    return gateway if gateway is not None and gateway.status == "active" else None


def signature_ok(gateway: WifiGateway, message: bytes, signature_hex: str) -> bool:
    """HMAC-SHA256 of `message` under the gateway's secret, compared in constant time."""
    if not HEX_SIGNATURE.fullmatch(signature_hex or ""):
        return False  # compare_digest refuses non-ASCII text with a TypeError: garbage is simply wrong
    expected = hmac.new(gateway.secret.encode(), message, "sha256").hexdigest()
    return hmac.compare_digest(expected, signature_hex.lower())
