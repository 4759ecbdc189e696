"""Connector of the energy cloud (智慧节能云): the water, power and gas companies' bills, use and accounts."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

import marshmallow as ma

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
from integrations.connectors.parsing import BEIJING, beijing, fen_to_yuan, write_off_receipt
from integrations.connectors.signing import AppKeyToken
from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamUnavailable
from integrations.http import send

MAX_PAGES = 10  # a year of use is three pages of five; more means the twin is looping
UTILITIES = ("water", "power", "gas")
BIZ_TYPES = {"water": "SW", "power": "DL", "gas": "RQ"}  # the twin's codes for its lines of business
ACCOUNT_DIGITS = {"water": 8, "power": 10, "gas": 11}
BILL_STATES = {"0": "unpaid", "1": "paid", "2": "overdue"}
STAMP = "%Y%m%d%H%M%S"  # the company's payTime and writeOffTime
PAY_CHANNELS = {"wechat": "WX", "alipay": "ZFB"}
# The company's write-off refusals: it will not take this payment (the citizen is refunded). 2001: the
# account is gone since it was bound.
WRITE_OFF_REFUSALS = {
    2001: "account not found",
    3001: "a bill not found",
    3002: "a bill already paid",
    3003: "amount is not what the bills owe",
    3004: "payment number used for other bills or amount",
}
BUSY = 9999  # 系统繁忙
HOLDER_NAME = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))


def _account_no(utility: str) -> ma.fields.String:
    digits = ACCOUNT_DIGITS[utility]
    return ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(rf"^[0-9]{{{digits}}}$", error=f"户号应为{digits}位数字"),
        metadata={"description": f"{digits}-digit account number (户号)"},
    )


class WaterAccountInput(ma.Schema):
    account_no = _account_no("water")


class PowerAccountInput(ma.Schema):
    account_no = _account_no("power")


class GasAccountInput(ma.Schema):
    account_no = _account_no("gas")


class WaterVerifyInput(WaterAccountInput):
    holder_name = HOLDER_NAME


class PowerVerifyInput(PowerAccountInput):
    holder_name = HOLDER_NAME


class GasVerifyInput(GasAccountInput):
    holder_name = HOLDER_NAME


class UsageInput(ma.Schema):
    utility = ma.fields.String(required=True, validate=ma.validate.OneOf(UTILITIES))
    account_no = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{8,11}$"))

    @ma.validates_schema
    def _number_fits_the_utility(self, data, **kwargs):
        digits = ACCOUNT_DIGITS.get(data.get("utility"))
        if digits and len(data.get("account_no", "")) != digits:
            raise ma.ValidationError(f"户号应为{digits}位数字", "account_no")


class UtilityUsage(ma.Schema):
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    amount = ma.fields.Float(required=True)
    unit = ma.fields.String(required=True, metadata={"description": "吨, 千瓦时 or 立方米"})


class UtilityBill(ma.Schema):
    bill_id = ma.fields.String(required=True)
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    amount_fen = ma.fields.Integer(required=True)
    late_fee_fen = ma.fields.Integer(required=True)
    due_date = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(BILL_STATES.values()))


class UtilityBills(ma.Schema):
    utility = ma.fields.String(required=True, validate=ma.validate.OneOf(UTILITIES))
    company = ma.fields.String(required=True)
    account_no = ma.fields.String(required=True)
    holder = ma.fields.String(required=True, metadata={"description": "masked: 张*"})
    address = ma.fields.String(required=True, metadata={"description": "masked: digits hidden"})
    usage = ma.fields.Nested(UtilityUsage, required=True, metadata={"description": "the latest billed month"})
    bills = ma.fields.List(ma.fields.Nested(UtilityBill), required=True, metadata={"description": "newest first"})
    arrears_fen = ma.fields.Integer(
        required=True, metadata={"description": "owed on unpaid and overdue bills, late fees included"}
    )


class UsageMonth(UtilityUsage):
    amount_fen = ma.fields.Integer(required=True)


class UtilityUsageHistory(ma.Schema):
    utility = ma.fields.String(required=True, validate=ma.validate.OneOf(UTILITIES))
    account_no = ma.fields.String(required=True)
    months = ma.fields.List(ma.fields.Nested(UsageMonth), required=True, metadata={"description": "newest first"})


def masked_address(text: str) -> str:
    return re.sub(r"[0-9]", "*", text)


@register
class EnergyConnector(Connector):
    kind = "energy"
    title = "智慧节能云"
    operations = {
        "water_bills": Operation(
            "水费账单", WaterAccountInput, UtilityBills, fresh_seconds=300, stale_seconds=86400, account="water"
        ),
        "power_bills": Operation(
            "电费账单", PowerAccountInput, UtilityBills, fresh_seconds=300, stale_seconds=86400, account="power"
        ),
        "gas_bills": Operation(
            "燃气费账单", GasAccountInput, UtilityBills, fresh_seconds=300, stale_seconds=86400, account="gas"
        ),
        "usage": Operation("近12个月用量", UsageInput, UtilityUsageHistory, fresh_seconds=3600, stale_seconds=86400),
        "verify_water_account": Operation("核验水费户号", WaterVerifyInput, VerifiedAccount, internal=True),
        "verify_power_account": Operation("核验电费户号", PowerVerifyInput, VerifiedAccount, internal=True),
        "verify_gas_account": Operation("核验燃气户号", GasVerifyInput, VerifiedAccount, internal=True),
        "write_off": Operation(
            "水电气缴费销账", WriteOffInput, WriteOffReceipt, idempotent=True, internal=True, fresh_seconds=0
        ),
    }
    accounts = {"water": "verify_water_account", "power": "verify_power_account", "gas": "verify_gas_account"}
    bills = {"water": "water_bills", "power": "power_bills", "gas": "gas_bills"}

    def make_signer(self):
        key = f"{self.kind}:{self.name}:{self.settings['app_key']}"
        return AppKeyToken(self.tokens, key, self._fetch_token, self._token_expired)

    # -- operations ------------------------------------------------------------------------------

    def water_bills(self, inputs, identity):
        return self._bills("water", inputs["account_no"])

    def power_bills(self, inputs, identity):
        return self._bills("power", inputs["account_no"])

    def gas_bills(self, inputs, identity):
        return self._bills("gas", inputs["account_no"])

    def usage(self, inputs, identity):
        utility, number = inputs["utility"], inputs["account_no"]
        months, page, pages, as_of = [], 1, 1, None
        while page <= min(pages, MAX_PAGES):
            params = {"bizType": BIZ_TYPES[utility], "accountNo": number, "pageNum": str(page), "pageSize": "5"}
            data, stamp = self._data("GET", "/api/v2/usage/history", params=params)
            as_of = as_of or stamp
            try:
                months += [self._month(row) for row in data.get("list") or []]
                pages, page = int(data.get("pages") or 1), page + 1
            except (KeyError, TypeError, ValueError, InvalidOperation):
                raise UpstreamBadResponse(self.name, "usage: a month without its fields") from None
        return Answer({"utility": utility, "account_no": number, "months": months}, as_of)

    def verify_water_account(self, inputs, identity):
        return self._verify("water", inputs)

    def verify_power_account(self, inputs, identity):
        return self._verify("power", inputs)

    def verify_gas_account(self, inputs, identity):
        return self._verify("gas", inputs)

    def write_off(self, inputs, identity):
        utility = inputs["kind"]
        if utility not in self.bills:
            raise ValueError(f"{self.kind}.write_off: no bills of kind {utility!r}")
        body = {
            "bizType": BIZ_TYPES[utility],
            "accountNo": inputs["account_no"],
            "billNos": list(inputs["bill_ids"]),
            "payAmt": fen_to_yuan(inputs["amount_fen"]),
            "payNo": inputs["payment_id"],
            "payChannel": PAY_CHANNELS[inputs["channel"]],
            "tradeNo": inputs["transaction_id"],
            "payTime": f"{inputs['paid_at'].astimezone(BEIJING):{STAMP}}",
        }
        # Not a read, yet safe to retry: the company de-duplicates by payNo, so a write-off sent again after a
        # lost answer gets the first receipt and pays nothing twice.
        data, as_of = self._data(
            "POST", "/api/v2/bill/writeoff", json_body=body, idempotent=True, refusals=WRITE_OFF_REFUSALS
        )
        receipt = write_off_receipt(
            self.name,
            data,
            inputs["payment_id"],
            echo="payNo",
            number="writeOffNo",
            at="writeOffTime",
            fmt="%Y%m%d%H%M%S",
        )
        return Answer(receipt, as_of)

    # -- the twin's manners ----------------------------------------------------------------------

    def _bills(self, utility: str, number: str) -> Answer:
        data, as_of = self._data(
            "GET", "/api/v2/bill/query", params={"bizType": BIZ_TYPES[utility], "accountNo": number}
        )
        try:
            result = {
                "utility": utility,
                "company": str(data["orgName"]),
                "account_no": str(data["accountNo"]),
                "holder": mask_name(str(data["custName"])),
                "address": masked_address(str(data["custAddr"])),
                "usage": {"period": _period(data["curYm"]), "amount": float(data["curQty"]), "unit": data["qtyUnit"]},
                "bills": [self._bill(row) for row in data["billList"]],
                "arrears_fen": _fen(data["oweAmt"]),
            }
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "bills: an answer without its fields") from None
        return Answer(result, as_of)

    def _bill(self, row: dict) -> dict:
        status = BILL_STATES.get(str(row["payState"]))
        if status is None:
            raise ValueError("unknown payState")
        return {
            "bill_id": str(row["billNo"]),
            "period": _period(row["billYm"]),
            "amount_fen": _fen(row["billAmt"]),
            "late_fee_fen": _fen(row.get("lateFee") or "0"),
            "due_date": datetime.strptime(str(row["dueDate"]), "%Y%m%d").date().isoformat(),
            "status": status,
        }

    def _month(self, row: dict) -> dict:
        return {
            "period": _period(row["ym"]),
            "amount": float(row["qty"]),
            "unit": str(row["unit"]),
            "amount_fen": _fen(row["amt"]),
        }

    def _verify(self, utility: str, inputs: dict) -> Answer:
        body = {"bizType": BIZ_TYPES[utility], "accountNo": inputs["account_no"], "custName": inputs["holder_name"]}
        data, as_of = self._data("POST", "/api/v2/account/verify", json_body=body)
        try:
            result = {
                "account_no": str(data["accountNo"]),
                "holder": mask_name(str(data["custName"])),
                "label": masked_address(str(data["custAddr"])),
            }
        except (KeyError, TypeError):
            raise UpstreamBadResponse(self.name, "verify: an answer without its fields") from None
        return Answer(result, as_of)

    def _data(self, method: str, path: str, *, refusals: dict | None = None, **kwargs) -> tuple[dict, datetime]:
        """The `data` of a successful answer and its `ts`; the twin's error codes as our errors, `refusals`
        (code → why, for the log) as its refusing the payment for good."""
        response = self.request(method, path, **kwargs)
        body = self.json_of(response)
        if response.status_code == 401:  # a token refused even after renewing it: an operator must look
            raise UpstreamRejected(self.name, f"token refused: {body.get('error')}", response.status_code)
        code, msg = body.get("code"), str(body.get("msg") or "")[:100]
        if code == 0 and isinstance(body.get("data"), dict):
            return body["data"], beijing(self.name, body.get("ts"), "%Y%m%d%H%M%S")
        if refusals and code in refusals:
            raise UpstreamRejected(self.name, refusals[code], public_message=msg, reason="rejected")
        if code == BUSY:
            raise UpstreamUnavailable(self.name, f"busy on its side: {code}")
        if code == 2001:
            raise UpstreamRejected(self.name, "no such account", public_message=msg, reason="not_found")
        if code == 2003:  # the holder's name does not match the account
            raise UpstreamRejected(self.name, "holder does not match", public_message=msg, reason="forbidden")
        if code in (1001, 1002, 1003, 1004, 2002):
            raise UpstreamRejected(self.name, f"refused our question: {code}", public_message=msg, reason="invalid")
        raise UpstreamBadResponse(self.name, f"answer without a known code ({code!r})")

    def _fetch_token(self) -> tuple[str, int]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.settings["app_key"],
            "client_secret": self.settings["app_secret"],
        }
        response = send(
            self.name,
            "POST",
            f"{self.base_url}/oauth/token",
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=self.timeout,
        )
        body = self.json_of(response)
        if response.status_code == 200 and body.get("access_token"):
            try:
                return str(body["access_token"]), int(body.get("expires_in") or 0)
            except (TypeError, ValueError):
                raise UpstreamBadResponse(self.name, "token: expires_in is not a number") from None
        if body.get("error"):  # invalid_client and the like: our credentials, for an operator
            raise UpstreamRejected(self.name, f"token refused: {body['error']}", response.status_code)
        raise UpstreamBadResponse(self.name, "token: an answer without a token")

    @staticmethod
    def _token_expired(status: int, body: bytes) -> bool:
        return status == 401 and b"invalid_token" in body


def _period(text) -> str:
    return datetime.strptime(str(text), "%Y%m").strftime("%Y-%m")


def _fen(yuan) -> int:
    return int((Decimal(str(yuan)) * 100).to_integral_value())
