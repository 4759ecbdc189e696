"""Twin of the environment cloud (智慧环保云): the city's air monitoring stations, per district, hourly.

Its own manners: a signed query string (appid, timestamp in seconds, nonce, upper-case HMAC-SHA256 hex
`sign`), answers as {"status": "1", "info": "OK", "data": {...}} with "status": "0" and an `infocode` for
errors (HTTP 200 either way), times as "yyyyMMddHH", and hourly records paged 12 to a page by `pageNo`.
Readings are invented but steady: the same district and hour always read the same.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.sandbox import keyring, twin_kit

CLOUD = "environment"
blueprint = Blueprint("environment_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
DISTRICTS = {
    "370402": "市中区",
    "370403": "薛城区",
    "370404": "峄城区",
    "370405": "台儿庄区",
    "370406": "山亭区",
    "370481": "滕州市",
}
PAGE_SIZE = 12
HOURS_KEPT = 24
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _refuse(infocode: str, info: str):
    return jsonify(status="0", info=info, infocode=infocode)


def _check_signature():
    """None when the query string is signed by the city's app; otherwise the twin's refusal."""
    params = request.args.to_dict()
    given = params.pop("sign", "")
    if params.get("appid") != keyring.cloud_app_key(CLOUD):
        return _refuse("10001", "appid 无效")
    problem = twin_kit.timestamp_problem(params.get("timestamp", ""))
    if problem is not None:
        return _refuse("10002", "timestamp 无效" if problem == "malformed" else "请求已过期")
    canonical = "&".join(f"{key}={params[key]}" for key in sorted(params))
    secret = keyring.cloud_app_secret(CLOUD).encode()
    expected = hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest().upper()
    if not hmac.compare_digest(given, expected):
        return _refuse("10003", "签名错误")
    if _nonces.seen_before(params.get("nonce", "")):
        return _refuse("10004", "nonce 重复")
    return None


def _reading(district: str, hour: datetime) -> dict:
    seed = int(hashlib.sha256(f"{district}{hour:%Y%m%d%H}".encode()).hexdigest()[:8], 16)
    pm25 = 15 + seed % 70
    pm10 = pm25 + 20 + seed % 40
    o3 = 40 + (seed >> 8) % 120
    aqi = max(round(pm25 * 1.45), round(pm10 * 0.8), round(o3 * 0.55))
    primary = "" if aqi <= 50 else ("PM2.5" if pm25 * 1.45 >= max(pm10 * 0.8, o3 * 0.55) else "PM10")
    return {
        "areaCode": district,
        "areaName": DISTRICTS[district],
        "monitorTime": f"{hour:%Y%m%d%H}",
        "AQI": str(aqi),
        "primaryPollutant": primary or "—",
        "PM2_5": str(pm25),
        "PM10": str(pm10),
        "SO2": str(5 + seed % 12),
        "NO2": str(12 + seed % 30),
        "CO": f"{0.4 + (seed % 9) / 10:.1f}",
        "O3": str(o3),
    }


def _latest_hour() -> datetime:
    # Readings are published at twenty past the hour, for the hour before.
    now = datetime.now(BEIJING) - timedelta(minutes=20)
    return now.replace(minute=0, second=0, microsecond=0)


@blueprint.get("/api/aqi/realtime")
def realtime():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    area = request.args.get("areaCode", "")
    if area and area not in DISTRICTS:
        return _refuse("20001", "无此区域的监测数据")
    hour = _latest_hour()
    rows = [_reading(code, hour) for code in DISTRICTS if not area or code == area]
    return jsonify(status="1", info="OK", data={"publishTime": f"{hour:%Y%m%d%H}", "list": rows})


@blueprint.get("/api/aqi/hourly")
def hourly():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    area = request.args.get("areaCode", "")
    if area not in DISTRICTS:
        return _refuse("20001", "无此区域的监测数据")
    try:
        page = max(int(request.args.get("pageNo", "1")), 1)
    except ValueError:
        return _refuse("20002", "pageNo 无效")
    latest = _latest_hour()
    hours = [latest - timedelta(hours=n) for n in range(HOURS_KEPT)]
    chunk = hours[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return jsonify(
        status="1",
        info="OK",
        data={
            "pageNo": page,
            "pageCount": -(-HOURS_KEPT // PAGE_SIZE),
            "total": HOURS_KEPT,
            "list": [_reading(area, hour) for hour in chunk],
        },
    )
