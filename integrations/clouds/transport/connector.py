"""Connector of the transport cloud (智慧交通云, 交通运输局): bus lines, their stops, and buses arriving now."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import as_int, as_records, from_epoch
from integrations.connectors.signing import AppKeyToken
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.http import send

MAX_PAGES = 10  # the city has a few dozen lines; more pages than this means the twin is looping
LINE_NO = ma.validate.Regexp(r"^[A-Z]{0,3}[0-9]{1,3}$", error="线路编号格式不正确，如 B1、K3、101")
DIRECTIONS = ("up", "down")  # up runs the line's stops from first to last
DIRECTION_OF_FLAG = {0: "up", 1: "down"}  # the system's flags


class LinesInput(ma.Schema):
    keyword = ma.fields.String(
        load_default=None, validate=ma.validate.Length(min=1, max=10), metadata={"description": "线路号或站名"}
    )


class LineInput(ma.Schema):
    line = ma.fields.String(required=True, validate=LINE_NO)


class ArrivalsInput(ma.Schema):
    line = ma.fields.String(required=True, validate=LINE_NO)
    stop = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))


class Line(ma.Schema):
    line = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(["brt", "bus"]))
    first_bus = ma.fields.String(required=True, metadata={"description": "HH:MM"})
    last_bus = ma.fields.String(required=True, metadata={"description": "HH:MM"})
    fare_fen = ma.fields.Integer(required=True)
    from_ = ma.fields.String(required=True, data_key="from")
    to = ma.fields.String(required=True)


class Lines(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(Line), required=True)


class Stop(ma.Schema):
    order = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class Direction(ma.Schema):
    direction = ma.fields.String(required=True, validate=ma.validate.OneOf(DIRECTIONS))
    from_ = ma.fields.String(required=True, data_key="from")
    to = ma.fields.String(required=True)
    stops = ma.fields.List(ma.fields.Nested(Stop), required=True)


class Stops(ma.Schema):
    line = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    directions = ma.fields.List(ma.fields.Nested(Direction), required=True)


class Bus(ma.Schema):
    vehicle = ma.fields.String(required=True, metadata={"description": "plate number"})
    stops_away = ma.fields.Integer(required=True)
    eta_minutes = ma.fields.Integer(required=True)
    distance_m = ma.fields.Integer(required=True)


class Approach(ma.Schema):
    direction = ma.fields.String(required=True, validate=ma.validate.OneOf(DIRECTIONS))
    towards = ma.fields.String(required=True, metadata={"description": "the terminal this direction runs to"})
    buses = ma.fields.List(ma.fields.Nested(Bus), required=True, metadata={"description": "nearest first"})


class Arrivals(ma.Schema):
    line = ma.fields.String(required=True)
    stop = ma.fields.String(required=True)
    directions = ma.fields.List(ma.fields.Nested(Approach), required=True)


@register
class TransportConnector(Connector):
    kind = "transport"
    title = "智慧交通云"
    operations = {
        "lines": Operation("公交线路查询", LinesInput, Lines, fresh_seconds=86400, stale_seconds=7 * 86400),
        "stops": Operation("公交线路站点", LineInput, Stops, fresh_seconds=86400, stale_seconds=7 * 86400),
        "arrivals": Operation("公交实时到站", ArrivalsInput, Arrivals, fresh_seconds=15, stale_seconds=0),
    }

    def make_signer(self):
        return AppKeyToken(
            store=self.tokens,
            key=f"{self.kind}:{self.name}:{self.settings['app_key']}",
            fetch=self._fetch_token,
            expired=self._token_expired,
        )

    def lines(self, inputs, identity):
        params = {"keyword": inputs["keyword"]} if inputs.get("keyword") else {}
        lines, current, pages, as_of = [], 1, 1, None
        while current <= min(pages, MAX_PAGES):
            body = self._body("/openapi/bus/lines", params | {"current": current})
            page = body["result"]
            lines += [self._line(row) for row in as_records(self.name, page, "records")]
            as_of = as_of or from_epoch(self.name, body.get("timestamp"), millis=True)
            pages, current = as_int(self.name, page.get("pages") or 1, "pages"), current + 1
        return Answer({"lines": lines}, as_of)

    def stops(self, inputs, identity):
        body = self._body("/openapi/bus/line/stations", {"lineNo": inputs["line"]})
        found = body["result"]
        try:
            directions = []
            for direction, field in zip(DIRECTIONS, ("upStations", "downStations"), strict=True):
                rows = sorted(as_records(self.name, found, field), key=lambda row: int(row["stationSeq"]))
                stops = [{"order": int(row["stationSeq"]), "name": str(row["stationName"])} for row in rows]
                if not stops:
                    raise UpstreamBadResponse(self.name, f"stations: {field} is empty")
                directions.append(
                    {"direction": direction, "from": stops[0]["name"], "to": stops[-1]["name"], "stops": stops}
                )
            result = {"line": str(found["lineNo"]), "name": str(found["lineName"]), "directions": directions}
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "stations without their fields") from None
        return Answer(result, from_epoch(self.name, body.get("timestamp"), millis=True))

    def arrivals(self, inputs, identity):
        params = {"lineNo": inputs["line"], "stationName": inputs["stop"]}
        found = self._body("/openapi/bus/realtime", params)["result"]
        approaches: dict[str, dict] = {}
        try:
            for row in as_records(self.name, found, "buses"):
                direction = DIRECTION_OF_FLAG[int(row["direction"])]
                approach = approaches.setdefault(
                    direction, {"direction": direction, "towards": str(row["terminalStation"]), "buses": []}
                )
                approach["buses"].append(
                    {
                        "vehicle": str(row["busPlate"]),
                        "stops_away": int(row["stationsLeft"]),
                        "eta_minutes": int(row["arriveMinutes"]),
                        "distance_m": int(row["distanceLeft"]),
                    }
                )
            result = {"line": str(found["lineNo"]), "stop": str(found["stationName"])}
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "buses without their fields") from None
        for approach in approaches.values():
            approach["buses"].sort(key=lambda bus: bus["stops_away"])
        result["directions"] = [approaches[d] for d in DIRECTIONS if d in approaches]
        return Answer(result, from_epoch(self.name, found.get("gpsTime"), millis=True))

    # -- the twin's manners ---------------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, int]:
        """POST appKey, timestamp, nonce and an HMAC of the three: the secret itself never travels."""
        key, stamp, nonce = self.settings["app_key"], str(int(time.time() * 1000)), uuid.uuid4().hex
        mac = hmac.new(self.settings["app_secret"].encode(), f"{key}{stamp}{nonce}".encode(), hashlib.sha256)
        payload = {"appKey": key, "timestamp": stamp, "nonce": nonce, "signature": mac.hexdigest()}
        response = send(
            self.name,
            "POST",
            f"{self.base_url}/openapi/auth/accessToken",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        body = self.json_of(response)
        if body.get("resultCode") != "0000":
            raise UpstreamRejected(self.name, f"token refused: {str(body.get('resultCode'))[:10]}")
        try:
            return str(body["result"]["accessToken"]), int(body["result"]["expiresIn"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "token answer without accessToken/expiresIn") from None

    @staticmethod
    def _token_expired(status: int, content: bytes) -> bool:
        try:
            body = json.loads(content)
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("resultCode") == "4011"

    def _body(self, path: str, params: dict) -> dict:
        """The whole answer when it succeeded; otherwise the system's refusal, raised."""
        response = self.request("GET", path, params=params)
        body = self.json_of(response)
        code, message = str(body.get("resultCode", "")), str(body.get("resultMsg", ""))[:100]
        if response.status_code == 200 and code == "0000" and isinstance(body.get("result"), dict):
            return body
        if code.startswith("404"):  # 4041 no such line, 4042 the line does not stop there
            raise UpstreamRejected(self.name, f"refused: {code}", public_message=message, reason="not_found")
        if code.startswith("400"):
            raise UpstreamRejected(self.name, f"refused: {code}", public_message=message, reason="invalid")
        if code.startswith("401"):  # our app or token; an operator must look
            raise UpstreamRejected(self.name, f"refused our credentials: {code[:10]}")
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known resultCode")

    def _line(self, row: dict) -> dict:
        try:
            return {
                "line": str(row["lineNo"]),
                "name": str(row["lineName"]),
                "type": "brt" if row["lineType"] == "BRT" else "bus",
                "first_bus": self._hhmm(row["firstTime"]),
                "last_bus": self._hhmm(row["lastTime"]),
                "fare_fen": int(Decimal(str(row["ticketPrice"])) * 100),
                "from": str(row["startStation"]),
                "to": str(row["endStation"]),
            }
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "a line without its fields") from None

    @staticmethod
    def _hhmm(text) -> str:
        return datetime.strptime(str(text), "%H:%M").strftime("%H:%M")
