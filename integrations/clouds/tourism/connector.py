"""Connector of the tourism cloud (智慧旅游云, 旅游服务发展委员会): the city's scenic spots and how crowded they are."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import as_records
from integrations.connectors.signing import HmacHeaders
from integrations.errors import UpstreamBadResponse, UpstreamRejected

BEIJING = timezone(timedelta(hours=8))
# The system's 舒适度 codes, in the words of the national guide to scenic-spot visitor flow (LB/T 068).
CROWDING = {"1": ("comfortable", "舒适"), "2": ("busy", "较拥挤"), "3": ("crowded", "拥挤")}


class NoInput(ma.Schema):
    pass


class SpotInput(ma.Schema):
    spot = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[a-z]{2,16}$", error="景区编码为小写字母，如 tezgc"),
        metadata={"description": "景区编码, e.g. tezgc (台儿庄古城)"},
    )


class Spot(ma.Schema):
    spot = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    level = ma.fields.String(required=True, metadata={"description": "5A, 4A…"})
    district = ma.fields.String(required=True)
    district_name = ma.fields.String(required=True)
    opening_hours = ma.fields.String(required=True, metadata={"description": "HH:MM-HH:MM"})
    ticket_price_fen = ma.fields.Integer(required=True)


class Spots(ma.Schema):
    spots = ma.fields.List(ma.fields.Nested(Spot), required=True)


class SpotStatus(ma.Schema):
    spot = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    open_now = ma.fields.Boolean(required=True)
    opening_hours = ma.fields.String(required=True)
    visitors_now = ma.fields.Integer(required=True)
    capacity = ma.fields.Integer(required=True, metadata={"description": "the most visitors allowed in a day"})
    load_percent = ma.fields.Integer(required=True, metadata={"description": "visitors_now / capacity, in percent"})
    crowding = ma.fields.String(required=True, validate=ma.validate.OneOf([code for code, _ in CROWDING.values()]))
    crowding_label = ma.fields.String(required=True, metadata={"description": "舒适, 较拥挤 or 拥挤"})


@register
class TourismConnector(Connector):
    kind = "tourism"
    title = "智慧旅游云"
    operations = {
        "spots": Operation("景区列表", NoInput, Spots, fresh_seconds=3600, stale_seconds=7 * 86400),
        "spot_status": Operation("景区实时客流", SpotInput, SpotStatus, fresh_seconds=60, stale_seconds=0),
    }

    def make_signer(self):
        return HmacHeaders(self.settings["app_key"], self.settings["app_secret"], prefix="X-Lyj")

    def spots(self, inputs, identity):
        body = self._body("/api/v2/jq/list", {})
        spots = [self._spot(row) for row in as_records(self.name, body, "data")]
        return Answer({"spots": spots}, self._time(body.get("xysj")))

    def spot_status(self, inputs, identity):
        row = self._body("/api/v2/jq/kl", {"jqbm": inputs["spot"]})["data"]
        try:
            visitors, capacity = int(row["ssrs"]), int(row["zdcz"])
            crowding, label = CROWDING[str(row["ssd"])]
            result = {
                "spot": str(row["jqbm"]),
                "name": str(row["jqmc"]),
                "open_now": {"1": True, "0": False}[str(row["sfkf"])],
                "opening_hours": self._hours(row["kfsj"]),
                "visitors_now": visitors,
                "capacity": capacity,
                "load_percent": round(100 * visitors / capacity),
                "crowding": crowding,
                "crowding_label": label,
            }
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            raise UpstreamBadResponse(self.name, "visitor flow without its fields") from None
        return Answer(result, self._time(row.get("tjsj")))

    # -- the twin's manners ---------------------------------------------------------------------

    def _body(self, path: str, params: dict) -> dict:
        response = self.request("GET", path, params=params)
        body = self.json_of(response)
        ret, msg = body.get("ret"), str(body.get("msg", ""))[:100]
        if response.status_code == 200 and ret == 0 and "data" in body:
            return body
        if response.status_code == 404 and ret == 2001:  # 景区不存在
            raise UpstreamRejected(self.name, f"refused: {ret}", public_message=msg, reason="not_found")
        if response.status_code == 400:
            raise UpstreamRejected(self.name, f"refused: {ret}", public_message=msg, reason="invalid")
        if response.status_code in (401, 403):  # 1xxx: our key, signature, clock or nonce; an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {ret}")
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known ret")

    def _spot(self, row) -> dict:
        try:
            rating = str(row["jqdj"])
            if not rating or set(rating) != {"A"}:
                raise ValueError(rating)
            return {
                "spot": str(row["jqbm"]),
                "name": str(row["jqmc"]),
                "level": f"{len(rating)}A",
                "district": str(row["xzqhdm"]),
                "district_name": str(row["xzqhmc"]),
                "opening_hours": self._hours(row["kfsj"]),
                "ticket_price_fen": int(Decimal(str(row["mpjg"])) * 100),
            }
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "a spot without its fields") from None

    @staticmethod
    def _hours(text) -> str:
        opens, closes = (datetime.strptime(part.strip(), "%H:%M") for part in str(text).split("-"))
        return f"{opens:%H:%M}-{closes:%H:%M}"

    def _time(self, text) -> datetime:
        for form in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
            try:
                return datetime.strptime(str(text), form).replace(tzinfo=BEIJING)
            except ValueError:
                continue
        raise UpstreamBadResponse(self.name, "a time not in yyyy/MM/dd HH:mm")
