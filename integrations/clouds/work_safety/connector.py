"""Connector of the work safety cloud (智慧安监云, 安监局): is a special operation certificate genuine and valid."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import marshmallow as ma
import requests

from app.security.pii import mask_name
from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.signing import SignedQuery
from integrations.errors import UpstreamBadResponse, UpstreamRejected

BEIJING = timezone(timedelta(hours=8))
STATES = {"ACTIVE": ("valid", "有效"), "EXPIRED": ("expired", "已过期"), "REVOKED": ("revoked", "已注销")}
# The department's refusals of our credentials: an operator must look, citizens see no detail.
CREDENTIAL_CODES = {"INVALID_CLIENT", "INVALID_TIMESTAMP", "SIGNATURE_MISMATCH", "NONCE_REUSED"}


class CertificateInput(ma.Schema):
    cert_no = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^TZ[0-9]{10}$"))


class Certificate(ma.Schema):
    cert_no = ma.fields.String(required=True)
    holder = ma.fields.String(required=True, metadata={"description": "the holder's name, masked: 张*"})
    operation_type = ma.fields.String(required=True, metadata={"description": "作业类别, e.g. 电工作业"})
    operation_item = ma.fields.String(required=True, metadata={"description": "操作项目, e.g. 低压电工作业"})
    issued_on = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(required=True)
    review_due = ma.fields.Date(required=True, metadata={"description": "复审日期"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["valid", "expired", "revoked"]))
    status_name = ma.fields.String(required=True)
    issuer = ma.fields.String(required=True)


@register
class WorkSafetyConnector(Connector):
    kind = "work_safety"
    title = "智慧安监云"
    operations = {
        "certificate": Operation(
            "特种作业操作证查询", CertificateInput, Certificate, fresh_seconds=3600, stale_seconds=86400
        ),
    }

    def make_signer(self):
        return SignedQuery(self.settings["app_key"], self.settings["app_secret"], app_id_param="client_id")

    def certificate(self, inputs, identity):
        row = self._object(self.request("GET", "/v1/certificates/verify", params={"certNo": inputs["cert_no"]}))
        try:
            status, status_name = STATES[row["certState"]]
            result = {
                "cert_no": row["certNo"],
                "holder": mask_name(row["holderName"]),
                "operation_type": row["workType"],
                "operation_item": row["workItem"],
                "issued_on": self._day(row["issueDate"]),
                "valid_until": self._day(row["validUntil"]),
                "review_due": self._day(row["nextReviewDate"]),
                "status": status,
                "status_name": status_name,
                "issuer": row["issuingAuthority"],
            }
            as_of = datetime.strptime(row["queryTime"], "%Y/%m/%d %H:%M:%S").replace(tzinfo=BEIJING)
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "certificate: an answer without its fields") from None
        return Answer(result, as_of)

    # The twin's manners: the object itself on success, HTTP 4xx with {"error": {"code", "message"}} otherwise.
    def _object(self, response: requests.Response) -> dict:
        body = self.json_of(response)
        if response.status_code == 200:
            return body
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        if response.status_code == 404 and code == "CERTIFICATE_NOT_FOUND":
            raise UpstreamRejected(
                self.name, "no such certificate", public_message="未查询到该证书信息", reason="not_found"
            )
        if response.status_code == 400 and code == "INVALID_ARGUMENT":
            raise UpstreamRejected(
                self.name, "malformed question", public_message="证书编号格式不正确", reason="invalid"
            )
        if response.status_code == 401 and code in CREDENTIAL_CODES:
            raise UpstreamRejected(self.name, f"refused our signature: {code}", response.status_code)
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known error", response.status_code)

    @staticmethod
    def _day(text: str) -> str:
        return datetime.strptime(text, "%Y/%m/%d").date().isoformat()
