"""Connector of the medical cloud (智慧医疗云, 卫计委): the hospitals' shared platform, read side only:
hospitals, their departments, doctors, and the sessions open for booking in the coming week.

`department` inputs take the platform's department code (NK 内科, EK 儿科…), as the `departments` operation
lists them: names differ from hospital to hospital, codes are what the platform keys on.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import marshmallow as ma

from integrations.connectors.base import Answer, Connector, Operation, register
from integrations.connectors.parsing import as_int
from integrations.connectors.signing import SignedQuery
from integrations.errors import UpstreamBadResponse, UpstreamRejected

BEIJING = timezone(timedelta(hours=8))
BOOKABLE_DAYS = 7
MAX_PAGES = 20  # a department's day is a handful of pages; more means the platform is looping
PERIODS = {"AM": "morning", "PM": "afternoon"}
TITLES = ("主任医师", "副主任医师", "主治医师")
DOTNET_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
HOSPITAL = ma.fields.String(
    required=True, validate=ma.validate.Regexp(r"^[a-z]{2,16}$"), metadata={"description": "医院编码, e.g. zzslyy"}
)
DEPARTMENT = ma.fields.String(
    required=True,
    validate=ma.validate.Regexp(r"^[A-Z]{1,8}$"),
    metadata={"description": "科室编码 as `departments` lists it, e.g. NK (内科)"},
)


def today() -> date:
    return datetime.now(BEIJING).date()


def within_booking_week(day: date) -> None:
    if not today() <= day <= today() + timedelta(days=BOOKABLE_DAYS):
        raise ma.ValidationError("只能查询今天起7日内的排班")


class NoInput(ma.Schema):
    pass


class HospitalInput(ma.Schema):
    hospital = HOSPITAL


class DepartmentInput(ma.Schema):
    hospital = HOSPITAL
    department = DEPARTMENT


class ScheduleInput(ma.Schema):
    hospital = HOSPITAL
    department = DEPARTMENT
    date = ma.fields.Date(
        load_default=None, validate=within_booking_week, metadata={"description": "YYYY-MM-DD; tomorrow if omitted"}
    )


class Hospital(ma.Schema):
    hospital = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    level = ma.fields.String(required=True, metadata={"description": "三级甲等…"})
    district = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    phone = ma.fields.String(required=True)


class Hospitals(ma.Schema):
    hospitals = ma.fields.List(ma.fields.Nested(Hospital), required=True)


class Department(ma.Schema):
    department = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    location = ma.fields.String(required=True)


class Departments(ma.Schema):
    hospital = ma.fields.String(required=True)
    departments = ma.fields.List(ma.fields.Nested(Department), required=True)


class Doctor(ma.Schema):
    doctor = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.OneOf(TITLES))
    specialty = ma.fields.String(required=True)


class Doctors(ma.Schema):
    hospital = ma.fields.String(required=True)
    department = ma.fields.String(required=True)
    doctors = ma.fields.List(ma.fields.Nested(Doctor), required=True)


class Session(ma.Schema):
    doctor = ma.fields.String(required=True)
    doctor_name = ma.fields.String(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.OneOf(TITLES))
    date = ma.fields.String(required=True, metadata={"description": "YYYY-MM-DD"})
    period = ma.fields.String(required=True, validate=ma.validate.OneOf(list(PERIODS.values())))
    start = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    end = ma.fields.String(required=True, metadata={"description": "ISO 8601, Beijing time"})
    total = ma.fields.Integer(required=True)
    remaining = ma.fields.Integer(required=True)
    fee_fen = ma.fields.Integer(required=True)


class Schedules(ma.Schema):
    hospital = ma.fields.String(required=True)
    department = ma.fields.String(required=True)
    date = ma.fields.String(required=True)
    sessions = ma.fields.List(ma.fields.Nested(Session), required=True)


@register
class MedicalConnector(Connector):
    kind = "medical"
    title = "智慧医疗云"
    operations = {
        "hospitals": Operation("医院列表", NoInput, Hospitals, fresh_seconds=86400, stale_seconds=7 * 86400),
        "departments": Operation("医院科室", HospitalInput, Departments, fresh_seconds=86400, stale_seconds=7 * 86400),
        "doctors": Operation("科室医生", DepartmentInput, Doctors, fresh_seconds=3600, stale_seconds=86400),
        "schedules": Operation("医生排班与余号", ScheduleInput, Schedules, fresh_seconds=300, stale_seconds=3600),
    }

    def make_signer(self):
        return SignedQuery(self.settings["app_key"], self.settings["app_secret"], app_id_param="orgCode")

    def hospitals(self, inputs, identity):
        rows, as_of = self._result("/HisApi/Hospital/List", {})
        fields = {"hospital": "HospitalCode", "name": "HospitalName", "level": "HospitalLevel"}
        fields |= {"district": "AreaCode", "address": "Address", "phone": "Tel"}
        return Answer({"hospitals": self._rows(rows, fields)}, as_of)

    def departments(self, inputs, identity):
        rows, as_of = self._result("/HisApi/Dept/List", {"HospitalCode": inputs["hospital"]})
        fields = {"department": "DeptCode", "name": "DeptName", "location": "Location"}
        return Answer({"hospital": inputs["hospital"], "departments": self._rows(rows, fields)}, as_of)

    def doctors(self, inputs, identity):
        params = {"HospitalCode": inputs["hospital"], "DeptCode": inputs["department"]}
        rows, as_of = self._result("/HisApi/Doctor/List", params)
        fields = {"doctor": "DoctorCode", "name": "DoctorName", "title": "TitleName", "specialty": "Specialty"}
        result = {"hospital": inputs["hospital"], "department": inputs["department"]}
        return Answer(result | {"doctors": self._rows(rows, fields)}, as_of)

    def schedules(self, inputs, identity):
        day = inputs.get("date") or today() + timedelta(days=1)
        params = {"HospitalCode": inputs["hospital"], "DeptCode": inputs["department"], "ScheduleDate": f"{day:%Y%m%d}"}
        sessions, index, as_of = [], 0, None
        while index < MAX_PAGES:
            page, served_at = self._result("/HisApi/Schedule/Query", params | {"PageIndex": index})
            as_of = as_of or served_at
            if not isinstance(page, dict) or not isinstance(page.get("Rows"), list):
                raise UpstreamBadResponse(self.name, "schedule page without Rows")
            sessions += [self._session(row) for row in page["Rows"]]
            total = as_int(self.name, page.get("TotalCount"), "TotalCount")
            if not page["Rows"] or len(sessions) >= total:
                break
            index += 1
        result = {"hospital": inputs["hospital"], "department": inputs["department"], "date": day.isoformat()}
        return Answer(result | {"sessions": sessions}, as_of)

    # -- the platform's manners -----------------------------------------------------------------

    def _result(self, path: str, params: dict):
        """The Result of a successful answer and when the platform gave it; otherwise its refusal, raised."""
        body = self.json_of(self.request("GET", path, params=params))
        code, message = str(body.get("ErrorCode") or ""), str(body.get("ErrorMsg") or "")[:100]
        if body.get("IsSuccess") is True and "Result" in body:
            return body["Result"], self._server_time(body.get("ServerTime"))
        if code.startswith("N"):  # N01 no such hospital, N02 no such department there
            raise UpstreamRejected(self.name, f"refused: {code[:10]}", public_message=message, reason="not_found")
        if code.startswith("P"):
            raise UpstreamRejected(self.name, f"refused: {code[:10]}", public_message=message, reason="invalid")
        if code.startswith("A"):  # our orgCode, signature, clock or nonce: an operator must look
            raise UpstreamRejected(self.name, f"refused our signature: {code[:10]}")
        raise UpstreamBadResponse(self.name, "answer without IsSuccess or a known ErrorCode")

    def _server_time(self, text) -> datetime:
        """ServerTime as .NET writes it: /Date(1700000000000+0800)/."""
        match = DOTNET_DATE.match(str(text))
        if match is None:
            raise UpstreamBadResponse(self.name, "ServerTime not in /Date(millis)/")
        try:
            return datetime.fromtimestamp(int(match.group(1)) / 1000, BEIJING)
        except (OverflowError, OSError, ValueError):
            raise UpstreamBadResponse(self.name, "ServerTime out of range") from None

    def _rows(self, rows, fields: dict[str, str]) -> list[dict]:
        """Each row's platform fields under our names, as text; a row missing one is not understood."""
        if not isinstance(rows, list):
            raise UpstreamBadResponse(self.name, "Result is not a list")
        try:
            return [{ours: str(row[theirs]) for ours, theirs in fields.items()} for row in rows]
        except (KeyError, TypeError):
            raise UpstreamBadResponse(self.name, "a record without its fields") from None

    def _session(self, row) -> dict:
        try:
            day = datetime.strptime(str(row["ScheduleDate"]), "%Y%m%d").date()
            start, end = (
                datetime.combine(day, datetime.strptime(str(row[field]), "%H%M").time(), BEIJING)
                for field in ("BeginTime", "EndTime")
            )
            return {
                "doctor": str(row["DoctorCode"]),
                "doctor_name": str(row["DoctorName"]),
                "title": str(row["TitleName"]),
                "date": day.isoformat(),
                "period": PERIODS[str(row["TimeFlag"])],
                "start": start.isoformat(),
                "end": end.isoformat(),
                "total": int(row["TotalNum"]),
                "remaining": int(row["RemainNum"]),
                "fee_fen": int(Decimal(str(row["RegFee"])) * 100),
            }
        except (KeyError, TypeError, ValueError, InvalidOperation):
            raise UpstreamBadResponse(self.name, "a session without its fields") from None
