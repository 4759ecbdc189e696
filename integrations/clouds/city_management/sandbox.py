"""Twin of the city management cloud (智慧城管云, 城管局): the digital city management cases (数字城管案件).

Its own manners: a token from GET /auth/accessToken?appKey=&appSecret= (lives 7200 s), sent back in the
header X-Access-Token; every answer is HTTP 200 {"resultCode": "0", "resultMsg": "成功", "data": {...}},
with resultCode "-1" for bad credentials, "-2" for an invalid or expired token, "1001" for an unknown case
and "1002" for a malformed question; times are "yyyy/MM/dd HH:mm"; status codes "01".."06".

Case numbers are CG + year + month + a four-digit sequence (CG2026110087). A case's story derives from its
number and unfolds with the clock: each step appears once its time has come. Numbers ending in 0, and
cases not reported yet, are unknown.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from flask import Blueprint, jsonify, request

from app.clock import CITY_TZ
from integrations.sandbox import keyring, twin_kit

CLOUD = "city_management"
blueprint = Blueprint("city_management_twin", __name__)
TIME_FORMAT = "%Y/%m/%d %H:%M"
# (大类, 小类, who disposes of it, days it takes)
CATEGORIES = (
    ("市政设施", "井盖破损", "市政", 2),
    ("市政设施", "路灯不亮", "市政", 3),
    ("街面秩序", "占道经营", "执法", 1),
    ("街面秩序", "店外经营", "执法", 1),
    ("市容环境", "暴露垃圾", "环卫", 1),
    ("市容环境", "渣土撒漏", "环卫", 1),
    ("园林绿化", "绿地脏乱", "市政", 3),
    ("违法建设", "违章搭建", "执法", 20),
    ("宣传广告", "违规张贴小广告", "执法", 2),
)
UNITS = {"市政": "市政园林管理处", "执法": "综合行政执法大队", "环卫": "环境卫生管理处"}
STREETS = {
    "市中区": ("光明路与建华路交叉口", "文化中路东段", "青檀北路与振兴路交叉口"),
    "薛城区": ("黄河路与泰山路交叉口", "临山路北段", "永福南路中段"),
    "峄城区": ("坛山路与承水路交叉口", "峨山路西段"),
    "台儿庄区": ("箭道街与兴中路交叉口", "华兴路南段"),
    "山亭区": ("府前路与翼云路交叉口", "北京路中段"),
    "滕州市": ("北辛中路与善国路交叉口", "荆河中路东段", "学院中路北段"),
}
STATUS_NAMES = {"01": "上报", "02": "立案", "03": "派遣", "04": "处置中", "05": "处置完成", "06": "结案"}
COMMAND_CENTRE = "枣庄市数字化城市管理指挥中心"

_tokens = twin_kit.TokenBook()
# The tests' controls: let every token handed out so far lapse; count the tokens handed out.
expire_tokens, issued_tokens = _tokens.expire_all, _tokens.issued


def reset() -> None:
    _tokens.clear()


def _result(code: str, message: str, data=None):
    return jsonify(resultCode=code, resultMsg=message, data=data)


@blueprint.get("/auth/accessToken")
def access_token():
    right_key = request.args.get("appKey", "") == keyring.cloud_app_key(CLOUD)
    right_secret = hmac.compare_digest(request.args.get("appSecret", ""), keyring.cloud_app_secret(CLOUD))
    if not (right_key and right_secret):
        return _result("-1", "appKey或appSecret错误")
    token, lifetime = _tokens.issue()
    return _result("0", "成功", {"accessToken": token, "expiresIn": lifetime})


def _case(case_no: str, now: datetime) -> dict | None:
    shape = re.fullmatch(r"CG([0-9]{4})([0-9]{2})([0-9]{4})", case_no)
    if shape is None or case_no.endswith("0") or not 1 <= int(shape[2]) <= 12:
        return None
    seq = int(shape[3])
    month_start = datetime(int(shape[1]), int(shape[2]), 1, tzinfo=CITY_TZ)
    reported = month_start + timedelta(days=seq % 27, hours=8, minutes=seq * 7 % 600)
    if reported > now:
        return None
    seed = int(hashlib.sha256(case_no.encode()).hexdigest()[:8], 16)
    big, small, kind, days = CATEGORIES[seed % len(CATEGORIES)]
    district = tuple(STREETS)[(seed >> 4) % len(STREETS)]
    street = STREETS[district][(seed >> 8) % len(STREETS[district])]
    unit = f"{district}{UNITS[kind]}"
    story = (
        ("01", timedelta(0), COMMAND_CENTRE, f"市民上报{small}问题，指挥中心受理"),
        ("02", timedelta(minutes=25), COMMAND_CENTRE, "经监督员核实，问题属实，予以立案"),
        ("03", timedelta(minutes=60), COMMAND_CENTRE, f"派遣至{unit}处置"),
        ("04", timedelta(hours=3), unit, "已签收，安排人员现场处置"),
        ("05", timedelta(days=days), unit, "处置完毕，已上传处置后照片"),
        ("06", timedelta(days=days, hours=4), COMMAND_CENTRE, "监督员现场核查通过，予以结案"),
    )
    steps = [(code, reported + after, who, what) for code, after, who, what in story if reported + after <= now]
    return {
        "caseNo": case_no,
        "bigClassName": big,
        "smallClassName": small,
        "caseState": steps[-1][0],
        "caseStateName": STATUS_NAMES[steps[-1][0]],
        "reportTime": f"{reported:{TIME_FORMAT}}",
        "position": f"{district}{street}",
        "procList": [
            {"procTime": f"{at:{TIME_FORMAT}}", "deptName": who, "procDesc": what, "nodeCode": code}
            for code, at, who, what in steps
        ],
        "queryTime": f"{now:{TIME_FORMAT}}",
    }


@blueprint.get("/api/case/progress")
def case_progress():
    if not _tokens.valid(request.headers.get("X-Access-Token", "")):
        return _result("-2", "token失效")
    case_no = request.args.get("caseNo", "")
    if not re.fullmatch(r"CG[0-9]{10}", case_no):
        return _result("1002", "案件编号格式错误")
    case = _case(case_no, datetime.now(CITY_TZ))
    if case is None:
        return _result("1001", "未查询到该案件信息")
    return _result("0", "成功", case)
