import re
from pathlib import Path

import pytest

from app.config import DEFAULT_SECRET_KEY, DEMO_IDS, REQUIRED_SECRETS, SETTINGS, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
GOOD_PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "7hZq-3kV9pLx_2WmR8tYc4NbG6sJd1FeA0uQ",
    "PUBLIC_BASE_URL": "https://api.zz.example.gov.cn",
    "SANDBOX": "0",
    "DATABASE_URL": "postgresql://city@db.internal/city",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "DEPARTMENT_SYSTEM_BASE_URL": "https://dept.example.gov.cn",
    "WECHAT_BASE_URL": "https://api.weixin.qq.com/",
    "ALIPAY_GATEWAY_URL": "https://openapi.alipay.com/gateway.do",
    "SMS_BASE_URL": "https://sms.example.com",
    "SHARING_BASE_URL": "https://sharing.zz.example.gov.cn",
    "WECHATPAY_BASE_URL": "https://api.mch.weixin.qq.com",
    "WECHATPAY_CERT_SERIAL_NO": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    "WECHATPAY_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\nconfigured\n-----END PRIVATE KEY-----\n",
    "WECHATPAY_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nconfigured\n-----END PUBLIC KEY-----\n",
    "WECHATPAY_PUBLIC_KEY_ID": "PUB_KEY_ID_0114232324882025070300382000001234",
    "WECHATPAY_API_V3_KEY": "a" * 32,
    **dict.fromkeys(REQUIRED_SECRETS, "configured"),
    **dict.fromkeys(DEMO_IDS, "zz-production-id"),
}


def test_production_with_real_settings_starts():
    config = load_config(GOOD_PRODUCTION)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://city@db.internal/city"
    assert config["CELERY_EAGER"] is False


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"SANDBOX": "1"}, "SANDBOX=1"),
        ({"SECRET_KEY": DEFAULT_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": " " * 40}, "SECRET_KEY"),
        ({"SECRET_KEY": "ab" * 20}, "SECRET_KEY"),
        ({"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}, "PUBLIC_BASE_URL"),
        ({"RATELIMIT_ENABLED": "0"}, "RATELIMIT_ENABLED"),
        ({"DATABASE_URL": ""}, "PostgreSQL"),
        ({"REDIS_URL": ""}, "REDIS_URL"),
        ({"CELERY_EAGER": "1"}, "CELERY_EAGER"),
        ({"DEPARTMENT_SYSTEM_BASE_URL": ""}, "DEPARTMENT_SYSTEM_BASE_URL"),
        ({"WECHAT_BASE_URL": ""}, "WECHAT_BASE_URL"),
        ({"PII_KEYS": ""}, "PII_KEYS"),
        ({"JWT_PRIVATE_KEYS": ""}, "JWT_PRIVATE_KEYS"),
        ({"ALIPAY_APP_PRIVATE_KEY": ""}, "ALIPAY_APP_PRIVATE_KEY"),
        ({"WECHAT_APP_SECRET": "   "}, "WECHAT_APP_SECRET"),
        ({"WECHAT_APP_ID": "wx0000demo0000mini"}, "WECHAT_APP_ID"),
        ({"WECHATPAY_BASE_URL": ""}, "WECHATPAY_BASE_URL"),
        ({"WECHATPAY_MCH_ID": "1900000109"}, "WECHATPAY_MCH_ID"),
        ({"WECHATPAY_PRIVATE_KEY": ""}, "payment channel wechat is enabled .* WECHATPAY_PRIVATE_KEY"),
        ({"WECHATPAY_API_V3_KEY": "short"}, "WECHATPAY_API_V3_KEY"),
    ],
)
def test_production_refuses_unsafe_settings(change, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load_config({**GOOD_PRODUCTION, **change})


def test_a_channel_taken_out_needs_no_keys_and_an_unknown_one_is_named():
    without_wechat = {**GOOD_PRODUCTION, "PAYMENT_CHANNELS": "alipay", "WECHATPAY_PRIVATE_KEY": ""}
    assert load_config(without_wechat)["PAYMENT_CHANNELS"] == ("alipay",)
    with pytest.raises(ConfigError, match=r"unknown channel.*unionpay"):
        load_config({**GOOD_PRODUCTION, "PAYMENT_CHANNELS": "wechat,unionpay"})


def test_a_key_can_be_a_path_to_its_pem_file_and_a_missing_file_is_named(tmp_path):
    pem = tmp_path / "apiclient_key.pem"
    pem.write_text(GOOD_PRODUCTION["WECHATPAY_PRIVATE_KEY"])
    config = load_config({**GOOD_PRODUCTION, "WECHATPAY_PRIVATE_KEY": str(pem)})
    assert config["WECHATPAY_PRIVATE_KEY"] == GOOD_PRODUCTION["WECHATPAY_PRIVATE_KEY"]
    with pytest.raises(ConfigError, match="WECHATPAY_PRIVATE_KEY: cannot read"):
        load_config({**GOOD_PRODUCTION, "WECHATPAY_PRIVATE_KEY": str(tmp_path / "missing.pem")})


def test_embedded_default_needs_nothing():
    config = load_config({})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert config["REDIS_URL"] == ""
    assert config["CELERY_EAGER"] is True
    assert config["SANDBOX"] is True
    assert config["DEPARTMENT_SYSTEM_BASE_URL"] == "http://127.0.0.1:5000/_sandbox/department"


def test_an_unknown_log_level_is_named():
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        load_config({"LOG_LEVEL": "verbose"})


def test_a_number_that_is_not_a_number_is_named():
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        load_config({"MAX_CONTENT_LENGTH": "lots"})


@pytest.mark.parametrize("name", ["USE_COUNT_BATCH_SECONDS", "CONNECTOR_LOCAL_CACHE_SECONDS"])
@pytest.mark.parametrize("value", ["-1", "nan", "3600"])
def test_a_per_worker_interval_outside_0_to_60_seconds_is_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


def test_readme_table_and_env_example_list_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    in_readme = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", readme, flags=re.M))
    in_example = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, flags=re.M))
    names = {s.name for s in SETTINGS}
    assert names - in_readme == set(), "settings missing from the README table"
    assert names - in_example == set(), "settings missing from .env.example"
