"""The community cloud: the directory followed across pages, property bills and owner checks, signed queries."""

from datetime import date

import pytest

from integrations.errors import UpstreamBadResponse, UpstreamRejected


def test_the_whole_directory_follows_the_twins_pages(connect):
    answer = connect("community").run("communities", {})
    communities = answer.result["communities"]
    assert len(communities) == 12  # two pages: ten, then two
    assert len({c["code"] for c in communities}) == 12
    guangming = next(c for c in communities if c["code"] == "demo-guangming")
    assert guangming == {
        "code": "demo-guangming",
        "name": "光明路社区(示例)",
        "district": "370402",
        "district_name": "市中区",
        "address": "市中区光明路66号",
        "office_phone": "0632-3311201",
        "property_company": "示例物业服务有限公司",
        "property_hotline": "0632-3311266",
    }
    assert answer.result["district"] is None
    assert answer.as_of.isoformat().endswith("+08:00")


def test_communities_of_one_district(connect):
    answer = connect("community").run("communities", {"district": "370481"})
    assert answer.result["district"] == "370481"
    assert {c["name"] for c in answer.result["communities"]} == {
        "滕州北辛社区(示例)",
        "荆河社区(示例)",
        "善国社区(示例)",
    }


def test_an_unknown_district_is_the_departments_no(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("community").run("communities", {"district": "370499"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "行政区划代码不存在"


def test_property_bills_of_a_demo_citizen(connect):
    answer = connect("community").run("property_bills", {"account_no": "GM0302501"})
    result = answer.result
    assert result["holder"] == "张*"
    assert result["address"] == "光明路社区(示例)*号楼*单元***室"
    assert result["community"] == "光明路社区(示例)" and result["community_code"] == "demo-guangming"
    assert result["property_company"] == "示例物业服务有限公司"
    bills = result["bills"]
    assert len(bills) == 6 and bills[0]["bill_id"].startswith("WYGM0302501")
    owing = [b for b in bills if b["status"] in {"unpaid", "overdue"}]
    assert len(owing) == 3
    assert result["arrears_fen"] == sum(b["amount_fen"] for b in owing)
    assert all(isinstance(b["amount_fen"], int) and b["amount_fen"] > 0 for b in bills)
    date.fromisoformat(bills[0]["due_date"])
    assert answer.as_of.isoformat().endswith("+08:00")


def test_a_lower_case_account_number_is_the_same_account(connect):
    connector = connect("community")
    assert connector.run("property_bills", {"account_no": "xc0601302"}).result["account_no"] == "XC0601302"


def test_an_account_ending_in_zero_does_not_exist(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("community").run("property_bills", {"account_no": "GM0302500"})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到该物业账户"


def test_the_owners_name_is_checked(connect):
    connector = connect("community")
    verified = connector.run("verify_property_account", {"account_no": "GM0302501", "holder_name": "张伟"})
    assert verified.result == {"account_no": "GM0302501", "holder": "张*", "label": "光明路社区(示例)*号楼*单元***室"}
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("verify_property_account", {"account_no": "GM0302501", "holder_name": "李娜"})
    assert refused.value.reason == "forbidden"
    assert refused.value.public_message == "业主姓名与账户信息不符"
    with pytest.raises(UpstreamRejected) as missing:
        connector.run("verify_property_account", {"account_no": "ZZ0302501", "holder_name": "张伟"})
    assert missing.value.reason == "not_found"


def test_wrong_secret_is_refused_without_a_message_for_citizens(connect):
    with pytest.raises(UpstreamRejected) as refused:
        connect("community", app_secret="not-the-community-secret").run("communities", {})
    assert refused.value.public_message is None


def test_a_replayed_nonce_is_refused(connect, same_nonce):
    connector = connect("community")
    connector.run("property_bills", {"account_no": "GM0302501"})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("property_bills", {"account_no": "GM0302501"})
    assert refused.value.public_message is None


def test_an_answer_that_is_not_json_is_a_bad_response(connect, fault_once):
    fault_once("community")
    with pytest.raises(UpstreamBadResponse):
        connect("community").run("property_bills", {"account_no": "GM0302501"})
