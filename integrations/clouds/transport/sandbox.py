"""Twin of the transport cloud (智慧交通云, 交通运输局): the city's bus lines, stops and live bus positions.

Its own manners: an access token from POST /openapi/auth/accessToken (appKey, timestamp in millis, nonce and a
lower-case hex HMAC-SHA256 `signature` of appKey+timestamp+nonce), valid 7200 s, sent as
`Authorization: Bearer …`; answers {"resultCode": "0000", "resultMsg": "成功", "timestamp": <epoch millis>,
"result": …} with a real HTTP status and a four-digit resultCode on errors (4011: the token is invalid or expired);
line lists paged MyBatis-style (current, size, pages, total); GPS times in epoch millis.
Bus positions are invented but steady within a minute.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time

from flask import Blueprint, jsonify, request

from integrations.clouds.transport.twin_data import LINES, LINES_BY_NO
from integrations.sandbox import keyring, twin_kit

CLOUD = "transport"
blueprint = Blueprint("transport_twin", __name__)
DEFAULT_PAGE_SIZE = 6
MAX_PAGE_SIZE = 20
_nonces = twin_kit.NonceMemory()  # of the token requests, the only ones signed
_tokens = twin_kit.TokenBook()
# The tests' controls: let every token handed out so far lapse; count the tokens handed out.
expire_tokens, tokens_issued = _tokens.expire_all, _tokens.issued


def reset() -> None:
    _nonces.clear()
    _tokens.clear()


def _answer(result, status: int = 200, code: str = "0000", message: str = "成功"):
    body = {"resultCode": code, "resultMsg": message, "timestamp": int(time.time() * 1000)}
    if result is not None:
        body["result"] = result
    return jsonify(body), status


def _fail(status: int, code: str, message: str):
    return _answer(None, status, code, message)


@blueprint.post("/openapi/auth/accessToken")
def access_token():
    body = request.get_json(silent=True) or {}
    app_key, stamp, nonce = str(body.get("appKey", "")), str(body.get("timestamp", "")), str(body.get("nonce", ""))
    if app_key != keyring.cloud_app_key(CLOUD):
        return _fail(401, "4010", "应用认证失败")
    if twin_kit.timestamp_problem(stamp, millis=True):
        return _fail(401, "4012", "请求时间戳无效")
    secret = keyring.cloud_app_secret(CLOUD).encode()
    expected = hmac.new(secret, f"{app_key}{stamp}{nonce}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(str(body.get("signature", "")), expected):
        return _fail(401, "4010", "应用认证失败")
    if _nonces.seen_before(nonce):
        return _fail(401, "4013", "请求重复")
    token, lifetime = _tokens.issue()
    return _answer({"accessToken": token, "expiresIn": lifetime})


def _check_token():
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not given:
        return _fail(401, "4010", "缺少accessToken")
    if not _tokens.valid(given):
        return _fail(401, "4011", "accessToken无效或已过期")
    return None


def _line_row(line: dict) -> dict:
    fields = ("lineNo", "lineName", "lineType", "firstTime", "lastTime", "ticketPrice")
    ends = {"startStation": line["stations"][0], "endStation": line["stations"][-1]}
    return {key: line[key] for key in fields} | ends


@blueprint.get("/openapi/bus/lines")
def lines():
    refusal = _check_token()
    if refusal is not None:
        return refusal
    keyword = request.args.get("keyword", "").strip()
    try:
        current = max(int(request.args.get("current", "1")), 1)
        size = min(max(int(request.args.get("size", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
    except ValueError:
        return _fail(400, "4001", "分页参数错误")
    found = [
        line
        for line in LINES
        if not keyword or keyword in line["lineNo"] or keyword in line["lineName"] or keyword in line["stations"]
    ]
    records = [_line_row(line) for line in found[(current - 1) * size : current * size]]
    pages = -(-len(found) // size)
    return _answer({"records": records, "total": len(found), "size": size, "current": current, "pages": pages})


def _line_or_refusal(line_no: str):
    if not line_no:
        return None, _fail(400, "4001", "lineNo不能为空")
    line = LINES_BY_NO.get(line_no.upper())
    if line is None:
        return None, _fail(404, "4041", "线路不存在")
    return line, None


@blueprint.get("/openapi/bus/line/stations")
def stations():
    refusal = _check_token()
    if refusal is not None:
        return refusal
    line, refusal = _line_or_refusal(request.args.get("lineNo", ""))
    if refusal is not None:
        return refusal
    up = line["stations"]
    return _answer(
        {
            "lineNo": line["lineNo"],
            "lineName": line["lineName"],
            "upStations": [{"stationSeq": n, "stationName": name} for n, name in enumerate(up, 1)],
            "downStations": [{"stationSeq": n, "stationName": name} for n, name in enumerate(reversed(up), 1)],
        }
    )


def _buses(line_no: str, stops: list[str], station: str, direction: int, minute: int) -> list[dict]:
    """The next one to three buses coming to `station` along `stops`, steady within one minute."""
    index = stops.index(station)
    seed = int(hashlib.sha256(f"{line_no}|{direction}|{station}|{minute}".encode()).hexdigest()[:12], 16)
    draw = random.Random(seed)
    # Distinct counts of stops before this one (0: at the stop, or waiting to leave the first one).
    reachable = range(min(index, 12) + 1)
    buses = []
    for stops_away in sorted(draw.sample(reachable, min(draw.randint(1, 3), len(reachable)))):
        distance = stops_away * 620 + draw.randint(30, 400) if stops_away else draw.randint(0, 120)
        buses.append(
            {
                "busPlate": f"鲁D{draw.randint(10000, 99999)}",
                "direction": direction,
                "terminalStation": stops[-1],
                "stationsLeft": stops_away,
                "distanceLeft": distance,
                "arriveMinutes": max(1, round(distance / 330)),
            }
        )
    return buses


@blueprint.get("/openapi/bus/realtime")
def realtime():
    refusal = _check_token()
    if refusal is not None:
        return refusal
    line, refusal = _line_or_refusal(request.args.get("lineNo", ""))
    if refusal is not None:
        return refusal
    station = request.args.get("stationName", "").strip()
    if station not in line["stations"]:
        return _fail(404, "4042", "该线路无此站点")
    minute = int(time.time() // 60)
    up, down = line["stations"], list(reversed(line["stations"]))
    buses = _buses(line["lineNo"], up, station, 0, minute) + _buses(line["lineNo"], down, station, 1, minute)
    return _answer({"lineNo": line["lineNo"], "stationName": station, "gpsTime": minute * 60000, "buses": buses})
