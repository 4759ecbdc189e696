"""The environment cloud: the twin's paging, date format and error shape come out normalized."""

from datetime import datetime, timedelta

import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_air_quality_of_every_district_is_normalized(connect):
    answer = connect("environment").run("air_quality", {})
    readings = answer.result["readings"]
    assert {r["district"] for r in readings} >= {"370402", "370405", "370481"}
    first = readings[0]
    assert first["level"] in {"优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"}
    assert first["hour"].endswith("+08:00")
    assert isinstance(first["pollutants"]["co"], float)
    assert datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(hours=2)


def test_one_district_and_the_same_reading_twice(connect):
    connector = connect("environment")
    one = connector.run("air_quality", {"district": "370405"}).result["readings"]
    again = connector.run("air_quality", {"district": "370405"}).result["readings"]
    assert [r["district_name"] for r in one] == ["台儿庄区"]
    assert one == again  # steady readings; and a second call is not refused as a replayed nonce


def test_hourly_readings_follow_the_twins_pages(connect):
    answer = connect("environment").run("air_hourly", {"district": "370402"})
    hours = [r["hour"] for r in answer.result["readings"]]
    assert len(hours) == 24  # two pages of twelve
    assert hours == sorted(hours, reverse=True)
    assert answer.as_of == datetime.fromisoformat(hours[0])


def test_unknown_district_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("environment").run("air_hourly", {"district": "999999"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "无此区域的监测数据"


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("environment", app_secret="not-the-environment-secret").run("air_quality", {})
    assert refused.value.public_message is None


def test_an_answer_missing_fields_is_a_bad_response(connect, fault_once):
    fault_once("environment")
    with pytest.raises(UpstreamBadResponse):
        connect("environment").run("air_quality", {})
