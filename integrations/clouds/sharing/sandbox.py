"""Twin of the sharing platform's population connector, over a small invented register of Zaozhuang people.

Mounted at /_sandbox/sharing. DEMO_CITIZENS and DEMO_RELATIVES are the people it knows; everyone else is "不一致".

Also its legal-entity register (法人库, twin_data.py): POST /legal-person/query, signed the platform's way
(appKey, timestamp in ms, nonce and the code, sorted "k=v" joined by "&", hex HMAC-SHA256 `sign` in the
body), refusing stale timestamps (E403) and replayed nonces (E409); E404 for a code it does not know.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading

from flask import Blueprint, jsonify, request

from integrations.clouds.sharing import twin_data
from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from integrations.sandbox import twin_kit

blueprint = Blueprint("sharing_twin", __name__)

_REGISTER = {person["id_number"]: person["name"] for person in (*DEMO_CITIZENS, *DEMO_RELATIVES)}
SIGNED_FIELDS = ("appKey", "timestamp", "nonce", "xm", "sfzh")

_lock = threading.Lock()
_credentials = {"app_key": "sandbox-sharing-key", "app_secret": "sandbox-sharing-secret"}
_nonces = twin_kit.NonceMemory()  # of the legal-entity register's questions


def configure(app_key: str, app_secret: str) -> None:
    with _lock:
        _credentials.update(app_key=app_key, app_secret=app_secret)


def reset() -> None:
    """The registers are fixed and the credentials are configuration: only the nonces seen are forgotten."""
    _nonces.clear()


def _expected_sign(body: dict, secret: str) -> str:
    # Written apart from the client's on purpose: a twin sharing the client's code would agree with its bugs.
    canonical = "&".join(f"{key}={body.get(key, '')}" for key in sorted(SIGNED_FIELDS))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


@blueprint.post("/population/verify")
def verify():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(body.get(key) for key in (*SIGNED_FIELDS, "sign")):
        return jsonify(code="E400", msg="参数缺失")
    with _lock:
        app_key, secret = _credentials["app_key"], _credentials["app_secret"]
    if body["appKey"] != app_key or not hmac.compare_digest(str(body["sign"]), _expected_sign(body, secret)):
        return jsonify(code="E401", msg="签名错误")
    known = _REGISTER.get(str(body["sfzh"]).strip().upper())
    result = "一致" if known is not None and known == str(body["xm"]).strip() else "不一致"
    return jsonify(code="0000", msg="成功", data={"result": result})


# -- the legal-entity register (法人库) -------------------------------------------------------------

LEGAL_SIGNED_FIELDS = ("appKey", "timestamp", "nonce", "tyshxydm")
CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def _fresh_request(body: dict) -> tuple[str, str] | None:
    """None for a fresh, signed question; otherwise (code, msg) of the platform's refusal."""
    with _lock:
        app_key, secret = _credentials["app_key"], _credentials["app_secret"]
    canonical = "&".join(f"{key}={body.get(key, '')}" for key in sorted(LEGAL_SIGNED_FIELDS))
    expected = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    if body["appKey"] != app_key or not hmac.compare_digest(str(body["sign"]), expected):
        return "E401", "签名错误"
    problem = twin_kit.timestamp_problem(body["timestamp"], millis=True)
    if problem is not None:
        return ("E400", "timestamp 格式错误") if problem == "malformed" else ("E403", "请求已过期")
    if _nonces.seen_before(str(body["nonce"])):
        return "E409", "重复请求"
    return None


def _synchronised_at() -> str:
    """The register is copied from the market regulator's nightly at 02:00."""
    return f"{twin_kit.last_daily_at(2):%Y-%m-%d %H:%M:%S}"


@blueprint.post("/legal-person/query")
def legal_person():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(body.get(key) for key in (*LEGAL_SIGNED_FIELDS, "sign")):
        return jsonify(code="E400", msg="参数缺失")
    refusal = _fresh_request(body)
    if refusal is not None:
        return jsonify(code=refusal[0], msg=refusal[1])
    code = str(body["tyshxydm"]).strip().upper()
    if not CREDIT_CODE.match(code):
        return jsonify(code="E400", msg="统一社会信用代码格式错误")
    record = twin_data.LEGAL_ENTITIES.get(code)
    if record is None:
        return jsonify(code="E404", msg="未查询到该市场主体登记信息")
    return jsonify(code="0000", msg="成功", data={**record, "sjtbsj": _synchronised_at()})
