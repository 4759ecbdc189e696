"""Connector of the housing cloud (智慧住建云): the housing provident fund centre's (住房公积金管理中心)
accounts, their movements, loan applications, and the check that a fund account is the citizen's."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import marshmallow as ma

from app.security.pii import mask_name
from integrations.connectors.base import Answer, Connector, Operation, VerifiedAccount, register
from integrations.connectors.parsing import yuan_to_fen
from integrations.connectors.signing import AppKeyToken
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.http import send

BEIJING = timezone(timedelta(hours=8))
PAGE_SIZE = 10  # the most the centre gives at once
MAX_PAGES = 10  # three years of movements is about six pages; more means the cursor is looping
ACCOUNT_STATUSES = {"1": ("normal", "正常"), "2": ("sealed", "封存"), "9": ("closed", "销户")}
MOVEMENTS = {"01": "deposit", "02": "deposit", "03": "withdrawal", "04": "interest", "05": "withdrawal"}
MOVEMENT_NAMES = {"01": "汇缴", "02": "补缴", "03": "提取", "04": "结息", "05": "销户提取"}
STAGES = {"01": "accepted", "02": "reviewing", "03": "approved", "04": "disbursed", "05": "rejected"}
REFUSALS = {44001: "not_found", 44002: "not_found", 41001: "invalid", 43001: "forbidden"}
TOKEN_REFUSALS = {40014, 42001}  # invalid, expired: a fresh token cures them


class NoInputs(ma.Schema):
    pass


class MonthsInput(ma.Schema):
    months = ma.fields.Integer(load_default=12, validate=ma.validate.Range(1, 36))


class AccountInput(ma.Schema):
    account_no = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{8,20}$"))

    @ma.pre_load
    def normalize(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("account_no"), str):
            return {**data, "account_no": "".join(data["account_no"].split())}
        return data


class FundAccount(ma.Schema):
    account_no = ma.fields.String(required=True, metadata={"description": "masked: 3710****2345"})
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["normal", "sealed", "closed"]))
    status_name = ma.fields.String(required=True)
    balance_fen = ma.fields.Integer(required=True)
    deposit_base_fen = ma.fields.Integer(required=True)
    monthly_deposit_fen = ma.fields.Integer(required=True, metadata={"description": "person and employer"})
    personal_rate_percent = ma.fields.Float(required=True)
    employer_rate_percent = ma.fields.Float(required=True)
    last_deposit_month = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{4}-[0-9]{2}$"))
    employer = ma.fields.String(required=True, allow_none=True)


class Movement(ma.Schema):
    date = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(["deposit", "withdrawal", "interest"]))
    kind_name = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(required=True, metadata={"description": "positive in, negative out"})
    balance_fen = ma.fields.Integer(required=True, metadata={"description": "after this movement"})


class FundRecords(ma.Schema):
    months = ma.fields.Integer(required=True)
    records = ma.fields.List(ma.fields.Nested(Movement), required=True, metadata={"description": "newest first"})


class Stage(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.OneOf(STAGES.values()))
    name = ma.fields.String(required=True)


class Step(ma.Schema):
    name = ma.fields.String(required=True)
    at = ma.fields.AwareDateTime(required=True)
    office = ma.fields.String(required=True, allow_none=True)


class Loan(ma.Schema):
    loan_no = ma.fields.String(required=True)
    stage = ma.fields.Nested(Stage, required=True)
    amount_fen = ma.fields.Integer(required=True)
    applied_on = ma.fields.Date(required=True)
    steps = ma.fields.List(ma.fields.Nested(Step), required=True, metadata={"description": "oldest first"})


class LoanProgress(ma.Schema):
    loans = ma.fields.List(ma.fields.Nested(Loan), required=True, metadata={"description": "newest first"})


def _percent(text) -> float:
    return float(str(text).strip().removesuffix("%"))


def _date(text) -> str:
    return datetime.strptime(str(text), "%Y/%m/%d").date().isoformat()


def _millis(value) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not epoch milliseconds")
    return datetime.fromtimestamp(value / 1000, BEIJING)


def _mask_account(number: str) -> str:
    return number[:4] + "****" + number[-4:] if len(number) > 8 else "*" * len(number)


@register
class HousingConnector(Connector):
    kind = "housing"
    title = "智慧住建云"
    operations = {
        "fund_account": Operation(
            "住房公积金账户信息", NoInputs, FundAccount, fresh_seconds=3600, stale_seconds=86400, identity=True
        ),
        "fund_records": Operation(
            "住房公积金缴存提取明细", MonthsInput, FundRecords, fresh_seconds=3600, stale_seconds=86400, identity=True
        ),
        "loan_progress": Operation(
            "住房公积金贷款办理进度", NoInputs, LoanProgress, fresh_seconds=600, stale_seconds=86400, identity=True
        ),
        "verify_gjj_account": Operation(
            "核验住房公积金账号", AccountInput, VerifiedAccount, fresh_seconds=300, identity=True, internal=True
        ),
    }
    accounts = {"gjj": "verify_gjj_account"}

    def make_signer(self):
        return AppKeyToken(
            store=self.tokens,
            key=f"connector:{self.name}:token:{self.settings['app_key']}",
            fetch=self._fetch_token,
            expired=self._token_refused,
            header="Access-Token",
            scheme="",
        )

    def fund_account(self, inputs, identity):
        data, _ = self._ask("/gjjapi/grzh/info", identity)
        try:
            status, status_name = ACCOUNT_STATUSES[data["grzhzt"]]
            month = str(data["jzny"])
            datetime.strptime(month, "%Y-%m")
            result = {
                "account_no": _mask_account(str(data["grzh"])),
                "status": status,
                "status_name": status_name,
                "balance_fen": yuan_to_fen(self.name, data["zhye"]),
                "deposit_base_fen": yuan_to_fen(self.name, data["jcjs"]),
                "monthly_deposit_fen": yuan_to_fen(self.name, data["yjce"]),
                "personal_rate_percent": _percent(data["grjcbl"]),
                "employer_rate_percent": _percent(data["dwjcbl"]),
                "last_deposit_month": month,
                "employer": str(data.get("dwmc") or "").strip() or None,
            }
            as_of = _millis(data["gxsj"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "fund_account: an account without its fields") from None
        return Answer(result, as_of)

    def fund_records(self, inputs, identity):
        today = datetime.now(BEIJING).date()
        first = today.year * 12 + today.month - inputs["months"]  # the first day of the earliest month asked
        span = {"qsrq": f"{first // 12:04d}/{first % 12 + 1:02d}/01", "zzrq": f"{today:%Y/%m/%d}"}
        records, cursor, as_of = [], "", None
        for _ in range(MAX_PAGES):
            data, _ = self._ask("/gjjapi/grzh/mx", identity, **span, cursor=cursor, pageSize=PAGE_SIZE)
            try:
                records += [self._movement(row) for row in data["list"]]
                as_of, more, cursor = _millis(data["gxsj"]), bool(data["hasMore"]), str(data.get("nextCursor") or "")
            except (KeyError, TypeError, ValueError):
                raise UpstreamBadResponse(self.name, "fund_records: a movement without its fields") from None
            if not more:
                break
            if not cursor:
                raise UpstreamBadResponse(self.name, "fund_records: more to come, but no cursor")
        else:
            raise UpstreamBadResponse(self.name, f"fund_records: more than {MAX_PAGES} pages")
        records.sort(key=lambda row: row["date"], reverse=True)
        return Answer({"months": inputs["months"], "records": records}, as_of)

    def loan_progress(self, inputs, identity):
        data, as_of = self._ask("/gjjapi/dk/jd", identity)
        try:
            loans = [self._loan(row) for row in data["list"]]
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "loan_progress: a loan without its fields") from None
        loans.sort(key=lambda loan: loan["applied_on"], reverse=True)
        return Answer({"loans": loans}, as_of)

    def verify_gjj_account(self, inputs, identity):
        data, as_of = self._ask("/gjjapi/grzh/hy", identity, grzh=inputs["account_no"])
        try:
            holder = mask_name(str(data["xingming"]))
            status_name = ACCOUNT_STATUSES[data["grzhzt"]][1]
            if str(data["grzh"]) != inputs["account_no"] or not holder:
                raise ValueError("another account, or no holder")
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "verify_gjj_account: an answer without the account") from None
        employer = str(data.get("dwmc") or "").strip()
        label = f"住房公积金（{status_name}）" + (f" · {employer}" if employer else "")
        return Answer({"account_no": inputs["account_no"], "holder": holder, "label": label}, as_of)

    # -- the centre's manners ----------------------------------------------------------------------

    def _movement(self, row: dict) -> dict:
        kind = row["ywlx"]
        return {
            "date": _date(row["jyrq"]),
            "kind": MOVEMENTS[kind],
            "kind_name": MOVEMENT_NAMES[kind],
            "description": str(row.get("zy") or MOVEMENT_NAMES[kind]),
            "amount_fen": yuan_to_fen(self.name, row["fse"]),
            "balance_fen": yuan_to_fen(self.name, row["ye"]),
        }

    def _loan(self, row: dict) -> dict:
        steps = [
            {"name": str(step["hjmc"]), "at": _millis(step["blsj"]).isoformat(), "office": step.get("bljg") or None}
            for step in row["hjlb"]
        ]
        steps.sort(key=lambda step: step["at"])
        return {
            "loan_no": str(row["dkbh"]),
            "stage": {"code": STAGES[row["jdbm"]], "name": str(row["jdmc"])},
            "amount_fen": yuan_to_fen(self.name, row["dkje"]),
            "applied_on": _date(row["sqrq"]),
            "steps": steps,
        }

    def _fetch_token(self) -> tuple[str, int]:
        body = {"appKey": self.settings["app_key"], "appSecret": self.settings["app_secret"]}
        response = send(
            self.name,
            "POST",
            f"{self.base_url}/gjjapi/auth/accessToken",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
            timeout=self.timeout,
        )
        answer = self.json_of(response)
        if answer.get("errcode") == 0:
            try:
                return str(answer["data"]["accessToken"]), int(answer["data"]["expiresIn"])
            except (KeyError, TypeError, ValueError):
                raise UpstreamBadResponse(self.name, "token answer without accessToken/expiresIn") from None
        if isinstance(answer.get("errcode"), int):  # 40001: our app key or secret; an operator must look
            raise UpstreamRejected(self.name, f"refused our credentials: {answer['errcode']}")
        raise UpstreamBadResponse(self.name, "token answer without a known errcode")

    @staticmethod
    def _token_refused(status: int, body: bytes) -> bool:
        if status != 401:
            return False
        try:
            return json.loads(body).get("errcode") in TOKEN_REFUSALS
        except (ValueError, AttributeError):
            return False

    def _ask(self, path: str, identity, **fields) -> tuple[dict, datetime]:
        """The `data` of a POST naming the person (xingming, zjhm), and the centre's clock when it answered.
        Refusals come with an HTTP status and the same envelope."""
        body = {"xingming": identity.name, "zjhm": identity.id_number, **fields}
        answer = self.json_of(self.request("POST", path, json_body=body))
        code = answer.get("errcode")
        if code == 0 and isinstance(answer.get("data"), dict):
            try:
                return answer["data"], _millis(answer["timestamp"])
            except (KeyError, ValueError):
                raise UpstreamBadResponse(self.name, "an answer without its timestamp") from None
        if code in REFUSALS and not isinstance(code, bool):
            # The centre's own short words: its messages name the record, never the person.
            words = str(answer.get("errmsg") or "").strip()[:60] or None
            raise UpstreamRejected(self.name, f"refused: {code}", public_message=words, reason=REFUSALS[code])
        if isinstance(code, int) and 40000 <= code < 43000:  # credentials or token: an operator must look
            raise UpstreamRejected(self.name, f"refused our token: {code}")
        raise UpstreamBadResponse(self.name, "answer without a known errcode")
