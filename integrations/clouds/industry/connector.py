"""Connector of the industry cloud (智慧工业云, 经信委): how far an enterprise's subsidy application has come."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import marshmallow as ma
import requests

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import from_epoch
from integrations.connectors.signing import HmacHeaders
from integrations.errors import UpstreamBadResponse, UpstreamRejected

FEN_PER_WAN = Decimal(1_000_000)  # amounts come in 万元
STAGES = {  # the twin's node codes → our stage and its words for the applicant
    "01": ("submitted", "已申报"),
    "02": ("district_review", "区（市）初审"),
    "03": ("city_review", "市级评审"),
    "04": ("publicity", "公示"),
    "05": ("approved", "已批复"),
    "06": ("paid", "已拨付"),
    "99": ("rejected", "未通过"),
}


class ApplicationInput(ma.Schema):
    application_no = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^JG[0-9]{10}$"))


class Step(ma.Schema):
    stage = ma.fields.String(required=True)
    stage_name = ma.fields.String(required=True)
    done_at = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    note = ma.fields.String(required=True, allow_none=True, metadata={"description": "the reviewer's opinion"})


class SubsidyProgress(ma.Schema):
    application_no = ma.fields.String(required=True)
    enterprise = ma.fields.String(required=True)
    project = ma.fields.String(required=True)
    amount_requested_fen = ma.fields.Integer(required=True)
    amount_approved_fen = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "set once the city's review has passed it"}
    )
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf([stage for stage, _ in STAGES.values()]))
    stage_name = ma.fields.String(required=True)
    steps = ma.fields.List(ma.fields.Nested(Step), required=True, metadata={"description": "oldest first"})


@register
class IndustryConnector(Connector):
    kind = "industry"
    title = "智慧工业云"
    operations = {
        "subsidy_progress": Operation(
            "工业专项资金申报进度", ApplicationInput, SubsidyProgress, fresh_seconds=600, stale_seconds=86400
        ),
    }

    def make_signer(self):
        return HmacHeaders(self.settings["app_key"], self.settings["app_secret"], prefix="X-Gxw")

    def subsidy_progress(self, inputs, identity):
        response = self.request("POST", "/gateway/subsidy/progress", json_body={"apply_no": inputs["application_no"]})
        row = self._payload(response)
        try:
            stage, stage_name = STAGES[row["current_node"]]
            approved = row.get("approved_amount_wan")
            result = {
                "application_no": row["apply_no"],
                "enterprise": row["enterprise_name"],
                "project": row["project_name"],
                "amount_requested_fen": self._fen(row["apply_amount_wan"]),
                "amount_approved_fen": None if approved is None else self._fen(approved),
                "stage": stage,
                "stage_name": stage_name,
                "steps": [self._step(node) for node in row["nodes"]],
            }
            as_of = from_epoch(self.name, row["server_time"])
        except (KeyError, TypeError, ValueError, InvalidOperation, OverflowError, OSError):
            raise UpstreamBadResponse(self.name, "subsidy_progress: an answer without its fields") from None
        return Answer(result, as_of)

    # The twin's manners: "status": "ok" with a payload; GXW401x (HTTP 401) for our credentials.
    def _payload(self, response: requests.Response) -> dict:
        body = self.json_of(response)
        if body.get("status") == "ok" and isinstance(body.get("payload"), dict):
            return body["payload"]
        code = str(body.get("error_code", ""))
        if code == "GXW4041":
            raise UpstreamRejected(
                self.name, "no such application", public_message="未查询到该申报信息", reason="not_found"
            )
        if code == "GXW4001":
            raise UpstreamRejected(self.name, "malformed question", public_message="申报编号格式错误", reason="invalid")
        if response.status_code == 401 and code.startswith("GXW401"):  # an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}", response.status_code)
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known status")

    def _step(self, node: dict) -> dict:
        stage, stage_name = STAGES[node["node_code"]]
        return {
            "stage": stage,
            "stage_name": stage_name,
            "done_at": from_epoch(self.name, node["finish_time"]).isoformat(),
            "note": node.get("opinion") or None,
        }

    @staticmethod
    def _fen(wan) -> int:
        fen = Decimal(str(wan)) * FEN_PER_WAN
        if not fen.is_finite() or fen != fen.to_integral_value():
            raise ValueError("an amount that is not whole fen")
        return int(fen)
