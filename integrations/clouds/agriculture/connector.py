"""Connector of the agriculture cloud (智慧农业云, 农业局): today's wholesale prices of farm produce, and their
last days, normalized to fen per kilogram whatever unit the market quotes in."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import from_epoch
from integrations.connectors.signing import AppKeyToken
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.http import send

TOKEN_EXPIRED = 40101  # the twin's "access_token 无效或已过期": fetch a new one and try again
PAGE_LIMIT = 10  # the most the history gives at once
MAX_PAGES = 5  # thirty days is three pages; more means the twin is looping
PRODUCTS = {  # our names → the twin's variety codes
    "cabbage": "NC0101",
    "potato": "NC0102",
    "garlic": "NC0103",
    "egg": "XQ0201",
    "pork": "XQ0202",
    "pomegranate": "SG0301",
}
KG_PER_UNIT = {"元/公斤": Decimal(1), "元/千克": Decimal(1), "元/斤": Decimal("0.5")}
UNIT = "分/公斤"


class PricesInput(ma.Schema):
    product = ma.fields.String(required=True, validate=ma.validate.OneOf(PRODUCTS))


class HistoryInput(PricesInput):
    days = ma.fields.Integer(load_default=7, validate=ma.validate.Range(1, 30))


class MarketPrice(ma.Schema):
    market = ma.fields.String(required=True)
    min_fen = ma.fields.Integer(required=True)
    avg_fen = ma.fields.Integer(required=True)
    max_fen = ma.fields.Integer(required=True)
    change_fen = ma.fields.Integer(required=True, metadata={"description": "today's average less yesterday's"})


class Prices(ma.Schema):
    product = ma.fields.String(required=True)
    product_name = ma.fields.String(required=True)
    unit = ma.fields.String(required=True, metadata={"description": "prices are fen per kilogram"})
    markets = ma.fields.List(ma.fields.Nested(MarketPrice), required=True, metadata={"description": "main first"})


class DayPrice(ma.Schema):
    date = ma.fields.Date(required=True)
    min_fen = ma.fields.Integer(required=True)
    avg_fen = ma.fields.Integer(required=True)
    max_fen = ma.fields.Integer(required=True)


class PriceHistory(ma.Schema):
    product = ma.fields.String(required=True)
    product_name = ma.fields.String(required=True)
    unit = ma.fields.String(required=True)
    market = ma.fields.String(required=True)
    days = ma.fields.List(ma.fields.Nested(DayPrice), required=True, metadata={"description": "newest first"})


@register
class AgricultureConnector(Connector):
    kind = "agriculture"
    title = "智慧农业云"
    operations = {
        "prices": Operation("农产品今日批发价格", PricesInput, Prices, fresh_seconds=1800, stale_seconds=86400),
        "price_history": Operation(
            "农产品近期价格走势", HistoryInput, PriceHistory, fresh_seconds=1800, stale_seconds=86400
        ),
    }

    def make_signer(self):
        return AppKeyToken(
            store=self.tokens,
            key=f"cloud-token:{self.kind}:{self.name}",
            fetch=self._fetch_token,
            expired=self._token_expired,
            header="X-Access-Token",
            scheme="",
        )

    def prices(self, inputs, identity):
        data = self._data("/open/market/quote", {"varietyCode": PRODUCTS[inputs["product"]]})
        try:
            per_kg = KG_PER_UNIT[data["priceUnit"]]
            markets = []
            for row in data["markets"]:
                avg = self._fen(row["avgPrice"], per_kg)
                markets.append(
                    {
                        "market": row["marketName"],
                        "min_fen": self._fen(row["lowPrice"], per_kg),
                        "avg_fen": avg,
                        "max_fen": self._fen(row["highPrice"], per_kg),
                        "change_fen": avg - self._fen(row["prevAvgPrice"], per_kg),
                    }
                )
            result = {"product": inputs["product"], "product_name": data["varietyName"], "unit": UNIT}
            as_of = from_epoch(self.name, data["quoteTime"], millis=True)
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "prices: a quote without its fields") from None
        if not markets:
            raise UpstreamBadResponse(self.name, "prices: no market quoted")
        return Answer({**result, "markets": markets}, as_of)

    def price_history(self, inputs, identity):
        params = {"varietyCode": PRODUCTS[inputs["product"]], "days": inputs["days"], "limit": PAGE_LIMIT}
        days, total, pages, data = [], 1, 0, {}
        try:
            while len(days) < total and pages < MAX_PAGES:
                data = self._data("/open/market/history", {**params, "offset": len(days)})
                per_kg, items = KG_PER_UNIT[data["priceUnit"]], data["items"]
                days += [self._day(item, per_kg) for item in items]
                total, pages = int(data["total"]), pages + 1
                if not items:
                    break
            result = {
                "product": inputs["product"],
                "product_name": data["varietyName"],
                "unit": UNIT,
                "market": data["marketName"],
                "days": days,
            }
            as_of = from_epoch(self.name, data["updateTime"], millis=True)
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "price_history: a page without its fields") from None
        return Answer(result, as_of)

    # -- the twin's token -------------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, int]:
        credentials = {"appKey": self.settings["app_key"], "appSecret": self.settings["app_secret"]}
        response = send(
            self.name,
            "POST",
            f"{self.base_url}/open/auth/accessToken",
            data=json.dumps(credentials).encode(),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        body = self.json_of(response)
        if body.get("ret") == 40001:  # our key or secret: an operator must look
            raise UpstreamRejected(self.name, "refused our app key or secret (40001)")
        data = body.get("data")
        try:
            if body.get("ret") != 0 or not data["accessToken"]:
                raise ValueError("no token")
            return str(data["accessToken"]), int(data["expiresIn"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "token: an answer without a token") from None

    @staticmethod
    def _token_expired(status: int, body: bytes) -> bool:
        try:
            parsed = json.loads(body)
        except ValueError:
            return False
        return isinstance(parsed, dict) and parsed.get("ret") == TOKEN_EXPIRED

    # -- the twin's manners -----------------------------------------------------------------------

    def _data(self, path: str, params: dict) -> dict:
        body = self.json_of(self.request("GET", path, params=params))
        ret = body.get("ret")
        if ret == 0 and isinstance(body.get("data"), dict):
            return body["data"]
        if ret == 20404:
            raise UpstreamRejected(
                self.name, "unknown variety (20404)", public_message="品种不存在", reason="not_found"
            )
        if ret == 20400:
            raise UpstreamRejected(
                self.name, "malformed question (20400)", public_message="参数格式错误", reason="invalid"
            )
        if ret in (40001, TOKEN_EXPIRED):  # still refused with a fresh token: an operator must look
            raise UpstreamRejected(self.name, f"refused our token ({ret})")
        raise UpstreamBadResponse(self.name, "answer without a known ret")

    @staticmethod
    def _fen(yuan, kg_per_unit: Decimal) -> int:
        """A price in yuan per the quoted unit, as whole fen per kilogram."""
        fen = Decimal(str(yuan)) * 100 / kg_per_unit
        if not fen.is_finite():
            raise ValueError("price is not a number")
        return int(fen.to_integral_value())

    def _day(self, item: dict, kg_per_unit: Decimal) -> dict:
        return {
            "date": datetime.strptime(item["tradeDate"], "%Y%m%d").date().isoformat(),
            "min_fen": self._fen(item["lowPrice"], kg_per_unit),
            "avg_fen": self._fen(item["avgPrice"], kg_per_unit),
            "max_fen": self._fen(item["highPrice"], kg_per_unit),
        }
