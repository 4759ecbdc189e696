"""The login providers as the identity domain sees them: built from configuration, errors made plain."""

from __future__ import annotations

from flask import current_app

from app.errors import AppError
from app.extensions import redis
from integrations.errors import UpstreamTimeout, UpstreamUnavailable
from integrations.sandbox import keyring


def _config(name: str, sandbox_value: str) -> str:
    """A secret from configuration; outside production an empty one means the twin's."""
    value = current_app.config[name]
    return value or (sandbox_value if current_app.config["APP_ENV"] != "production" else value)


def _busy(party: str, error: Exception) -> AppError:
    code = f"{party.upper()}_TIMEOUT" if isinstance(error, UpstreamTimeout) else f"{party.upper()}_BUSY"
    return AppError(code, "登录服务繁忙，请稍后再试", 503, {}, {"Retry-After": "5"})


# --- WeChat -----------------------------------------------------------------------------------------

WECHAT_ERRORS = {
    40029: ("WECHAT_CODE_INVALID", "登录凭证无效，请重新打开小程序", 401),
    40163: ("WECHAT_CODE_USED", "登录凭证已使用，请重新登录", 401),
    40226: ("WECHAT_USER_BLOCKED", "该微信账号存在安全风险，暂时无法登录", 403),
}


def wechat_app_id() -> str:
    return current_app.config["WECHAT_APP_ID"]


def _wechat():
    from integrations.wechat.client import WeChatMiniProgram

    client = current_app.extensions.get("wechat_client")
    if client is None:
        client = current_app.extensions["wechat_client"] = WeChatMiniProgram(
            app_id=wechat_app_id(),
            secret=_config("WECHAT_APP_SECRET", keyring.WECHAT_APP_SECRET),
            base_url=current_app.config["WECHAT_BASE_URL"],
            redis_client=redis.client,
        )
    return client


def _wechat_error(error) -> AppError:
    from integrations.wechat.client import WeChatError

    if isinstance(error, (UpstreamUnavailable, UpstreamTimeout)):
        return _busy("wechat", error)
    if isinstance(error, WeChatError) and error.errcode in WECHAT_ERRORS:
        return AppError(*WECHAT_ERRORS[error.errcode], {"errcode": error.errcode})
    return AppError("WECHAT_REJECTED", "微信登录失败，请稍后再试", 502, {"errcode": getattr(error, "errcode", None)})


def wechat_code_to_session(code: str):
    from integrations.errors import IntegrationError

    try:
        return _wechat().code_to_session(code)
    except IntegrationError as error:
        raise _wechat_error(error) from None


def wechat_phone_number(code: str) -> str:
    from integrations.errors import IntegrationError

    try:
        return _wechat().phone_number(code)
    except IntegrationError as error:
        raise _wechat_error(error) from None


# --- Alipay -----------------------------------------------------------------------------------------


def alipay_app_id() -> str:
    return current_app.config["ALIPAY_APP_ID"]


def _alipay():
    from integrations.alipay.client import AlipayMiniProgram

    client = current_app.extensions.get("alipay_client")
    if client is None:
        sandbox = current_app.config["APP_ENV"] != "production" and not current_app.config["ALIPAY_APP_PRIVATE_KEY"]
        keys = keyring.alipay_keys() if sandbox else {}
        client = current_app.extensions["alipay_client"] = AlipayMiniProgram(
            app_id=alipay_app_id(),
            app_private_key_pem=current_app.config["ALIPAY_APP_PRIVATE_KEY"] or keys.get("app_private", ""),
            alipay_public_key_pem=current_app.config["ALIPAY_PUBLIC_KEY"] or keys.get("alipay_public", ""),
            gateway_url=current_app.config["ALIPAY_GATEWAY_URL"],
        )
    return client


def alipay_oauth_token(auth_code: str):
    from integrations.alipay.client import AlipayError
    from integrations.errors import IntegrationError

    try:
        return _alipay().oauth_token(auth_code)
    except AlipayError as error:
        if error.sub_code == "isv.code-invalid":
            raise AppError("ALIPAY_CODE_INVALID", "支付宝授权码无效或已使用，请重新登录", 401) from None
        raise AppError("ALIPAY_REJECTED", "支付宝登录失败，请稍后再试", 502, {"sub_code": error.sub_code}) from None
    except (UpstreamUnavailable, UpstreamTimeout) as error:
        raise _busy("alipay", error) from None
    except IntegrationError:
        raise AppError("ALIPAY_BAD_RESPONSE", "支付宝返回异常，请稍后再试", 502) from None


# --- SMS and the population database ------------------------------------------------------------------


def sms_client():
    from integrations.sms.client import SmsClient

    config = current_app.config
    return SmsClient(
        config["SMS_BASE_URL"],
        config["SMS_ACCESS_KEY_ID"],
        _config("SMS_ACCESS_KEY_SECRET", keyring.SMS_ACCESS_KEY_SECRET),
        config["SMS_SIGN_NAME"],
    )


def population_client():
    from integrations.clouds.sharing.client import PopulationClient

    config = current_app.config
    return PopulationClient(
        config["SHARING_BASE_URL"], config["SHARING_APP_KEY"], _config("SHARING_APP_SECRET", keyring.SHARING_APP_SECRET)
    )
