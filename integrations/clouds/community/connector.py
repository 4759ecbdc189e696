"""Connector of the community cloud (智慧社区云): the community directory and property fee accounts."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from app.clock import CITY_TZ
from app.security.pii import mask_name
from integrations.connectors.base import (
    Answer,
    Connector,
    Operation,
    VerifiedAccount,
    WriteOffInput,
    WriteOffReceipt,
    register,
)
from integrations.connectors.parsing import beijing, write_off_receipt
from integrations.connectors.signing import SignedQuery
from integrations.errors import UpstreamBadResponse, UpstreamRejected

PAGE_SIZE = 10  # the twin's largest page
MAX_PAGES = 10  # a hundred communities; more means the twin is looping
BILL_STATES = {"未缴": "unpaid", "已缴": "paid", "逾期": "overdue"}
TIME = "%Y-%m-%d %H:%M:%S"  # the twin's serverTime, gxsj, jfsj and xzsj
PAY_WAYS = {"wechat": "微信", "alipay": "支付宝"}  # zffs
# The property company's write-off refusals: it will not take this payment (the citizen is refunded).
# ACCOUNT_NOT_FOUND: the account is gone since it was bound.
WRITE_OFF_REFUSALS = {
    "ACCOUNT_NOT_FOUND": "account not found",
    "BILL_NOT_FOUND": "a bill not found",
    "BILL_ALREADY_PAID": "a bill already paid",
    "AMOUNT_MISMATCH": "amount is not what the bills owe",
    "SERIAL_REUSED": "payment serial used for other bills or amount",
}
PROPERTY_ACCOUNT = ma.fields.String(
    required=True,
    validate=ma.validate.Regexp(r"^[A-Za-z]{2}[0-9]{4,10}$", error="物业账户编号应为2位字母加数字"),
    metadata={"description": "property account (物业账户), e.g. GM0302501"},
)


class CommunitiesInput(ma.Schema):
    district = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^[0-9]{6}$"))


class PropertyAccountInput(ma.Schema):
    account_no = PROPERTY_ACCOUNT


class PropertyVerifyInput(ma.Schema):
    account_no = PROPERTY_ACCOUNT
    holder_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))


class CommunityEntry(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.String(required=True)
    district_name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    office_phone = ma.fields.String(required=True)
    property_company = ma.fields.String(required=True)
    property_hotline = ma.fields.String(required=True)


class CommunityDirectory(ma.Schema):
    district = ma.fields.String(required=True, allow_none=True)
    communities = ma.fields.List(ma.fields.Nested(CommunityEntry), required=True)


class PropertyBill(ma.Schema):
    bill_id = ma.fields.String(required=True)
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    amount_fen = ma.fields.Integer(required=True)
    due_date = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(BILL_STATES.values()))


class PropertyBills(ma.Schema):
    account_no = ma.fields.String(required=True)
    holder = ma.fields.String(required=True, metadata={"description": "masked: 张*"})
    address = ma.fields.String(required=True, metadata={"description": "masked: digits hidden"})
    community = ma.fields.String(required=True)
    community_code = ma.fields.String(required=True)
    property_company = ma.fields.String(required=True)
    property_hotline = ma.fields.String(required=True)
    bills = ma.fields.List(ma.fields.Nested(PropertyBill), required=True, metadata={"description": "newest first"})
    arrears_fen = ma.fields.Integer(required=True)


def masked_address(text: str) -> str:
    return re.sub(r"[0-9]", "*", text)


@register
class CommunityConnector(Connector):
    kind = "community"
    title = "智慧社区云"
    operations = {
        "communities": Operation(
            "社区及物业名录", CommunitiesInput, CommunityDirectory, fresh_seconds=86400, stale_seconds=7 * 86400
        ),
        "property_bills": Operation(
            "物业费账单",
            PropertyAccountInput,
            PropertyBills,
            fresh_seconds=300,
            stale_seconds=86400,
            account="property",
        ),
        "verify_property_account": Operation("核验物业账户", PropertyVerifyInput, VerifiedAccount, internal=True),
        "write_off": Operation(
            "物业费缴费销账", WriteOffInput, WriteOffReceipt, idempotent=True, internal=True, fresh_seconds=0
        ),
    }
    accounts = {"property": "verify_property_account"}
    bills = {"property": "property_bills"}

    def make_signer(self):
        return SignedQuery(self.settings["app_key"], self.settings["app_secret"], app_id_param="app_key")

    def communities(self, inputs, identity):
        district = inputs.get("district")
        entries, offset, total, as_of = [], 0, 1, None
        for _ in range(MAX_PAGES):
            if offset >= total:
                break
            params = {"offset": str(offset), "limit": str(PAGE_SIZE)} | ({"qxdm": district} if district else {})
            result, _ = self._result("GET", "/open/v1/communities", params=params)
            try:
                rows = result["rows"]
                entries += [self._community(row) for row in rows]
                total, offset = int(result["total"]), offset + len(rows)
                as_of = as_of or beijing(self.name, result["gxsj"], TIME)
            except (KeyError, TypeError, ValueError):
                raise UpstreamBadResponse(self.name, "communities: a page without its fields") from None
            if not rows:
                break
        return Answer({"district": district, "communities": entries}, as_of)

    def property_bills(self, inputs, identity):
        result, as_of = self._result("GET", "/open/v1/property/bills", params={"zhbh": inputs["account_no"].upper()})
        try:
            answer = {
                "account_no": str(result["zhbh"]),
                "holder": mask_name(str(result["yzxm"])),
                "address": masked_address(str(result["fwdz"])),
                "community": str(result["sqmc"]),
                "community_code": str(result["sqbm"]),
                "property_company": str(result["wygs"]),
                "property_hotline": str(result["wyrx"]),
                "bills": [self._bill(row) for row in result["zdlb"]],
                "arrears_fen": _fen(result["qfze"]),
            }
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "property bills: an answer without its fields") from None
        return Answer(answer, as_of)

    def verify_property_account(self, inputs, identity):
        body = {"zhbh": inputs["account_no"].upper(), "yzxm": inputs["holder_name"]}
        result, as_of = self._result("POST", "/open/v1/property/owner/check", json_body=body)
        try:
            answer = {
                "account_no": str(result["zhbh"]),
                "holder": mask_name(str(result["yzxm"])),
                "label": masked_address(str(result["fwdz"])),
            }
        except (KeyError, TypeError):
            raise UpstreamBadResponse(self.name, "owner check: an answer without its fields") from None
        return Answer(answer, as_of)

    def write_off(self, inputs, identity):
        if inputs["kind"] not in self.bills:
            raise ValueError(f"{self.kind}.write_off: no bills of kind {inputs['kind']!r}")
        body = {
            "zhbh": inputs["account_no"].upper(),
            "zdbh": list(inputs["bill_ids"]),
            # The twin's yuan are JSON numbers; fen / 100 as a float prints as its shortest decimal, which is
            # exactly the two places (below 2**53 fen).
            "jfje": inputs["amount_fen"] / 100,
            "jylsh": inputs["payment_id"],
            "zffs": PAY_WAYS[inputs["channel"]],
            "zfdh": inputs["transaction_id"],
            "jfsj": f"{inputs['paid_at'].astimezone(CITY_TZ):{TIME}}",
        }
        # Not a read, yet safe to retry: the property company de-duplicates by jylsh, so a write-off sent again
        # after a lost answer gets the first receipt and pays nothing twice.
        result, as_of = self._result(
            "POST", "/open/v1/property/payment/writeoff", json_body=body, idempotent=True, refusals=WRITE_OFF_REFUSALS
        )
        receipt = write_off_receipt(
            self.name, result, inputs["payment_id"], echo="jylsh", number="xzdh", at="xzsj", fmt=TIME
        )
        return Answer(receipt, as_of)

    # -- the twin's manners ----------------------------------------------------------------------

    def _result(self, method: str, path: str, *, refusals: dict | None = None, **kwargs) -> tuple[dict, datetime]:
        """The `result` of a successful answer and its serverTime; the twin's refusals as our errors, those in
        `refusals` (errCode → why, for the log) as its refusing a payment for good. Its own trouble (HTTP 5xx,
        SYSTEM_BUSY among them) is UpstreamUnavailable, raised by `send`."""
        response = self.request(method, path, **kwargs)
        body = self.json_of(response)
        if response.status_code == 200 and body.get("success") is True and isinstance(body.get("result"), dict):
            return body["result"], beijing(self.name, body.get("serverTime"), TIME)
        status, code = response.status_code, str(body.get("errCode", ""))
        message = str(body.get("errMsg") or "")[:100]
        if refusals and 400 <= status < 500 and code in refusals:
            raise UpstreamRejected(self.name, refusals[code], status, public_message=message, reason="rejected")
        if status == 404 and code.endswith("NOT_FOUND"):
            raise UpstreamRejected(self.name, f"refused: {code}", status, public_message=message, reason="not_found")
        if status == 403 and code == "OWNER_MISMATCH":
            raise UpstreamRejected(self.name, f"refused: {code}", status, public_message=message, reason="forbidden")
        if status == 400 and code == "PARAM_INVALID":
            raise UpstreamRejected(self.name, f"refused: {code}", status, public_message=message, reason="invalid")
        if status == 401 and code.startswith("AUTH_"):  # our key, signature or clock: an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}", status)
        raise UpstreamBadResponse(self.name, f"HTTP {status} without a known answer")

    def _community(self, row: dict) -> dict:
        fields = ("sqbm", "sqmc", "qxdm", "qxmc", "dz", "bgdh", "wygs", "wyrx")
        names = ("code", "name", "district", "district_name", "address", "office_phone", "property_company")
        return dict(zip((*names, "property_hotline"), (str(row[field]) for field in fields), strict=True))

    def _bill(self, row: dict) -> dict:
        status = BILL_STATES.get(str(row["jfzt"]))
        if status is None:
            raise ValueError("unknown jfzt")
        return {
            "bill_id": str(row["zdbh"]),
            "period": datetime.strptime(str(row["zdqj"]), "%Y-%m").strftime("%Y-%m"),
            "amount_fen": _fen(row["yjje"]),
            "due_date": datetime.strptime(str(row["jzrq"]), "%Y-%m-%d").date().isoformat(),
            "status": status,
        }


def _fen(yuan) -> int:
    # Through str: the twin's yuan are JSON numbers, and 0.1 as a float is not quite a tenth.
    return int((Decimal(str(yuan)) * 100).to_integral_value())
