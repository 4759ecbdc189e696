"""Connector of the food and drug cloud (智慧食药云, 食药监局): is a shop's licence valid, what was recalled."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import marshmallow as ma

from app.security.pii import mask_name
from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import as_int, as_records, beijing
from integrations.connectors.signing import HmacHeaders
from integrations.errors import UpstreamBadResponse, UpstreamRejected

BEIJING = timezone(timedelta(hours=8))
PAGE_SIZE = 10  # the most the recall list gives at once
MAX_PAGES = 10  # a hundred notices is more than the city publishes in a season; more means a loop
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 食品经营许可证: JY + 14 digits; 药品经营许可证: province + A/B (法人/非法人) + A-D (批发…单体零售) + digits.
LICENCE_NO = rf"^(JY[0-9]{{14}}|[{PROVINCES}][AB][A-D][0-9]{{7,9}})$"
KINDS = {
    "SPJY": ("food_business", "食品经营许可证"),
    "YPLS": ("drug_retail", "药品经营许可证（零售）"),
    "YPPF": ("drug_wholesale", "药品经营许可证（批发）"),
}
CATEGORIES = {"food": ("SP", "食品"), "drug": ("YP", "药品"), "device": ("YLQX", "医疗器械")}
CATEGORY_OF_CODE = {code: (category, name) for category, (code, name) in CATEGORIES.items()}
LEVELS = {1: "一级", 2: "二级", 3: "三级"}
SYNCHRONISED = "%Y-%m-%d %H:%M:%S"  # sjgxsj: when the nightly copy from the provincial system was made


class LicenceInput(ma.Schema):
    licence_no = ma.fields.String(required=True, validate=ma.validate.Regexp(LICENCE_NO))


class RecallsInput(ma.Schema):
    category = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CATEGORIES))


class Licence(ma.Schema):
    licence_no = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf([kind for kind, _ in KINDS.values()]))
    kind_name = ma.fields.String(required=True)
    holder = ma.fields.String(required=True, metadata={"description": "the business named on the licence"})
    legal_representative = ma.fields.String(required=True, metadata={"description": "masked: 张*"})
    address = ma.fields.String(required=True)
    business_items = ma.fields.List(ma.fields.String(), required=True)
    issued_on = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["valid", "expired", "revoked"]))
    status_name = ma.fields.String(required=True)


class RecallNotice(ma.Schema):
    notice_no = ma.fields.String(required=True)
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(CATEGORIES))
    category_name = ma.fields.String(required=True)
    product = ma.fields.String(required=True)
    producer = ma.fields.String(required=True)
    batch = ma.fields.String(required=True)
    reason = ma.fields.String(required=True)
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(LEVELS.values()))
    published_on = ma.fields.Date(required=True)


class Recalls(ma.Schema):
    category = ma.fields.String(required=True, allow_none=True)
    notices = ma.fields.List(ma.fields.Nested(RecallNotice), required=True, metadata={"description": "newest first"})


@register
class FoodDrugConnector(Connector):
    kind = "food_drug"
    title = "智慧食药云"
    operations = {
        "licence": Operation("食品药品经营许可证查询", LicenceInput, Licence, fresh_seconds=3600, stale_seconds=86400),
        "recalls": Operation("食品药品召回公告", RecallsInput, Recalls, fresh_seconds=3600, stale_seconds=86400),
    }

    def make_signer(self):
        return HmacHeaders(self.settings["app_key"], self.settings["app_secret"], prefix="X-Fda")

    def licence(self, inputs, identity):
        row = self._result("/openapi/xkz/detail", {"xkzbh": inputs["licence_no"]}, not_found="未查询到该许可证信息")
        try:
            kind, kind_name = KINDS[row["xkzlx"]]
            valid_until = date.fromisoformat(row["yxqz"])
            status, status_name = self._status(str(row["zt"]), valid_until)
            result = {
                "licence_no": row["xkzbh"],
                "kind": kind,
                "kind_name": kind_name,
                "holder": row["jyzmc"],
                "legal_representative": mask_name(row["fddbr"]),
                "address": row["jycs"],
                "business_items": [item for item in str(row["jyxm"]).split("；") if item],
                "issued_on": date.fromisoformat(row["fzrq"]).isoformat(),
                "valid_until": valid_until.isoformat(),
                "status": status,
                "status_name": status_name,
            }
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "licence: a record without its fields") from None
        return Answer(result, beijing(self.name, row.get("sjgxsj"), SYNCHRONISED))

    def recalls(self, inputs, identity):
        params = {"size": PAGE_SIZE}
        if inputs.get("category"):
            params["cplb"] = CATEGORIES[inputs["category"]][0]
        notices, page, total, as_of = [], 1, 1, None
        while len(notices) < total and page <= MAX_PAGES:
            data = self._result("/openapi/zhgg/list", {**params, "page": page}, not_found="暂无召回公告")
            rows = as_records(self.name, data, "rows")
            notices += [self._notice(row) for row in rows]
            as_of = as_of or beijing(self.name, data.get("sjgxsj"), SYNCHRONISED)
            total = as_int(self.name, data.get("total"), "recalls: total")
            if not rows:
                break
            page += 1
        return Answer({"category": inputs.get("category"), "notices": notices}, as_of)

    # The twin's manners: HTTP 200 always; "success" with a two-digit code.
    def _result(self, path: str, params: dict, not_found: str) -> dict:
        body = self.json_of(self.request("GET", path, params=params))
        code = str(body.get("code", ""))
        if body.get("success") is True and code == "00" and isinstance(body.get("result"), dict):
            return body["result"]
        if code == "04":
            raise UpstreamRejected(self.name, "no such record (04)", public_message=not_found, reason="not_found")
        if code == "03":
            raise UpstreamRejected(
                self.name, "malformed question (03)", public_message="查询条件不正确", reason="invalid"
            )
        if code in ("01", "02"):  # our key, signature, timestamp or nonce: an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code}")
        raise UpstreamBadResponse(self.name, "answer without a known code")

    def _status(self, code: str, valid_until: date) -> tuple[str, str]:
        if code == "2":
            return "revoked", "已注销"
        if code == "3":
            return "revoked", "已吊销"
        if code != "1":
            raise ValueError(f"unknown licence state {code!r}")
        # The register keeps 有效 after the end date passes: the date decides.
        if valid_until < datetime.now(BEIJING).date():
            return "expired", "已过期"
        return "valid", "有效"

    def _notice(self, row) -> dict:
        try:
            category, category_name = CATEGORY_OF_CODE[row["cplb"]]
            return {
                "notice_no": row["ggbh"],
                "category": category,
                "category_name": category_name,
                "product": row["cpmc"],
                "producer": row["scqy"],
                "batch": str(row["scph"]),
                "reason": row["zhyy"],
                "level": LEVELS[int(row["zhjb"])],
                "published_on": date.fromisoformat(row["fbrq"]).isoformat(),
            }
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "recalls: a notice without its fields") from None
