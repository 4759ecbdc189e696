"""The population connector client against its twin over real HTTP: match, no match, refusals, outages."""

import pytest

from app.identity.resident_id import make_valid
from integrations.clouds.sharing import sandbox
from integrations.clouds.sharing.client import PopulationClient
from integrations.errors import IntegrationError, UpstreamRejected, UpstreamUnavailable
from tests.servers import serving_twin

APP_KEY, APP_SECRET = "test-sharing-key", "test-sharing-secret"
PERSON = sandbox.DEMO_CITIZENS[0]


@pytest.fixture(scope="module")
def sharing_url():
    with serving_twin(sandbox, "sharing") as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_twin():
    sandbox.reset()
    sandbox.configure(APP_KEY, APP_SECRET)


def client(url, secret=APP_SECRET):
    return PopulationClient(url, APP_KEY, secret, timeout=2.0)


def assert_no_personal_data(error, name, id_number):
    for text in (str(error), repr(error), error.message):
        assert name not in text and id_number not in text


def test_every_demo_citizen_matches(sharing_url):
    assert len(sandbox.DEMO_CITIZENS) >= 5
    for person in sandbox.DEMO_CITIZENS:
        assert client(sharing_url).verify(person["name"], person["id_number"]) == "match"


def test_lowercase_x_still_matches(sharing_url):
    person = next(p for p in sandbox.DEMO_CITIZENS if p["id_number"].endswith("X"))
    assert client(sharing_url).verify(person["name"], person["id_number"].lower()) == "match"


def test_wrong_name_or_unknown_number_is_no_match(sharing_url):
    assert client(sharing_url).verify("王五", PERSON["id_number"]) == "no_match"
    assert client(sharing_url).verify(PERSON["name"], make_valid("37040219991231999")) == "no_match"


def test_bad_signature_is_rejected_without_personal_data(sharing_url):
    with pytest.raises(UpstreamRejected) as caught:
        client(sharing_url, secret="not-the-secret").verify(PERSON["name"], PERSON["id_number"])
    assert "E401" in str(caught.value)
    assert_no_personal_data(caught.value, PERSON["name"], PERSON["id_number"])


def test_unreachable_platform_is_unavailable_without_personal_data():
    with pytest.raises(UpstreamUnavailable) as caught:
        client("http://127.0.0.1:9/_sandbox/sharing").verify(PERSON["name"], PERSON["id_number"])
    assert caught.value.retryable
    assert_no_personal_data(caught.value, PERSON["name"], PERSON["id_number"])


@pytest.mark.parametrize(
    ("answer", "error"),
    [({"code": "E500", "msg": "张伟 370402 内部错误"}, UpstreamUnavailable), ({"code": "E401"}, UpstreamRejected)],
)
def test_platform_codes_map_to_the_error_family(monkeypatch, answer, error):
    # The platform's own failure codes come with HTTP 200: the client reads the code, and drops "msg".
    monkeypatch.setattr("integrations.clouds.sharing.client.post_json", lambda *a, **k: answer)
    with pytest.raises(error) as caught:
        client("http://unused").verify(PERSON["name"], PERSON["id_number"])
    assert isinstance(caught.value, IntegrationError)
    assert_no_personal_data(caught.value, PERSON["name"], "370402")
