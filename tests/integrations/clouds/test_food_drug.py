"""The food and drug cloud: licences and recall notices come out normalized from the twin's pinyin fields."""

from datetime import date, datetime, timedelta

import marshmallow as ma
import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_a_food_business_licence_is_normalized(connect):
    answer = connect("food_drug").run("licence", {"licence_no": "JY13704020012345"})
    licence = answer.result
    assert licence["kind"] == "food_business"
    assert licence["kind_name"] == "食品经营许可证"
    assert licence["holder"] == "枣庄市市中区惠民便利超市"
    assert licence["legal_representative"] == "张*"
    assert licence["business_items"][0].startswith("预包装食品销售")
    assert licence["issued_on"] == "2023-06-18"
    assert licence["valid_until"] == "2028-06-17"
    assert (licence["status"], licence["status_name"]) == ("valid", "有效")
    assert answer.as_of.isoformat().endswith("+08:00")
    assert datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(days=1)


def test_drug_licences_wholesale_and_revoked(connect):
    connector = connect("food_drug")
    wholesale = connector.run("licence", {"licence_no": "鲁AA6320123"}).result
    assert (wholesale["kind"], wholesale["status"]) == ("drug_wholesale", "valid")
    assert wholesale["legal_representative"] == "王*"
    revoked = connector.run("licence", {"licence_no": "鲁BD6320457"}).result
    assert (revoked["kind"], revoked["status"], revoked["status_name"]) == ("drug_retail", "revoked", "已吊销")


def test_a_licence_past_its_end_date_is_expired(connect):
    licence = connect("food_drug").run("licence", {"licence_no": "JY23704050023457"}).result
    assert date.fromisoformat(licence["valid_until"]) < date.today()
    assert (licence["status"], licence["status_name"]) == ("expired", "已过期")


def test_the_same_licence_reads_the_same(connect):
    connector = connect("food_drug")
    first = connector.run("licence", {"licence_no": "JY22026040012347"}).result
    assert first == connector.run("licence", {"licence_no": "JY22026040012347"}).result


def test_unknown_licence_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("food_drug").run("licence", {"licence_no": "JY13704020012340"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到该许可证信息"


@pytest.mark.parametrize("number", ["JY1370402001234", "AB13704020012345", "鲁XA6320123", "jy13704020012345"])
def test_malformed_licence_numbers_never_reach_the_department(connect, number):
    with pytest.raises(ma.ValidationError):
        connect("food_drug").run("licence", {"licence_no": number})


def test_recall_notices_follow_the_twins_pages_newest_first(connect):
    answer = connect("food_drug").run("recalls", {})
    notices = answer.result["notices"]
    assert len(notices) == 13  # two pages of ten
    assert len({n["notice_no"] for n in notices}) == 13
    published = [n["published_on"] for n in notices]
    assert published == sorted(published, reverse=True)
    assert {n["category"] for n in notices} == {"food", "drug", "device"}
    assert {n["level"] for n in notices} == {"一级", "二级", "三级"}
    assert answer.as_of.utcoffset() == timedelta(hours=8)


def test_recall_notices_of_one_category(connect):
    notices = connect("food_drug").run("recalls", {"category": "drug"}).result["notices"]
    assert notices and {(n["category"], n["category_name"]) for n in notices} == {("drug", "药品")}


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("food_drug", app_secret="not-the-food-drug-secret").run("recalls", {})
    assert refused.value.public_message is None


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("food_drug")
    connector.run("licence", {"licence_no": "JY13704020012345"})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("licence", {"licence_no": "JY13704020012345"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("food_drug")
    with pytest.raises(UpstreamBadResponse):
        connect("food_drug").run("licence", {"licence_no": "JY13704020012345"})
