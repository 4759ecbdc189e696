"""The education cloud: a WeChat-style access token kept and renewed, offset paging, epoch seconds, normalized."""

from datetime import datetime, timedelta

import pytest
import requests

from integrations.clouds.education import sandbox as twin
from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_schools_follow_the_pages(connect):
    answer = connect("education").run("schools", {"district": "370402", "stage": "primary"})
    schools = answer.result["schools"]
    assert len(schools) == 8  # two pages: five, then three
    assert len({s["school"] for s in schools}) == 8
    first = schools[0]
    assert first == {
        "school": "37040221101",
        "name": "枣庄市市中区实验小学",
        "stage": "primary",
        "type": "public",
        "address": "枣庄市市中区文化东路18号",
        "phone": first["phone"],
    }
    assert first["phone"].startswith("0632-")
    assert {s["type"] for s in schools} == {"public", "private"}
    assert answer.as_of.isoformat().endswith("+08:00") and answer.as_of.hour == 2  # the nightly copy
    assert timedelta(0) <= datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(days=1)


def test_junior_schools_of_another_district(connect):
    schools = connect("education").run("schools", {"district": "370481", "stage": "junior"}).result["schools"]
    assert {s["stage"] for s in schools} == {"junior"}
    assert "滕州市北辛中学" in {s["name"] for s in schools}


def test_a_district_outside_the_city_is_not_found(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("education").run("schools", {"district": "370102", "stage": "primary"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "该区县无学校信息")


def test_enrolment_zone_of_a_community(connect):
    answer = connect("education").run("enrolment_zone", {"district": "370402", "community": "demo-guangming"})
    zone = answer.result
    assert zone["community"] == "demo-guangming" and zone["community_name"] == "光明路社区(示例)"
    assert [(s["stage"], s["name"]) for s in zone["schools"]] == [
        ("primary", "枣庄市市中区光明路小学"),
        ("junior", "枣庄市第十五中学"),
    ]
    assert zone["notes"]
    assert zone["year"] == answer.as_of.year  # zoning is published each spring for that year's enrolment
    assert (answer.as_of.month, answer.as_of.day) == (3, 31)
    assert answer.as_of.isoformat().endswith("+08:00")


def test_a_community_without_zoning_is_not_found(connect):
    connector = connect("education")
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("enrolment_zone", {"district": "370402", "community": "demo-nowhere"})
    assert (refused.value.reason, refused.value.public_message) == ("not_found", "该社区暂无划片信息")
    with pytest.raises(UpstreamRejected) as refused:  # a real community, asked of the wrong district
        connector.run("enrolment_zone", {"district": "370403", "community": "demo-guangming"})
    assert refused.value.reason == "not_found"


def test_one_token_serves_many_calls_and_a_refused_one_is_renewed(connect):
    connector = connect("education")
    connector.run("schools", {"district": "370405", "stage": "primary"})
    connector.run("enrolment_zone", {"district": "370481", "community": "demo-beixin"})
    assert twin.tokens_issued() == 1
    twin.expire_tokens()  # 42001
    connector.run("schools", {"district": "370405", "stage": "junior"})
    assert twin.tokens_issued() == 2
    twin.revoke_tokens()  # 40014
    assert connector.run("schools", {"district": "370406", "stage": "junior"}).result["schools"]
    assert twin.tokens_issued() == 3


def test_the_token_also_works_in_the_query_string(connect, sandbox_url):
    connector = connect("education")
    token = connector.signer.token()
    params = {"access_token": token, "district_code": "370404", "stage_code": "211"}
    body = requests.get(f"{sandbox_url}/education/api/school/list", params=params, timeout=5).json()
    assert (body["errcode"], body["total"]) == (0, 3)


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("education", app_secret="not-the-education-secret").run(
            "schools", {"district": "370402", "stage": "junior"}
        )
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("education")
    with pytest.raises(UpstreamBadResponse):  # a fresh connector: the token request meets the garbage
        connect("education").run("schools", {"district": "370402", "stage": "junior"})
    connector = connect("education")
    connector.run("schools", {"district": "370402", "stage": "junior"})
    fault_once("education")
    with pytest.raises(UpstreamBadResponse):  # now the query itself, with a good token
        connector.run("schools", {"district": "370402", "stage": "junior"})
    assert twin.tokens_issued() == 1
