"""Connector of the city management cloud (智慧城管云): how a reported city management case is getting on."""

from __future__ import annotations

import json

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import beijing
from integrations.connectors.signing import AppKeyToken
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.http import send

TIME_FORMAT = "%Y/%m/%d %H:%M"
EXPIRED_CODE = "-2"  # the twin's "token失效"
# The twin's case states, from report to closing.
STATUSES = {
    "01": "reported",
    "02": "registered",
    "03": "dispatched",
    "04": "handling",
    "05": "handled",
    "06": "closed",
}


class CaseInput(ma.Schema):
    case_no = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^CG[0-9]{10}$", error="案件编号应为CG加10位数字"),
        metadata={"description": "数字城管案件编号, e.g. CG2026110087"},
    )


class CaseStep(ma.Schema):
    at = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    unit = ma.fields.String(required=True)
    action = ma.fields.String(required=True)


class CityCase(ma.Schema):
    case_no = ma.fields.String(required=True)
    category = ma.fields.String(required=True, metadata={"description": "e.g. 井盖破损, 占道经营"})
    category_group = ma.fields.String(required=True, metadata={"description": "e.g. 市政设施, 街面秩序"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES.values()))
    status_name = ma.fields.String(required=True)
    reported_at = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    address = ma.fields.String(required=True, metadata={"description": "where, a street (not a person's address)"})
    steps = ma.fields.List(ma.fields.Nested(CaseStep), required=True, metadata={"description": "oldest first"})


@register
class CityManagementConnector(Connector):
    kind = "city_management"
    title = "智慧城管云"
    operations = {
        "case_progress": Operation("城管案件办理进度", CaseInput, CityCase, fresh_seconds=120, stale_seconds=3600),
    }

    def make_signer(self):
        key = f"{self.kind}:{self.name}:{self.settings['app_key']}"
        return AppKeyToken(self.tokens, key, self._fetch_token, self._token_expired, header="X-Access-Token", scheme="")

    def case_progress(self, inputs, identity):
        data = self._data(self.request("GET", "/api/case/progress", params={"caseNo": inputs["case_no"]}))
        try:
            status = STATUSES[str(data["caseState"])]
            result = {
                "case_no": str(data["caseNo"]),
                "category": str(data["smallClassName"]),
                "category_group": str(data["bigClassName"]),
                "status": status,
                "status_name": str(data["caseStateName"]),
                "reported_at": beijing(self.name, data["reportTime"], TIME_FORMAT).isoformat(),
                "address": str(data["position"]),
                "steps": [
                    {
                        "at": beijing(self.name, row["procTime"], TIME_FORMAT).isoformat(),
                        "unit": str(row["deptName"]),
                        "action": str(row["procDesc"]),
                    }
                    for row in data["procList"]
                ],
            }
            as_of = beijing(self.name, data["queryTime"], TIME_FORMAT)
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "case: an answer without its fields") from None
        return Answer(result, as_of)

    # -- the twin's manners: HTTP 200 always, resultCode "0" for success -------------------------

    def _data(self, response) -> dict:
        body = self.json_of(response)
        code, message = str(body.get("resultCode", "")), str(body.get("resultMsg") or "")[:100]
        if code == "0" and isinstance(body.get("data"), dict):
            return body["data"]
        if code == "1001":
            raise UpstreamRejected(self.name, "no such case", public_message=message, reason="not_found")
        if code == "1002":
            raise UpstreamRejected(self.name, "malformed question", public_message=message, reason="invalid")
        if code in ("-1", EXPIRED_CODE):  # our credentials, or a token refused even when fresh: for an operator
            raise UpstreamRejected(self.name, f"refused our credentials: {code}")
        raise UpstreamBadResponse(self.name, f"answer without a known resultCode ({code[:10]!r})")

    def _fetch_token(self) -> tuple[str, int]:
        # The twin wants the key and secret in the query string (integrations.http keeps queries out of logs).
        credentials = {"appKey": self.settings["app_key"], "appSecret": self.settings["app_secret"]}
        response = send(self.name, "GET", f"{self.base_url}/auth/accessToken", params=credentials, timeout=self.timeout)
        data = self._data(response)
        try:
            return str(data["accessToken"]), int(data["expiresIn"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "token: an answer without accessToken/expiresIn") from None

    @staticmethod
    def _token_expired(status: int, body: bytes) -> bool:
        try:
            return json.loads(body).get("resultCode") == EXPIRED_CODE
        except (ValueError, AttributeError):
            return False
