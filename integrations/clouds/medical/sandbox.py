"""Twin of the medical cloud (智慧医疗云, 卫计委): the hospitals' shared platform, its read side: hospitals,
departments, doctors and their bookable sessions.

Its own manners (a .NET platform's): a signed query string (orgCode, timestamp in seconds, nonce, upper-case
HMAC-SHA256 hex `sign` over the other parameters sorted); PascalCase fields; answers HTTP 200 as
{"IsSuccess": true, "ErrorCode": "", "ErrorMsg": "", "ServerTime": "/Date(<millis>+0800)/", "Result": …}, errors
with IsSuccess false and an ErrorCode (A… credentials, N… no such record, P… a bad parameter); dates "yyyyMMdd",
times "HHmm"; sessions paged from PageIndex 0. Booked counts are invented but steady for a day.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.clouds.medical.twin_data import FEES, NO_APPOINTMENTS, registry
from integrations.sandbox import keyring, twin_kit

CLOUD = "medical"
blueprint = Blueprint("medical_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
BOOKABLE_DAYS = 7
MAX_PAGE_SIZE = 4
PERIODS = (("AM", "0800", "1130"), ("PM", "1400", "1700"))
QUOTA = {"主任医师": 20, "副主任医师": 30, "主治医师": 40}
_nonces = twin_kit.NonceMemory()


def reset() -> None:
    _nonces.clear()


def _answer(result=None, error: str = "", message: str = ""):
    millis = int(time.time() * 1000)
    return jsonify(
        IsSuccess=not error, ErrorCode=error, ErrorMsg=message, ServerTime=f"/Date({millis}+0800)/", Result=result
    )


def _check_signature():
    params = request.args.to_dict()
    given = params.pop("sign", "")
    if params.get("orgCode") != keyring.cloud_app_key(CLOUD):
        return _answer(error="A01", message="机构未授权")
    if twin_kit.timestamp_problem(params.get("timestamp", "")):
        return _answer(error="A03", message="请求已超时")
    text = "&".join(f"{key}={params[key]}" for key in sorted(params))
    expected = hmac.new(keyring.cloud_app_secret(CLOUD).encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    if not hmac.compare_digest(given, expected):
        return _answer(error="A02", message="签名验证失败")
    if _nonces.seen_before(params.get("nonce", "")):
        return _answer(error="A04", message="重复请求")
    return None


def _hospital_and_department(need_department: bool):
    """(hospital, department, None), or (…, the refusal) for a code the platform does not know."""
    hospital = registry().get(request.args.get("HospitalCode", ""))
    if hospital is None:
        return None, None, _answer(error="N01", message="医院不存在")
    if not need_department:
        return hospital, None, None
    department = hospital["departments"].get(request.args.get("DeptCode", ""))
    if department is None:
        return hospital, None, _answer(error="N02", message="该医院无此科室")
    return hospital, department, None


@blueprint.get("/HisApi/Hospital/List")
def hospital_list():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    return _answer([{k: v for k, v in h.items() if k != "departments"} for h in registry().values()])


@blueprint.get("/HisApi/Dept/List")
def department_list():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    hospital, _, refusal = _hospital_and_department(need_department=False)
    if refusal is not None:
        return refusal
    return _answer([{k: v for k, v in d.items() if k != "doctors"} for d in hospital["departments"].values()])


@blueprint.get("/HisApi/Doctor/List")
def doctor_list():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    _, department, refusal = _hospital_and_department(need_department=True)
    if refusal is not None:
        return refusal
    return _answer(department["doctors"])


def _sessions(hospital: dict, department: dict, day: date, today: date) -> list[dict]:
    if department["DeptCode"] in NO_APPOINTMENTS:
        return []
    rows = []
    for doctor in department["doctors"]:
        for flag, begin, end in PERIODS:
            seed = int(hashlib.sha256(f"{doctor['DoctorCode']}{day:%Y%m%d}{flag}".encode()).hexdigest()[:8], 16)
            # Attendings sit every morning; seniors some sessions, and never on Sundays.
            if doctor["TitleName"] == "主治医师":
                if flag == "PM" and seed % 3 == 0:
                    continue
            elif seed % 3 == 0 or day.weekday() == 6:
                continue
            total = QUOTA[doctor["TitleName"]]
            filled = (BOOKABLE_DAYS + 1 - (day - today).days) / (BOOKABLE_DAYS + 1)  # nearer days are fuller
            booked = min(total, int(total * filled * (0.5 + (seed >> 8) % 50 / 100)))
            rows.append(
                {
                    "HospitalCode": hospital["HospitalCode"],
                    "DeptCode": department["DeptCode"],
                    "DoctorCode": doctor["DoctorCode"],
                    "DoctorName": doctor["DoctorName"],
                    "TitleName": doctor["TitleName"],
                    "ScheduleDate": f"{day:%Y%m%d}",
                    "TimeFlag": flag,
                    "BeginTime": begin,
                    "EndTime": end,
                    "TotalNum": total,
                    "RemainNum": total - booked,
                    "RegFee": FEES[doctor["TitleName"]],
                }
            )
    return rows


@blueprint.get("/HisApi/Schedule/Query")
def schedule_query():
    refusal = _check_signature()
    if refusal is not None:
        return refusal
    hospital, department, refusal = _hospital_and_department(need_department=True)
    if refusal is not None:
        return refusal
    today = datetime.now(BEIJING).date()
    try:
        day = datetime.strptime(request.args.get("ScheduleDate", ""), "%Y%m%d").date()
        index = int(request.args.get("PageIndex", "0"))
        size = int(request.args.get("PageSize", str(MAX_PAGE_SIZE)))
    except ValueError:
        return _answer(error="P01", message="参数格式错误")
    if not 0 <= (day - today).days <= BOOKABLE_DAYS:
        return _answer(error="P02", message="仅可查询7日内排班")
    if index < 0 or not 1 <= size <= MAX_PAGE_SIZE:
        return _answer(error="P01", message="参数格式错误")
    rows = _sessions(hospital, department, day, today)
    page = rows[index * size : (index + 1) * size]
    return _answer({"PageIndex": index, "PageSize": size, "TotalCount": len(rows), "Rows": page})
