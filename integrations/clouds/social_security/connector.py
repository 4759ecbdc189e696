"""Connector of the social security cloud (智慧社保云, 人社局): a person's insurances, contributions,
pension account, flexible-employment bills, and the check that a social security card is theirs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

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
from integrations.connectors.parsing import beijing, fen_to_yuan, write_off_receipt, yuan_to_fen
from integrations.connectors.signing import HmacHeaders
from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamUnavailable

BEIJING = timezone(timedelta(hours=8))
PAGE_SIZE = 20  # the most the twin gives at once
MAX_PAGES = 5  # a year is at most 5 insurances x 12 months = 3 pages; more means the twin is looping
TYPES = {"110": "pension", "210": "unemployment", "310": "medical", "410": "work_injury", "510": "maternity"}
INSURANCE_NAMES = {  # the national names of the insurances (险种), as on the department's own statements
    "110": "企业职工基本养老保险",
    "210": "失业保险",
    "310": "职工基本医疗保险",
    "410": "工伤保险",
    "510": "生育保险",
}
STATUSES = {"1": ("active", "参保缴费"), "2": ("suspended", "暂停缴费"), "3": ("stopped", "终止参保")}
BILL_STATUSES = {"0": "unpaid", "1": "paid", "2": "overdue"}
REFUSALS = {"300001": "not_found", "300002": "invalid", "300003": "forbidden"}
# The department's write-off refusals: it will not take this payment (the citizen is refunded). 300001 and
# 300003: the card or the flexible-employment registration is gone, or the card is no longer this person's.
WRITE_OFF_REFUSALS = {
    "300001": "card or registration not found",
    "300003": "card not the person's",
    "300101": "a bill not found",
    "300102": "a bill already paid",
    "300103": "amount is not what the bills owe",
    "300104": "payment serial used for other bills or amount",
}
CHANNELS = {"wechat": "01", "alipay": "02"}  # zfqd 支付渠道
BUSY = "999999"  # 系统繁忙
CARD_NO = r"^[A-Z0-9]{9,12}$"  # 社会保障卡号: in Shandong a letter and eight digits


class NoInputs(ma.Schema):
    pass


class YearInput(ma.Schema):
    year = ma.fields.Integer(load_default=None, validate=ma.validate.Range(2000, 2100))


class CardInput(ma.Schema):
    account_no = ma.fields.String(required=True, validate=ma.validate.Regexp(CARD_NO))

    @ma.pre_load
    def normalize(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("account_no"), str):
            return {**data, "account_no": "".join(data["account_no"].split()).upper()}
        return data


class Insurance(ma.Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES.values()))
    type_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["active", "suspended", "stopped"]))
    status_name = ma.fields.String(required=True)
    since = ma.fields.Date(required=True)
    base_fen = ma.fields.Integer(required=True, metadata={"description": "the contribution base"})
    months_paid = ma.fields.Integer(required=True)


class InsuredInfo(ma.Schema):
    employer = ma.fields.String(required=True, allow_none=True, metadata={"description": "None: flexible"})
    insurances = ma.fields.List(ma.fields.Nested(Insurance), required=True)


class Contribution(ma.Schema):
    month = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{4}-[0-9]{2}$"))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES.values()))
    type_name = ma.fields.String(required=True)
    base_fen = ma.fields.Integer(required=True)
    personal_fen = ma.fields.Integer(required=True)
    employer_fen = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["paid", "owed"]))


class Contributions(ma.Schema):
    year = ma.fields.Integer(required=True)
    records = ma.fields.List(ma.fields.Nested(Contribution), required=True, metadata={"description": "by month"})
    personal_total_fen = ma.fields.Integer(required=True)
    employer_total_fen = ma.fields.Integer(required=True)


class PensionAccount(ma.Schema):
    balance_fen = ma.fields.Integer(required=True)
    personal_part_fen = ma.fields.Integer(required=True, metadata={"description": "paid in by the person"})
    months_paid = ma.fields.Integer(required=True)
    last_credit_month = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{4}-[0-9]{2}$"))


class Bill(ma.Schema):
    bill_id = ma.fields.String(required=True)
    period = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{4}-[0-9]{2}$"))
    amount_fen = ma.fields.Integer(required=True)
    due_date = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(BILL_STATUSES.values()))


class ContributionBills(ma.Schema):
    account_no = ma.fields.String(required=True, metadata={"description": "the card number, masked"})
    bills = ma.fields.List(ma.fields.Nested(Bill), required=True, metadata={"description": "newest first"})
    total_due_fen = ma.fields.Integer(required=True)


def _month(yyyymm) -> str:
    text = str(yyyymm)
    if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12:
        raise ValueError("not yyyyMM")
    return f"{text[:4]}-{text[4:]}"


def _date(yyyymmdd) -> str:
    return datetime.strptime(str(yyyymmdd), "%Y%m%d").date().isoformat()


def _mask_card(card: str) -> str:
    return card[:4] + "*" * (len(card) - 5) + card[-1:]


@register
class SocialSecurityConnector(Connector):
    kind = "social_security"
    title = "智慧社保云"
    operations = {
        "insured_info": Operation(
            "社会保险参保信息", NoInputs, InsuredInfo, fresh_seconds=3600, stale_seconds=86400, identity=True
        ),
        "contributions": Operation(
            "社会保险缴费明细", YearInput, Contributions, fresh_seconds=3600, stale_seconds=86400, identity=True
        ),
        "pension_account": Operation(
            "养老保险个人账户", NoInputs, PensionAccount, fresh_seconds=3600, stale_seconds=86400, identity=True
        ),
        "contribution_bills": Operation(
            "灵活就业人员待缴费用",
            CardInput,
            ContributionBills,
            fresh_seconds=300,
            stale_seconds=86400,
            identity=True,
            account="si",
        ),
        "verify_si_account": Operation(
            "核验社会保障卡", CardInput, VerifiedAccount, fresh_seconds=300, identity=True, internal=True
        ),
        # Personal like every question here: the department's requests name the person (aac003, aac002).
        "write_off": Operation(
            "灵活就业社保费缴费销账",
            WriteOffInput,
            WriteOffReceipt,
            idempotent=True,
            internal=True,
            fresh_seconds=0,
            identity=True,
        ),
    }
    accounts = {"si": "verify_si_account"}
    bills = {"si": "contribution_bills"}

    def make_signer(self):
        return HmacHeaders(self.settings["app_key"], self.settings["app_secret"], prefix="X-Hrss")

    def insured_info(self, inputs, identity):
        out, as_of = self._ask("/rsapi/cbxx/query", identity)
        try:
            insurances = [
                {
                    "type": TYPES[row["aae140"]],
                    "type_name": str(row["aae140_mc"]),
                    "status": STATUSES[row["aac008"]][0],
                    "status_name": STATUSES[row["aac008"]][1],
                    "since": _date(row["aae030"]),
                    "base_fen": yuan_to_fen(self.name, row["aae180"]),
                    "months_paid": int(row["jfys"]),
                }
                for row in out["cbxx"]
            ]
            employer = str(out.get("aab004") or "").strip() or None
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "insured_info: a record without its fields") from None
        insurances.sort(key=lambda row: list(TYPES.values()).index(row["type"]))
        return Answer({"employer": employer, "insurances": insurances}, as_of)

    def contributions(self, inputs, identity):
        year = inputs.get("year") or datetime.now(BEIJING).year
        records, offset, total, as_of = [], 0, 1, None
        for _ in range(MAX_PAGES):
            if offset >= total:
                break
            out, as_of = self._ask("/rsapi/jfxx/query", identity, aae001=year, offset=offset, limit=PAGE_SIZE)
            try:
                total, rows = int(out["total"]), list(out["rows"])
                records += [self._contribution(row) for row in rows]
            except (KeyError, TypeError, ValueError):
                raise UpstreamBadResponse(self.name, "contributions: a record without its fields") from None
            if not rows and offset < total:
                raise UpstreamBadResponse(self.name, "contributions: an empty page before the end")
            offset += len(rows)
        if offset < total:
            raise UpstreamBadResponse(self.name, f"contributions: more than {MAX_PAGES} pages")
        result = {
            "year": year,
            "records": records,
            "personal_total_fen": sum(r["personal_fen"] for r in records if r["status"] == "paid"),
            "employer_total_fen": sum(r["employer_fen"] for r in records if r["status"] == "paid"),
        }
        return Answer(result, as_of)

    def pension_account(self, inputs, identity):
        out, as_of = self._ask("/rsapi/ylzh/query", identity)
        try:
            result = {
                "balance_fen": yuan_to_fen(self.name, out["grzhye"]),
                "personal_part_fen": yuan_to_fen(self.name, out["grjfbj"]),
                "months_paid": int(out["ljjfys"]),
                "last_credit_month": _month(out["zhjzny"]),
            }
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "pension_account: an account without its fields") from None
        return Answer(result, as_of)

    def contribution_bills(self, inputs, identity):
        out, as_of = self._ask("/rsapi/lhjy/qfmx", identity, aaz500=inputs["account_no"])
        try:
            bills = [
                {
                    "bill_id": str(row["djbh"]),
                    "period": _month(row["aae002"]),
                    "amount_fen": yuan_to_fen(self.name, row["yjje"]),
                    "due_date": _date(row["jfjzrq"]),
                    "status": BILL_STATUSES[row["jfzt"]],
                }
                for row in out["rows"]
            ]
            total_due = yuan_to_fen(self.name, out["qfze"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "contribution_bills: a bill without its fields") from None
        bills.sort(key=lambda bill: bill["period"], reverse=True)
        result = {"account_no": _mask_card(inputs["account_no"]), "bills": bills, "total_due_fen": total_due}
        return Answer(result, as_of)

    def verify_si_account(self, inputs, identity):
        out, as_of = self._ask("/rsapi/sbk/hy", identity, aaz500=inputs["account_no"])
        try:
            holder, bank = mask_name(str(out["aac003"])), str(out.get("yhmc") or "").strip()
            if str(out["aaz500"]).upper() != inputs["account_no"] or not holder:
                raise ValueError("another card, or no holder")
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "verify_si_account: an answer without the card") from None
        label = f"社会保障卡 · {bank}" if bank else "社会保障卡"
        return Answer({"account_no": inputs["account_no"], "holder": holder, "label": label}, as_of)

    def write_off(self, inputs, identity):
        if inputs["kind"] not in self.bills:
            raise ValueError(f"{self.kind}.write_off: no bills of kind {inputs['kind']!r}")
        fen = inputs["amount_fen"]
        fields = {
            "aaz500": "".join(inputs["account_no"].split()).upper(),  # as contribution_bills takes it
            "djlb": list(inputs["bill_ids"]),
            "jfje": fen_to_yuan(fen),
            "ywlsh": inputs["payment_id"],
            "zfqd": CHANNELS[inputs["channel"]],
            "zfjylsh": inputs["transaction_id"],
            "jfsj": f"{inputs['paid_at'].astimezone(BEIJING):%Y%m%d%H%M%S}",
        }
        # Not a read, yet safe to retry: the department de-duplicates by ywlsh, so a write-off sent again after
        # a lost answer gets the first receipt and pays nothing twice.
        out, as_of = self._ask("/rsapi/lhjy/jfxz", identity, refusals=WRITE_OFF_REFUSALS, **fields)
        receipt = write_off_receipt(
            self.name, out, inputs["payment_id"], echo="ywlsh", number="xzlsh", at="xzsj", fmt="%Y%m%d%H%M%S"
        )
        return Answer(receipt, as_of)

    # -- the twin's manners ------------------------------------------------------------------------

    def _contribution(self, row: dict) -> dict:
        code = row["aae140"]
        status = {"1": "paid", "0": "owed"}[row["aae078"]]
        return {
            "month": _month(row["aae002"]),
            "type": TYPES[code],
            "type_name": INSURANCE_NAMES[code],
            "base_fen": yuan_to_fen(self.name, row["aae180"]),
            "personal_fen": yuan_to_fen(self.name, row["aae022"]),
            "employer_fen": yuan_to_fen(self.name, row["aae021"]),
            "status": status,
        }

    def _ask(self, path: str, identity, *, refusals: dict | None = None, **fields) -> tuple[dict, datetime]:
        """The `outdata` of a POST naming the person (aac003, aac002) and when the answer was current.
        HTTP 200 always; a six-digit retcode other than 000000 is a refusal, those in `refusals` (retcode →
        why, for the log) the department's refusing a payment for good."""
        body = {"aac003": identity.name, "aac002": identity.id_number, **fields}
        # Every question is a POST, and each is safe to repeat: the reads are reads, and the write-off is
        # de-duplicated by its ywlsh.
        answer = self.json_of(self.request("POST", path, json_body=body, idempotent=True))
        code = str(answer.get("retcode", ""))
        if code == "000000" and isinstance(answer.get("outdata"), dict):
            return answer["outdata"], beijing(self.name, answer.get("cxsj"), "%Y%m%d%H%M%S")
        # The department's own short words: its messages name the record, never the person.
        words = str(answer.get("retmsg") or "").strip()[:60] or None
        if refusals and code in refusals:
            raise UpstreamRejected(self.name, refusals[code], public_message=words, reason="rejected")
        if code == BUSY:
            raise UpstreamUnavailable(self.name, f"busy on its side: {code}")
        if code in REFUSALS:
            raise UpstreamRejected(self.name, f"refused: {code}", public_message=words, reason=REFUSALS[code])
        if code.startswith("9001"):  # our key, timestamp, signature or nonce: an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}")
        raise UpstreamBadResponse(self.name, "answer without a known retcode")
