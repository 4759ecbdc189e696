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
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request

from integrations.clouds.education.twin_data import DISTRICTS, SCHOOLS, SCHOOLS_BY_NAME, ZONES
from integrations.sandbox import keyring, twin_kit

CLOUD = "education"
blueprint = Blueprint("education_twin", __name__)
BEIJING = timezone(timedelta(hours=8))
MAX_LIMIT = 5
_tokens = twin_kit.TokenBook(make_token=lambda: secrets.token_urlsafe(32))
# The tests' controls: every token handed out so far runs out (42001), or is forgotten as after a redeploy
# (40014); the count of tokens handed out.
expire_tokens, revoke_tokens, tokens_issued = _tokens.expire_all, _tokens.revoke_all, _tokens.issued


def reset() -> None:
    _tokens.clear()


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
    issued, lifetime = _tokens.issue()
    return _ok(access_token=issued, expires_in=lifetime)


def _check_token():
    given = request.args.get("access_token") or request.headers.get("Access-Token", "")
    if not given:
        return _error(41001, "access_token missing")
    state = _tokens.state(given)
    if state == "unknown":
        return _error(40014, "invalid access_token")
    if state == "expired":
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
    return int(twin_kit.last_daily_at(2).timestamp())


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
