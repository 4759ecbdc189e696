"""The medical cloud: an orgCode-signed query, PascalCase fields, /Date()/ server times and pages from 0."""

from datetime import date, datetime, timedelta, timezone

import marshmallow as ma
import pytest

from integrations.clouds.medical import sandbox as twin
from integrations.clouds.medical.twin_data import registry
from integrations.errors import UpstreamBadResponse, UpstreamRejected

BEIJING = timezone(timedelta(hours=8))


def tomorrow() -> date:
    return datetime.now(BEIJING).date() + timedelta(days=1)


def test_hospitals_are_normalized(connect):
    answer = connect("medical").run("hospitals", {})
    hospitals = {h["hospital"]: h for h in answer.result["hospitals"]}
    assert set(hospitals) == {"zzslyy", "zzszyyy", "zzsfybjy", "tzszxrmyy"}
    assert hospitals["zzslyy"]["name"] == "枣庄市立医院"
    assert hospitals["zzslyy"]["level"] == "三级甲等"
    assert hospitals["tzszxrmyy"]["district"] == "370481"
    assert hospitals["zzslyy"]["phone"].startswith("0632-")
    assert answer.as_of.isoformat().endswith("+08:00")
    assert abs(datetime.now(BEIJING) - answer.as_of) < timedelta(minutes=1)


def test_departments_of_a_hospital(connect):
    result = connect("medical").run("departments", {"hospital": "zzslyy"}).result
    names = {d["department"]: d["name"] for d in result["departments"]}
    assert names["NK"] == "内科" and names["EK"] == "儿科"
    assert len(names) == 8
    assert all(d["location"].startswith(("门诊楼", "医技楼")) for d in result["departments"])


def test_unknown_hospital_is_the_platforms_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("medical").run("departments", {"hospital": "bjxhyy"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "医院不存在")


def test_doctors_of_a_department(connect):
    result = connect("medical").run("doctors", {"hospital": "zzslyy", "department": "EK"}).result
    doctors = result["doctors"]
    assert 3 <= len(doctors) <= 7
    assert doctors[0]["title"] == "主任医师"
    assert {d["title"] for d in doctors} <= {"主任医师", "副主任医师", "主治医师"}
    assert all(d["specialty"] and d["name"] for d in doctors)


def test_a_department_the_hospital_does_not_have(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("medical").run("doctors", {"hospital": "zzszyyy", "department": "EK"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "该医院无此科室")


def test_schedules_follow_the_pages_and_default_to_tomorrow(connect):
    answer = connect("medical").run("schedules", {"hospital": "zzslyy", "department": "NK"})
    result = answer.result
    assert result["date"] == tomorrow().isoformat()
    hospital = registry()["zzslyy"]
    expected = twin._sessions(hospital, hospital["departments"]["NK"], tomorrow(), tomorrow() - timedelta(days=1))
    assert len(result["sessions"]) == len(expected) > twin.MAX_PAGE_SIZE  # more than one page
    session = result["sessions"][0]
    assert session["date"] == tomorrow().isoformat()
    assert session["period"] in {"morning", "afternoon"}
    assert datetime.fromisoformat(session["start"]).utcoffset() == timedelta(hours=8)
    assert session["start"] < session["end"]
    assert 0 <= session["remaining"] <= session["total"]
    fees = {"主任医师": 2500, "副主任医师": 1500, "主治医师": 1000}
    assert all(s["fee_fen"] == fees[s["title"]] for s in result["sessions"])


def test_schedules_of_a_given_day_and_of_the_emergency_room(connect):
    connector = connect("medical")
    day = (tomorrow() + timedelta(days=2)).isoformat()
    result = connector.run("schedules", {"hospital": "tzszxrmyy", "department": "XNK", "date": day}).result
    assert {s["date"] for s in result["sessions"]} == {day}
    emergency = connector.run("schedules", {"hospital": "tzszxrmyy", "department": "JZK"}).result
    assert emergency["sessions"] == []  # the emergency room keeps no bookable sessions


def test_a_date_outside_the_booking_week_never_reaches_the_platform(connect):
    with pytest.raises(ma.ValidationError):
        connect("medical").run(
            "schedules",
            {"hospital": "zzslyy", "department": "NK", "date": (tomorrow() + timedelta(days=9)).isoformat()},
        )


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("medical", app_secret="not-the-medical-secret").run("hospitals", {})
    assert refused.value.public_message is None


def test_a_replayed_request_is_refused(signed_get):
    send = signed_get("medical", "/HisApi/Hospital/List")
    assert send().json()["IsSuccess"] is True
    again = send().json()
    assert (again["IsSuccess"], again["ErrorCode"]) == (False, "A04")


def test_a_request_signed_six_minutes_ago_is_refused(connect, signed_six_minutes_ago):
    with pytest.raises(UpstreamRejected) as refused:
        connect("medical").run("hospitals", {})
    assert refused.value.public_message is None and "A03" in refused.value.message


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("medical")
    with pytest.raises(UpstreamBadResponse):
        connect("medical").run("hospitals", {})
