"""Twin of the education cloud (智慧教育云, 教育局): the city's primary and junior schools and enrolment zoning.

Its own manners, modelled on the WeChat-style platforms the bureau's vendors build: an access token from
GET /api/token?grant_type=client_credential&appid=…&secret=…, answered {"errcode": 0, "errmsg": "ok",
"access_token": …, "expires_in": 7200}; the token then goes in the query (?access_token=) or, for clients that
keep tokens out of URLs, an `Access-Token` header. Errors are HTTP 200 with a non-zero errcode (40014 invalid
token, 42001 expired token, 46004 no such district, 46005 no zoning...); snake_case fields; times in epoch
seconds; lists paged by offset and limit (at most 5 a page).
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.clouds.education.twin_data import DISTRICTS, SCHOOLS, SCHOOLS_BY_NAME, ZONES
from integrations.sandbox import keyring

CLOUD = "education"
blueprint = Blueprint("education_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
TOKEN_SECONDS = 7200
MAX_LIMIT = 5
_lock = threading.Lock()
_tokens: dict[str, float] = {}  # access_token → epoch second it expires
_issued = {"count": 0}


def reset() -> None:
    with _lock:
        _tokens.clear()
        _issued["count"] = 0


def expire_tokens() -> None:
    """For tests: every token handed out so far has run out (42001)."""
    with _lock:
        for token in _tokens:
            _tokens[token] = 0.0


def revoke_tokens() -> None:
    """For tests: the platform forgot every token, as after a redeploy (40014)."""
    with _lock:
        _tokens.clear()


def tokens_issued() -> int:
    with _lock:
        return _issued["count"]


def _error(errcode: int, errmsg: str):
    return jsonify(errcode=errcode, errmsg=errmsg)


def _ok(**fields):
    return jsonify(errcode=0, errmsg="ok", **fields)


@blueprint.get("/api/token")
def token():
    if request.args.get("grant_type") != "client_credential":
        return _error(40002, "invalid grant_type")
    if request.args.get("appid") != keyring.cloud_app_key(CLOUD):
        return _error(40013, "invalid appid")
    if request.args.get("secret") != keyring.cloud_app_secret(CLOUD):
        return _error(40125, "invalid appsecret")
    issued = secrets.token_urlsafe(32)
    with _lock:
        _tokens[issued] = time.time() + TOKEN_SECONDS
        _issued["count"] += 1
    return _ok(access_token=issued, expires_in=TOKEN_SECONDS)


def _check_token():
    given = request.args.get("access_token") or request.headers.get("Access-Token", "")
    if not given:
        return _error(41001, "access_token missing")
    with _lock:
        until = _tokens.get(given)
    if until is None:
        return _error(40014, "invalid access_token")
    if until < time.time():
        return _error(42001, "access_token expired")
    return None


def _district_or_refusal():
    district = request.args.get("district_code", "")
    if len(district) != 6 or not district.isdigit():
        return None, _error(47003, "argument invalid: district_code")
    if district not in DISTRICTS:
        return None, _error(46004, "该区县无学校信息")
    return district, None


def _nightly_sync() -> int:
    """The school register is copied from the provincial system at two every night."""
    now = datetime.now(BEIJING)
    synced = now.replace(hour=2, minute=0, second=0, microsecond=0)
    return int((synced if synced <= now else synced - timedelta(days=1)).timestamp())


@blueprint.get("/api/school/list")
def school_list():
    refusal = _check_token()
    if refusal is not None:
        return refusal
    district, refusal = _district_or_refusal()
    if refusal is not None:
        return refusal
    stage = request.args.get("stage_code", "")
    try:
        offset = max(int(request.args.get("offset", "0")), 0)
        limit = min(max(int(request.args.get("limit", str(MAX_LIMIT))), 1), MAX_LIMIT)
    except ValueError:
        return _error(47003, "argument invalid: offset/limit")
    found = [s for s in SCHOOLS if s["district_code"] == district and (not stage or s["stage_code"] == stage)]
    rows = [{k: v for k, v in s.items() if k != "district_code"} for s in found[offset : offset + limit]]
    return _ok(total=len(found), offset=offset, limit=limit, update_time=_nightly_sync(), list=rows)


def _zoning_published() -> tuple[int, datetime]:
    """This year's zoning is published on March 31st; before that, last year's is the one in force."""
    now = datetime.now(BEIJING)
    published = datetime(now.year, 3, 31, 9, 0, tzinfo=BEIJING)
    return (now.year, published) if published <= now else (now.year - 1, published.replace(year=now.year - 1))


@blueprint.get("/api/enrol/zone")
def enrolment_zone():
    refusal = _check_token()
    if refusal is not None:
        return refusal
    district, refusal = _district_or_refusal()
    if refusal is not None:
        return refusal
    zone = ZONES.get(request.args.get("community_code", ""))
    if zone is None or zone[0] != district:
        return _error(46005, "该社区暂无划片信息")
    _, name, school_names, remark = zone
    year, published = _zoning_published()
    schools = [SCHOOLS_BY_NAME[school] for school in school_names]
    return _ok(
        enrol_year=year,
        community_code=request.args["community_code"],
        community_name=name,
        zone_schools=[{k: s[k] for k in ("school_code", "school_name", "stage_code", "address")} for s in schools],
        remark=remark,
        update_time=int(published.timestamp()),
    )
