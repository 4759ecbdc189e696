"""Connector of the education cloud (智慧教育云, 教育局): schools by district and stage, and which schools a
community is zoned to (划片) for this year's enrolment."""

from __future__ import annotations

import json

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import as_int, as_records, from_epoch
from integrations.connectors.signing import AppKeyToken
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.http import send

MAX_PAGES = 20  # a district has a few dozen schools of a stage; more pages means the platform is looping
STAGES = {"primary": "211", "junior": "311"}  # the ministry's school-type codes: 小学, 初级中学
STAGE_OF_CODE = {code: stage for stage, code in STAGES.items()}
NATURES = {"公办": "public", "民办": "private"}
TOKEN_REFUSED = {40014, 42001}  # invalid and expired access_token: fetch another and try again
NOT_FOUND = {46004, 46005}  # no such district, no zoning for the community
INVALID = {47003, 40097}
DISTRICT = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9]{6}$"))


class SchoolsInput(ma.Schema):
    district = DISTRICT
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STAGES)))


class ZoneInput(ma.Schema):
    district = DISTRICT
    community = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[a-z0-9-]{2,40}$"),
        metadata={"description": "社区编码, e.g. demo-guangming"},
    )


class School(ma.Schema):
    school = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STAGES)))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(NATURES.values())))
    address = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)


class Schools(ma.Schema):
    district = ma.fields.String(required=True)
    stage = ma.fields.String(required=True)
    schools = ma.fields.List(ma.fields.Nested(School), required=True)


class ZonedSchool(ma.Schema):
    school = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    stage = ma.fields.String(required=True, validate=ma.validate.OneOf(list(STAGES)))
    address = ma.fields.String(required=True)


class Zone(ma.Schema):
    year = ma.fields.Integer(required=True, metadata={"description": "the enrolment year the zoning is for"})
    district = ma.fields.String(required=True)
    community = ma.fields.String(required=True)
    community_name = ma.fields.String(required=True)
    schools = ma.fields.List(ma.fields.Nested(ZonedSchool), required=True)
    notes = ma.fields.String(required=True, allow_none=True)


@register
class EducationConnector(Connector):
    kind = "education"
    title = "智慧教育云"
    operations = {
        "schools": Operation("中小学校查询", SchoolsInput, Schools, fresh_seconds=86400, stale_seconds=7 * 86400),
        "enrolment_zone": Operation(
            "义务教育招生划片查询", ZoneInput, Zone, fresh_seconds=86400, stale_seconds=7 * 86400
        ),
    }

    def make_signer(self):
        return AppKeyToken(
            store=self.tokens,
            key=f"{self.kind}:{self.name}:{self.settings['app_key']}",
            fetch=self._fetch_token,
            expired=self._token_refused,
            header="Access-Token",  # the platform also takes ?access_token=; a header keeps it out of logged URLs
            scheme="",
        )

    def schools(self, inputs, identity):
        params = {"district_code": inputs["district"], "stage_code": STAGES[inputs["stage"]]}
        schools, offset, as_of = [], 0, None
        for _ in range(MAX_PAGES):
            body = self._body("/api/school/list", params | {"offset": offset, "limit": 5})
            rows = as_records(self.name, body, "list")
            schools += [self._school(row) for row in rows]
            as_of = as_of or from_epoch(self.name, body.get("update_time"))
            offset += len(rows)
            if not rows or offset >= as_int(self.name, body.get("total"), "total"):
                break
        return Answer({"district": inputs["district"], "stage": inputs["stage"], "schools": schools}, as_of)

    def enrolment_zone(self, inputs, identity):
        params = {"district_code": inputs["district"], "community_code": inputs["community"]}
        body = self._body("/api/enrol/zone", params)
        try:
            schools = [
                {
                    "school": str(row["school_code"]),
                    "name": str(row["school_name"]),
                    "stage": STAGE_OF_CODE[str(row["stage_code"])],
                    "address": str(row["address"]),
                }
                for row in as_records(self.name, body, "zone_schools")
            ]
            result = {
                "year": int(body["enrol_year"]),
                "district": inputs["district"],
                "community": str(body["community_code"]),
                "community_name": str(body["community_name"]),
                "schools": schools,
                "notes": body.get("remark") or None,
            }
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "zoning without its fields") from None
        return Answer(result, from_epoch(self.name, body.get("update_time")))

    # -- the platform's manners -----------------------------------------------------------------

    def _fetch_token(self) -> tuple[str, int]:
        params = {"grant_type": "client_credential", "appid": self.settings["app_key"]}
        params["secret"] = self.settings["app_secret"]
        response = send(self.name, "GET", f"{self.base_url}/api/token", params=params, timeout=self.timeout)
        body = self.json_of(response)
        if body.get("errcode", 0) != 0:  # 40013 appid, 40125 secret: an operator must look
            raise UpstreamRejected(self.name, f"token refused: errcode {str(body.get('errcode'))[:10]}")
        try:
            return str(body["access_token"]), int(body["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise UpstreamBadResponse(self.name, "token answer without access_token/expires_in") from None

    @staticmethod
    def _token_refused(status: int, content: bytes) -> bool:
        try:
            body = json.loads(content)
        except ValueError:
            return False
        return isinstance(body, dict) and isinstance(body.get("errcode"), int) and body["errcode"] in TOKEN_REFUSED

    def _body(self, path: str, params: dict) -> dict:
        response = self.request("GET", path, params=params)
        body = self.json_of(response)
        errcode, errmsg = body.get("errcode"), str(body.get("errmsg", ""))[:100]
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without an errcode")
        if response.status_code == 200 and errcode == 0:
            return body
        if errcode in NOT_FOUND:
            raise UpstreamRejected(self.name, f"refused: {errcode}", public_message=errmsg, reason="not_found")
        if errcode in INVALID:  # its words are English and technical: not for citizens
            raise UpstreamRejected(self.name, f"refused: {errcode}", public_message="查询条件有误", reason="invalid")
        if 40000 <= errcode < 50000:  # our appid, secret or token
            raise UpstreamRejected(self.name, f"refused our credentials: errcode {errcode}")
        raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} without a known errcode")

    def _school(self, row: dict) -> dict:
        try:
            return {
                "school": str(row["school_code"]),
                "name": str(row["school_name"]),
                "stage": STAGE_OF_CODE[str(row["stage_code"])],
                "type": NATURES[str(row["nature"])],
                "address": str(row["address"]),
                "phone": str(row["telephone"]),
            }
        except KeyError:
            raise UpstreamBadResponse(self.name, "a school without its fields") from None
