"""Twin of the agriculture cloud (智慧农业云, 农业局): wholesale prices of farm produce in Zaozhuang's markets.

Its own manners: an access token from POST /open/auth/accessToken {"appKey", "appSecret"} (valid 7200 s),
sent in the X-Access-Token header; answers HTTP 200 as {"ret": 0, "msg": "success", "data": {...}}, with
ret 40001 for a wrong key or secret, 40101 for a token invalid or expired, 204xx for a bad question;
prices as strings in yuan per the variety's own unit (eggs and pork in 元/斤, the rest in 元/公斤);
quote times in epoch milliseconds, trade dates yyyyMMdd; price history paged by offset and limit (at
most 10). Quotes are published at 06:30 each morning. Prices are invented but steady per variety and day.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask import Blueprint, jsonify, request

from integrations.sandbox import keyring, twin_kit

CLOUD = "agriculture"
blueprint = Blueprint("agriculture_twin", __name__)
MAX_LIMIT = 10
MAIN_MARKET = "枣庄农产品批发市场"
# varietyCode: (name, unit, a typical average price in that unit, the markets that quote it)
VARIETIES = {
    "NC0101": ("大白菜", "元/公斤", "1.60", (MAIN_MARKET, "滕州蔬菜批发市场")),
    "NC0102": ("马铃薯", "元/公斤", "2.40", (MAIN_MARKET, "滕州蔬菜批发市场")),
    "NC0103": ("大蒜", "元/公斤", "7.80", (MAIN_MARKET, "滕州蔬菜批发市场", "山亭农副产品市场")),
    "XQ0201": ("鸡蛋", "元/斤", "4.30", (MAIN_MARKET, "薛城农贸批发市场")),
    "XQ0202": ("白条猪肉", "元/斤", "11.20", (MAIN_MARKET, "薛城农贸批发市场")),
    "SG0301": ("石榴", "元/公斤", "9.60", (MAIN_MARKET, "峄城石榴交易市场")),
}
_tokens = twin_kit.TokenBook()
# The tests' controls: let every token handed out so far lapse; count the tokens handed out.
expire_tokens, tokens_issued = _tokens.expire_all, _tokens.issued


def reset() -> None:
    _tokens.clear()


def _answer(ret: int, msg: str, data: dict | None = None):
    return jsonify(ret=ret, msg=msg, data=data)


@blueprint.post("/open/auth/accessToken")
def access_token():
    body = request.get_json(silent=True) or {}
    key_ok = hmac.compare_digest(str(body.get("appKey", "")), keyring.cloud_app_key(CLOUD))
    secret_ok = hmac.compare_digest(str(body.get("appSecret", "")), keyring.cloud_app_secret(CLOUD))
    if not (key_ok and secret_ok):
        return _answer(40001, "appKey 或 appSecret 错误")
    token, lifetime = _tokens.issue()
    return _answer(0, "success", {"accessToken": token, "expiresIn": lifetime})


def _token_refused():
    if not _tokens.valid(request.headers.get("X-Access-Token", "")):
        return _answer(40101, "access_token 无效或已过期")
    return None


def _quote_day() -> tuple[date, datetime]:
    """The day of the latest quote and when it was published (06:30)."""
    published = twin_kit.last_daily_at(6, 30)
    return published.date(), published


def _average(code: str, market: str, day: date) -> Decimal:
    seed = int(hashlib.sha256(f"{code}{market}{day:%Y%m%d}".encode()).hexdigest()[:8], 16)
    typical = Decimal(VARIETIES[code][2])
    return (typical * (1 + Decimal(seed % 21 - 10) / 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _prices(code: str, market: str, day: date) -> dict:
    average = _average(code, market, day)
    cent = Decimal("0.01")
    return {
        "lowPrice": str((average * Decimal("0.85")).quantize(cent, ROUND_HALF_UP)),
        "avgPrice": str(average),
        "highPrice": str((average * Decimal("1.18")).quantize(cent, ROUND_HALF_UP)),
    }


@blueprint.get("/open/market/quote")
def quote():
    refusal = _token_refused()
    if refusal is not None:
        return refusal
    code = request.args.get("varietyCode", "")
    if code not in VARIETIES:
        return _answer(20404, "品种不存在")
    name, unit, _, markets = VARIETIES[code]
    day, published = _quote_day()
    rows = [
        {
            "marketName": market,
            **_prices(code, market, day),
            "prevAvgPrice": str(_average(code, market, day - timedelta(days=1))),
        }
        for market in markets
    ]
    return _answer(
        0,
        "success",
        {
            "varietyCode": code,
            "varietyName": name,
            "priceUnit": unit,
            "quoteTime": int(published.timestamp() * 1000),
            "markets": rows,
        },
    )


@blueprint.get("/open/market/history")
def history():
    refusal = _token_refused()
    if refusal is not None:
        return refusal
    code = request.args.get("varietyCode", "")
    if code not in VARIETIES:
        return _answer(20404, "品种不存在")
    try:
        days = int(request.args.get("days", "7"))
        offset = max(int(request.args.get("offset", "0")), 0)
        limit = min(max(int(request.args.get("limit", str(MAX_LIMIT))), 1), MAX_LIMIT)
    except ValueError:
        return _answer(20400, "参数格式错误")
    if not 1 <= days <= 30:
        return _answer(20400, "days 取值范围 1-30")
    name, unit, _, _ = VARIETIES[code]
    latest, published = _quote_day()
    dates = [latest - timedelta(days=n) for n in range(days)][offset : offset + limit]
    items = [{"tradeDate": f"{day:%Y%m%d}", **_prices(code, MAIN_MARKET, day)} for day in dates]
    return _answer(
        0,
        "success",
        {
            "varietyCode": code,
            "varietyName": name,
            "priceUnit": unit,
            "marketName": MAIN_MARKET,
            "total": days,
            "offset": offset,
            "limit": limit,
            "items": items,
            "updateTime": int(published.timestamp() * 1000),
        },
    )
