"""The SMS client against its twin over real HTTP: signing, the provider's refusals, the outbox."""

import pytest
import requests

from integrations.errors import UpstreamRejected, UpstreamUnavailable
from integrations.sms import sandbox
from integrations.sms.client import SmsClient, SmsRejected
from tests.servers import serving_twin

KEY_ID, SECRET = "test-sms-key", "test-sms-secret"
PHONE, CODE = "13800138000", "482916"


@pytest.fixture(scope="module")
def sms_url():
    with serving_twin(sandbox, "sms") as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_twin():
    sandbox.reset()
    sandbox.configure(KEY_ID, SECRET)


def client(url, secret=SECRET, key_id=KEY_ID):
    return SmsClient(url, key_id, secret, "枣庄市民服务", timeout=2.0)


def outbox(url, phone=PHONE):
    return requests.get(f"{url}/outbox", params={"phone": phone}, timeout=5).json()["items"]


def assert_no_secrets(error, *secrets):
    for secret in secrets:
        assert secret not in str(error) and secret not in repr(error)


def test_send_returns_a_biz_id_and_lands_in_the_outbox(sms_url):
    biz_id = client(sms_url).send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    assert biz_id
    [message] = outbox(sms_url)
    assert message["biz_id"] == biz_id
    assert message["params"] == {"code": CODE}
    assert message["text"] == f"【枣庄市民服务】您的验证码为{CODE}，5分钟内有效。"


def test_outbox_lists_one_phones_messages_newest_last(sms_url):
    for code in ("111111", "222222"):
        client(sms_url).send(PHONE, "SMS_LOGIN_CODE", {"code": code})
    client(sms_url).send("13900139000", "SMS_LOGIN_CODE", {"code": "333333"})
    assert [m["params"]["code"] for m in outbox(sms_url)] == ["111111", "222222"]
    assert outbox(sms_url, "13700137000") == []


def test_bad_signature_is_refused_without_secrets_in_the_error(sms_url):
    with pytest.raises(SmsRejected) as caught:
        client(sms_url, secret="not-the-secret").send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    assert caught.value.provider_code == "SignatureDoesNotMatch"
    assert not caught.value.retryable
    assert_no_secrets(caught.value, PHONE, CODE, SECRET, "not-the-secret")
    assert outbox(sms_url) == []


def test_unknown_access_key_is_refused(sms_url):
    with pytest.raises(SmsRejected) as caught:
        client(sms_url, key_id="someone-else").send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    assert caught.value.provider_code == "InvalidAccessKeyId.NotFound"


@pytest.mark.parametrize("phone", ["23800138000", "1380013800", "138001380001", "+8613800138000"])
def test_illegal_phone_is_refused_without_it_in_the_error(sms_url, phone):
    with pytest.raises(SmsRejected) as caught:
        client(sms_url).send(phone, "SMS_LOGIN_CODE", {"code": CODE})
    assert caught.value.provider_code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert isinstance(caught.value, UpstreamRejected)
    assert_no_secrets(caught.value, phone, CODE)


def test_unknown_template_and_missing_parameter(sms_url):
    with pytest.raises(SmsRejected) as caught:
        client(sms_url).send(PHONE, "SMS_NO_SUCH", {"code": CODE})
    assert caught.value.provider_code == "isv.SMS_TEMPLATE_ILLEGAL"
    with pytest.raises(SmsRejected) as caught:
        client(sms_url).send(PHONE, "SMS_LOGIN_CODE", {})
    assert caught.value.provider_code == "isv.TEMPLATE_MISSING_PARAMETERS"


def test_flow_control_per_phone(sms_url):
    for _ in range(sandbox.PER_PHONE_PER_HOUR):
        client(sms_url).send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    with pytest.raises(SmsRejected) as caught:
        client(sms_url).send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    assert caught.value.provider_code == "isv.BUSINESS_LIMIT_CONTROL"
    assert_no_secrets(caught.value, PHONE, CODE)


def test_nobody_listening_is_unavailable_without_secrets():
    with pytest.raises(UpstreamUnavailable) as caught:
        client("http://127.0.0.1:9").send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    assert_no_secrets(caught.value, PHONE, CODE)


def test_provider_side_failure_is_unavailable_and_its_message_dropped(monkeypatch):
    answer = {"Code": "isp.SYSTEM_ERROR", "Message": f"failed for {PHONE}", "RequestId": "F655A8D5-B967"}
    monkeypatch.setattr("integrations.sms.client.post_json", lambda *a, **k: answer)
    with pytest.raises(UpstreamUnavailable) as caught:
        client("http://unused").send(PHONE, "SMS_LOGIN_CODE", {"code": CODE})
    assert "isp.SYSTEM_ERROR" in str(caught.value) and "F655A8D5-B967" in str(caught.value)
    assert_no_secrets(caught.value, PHONE, CODE)
