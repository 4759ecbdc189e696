"""Twin of the tourism cloud (智慧旅游云, 旅游服务发展委员会): the city's scenic spots and their visitor counts.

Its own manners: requests signed in X-Lyj-* headers (Key, Timestamp in millis, Nonce, and a base64 HMAC-SHA256
Signature over method, path, sorted query, timestamp, nonce and the body's SHA-256 hex, one per line); field
names in pinyin initials (jqbm 景区编码, ssrs 实时人数, ssd 舒适度...); answers {"ret": 0, "msg": "ok",
"xysj": <响应时间>, "data": …} and a real HTTP status with a non-zero `ret` on errors; times as
"yyyy/MM/dd HH:mm[:ss]"; levels as the ratings are written on the gate ("AAAAA").
Visitor counts are invented but steady: recounted every five minutes along a day's curve.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from flask import Blueprint, jsonify, request

from integrations.sandbox import keyring, twin_kit

CLOUD = "tourism"
PREFIX = "X-Lyj"
blueprint = Blueprint("tourism_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
COUNT_EVERY_MINUTES = 5
# What the city's spot list does not say: opening hours and the ticket price at the gate (yuan).
GATE = {
    "tezgc": ("08:00-22:00", "160.00"),
    "bdgslgy": ("07:30-17:30", "60.00"),
    "xesdz": ("08:00-17:00", "50.00"),
    "wshhh": ("08:00-18:00", "60.00"),
    "gsly": ("08:00-17:30", "30.00"),
    "mzjng": ("09:00-17:00", "0.00"),  # museums and memorial halls are free, booked ahead
    "tezdzjng": ("08:30-17:00", "0.00"),
}
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


@lru_cache(maxsize=1)
def _spots() -> dict[str, dict]:
    from app.city.seed import load_demo_city  # the demo city's own list of spots, read once

    city = load_demo_city()
    districts = {item["code"]: item["name"] for item in city["districts"]}
    return {spot["code"]: spot | {"district_name": districts[spot["district"]]} for spot in city["scenic_spots"]}


def _refuse(status: int, ret: int, msg: str):
    return jsonify(ret=ret, msg=msg), status


def _ok(data):
    return jsonify(ret=0, msg="ok", xysj=f"{datetime.now(BEIJING):%Y/%m/%d %H:%M:%S}", data=data)


def _check_signature():
    """None when the X-Lyj headers sign this very request with the city's key; otherwise the refusal."""
    headers = request.headers
    if headers.get(f"{PREFIX}-Key") != keyring.cloud_app_key(CLOUD):
        return _refuse(401, 1004, "应用不存在")
    stamp, nonce = headers.get(f"{PREFIX}-Timestamp", ""), headers.get(f"{PREFIX}-Nonce", "")
    if twin_kit.timestamp_problem(stamp, millis=True):
        return _refuse(401, 1002, "时间戳无效")
    query = "&".join(f"{key}={value}" for key, value in sorted(request.args.items()))
    lines = (request.method, request.root_path + request.path, query, stamp, nonce)
    text = "\n".join((*lines, hashlib.sha256(request.get_data()).hexdigest()))
    mac = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), text.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(headers.get(f"{PREFIX}-Signature", ""), base64.b64encode(mac).decode()):
        return _refuse(401, 1001, "签名错误")
    if _nonces.seen_before(nonce):
        return _refuse(401, 1003, "请求已处理，请勿重复提交")
    return None


def _listing(spot: dict) -> dict:
    hours, price = GATE[spot["code"]]
    return {
        "jqbm": spot["code"],
        "jqmc": spot["name"],
        "jqdj": "A" * int(spot["level"].rstrip("A")),
        "xzqhdm": spot["district"],
        "xzqhmc": spot["district_name"],
        "kfsj": hours,
        "mpjg": price,
    }


@blueprint.get("/api/v2/jq/list")
def spot_list():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    return _ok([_listing(spot) for spot in _spots().values()])


def _visitors(spot: dict, counted: datetime) -> tuple[bool, int]:
    """Whether the gates are open at `counted`, and how many people are inside: a day's hump, steady per day."""
    opens, closes = (datetime.strptime(t, "%H:%M").time() for t in GATE[spot["code"]][0].split("-"))
    start, end = (counted.replace(hour=t.hour, minute=t.minute, second=0, microsecond=0) for t in (opens, closes))
    if not start <= counted < end:
        return False, 0
    seed = int(hashlib.sha256(f"{spot['code']}{counted:%Y%m%d}".encode()).hexdigest()[:8], 16)
    busy = 0.25 + (seed % 60) / 100 + (0.15 if counted.weekday() >= 5 else 0)  # how full the day's peak gets
    hump = math.sin(math.pi * (counted - start) / (end - start))
    return True, int(spot["daily_max"] * busy * hump)


@blueprint.get("/api/v2/jq/kl")
def visitor_flow():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    code = request.args.get("jqbm", "")
    if not code:
        return _refuse(400, 3001, "参数jqbm不能为空")
    spot = _spots().get(code)
    if spot is None:
        return _refuse(404, 2001, "景区不存在")
    now = datetime.now(BEIJING)
    counted = now.replace(minute=now.minute - now.minute % COUNT_EVERY_MINUTES, second=0, microsecond=0)
    open_now, inside = _visitors(spot, counted)
    load = inside / spot["daily_max"]
    comfort = "1" if load < 0.5 else "2" if load < 0.8 else "3"  # 舒适 / 较拥挤 / 拥挤
    return _ok(
        {
            "jqbm": spot["code"],
            "jqmc": spot["name"],
            "kfsj": GATE[spot["code"]][0],
            "sfkf": "1" if open_now else "0",
            "ssrs": inside,
            "zdcz": spot["daily_max"],
            "ssd": comfort,
            "tjsj": f"{counted:%Y/%m/%d %H:%M}",
        }
    )
