"""One's own records (公积金, 社保): the department is given the citizen's verified identity, never a typed
ID number, so each citizen sees only their own; their answers are kept apart and sealed in the cache."""

import pytest
import redis as redis_lib

from integrations.clouds.sharing.people import DEMO_CITIZENS
from tests.conftest import REDIS_URL
from tests.identity.helpers import bearer, login_wechat, verify_real_name

NO_INPUTS = {"type": "object", "properties": {}, "required": []}


def person(index: int) -> dict:
    return {key: DEMO_CITIZENS[index][key] for key in ("name", "id_number")}


@pytest.fixture
def fund(via_connector):
    via_connector("gjj-balance", "housing", "fund_account", NO_INPUTS, "gjj", real_name_required=True)


@pytest.fixture
def people(client, sandbox_url):
    """张伟, 王芳 and 孙浩 (who has no fund account), each verified; and someone not verified yet."""
    tokens = {}
    for index, user in ((0, "zhang"), (1, "wang"), (5, "sun")):
        token = login_wechat(client, sandbox_url, user=user)["access_token"]
        verify_real_name(client, token, person(index))
        tokens[user] = bearer(token)
    tokens["unverified"] = bearer(login_wechat(client, sandbox_url, user="nobody")["access_token"])
    return tokens


def balance(client, who):
    return client.post("/api/v1/services/gjj-balance/query", json={"inputs": {}}, headers=who)


def test_each_citizen_gets_their_own_fund_account_and_never_anothers(client, fund, people):
    zhang, wang = balance(client, people["zhang"]), balance(client, people["wang"])
    assert zhang.status_code == 200 and wang.status_code == 200, (zhang.json, wang.json)
    assert zhang.json["result"]["account_no"].endswith("2345") and wang.json["result"]["account_no"].endswith("3456")
    assert balance(client, people["zhang"]).json["result"] == zhang.json["result"]  # cached, and still his own
    assert balance(client, people["wang"]).json["result"] == wang.json["result"]
    for value in map(bytes.decode, (redis_lib.Redis.from_url(REDIS_URL).get(k) for k in _cache_keys())):
        assert "2345" not in value and "3456" not in value  # sealed, not readable in Redis


def _cache_keys():
    return list(redis_lib.Redis.from_url(REDIS_URL).scan_iter("connector:housing:cache:*"))


def test_no_record_is_the_departments_no_and_no_real_name_is_ours(client, fund, people):
    none = balance(client, people["sun"])
    assert none.status_code == 404 and none.json["error"]["code"] == "CLOUD_REJECTED"
    refused = balance(client, people["unverified"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "REAL_NAME_REQUIRED"


def test_a_typed_id_number_is_not_an_input_of_ones_own_records(client, fund, people):
    typed = client.post(
        "/api/v1/services/gjj-balance/query",
        json={"inputs": {"id_number": DEMO_CITIZENS[1]["id_number"]}},
        headers=people["zhang"],
    )
    assert typed.status_code == 422


def test_binding_a_fund_account_checks_it_is_the_citizens_own(client, clouds, people):
    own = client.post(
        "/api/v1/me/accounts", json={"kind": "gjj", "account_no": "371010012345"}, headers=people["zhang"]
    )
    assert own.status_code == 201 and own.json["account_no"] == "********2345"
    other = {"kind": "gjj", "account_no": "371010023456"}  # 王芳's
    refused = client.post("/api/v1/me/accounts", json=other, headers=people["zhang"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "CLOUD_REJECTED"
    unverified = client.post("/api/v1/me/accounts", json=other, headers=people["unverified"])
    assert unverified.status_code == 403 and unverified.json["error"]["code"] == "REAL_NAME_REQUIRED"
    card = client.post("/api/v1/me/accounts", json={"kind": "si", "account_no": "A37040219"}, headers=people["zhang"])
    assert card.status_code == 201 and card.json["kind_name"] == "社会保障卡号"
    assert [a["kind"] for a in client.get("/api/v1/me/accounts", headers=people["zhang"]).json] == ["gjj", "si"]
