"""Connector of the city services cloud (城市服务云): 12345 hotline work orders and guides to procedures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from app.clock import CITY_TZ
from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.signing import HmacHeaders
from integrations.errors import UpstreamBadResponse, UpstreamRejected

PAGE_SIZE = 5  # the twin's largest page
MAX_PAGES = 10  # fifty guides for one keyword; more means the twin is looping
CATEGORIES = ("咨询", "投诉", "建议", "求助")
# The hotline's work order states, from the call to the follow-up call.
STATUSES = {"1": "accepted", "2": "assigned", "3": "handling", "4": "replied", "5": "closed"}


class HotlineCaseInput(ma.Schema):
    case_no = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^ZZ[0-9]{10}$", error="工单编号应为ZZ加10位数字"),
        metadata={"description": "12345工单编号, e.g. ZZ2026112001"},
    )


class GuideInput(ma.Schema):
    keyword = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=20), ma.validate.Regexp(r"\S", error="关键词不能为空")],
        metadata={"description": "e.g. 身份证, 公积金, 营业执照"},
    )


class HotlineStep(ma.Schema):
    at = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    unit = ma.fields.String(required=True)
    action = ma.fields.String(required=True)


class HotlineCase(ma.Schema):
    case_no = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES.values()))
    status_name = ma.fields.String(required=True)
    accepted_at = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    replied_at = ma.fields.String(required=True, allow_none=True, metadata={"description": "null until answered"})
    handling_unit = ma.fields.String(required=True)
    steps = ma.fields.List(ma.fields.Nested(HotlineStep), required=True, metadata={"description": "oldest first"})


class ProcedureGuide(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    department = ma.fields.String(required=True)
    conditions = ma.fields.String(required=True)
    materials = ma.fields.List(ma.fields.String(), required=True)
    time_limit_days = ma.fields.Integer(required=True, metadata={"description": "working days; 0 = on the spot"})
    fee_fen = ma.fields.Integer(required=True)
    where = ma.fields.String(required=True)
    online = ma.fields.Boolean(required=True)


class ProcedureGuides(ma.Schema):
    keyword = ma.fields.String(required=True)
    items = ma.fields.List(ma.fields.Nested(ProcedureGuide), required=True, metadata={"description": "may be empty"})


@register
class CityServicesConnector(Connector):
    kind = "city_services"
    title = "城市服务云"
    operations = {
        "case_progress": Operation(
            "12345热线工单进度", HotlineCaseInput, HotlineCase, fresh_seconds=120, stale_seconds=3600
        ),
        "procedure_guide": Operation(
            "办事指南查询", GuideInput, ProcedureGuides, fresh_seconds=3600, stale_seconds=7 * 86400
        ),
    }

    def make_signer(self):
        return HmacHeaders(self.settings["app_key"], self.settings["app_secret"], prefix="X-Zw")

    def case_progress(self, inputs, identity):
        body, as_of = self._body("/zwfw/12345/gd/detail", {"gdbh": inputs["case_no"]})
        try:
            status = STATUSES[str(body["gdzt"])]
            result = {
                "case_no": str(body["gdbh"]),
                "title": str(body["bt"]),
                "category": str(body["sqlx"]),
                "status": status,
                "status_name": str(body["gdztmc"]),
                "accepted_at": _moment(body["slsj"]).isoformat(),
                "replied_at": None if body.get("hfsj") is None else _moment(body["hfsj"]).isoformat(),
                "handling_unit": str(body["cbdw"]),
                "steps": [
                    {"at": _moment(row["czsj"]).isoformat(), "unit": str(row["czdw"]), "action": str(row["czms"])}
                    for row in body["lzjl"]
                ],
            }
        except (KeyError, TypeError, ValueError, OverflowError, OSError):
            raise UpstreamBadResponse(self.name, "work order: an answer without its fields") from None
        return Answer(result, as_of)

    def procedure_guide(self, inputs, identity):
        keyword = inputs["keyword"].strip()
        items, cursor, as_of = [], "", None
        for _ in range(MAX_PAGES):
            params = {"kw": keyword, "size": str(PAGE_SIZE)} | ({"cursor": cursor} if cursor else {})
            body, stamp = self._body("/zwfw/guide/search", params)
            as_of = as_of or stamp
            try:
                items += [self._guide(row) for row in body["items"]]
            except (KeyError, TypeError, ValueError, InvalidOperation):
                raise UpstreamBadResponse(self.name, "guides: an item without its fields") from None
            cursor = body.get("nextCursor")
            if not cursor:
                break
        return Answer({"keyword": keyword, "items": items}, as_of)

    # -- the twin's manners ----------------------------------------------------------------------

    def _body(self, path: str, params: dict) -> tuple[dict, datetime]:
        """The `body` of a successful answer and the head's respTime; the twin's rtnCodes as our errors."""
        response = self.request("GET", path, params=params)
        answer = self.json_of(response)
        head = answer.get("head") if isinstance(answer.get("head"), dict) else {}
        code, message = str(head.get("rtnCode", "")), str(head.get("rtnMsg") or "")[:100]
        if response.status_code == 200 and code == "000000" and isinstance(answer.get("body"), dict):
            try:
                return answer["body"], _moment(head["respTime"])
            except (KeyError, TypeError, ValueError, OverflowError, OSError):
                raise UpstreamBadResponse(self.name, "respTime not in epoch millis") from None
        if code == "ZW1404":
            raise UpstreamRejected(self.name, "no such work order", public_message=message, reason="not_found")
        if code == "ZW1400":
            raise UpstreamRejected(self.name, "malformed question", public_message=message, reason="invalid")
        if code.startswith("ZW04"):  # our key, signature, clock or a replayed nonce: an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}", response.status_code)
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known rtnCode")

    def _guide(self, row: dict) -> dict:
        unit = str(row["cnsxdw"])
        if unit not in ("工作日", "即办"):
            raise ValueError("time limit in an unknown unit")
        return {
            "code": str(row["sxbm"]),
            "name": str(row["sxmc"]),
            "department": str(row["ssbm"]),
            "conditions": str(row["sltj"]),
            "materials": [str(material["clmc"]) for material in row["sqcl"]],
            "time_limit_days": 0 if unit == "即办" else int(row["cnsx"]),
            "fee_fen": int((Decimal(str(row["sfje"])) * 100).to_integral_value()) if row["sfsf"] == "是" else 0,
            "where": str(row["bldd"]),
            "online": row["wsbl"] == "Y",
        }


def _moment(millis) -> datetime:
    if isinstance(millis, bool) or not isinstance(millis, int):
        raise TypeError("epoch millis expected")
    return datetime.fromtimestamp(millis / 1000, CITY_TZ)
