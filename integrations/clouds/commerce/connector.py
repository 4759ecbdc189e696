"""Connector of the commerce cloud (智慧商务云, 商务局): before buying a prepaid card, is the merchant filed,
how much of the money is held in custody, and is there a warning about it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import InvalidOperation

import marshmallow as ma
import requests

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import yuan_to_fen
from integrations.connectors.signing import SignedQuery
from integrations.errors import UpstreamBadResponse, UpstreamRejected

BEIJING = timezone(timedelta(hours=8))
# GB 32100-2015's shape: registering authority and kind, region, then the organisation code and check.
CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
RISK_LEVELS = {"0": ("none", "无风险"), "1": ("notice", "风险提示"), "2": ("warning", "风险预警")}
CREDENTIAL_CODES = {"100001", "100002", "100003", "100004"}  # appId, signature, timestamp, nonce


class MerchantInput(ma.Schema):
    credit_code = ma.fields.String(required=True, validate=ma.validate.Regexp(CREDIT_CODE))

    @ma.pre_load
    def tidy(self, data, **kwargs):
        # Codes are printed in capitals; one typed in lower case or with spaces is the same code.
        code = data.get("credit_code")
        return {**data, "credit_code": "".join(code.split()).upper()} if isinstance(code, str) else data


class Merchant(ma.Schema):
    merchant_name = ma.fields.String(required=True)
    credit_code = ma.fields.String(required=True)
    filed = ma.fields.Boolean(required=True, metadata={"description": "whether its prepaid cards are filed (备案)"})
    filing_no = ma.fields.String(required=True, allow_none=True)
    industry = ma.fields.String(required=True, allow_none=True, metadata={"description": "e.g. 美容美发, 健身"})
    custody_deposit_fen = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "存管资金"})
    prepaid_balance_fen = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "预收余额: cards sold and not yet spent"}
    )
    risk_level = ma.fields.String(
        required=True, allow_none=True, validate=ma.validate.OneOf([level for level, _ in RISK_LEVELS.values()])
    )
    risk_level_name = ma.fields.String(required=True, allow_none=True)
    complaints_last_12_months = ma.fields.Integer(required=True, allow_none=True)


@register
class CommerceConnector(Connector):
    kind = "commerce"
    title = "智慧商务云"
    operations = {
        "prepaid_merchant": Operation(
            "预付卡商家备案查询", MerchantInput, Merchant, fresh_seconds=3600, stale_seconds=86400
        ),
    }

    def make_signer(self):
        return SignedQuery(self.settings["app_key"], self.settings["app_secret"], app_id_param="appId")

    def prepaid_merchant(self, inputs, identity):
        row = self._body(self.request("GET", "/yfk/merchant/queryByUscc", params={"uscc": inputs["credit_code"]}))
        try:
            filed = {"1": True, "0": False}[row["filingStatus"]]
            risk = RISK_LEVELS[row["riskLevel"]] if row.get("riskLevel") is not None else (None, None)
            if filed and (risk[0] is None or row.get("filingNo") is None):
                raise ValueError("a filed merchant without its filing")
            result = {
                "merchant_name": row["merchantName"],
                "credit_code": row["uscc"],
                "filed": filed,
                "filing_no": row.get("filingNo"),
                "industry": row.get("industryName"),
                "custody_deposit_fen": self._fen(row.get("custodyAmt")),
                "prepaid_balance_fen": self._fen(row.get("prepaidBalance")),
                "risk_level": risk[0],
                "risk_level_name": risk[1],
                "complaints_last_12_months": None if row.get("complaintCnt") is None else int(row["complaintCnt"]),
            }
            as_of = datetime.strptime(row["statTime"], "%Y%m%d%H%M%S").replace(tzinfo=BEIJING)
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "prepaid_merchant: an answer without its fields") from None
        return Answer(result, as_of)

    # The twin's manners: rtnCode "000000" with a body; 1000xx (HTTP 403) for our credentials.
    def _body(self, response: requests.Response) -> dict:
        answer = self.json_of(response)
        code = str(answer.get("rtnCode", ""))
        if code == "000000" and isinstance(answer.get("body"), dict):
            return answer["body"]
        if code == "300001":
            raise UpstreamRejected(
                self.name, "no such merchant", public_message="未查询到该商户信息", reason="not_found"
            )
        if code in ("200001", "200002"):
            raise UpstreamRejected(
                self.name, f"malformed credit code ({code})", public_message="统一社会信用代码有误", reason="invalid"
            )
        if code in CREDENTIAL_CODES:  # an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}", response.status_code)
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known rtnCode")

    def _fen(self, yuan) -> int | None:
        return None if yuan is None else yuan_to_fen(self.name, yuan)
