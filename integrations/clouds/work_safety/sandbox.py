"""Twin of the work safety cloud (智慧安监云, 安监局): special operation certificates (特种作业操作证).

Its own manners: a signed query string (client_id, timestamp in seconds, nonce, upper-case HMAC-SHA256 hex
`sign`); a success is the plain JSON object asked for, a failure an HTTP 4xx with
{"error": {"code": "CERTIFICATE_NOT_FOUND", "message": "..."}}; camelCase fields, dates "yyyy/MM/dd".
A certificate is valid six years and reviewed (复审) every three. Holders are the sandbox's invented people.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.clouds.sharing.people import DEMO_CITIZENS, DEMO_RELATIVES
from integrations.sandbox import keyring, twin_kit

CLOUD = "work_safety"
blueprint = Blueprint("work_safety_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
CERT_NO = re.compile(r"^TZ[0-9]{10}$")
# (作业类别, 操作项目): the categories of the State Administration's catalogue the city issues most.
OPERATIONS = [
    ("电工作业", "低压电工作业"),
    ("电工作业", "高压电工作业"),
    ("焊接与热切割作业", "熔化焊接与热切割作业"),
    ("高处作业", "登高架设作业"),
    ("高处作业", "高处安装、维护、拆除作业"),
    ("制冷与空调作业", "制冷与空调设备运行操作作业"),
    ("煤矿安全作业", "煤矿井下电气作业"),
    ("煤矿安全作业", "煤矿瓦斯检查作业"),
    ("危险化学品安全作业", "加氢工艺作业"),
]
ADULTS = [p["name"] for p in (*DEMO_CITIZENS, *DEMO_RELATIVES) if not p["id_number"][6:10].startswith("201")]
FIXED = {
    "TZ2026004561": ("张伟", OPERATIONS[0], date(2026, 3, 18), "ACTIVE"),
    "TZ2023002469": ("王磊", OPERATIONS[2], date(2023, 7, 11), "REVOKED"),  # withdrawn after an accident
}
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status


def _check_signature():
    """None when the query string is signed by the city's client; otherwise the twin's refusal."""
    params = request.args.to_dict()
    given = params.pop("sign", "")
    if params.get("client_id") != keyring.cloud_app_key(CLOUD):
        return _error(401, "INVALID_CLIENT", "client_id 无效")
    problem = twin_kit.timestamp_problem(params.get("timestamp", ""))
    if problem is not None:
        return _error(401, "INVALID_TIMESTAMP", "timestamp 无效" if problem == "malformed" else "请求已过期")
    canonical = "&".join(f"{key}={params[key]}" for key in sorted(params))
    expected = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), canonical.encode(), hashlib.sha256)
    if not hmac.compare_digest(given, expected.hexdigest().upper()):
        return _error(401, "SIGNATURE_MISMATCH", "签名校验失败")
    if _nonces.seen_before(params.get("nonce", "")):
        return _error(401, "NONCE_REUSED", "请求已处理，请勿重复提交")
    return None


def _years_later(day: date, years: int) -> date:
    # 29 February falls on the 28th in a year without one.
    return day.replace(year=day.year + years, day=28 if (day.month, day.day) == (2, 29) else day.day)


def certificate(number: str) -> dict | None:
    """The certificate as the register holds it, or None (numbers ending in 0 were never issued)."""
    if number.endswith("0"):
        return None
    seed = int(hashlib.sha256(number.encode()).hexdigest()[:12], 16)
    year = min(max(int(number[2:6]), 2008), datetime.now(BEIJING).year)
    holder, operation, issued, state = FIXED.get(number) or (
        ADULTS[seed % len(ADULTS)],
        OPERATIONS[(seed >> 8) % len(OPERATIONS)],
        date(year, 1, 1) + timedelta(days=(seed >> 16) % 300),
        "REVOKED" if seed % 11 == 0 else "ACTIVE",
    )
    valid_until = _years_later(issued, 6) - timedelta(days=1)
    if state == "ACTIVE" and valid_until < datetime.now(BEIJING).date():
        state = "EXPIRED"
    return {
        "certNo": number,
        "holderName": holder,
        "workType": operation[0],
        "workItem": operation[1],
        "issueDate": f"{issued:%Y/%m/%d}",
        "validUntil": f"{valid_until:%Y/%m/%d}",
        "nextReviewDate": f"{_years_later(issued, 3):%Y/%m/%d}",
        "certState": state,
        "issuingAuthority": "枣庄市应急管理局",
    }


@blueprint.get("/v1/certificates/verify")
def verify_certificate():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    number = request.args.get("certNo", "").strip().upper()
    if not CERT_NO.match(number):
        return _error(400, "INVALID_ARGUMENT", "证书编号格式不正确")
    found = certificate(number)
    if found is None:
        return _error(404, "CERTIFICATE_NOT_FOUND", "未查询到该证书信息")
    return jsonify({**found, "queryTime": f"{datetime.now(BEIJING):%Y/%m/%d %H:%M:%S}"})
