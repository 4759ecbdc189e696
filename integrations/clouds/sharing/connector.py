"""Connector of the information resource sharing platform (信息资源共享平台): the population register's
name-and-number check, and the legal-entity register (法人库) of market entities by credit code.

The platform signs inside the JSON body (appKey, timestamp, nonce and the question's fields, sorted
"k=v" joined by "&", hex HMAC-SHA256 as `sign`), so the adapters build and sign each body themselves,
afresh for every attempt (a retried nonce would be refused as a replay); the request signer does nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from app.identity.resident_id import InvalidResidentId, validate
from app.security.pii import mask_name
from integrations.clouds.sharing.uscc import is_valid
from integrations.connectors.base import Answer, Connector, KeyAndSecret, Operation, register
from integrations.connectors.signing import Outgoing
from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamUnavailable
from integrations.http import retrying

BEIJING = timezone(timedelta(hours=8))
RESULTS = {"一致": "match", "不一致": "no_match"}
FEN_PER_WAN_YUAN = 1_000_000  # registered capital is kept in 万元 (ten thousand yuan)
NAME = r"^[\u3400-\u9fff\U00020000-\U0002fa1f·]{2,30}$"  # as on the ID card: Han characters, · for some


class BodyFieldsSigned:
    """The request signer: nothing to add to headers or query, the adapters sign the body (see above)."""

    def sign(self, outgoing: Outgoing) -> None:
        pass

    def refused(self, status: int, body: bytes) -> bool:
        return False


def _normalized(field: str):
    @ma.pre_load
    def normalize(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get(field), str):
            return {**data, field: "".join(data[field].split()).upper()}
        return data

    return normalize


def _resident_id(number: str) -> None:
    try:
        validate(number)
    except InvalidResidentId as error:
        raise ma.ValidationError(f"Not a valid resident ID number ({error.reason}).") from None


def _credit_code(code: str) -> None:
    if not is_valid(code):
        raise ma.ValidationError("Not a valid unified social credit code (GB 32100-2015).")


class PopulationInput(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Regexp(NAME))
    id_number = ma.fields.String(required=True, validate=_resident_id)
    normalize = _normalized("id_number")


class CreditCodeInput(ma.Schema):
    credit_code = ma.fields.String(required=True, validate=_credit_code)
    normalize = _normalized("credit_code")


class PopulationCheck(ma.Schema):
    result = ma.fields.String(required=True, validate=ma.validate.OneOf(RESULTS.values()))


class LegalEntity(ma.Schema):
    credit_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    entity_type = ma.fields.String(required=True, metadata={"description": "as registered: 有限责任公司…"})
    legal_representative = ma.fields.String(required=True, metadata={"description": "masked: 张*"})
    registered_capital_fen = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "CNY"})
    established_on = ma.fields.Date(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(["active", "revoked", "cancelled"]))
    status_name = ma.fields.String(required=True, metadata={"description": "the register's word: 存续, 吊销…"})
    address = ma.fields.String(required=True)
    business_scope = ma.fields.String(required=True)
    registration_authority = ma.fields.String(required=True, allow_none=True)


def _status(word: str) -> str:
    # 吊销 before 注销: "吊销，未注销" is revoked, not cancelled.
    if "吊销" in word:
        return "revoked"
    if "注销" in word:
        return "cancelled"
    if any(active in word for active in ("存续", "在业", "在营", "开业", "在册")):
        return "active"
    raise ValueError("an unknown registration status")


def _capital_fen(wan_yuan, currency) -> int | None:
    if not str(wan_yuan or "").strip():
        return None  # 个体工商户 and some others register none
    if str(currency or "人民币") != "人民币":
        return None  # a foreign currency: not ours to convert
    try:
        fen = Decimal(str(wan_yuan).strip()) * FEN_PER_WAN_YUAN
    except InvalidOperation:
        raise ValueError("not an amount") from None
    if not fen.is_finite() or fen != fen.to_integral_value():
        raise ValueError("not a whole number of fen")
    return int(fen)


@register
class SharingConnector(Connector):
    kind = "sharing"
    title = "信息资源共享平台"
    Config = KeyAndSecret
    operations = {
        "population_check": Operation(
            "人口库姓名与身份证号核验", PopulationInput, PopulationCheck, fresh_seconds=600, internal=True
        ),
        "legal_entity": Operation(
            "法人库市场主体登记信息", CreditCodeInput, LegalEntity, fresh_seconds=86400, stale_seconds=7 * 86400
        ),
    }

    def make_signer(self):
        return BodyFieldsSigned()

    def population_check(self, inputs, identity):
        data = self._ask("/population/verify", {"xm": inputs["name"], "sfzh": inputs["id_number"]})
        result = RESULTS.get(data.get("result"))
        if result is None:
            raise UpstreamBadResponse(self.name, "population_check: answered without a known result")
        return Answer({"result": result}, datetime.now(BEIJING))  # the register answers as it is now

    def legal_entity(self, inputs, identity):
        data = self._ask("/legal-person/query", {"tyshxydm": inputs["credit_code"]})
        try:
            word = str(data["djzt"]).strip()
            result = {
                "credit_code": str(data["tyshxydm"]),
                "name": str(data["qymc"]),
                "entity_type": str(data["qylx"]),
                "legal_representative": mask_name(str(data["fddbr"]).strip()) or "",
                "registered_capital_fen": _capital_fen(data.get("zczb"), data.get("zczbbz")),
                "established_on": datetime.strptime(str(data["clrq"]), "%Y-%m-%d").date().isoformat(),
                "status": _status(word),
                "status_name": word,
                "address": str(data["zs"]),
                "business_scope": str(data["jyfw"]),
                "registration_authority": str(data.get("djjg") or "").strip() or None,
            }
            as_of = datetime.strptime(str(data["sjtbsj"]), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "legal_entity: a record without its fields") from None
        if result["credit_code"] != inputs["credit_code"]:
            raise UpstreamBadResponse(self.name, "legal_entity: answered about another entity")
        return Answer(result, as_of)

    # -- the platform's manners ----------------------------------------------------------------------

    def _signed(self, fields: dict) -> dict:
        signed = {
            "appKey": self.settings["app_key"],
            "timestamp": int(time.time() * 1000),
            "nonce": uuid.uuid4().hex,
            **fields,
        }
        canonical = "&".join(f"{key}={signed[key]}" for key in sorted(signed))
        mac = hmac.new(self.settings["app_secret"].encode(), canonical.encode(), hashlib.sha256)
        return {**signed, "sign": mac.hexdigest()}

    def _ask(self, path: str, fields: dict) -> dict:
        """The `data` of the platform's answer: HTTP 200 always, "code": "0000" for success, E-codes
        otherwise. Only the code goes into errors: the platform's "msg" may quote the question back."""

        def attempt():
            return self.request("POST", path, json_body=self._signed(fields), idempotent=False)

        answer = self.json_of(retrying(self.settings["attempts"], self.timeout[1])(attempt))
        code = answer.get("code")
        if code == "0000" and isinstance(answer.get("data"), dict):
            return answer["data"]
        if not isinstance(code, str):
            raise UpstreamBadResponse(self.name, "answered without a known code")
        if code == "E404":
            raise UpstreamRejected(
                self.name, "refused: E404", public_message="未查询到该市场主体登记信息", reason="not_found"
            )
        if code.startswith("E5"):
            raise UpstreamUnavailable(self.name, f"failed on its side: {code[:8]}")
        if code.startswith("E"):  # E400 our fields, E401 signature, E403 stale, E409 replayed: operators look
            raise UpstreamRejected(self.name, f"refused the query: {code[:8]}")
        raise UpstreamBadResponse(self.name, "answered without a known code")
