"""Connector of the environment cloud (智慧环保云): air quality per district, now and over the last day."""

from __future__ import annotations

from datetime import datetime

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import beijing
from integrations.connectors.signing import SignedQuery
from integrations.errors import UpstreamBadResponse, UpstreamRejected

HOUR = "%Y%m%d%H"  # the twin's times: yyyyMMddHH
MAX_PAGES = 10  # a day of hourly readings is two pages; more means the twin is looping
# HJ 633-2012: the AQI bands and their names.
LEVELS = ((50, "优"), (100, "良"), (150, "轻度污染"), (200, "中度污染"), (300, "重度污染"))


def level_of(aqi: int) -> str:
    return next((name for top, name in LEVELS if aqi <= top), "严重污染")


class DistrictInput(ma.Schema):
    district = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9]{6}$"))


class OneDistrictInput(ma.Schema):
    district = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{6}$"))


class Pollutants(ma.Schema):
    pm25 = ma.fields.Integer(required=True)
    pm10 = ma.fields.Integer(required=True)
    so2 = ma.fields.Integer(required=True)
    no2 = ma.fields.Integer(required=True)
    co = ma.fields.Float(required=True)
    o3 = ma.fields.Integer(required=True)


class Reading(ma.Schema):
    district = ma.fields.String(required=True)
    district_name = ma.fields.String(required=True)
    hour = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    aqi = ma.fields.Integer(required=True)
    level = ma.fields.String(required=True)
    primary_pollutant = ma.fields.String(allow_none=True, required=True)
    pollutants = ma.fields.Nested(Pollutants, required=True)


class AirNow(ma.Schema):
    readings = ma.fields.List(ma.fields.Nested(Reading), required=True)


class AirHourly(ma.Schema):
    district = ma.fields.String(required=True)
    readings = ma.fields.List(ma.fields.Nested(Reading), required=True, metadata={"description": "newest first"})


@register
class EnvironmentConnector(Connector):
    kind = "environment"
    title = "智慧环保云"
    operations = {
        "air_quality": Operation(
            "各区县实时空气质量", DistrictInput, AirNow, fresh_seconds=600, stale_seconds=6 * 3600
        ),
        "air_hourly": Operation("区县近24小时空气质量", OneDistrictInput, AirHourly, fresh_seconds=600),
    }

    def make_signer(self):
        return SignedQuery(self.settings["app_key"], self.settings["app_secret"])

    def air_quality(self, inputs, identity):
        params = {"areaCode": inputs["district"]} if inputs.get("district") else {}
        data = self._data("/api/aqi/realtime", params)
        readings = [self._reading(row) for row in data.get("list") or []]
        return Answer({"readings": readings}, beijing(self.name, data.get("publishTime"), HOUR))

    def air_hourly(self, inputs, identity):
        readings, page, pages = [], 1, 1
        while page <= min(pages, MAX_PAGES):
            data = self._data("/api/aqi/hourly", {"areaCode": inputs["district"], "pageNo": page})
            readings += [self._reading(row) for row in data.get("list") or []]
            pages, page = int(data.get("pageCount") or 1), page + 1
        if not readings:
            raise UpstreamBadResponse(self.name, "hourly readings: empty list")
        as_of = datetime.fromisoformat(readings[0]["hour"])
        return Answer({"district": inputs["district"], "readings": readings}, as_of)

    # The twin's manners: HTTP 200 always, "status": "1" for success, "0" with an infocode otherwise.
    def _data(self, path: str, params: dict) -> dict:
        body = self.json_of(self.request("GET", path, params=params))
        if body.get("status") == "1" and isinstance(body.get("data"), dict):
            return body["data"]
        code, info = str(body.get("infocode", "")), str(body.get("info", ""))[:100]
        if code.startswith("2"):  # 2xxxx: the question was wrong (an unknown district)
            raise UpstreamRejected(self.name, f"refused: {code}", public_message=info, reason="not_found")
        if code.startswith("1"):  # 1xxxx: our credentials or signature; an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}")
        raise UpstreamBadResponse(self.name, "answer without a known status")

    def _reading(self, row: dict) -> dict:
        try:
            aqi = int(row["AQI"])
            primary = row.get("primaryPollutant")
            return {
                "district": row["areaCode"],
                "district_name": row["areaName"],
                "hour": beijing(self.name, row["monitorTime"], HOUR).isoformat(),
                "aqi": aqi,
                "level": level_of(aqi),
                "primary_pollutant": None if primary in (None, "", "—", "-") else primary,
                "pollutants": {
                    "pm25": int(row["PM2_5"]),
                    "pm10": int(row["PM10"]),
                    "so2": int(row["SO2"]),
                    "no2": int(row["NO2"]),
                    "co": float(row["CO"]),
                    "o3": int(row["O3"]),
                },
            }
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "a reading without its fields") from None
