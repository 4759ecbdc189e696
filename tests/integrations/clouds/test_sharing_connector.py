"""The sharing platform as a connector: the population check and the legal-entity register, signed in the body."""

from datetime import datetime, timedelta

import marshmallow as ma
import pytest

from app.identity.resident_id import make_valid
from integrations.clouds.sharing import connector as sharing_connector
from integrations.clouds.sharing.people import DEMO_CITIZENS
from integrations.errors import UpstreamBadResponse, UpstreamRejected
from integrations.sandbox import keyring

PREPAID_MERCHANT = "91370402MA3C12047T"  # 枣庄示例健身有限公司
UNKNOWN = "91370402MA3C981000"  # valid, but in no register


@pytest.fixture
def sharing(connect):
    """The platform knows one app of ours (the one the identity provider uses too)."""

    def build(**settings):
        credentials = {"app_key": keyring.SHARING_APP_KEY, "app_secret": keyring.SHARING_APP_SECRET}
        return connect("sharing", **{**credentials, **settings})

    return build


def test_population_check_matches_a_demo_citizen(sharing):
    person = next(p for p in DEMO_CITIZENS if p["id_number"].endswith("X"))
    answer = sharing().run("population_check", {"name": person["name"], "id_number": person["id_number"].lower()})
    assert answer.result == {"result": "match"}
    assert answer.as_of.utcoffset() == timedelta(hours=8)


def test_population_check_wrong_name_or_unknown_person_is_no_match(sharing):
    connector, person = sharing(), DEMO_CITIZENS[0]
    assert connector.run("population_check", {"name": "王五", "id_number": person["id_number"]}).result == {
        "result": "no_match"
    }
    stranger = make_valid("37040219991231999")
    assert connector.run("population_check", {"name": person["name"], "id_number": stranger}).result == {
        "result": "no_match"
    }


@pytest.mark.parametrize(
    "inputs",
    [
        {"name": "张伟", "id_number": "370402198506120310"},  # wrong check digit
        {"name": "Zhang Wei", "id_number": DEMO_CITIZENS[0]["id_number"]},
        {"name": "张伟"},
    ],
)
def test_population_check_nonsense_never_reaches_the_platform(sharing, inputs):
    with pytest.raises(ma.ValidationError):
        sharing().run("population_check", inputs)


def test_legal_entity_is_normalized(sharing):
    answer = sharing().run("legal_entity", {"credit_code": PREPAID_MERCHANT.lower()})
    entity = answer.result
    assert entity["credit_code"] == PREPAID_MERCHANT
    assert entity["name"] == "枣庄示例健身有限公司"
    assert entity["entity_type"] == "有限责任公司（自然人独资）"
    assert entity["legal_representative"] == "周**"
    assert entity["registered_capital_fen"] == 100 * 10_000 * 100  # 100 万元
    assert entity["established_on"] == "2019-04-16"
    assert (entity["status"], entity["status_name"]) == ("active", "存续（在营、开业、在册）")
    assert "预付卡" in entity["business_scope"]
    assert entity["address"].startswith("山东省枣庄市市中区")
    assert answer.as_of.isoformat().endswith("+08:00")
    assert (answer.as_of.hour, answer.as_of.minute) == (2, 0)  # synchronised nightly at 02:00
    assert datetime.now(answer.as_of.tzinfo) - answer.as_of < timedelta(days=1)


@pytest.mark.parametrize(
    ("code", "status", "word", "capital_fen"),
    [
        ("91370403MA3U5K829B", "active", "存续（在营、开业、在册）", 300_500_000),  # 300.5 万元
        ("91370403168312075J", "active", "在业", 2_000_000_000),
        ("92370402MA3F6P2L17", "revoked", "吊销，未注销", None),  # 个体工商户: no registered capital
        ("91370404754461276T", "cancelled", "注销", 50_000_000),
    ],
)
def test_legal_entity_statuses_and_capital(sharing, code, status, word, capital_fen):
    entity = sharing().run("legal_entity", {"credit_code": code}).result
    assert (entity["status"], entity["status_name"], entity["registered_capital_fen"]) == (status, word, capital_fen)


def test_unknown_credit_code_is_the_platforms_no(sharing):
    with pytest.raises(UpstreamRejected) as refused:
        sharing().run("legal_entity", {"credit_code": UNKNOWN})
    assert refused.value.reason == "not_found"
    assert refused.value.public_message == "未查询到该市场主体登记信息"


@pytest.mark.parametrize("code", ["91370402MA3C123456", "91370402MA3C12047", "91370402MA3C12O47T"])
def test_invalid_credit_codes_never_reach_the_platform(sharing, code):
    with pytest.raises(ma.ValidationError):
        sharing().run("legal_entity", {"credit_code": code})


def test_wrong_secret_is_refused_without_a_message_for_citizens(sharing):
    for operation, inputs in (
        ("legal_entity", {"credit_code": PREPAID_MERCHANT}),
        ("population_check", {"name": DEMO_CITIZENS[0]["name"], "id_number": DEMO_CITIZENS[0]["id_number"]}),
    ):
        with pytest.raises(UpstreamRejected) as refused:
            sharing(app_secret="not-the-sharing-secret").run(operation, inputs)
        assert refused.value.public_message is None
        assert DEMO_CITIZENS[0]["id_number"] not in str(refused.value)


def test_a_replayed_nonce_is_refused(sharing, same_nonce):
    connector = sharing()
    connector.run("legal_entity", {"credit_code": PREPAID_MERCHANT})
    with pytest.raises(UpstreamRejected) as refused:
        connector.run("legal_entity", {"credit_code": PREPAID_MERCHANT})
    assert "E409" in str(refused.value)
    assert refused.value.public_message is None


def test_a_failed_attempt_is_retried(sharing, fault_once):
    # The adapter retries reads itself (each attempt with a body signed afresh), since it signs the body.
    fault_once("sharing", "fail")
    entity = sharing(attempts=2).run("legal_entity", {"credit_code": PREPAID_MERCHANT}).result
    assert entity["credit_code"] == PREPAID_MERCHANT


def test_an_answer_that_is_not_json_is_a_bad_response(sharing, fault_once):
    fault_once("sharing")
    with pytest.raises(UpstreamBadResponse):
        sharing().run("legal_entity", {"credit_code": PREPAID_MERCHANT})


def test_the_connector_describes_itself():
    described = sharing_connector.SharingConnector.describe()
    assert described["kind"] == "sharing" and described["title"] == "信息资源共享平台"
    assert set(described["operations"]) == {"legal_entity"}  # population_check is internal
    assert described["secret_fields"] == ["app_secret"]
