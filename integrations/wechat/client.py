"""WeChat mini-program server API: login (code2Session) and the user's phone number.

Built on wechatpy's WeChatClient, with three changes: every URL starts at `base_url` (so the
sandbox twin can stand in), the access token lives in Redis and is refreshed under a Redis lock
(every worker shares one token; a refresh by one must not invalidate another's), and every
failure becomes one of the errors of integrations.errors, carrying WeChat's `errcode`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from integrations import http
from integrations.errors import UpstreamBadResponse, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable

PARTY = "wechat"

# errcodes callers may want to tell apart (all raise WeChatError).
INVALID_CODE = 40029
CODE_USED = 40163
RISKY_USER = 40226
# "Not now" rather than "no": system busy, and too many calls.
RETRYABLE_ERRCODES = {-1, 45011}

# WeChat says a token lives 7200 s and its predecessor keeps working 5 minutes after a refresh:
# drop ours from Redis that much early, so nobody uses a token in its last minutes.
TOKEN_MARGIN_SECONDS = 300
TOKEN_LOCK_SECONDS = 30  # longest a crashed worker can hold the refresh lock
_UNKNOWN = object()


class _CarriesErrcode:
    """Mixin: the WeChat errcode (None for transport failures) on every error we raise."""

    def __init__(self, message: str, errcode: int | None = None, status: int | None = None):
        super().__init__(PARTY, message, status)
        self.errcode = errcode


class WeChatError(_CarriesErrcode, UpstreamRejected):
    """WeChat said no (invalid code, code used, risky user, ...): asking again will not help."""


class WeChatUnavailable(_CarriesErrcode, UpstreamUnavailable):
    pass


class WeChatTimeout(_CarriesErrcode, UpstreamTimeout):
    pass


class WeChatBadResponse(_CarriesErrcode, UpstreamBadResponse):
    pass


@dataclass(frozen=True)
class WeChatSession:
    openid: str
    unionid: str | None
    # A secret between WeChat and us: kept out of repr so it never reaches a log line.
    session_key: str = field(repr=False)


def _rejection(errcode: int, errmsg) -> Exception:
    # errmsg is WeChat's own short text (plus its request id); it never echoes our secrets.
    message = f"errcode {errcode}: {str(errmsg)[:200]}"
    if errcode in RETRYABLE_ERRCODES:
        return WeChatUnavailable(message, errcode)
    return WeChatError(message, errcode)


def _http_failure(status: int | None) -> Exception:
    if status is None or status >= 500 or status in http.RETRYABLE_STATUSES:
        return WeChatUnavailable(f"answered HTTP {status}", status=status)
    return WeChatError(f"answered HTTP {status}", status=status)


def _checked(result) -> dict:
    """The JSON object WeChat answered, or the error it stands for. Never quotes the body."""
    if not isinstance(result, dict):  # wechatpy hands back the raw Response when it is not JSON
        raise WeChatBadResponse("answered with a body that is not a JSON object")
    errcode = int(result.get("errcode") or 0)
    if errcode:
        raise _rejection(errcode, result.get("errmsg", ""))
    return result


class _Client(WeChatClient):
    """WeChatClient pointed at base_url, with its token in Redis behind a lock."""

    def __init__(self, app_id, secret, base_url, redis_client, timeout):
        super().__init__(app_id, secret, session=RedisStorage(redis_client, prefix="wechat"), timeout=timeout)
        self.API_BASE_URL = base_url + "cgi-bin/"
        self.wxa.API_BASE_URL = base_url
        self._token_url = base_url + "cgi-bin/token"
        self._redis = redis_client

    # wechatpy keeps one requests.Session per client, used from every thread; requests does not
    # promise that is safe, so use integrations.http's per-thread pool and ignore wechatpy's.
    @property
    def _http(self):
        return http.pooled_session()

    @_http.setter
    def _http(self, _ignored):
        pass

    @property
    def access_token(self):
        # Redis and its TTL are the one truth for every worker; no per-process expiry clock.
        return self.session.get(self.access_token_key) or self.fetch_access_token(seen=None)["access_token"]

    def fetch_access_token(self, seen=_UNKNOWN):
        """Get a new token unless another worker did since we looked (`seen`: the token we had).

        wechatpy calls this without `seen` when WeChat rejects a token (40001): then the token in
        Redis now is the best guess at the rejected one.
        """
        key = self.access_token_key
        if seen is _UNKNOWN:
            seen = self.session.get(key)
        lock = self._redis.lock(
            f"wechat:{key}:lock", timeout=TOKEN_LOCK_SECONDS, blocking_timeout=http.CONNECT_TIMEOUT_SECONDS + 10
        )
        if not lock.acquire():
            raise WeChatUnavailable("another worker is still refreshing the access token")
        try:
            current = self.session.get(key)
            if current and current != seen:
                return {"access_token": current}
            response = self._http.get(
                self._token_url,
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                timeout=self.timeout,
                allow_redirects=False,
            )
            if response.status_code >= 300:
                raise _http_failure(response.status_code)
            result = _checked(self._decode_result(response))
            if not result.get("access_token"):
                raise WeChatBadResponse("token answer without access_token")
            expires_in = int(result.get("expires_in", 7200))
            self.session.set(key, result["access_token"], max(expires_in - TOKEN_MARGIN_SECONDS, 60))
            return result
        finally:
            # If we outlived the lock, someone else holds it now: leave theirs alone.
            with contextlib.suppress(Exception):
                lock.release()


class WeChatMiniProgram:
    def __init__(self, app_id: str, secret: str, base_url: str, redis_client, timeout: float = 5.0):
        base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        # (connect, read): a dead host fails fast, a slow one gets `timeout` to answer.
        self._client = _Client(app_id, secret, base_url, redis_client, (http.CONNECT_TIMEOUT_SECONDS, timeout))

    def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a wx.login() code for the user's ids. The session_key must stay on the server."""
        with self._translated():
            result = _checked(self._client.wxa.code_to_session(code))
        if not result.get("openid") or not result.get("session_key"):
            raise WeChatBadResponse("code2Session answer without openid or session_key")
        return WeChatSession(result["openid"], result.get("unionid") or None, result["session_key"])

    def phone_number(self, code: str) -> str:
        """The phone number (without country code) behind a getPhoneNumber button code."""
        with self._translated():
            result = _checked(
                self._client.post(
                    "wxa/business/getuserphonenumber", data={"code": code}, api_base_url=self._client.wxa.API_BASE_URL
                )
            )
        phone = (result.get("phone_info") or {}).get("purePhoneNumber")
        if not phone:
            raise WeChatBadResponse("getuserphonenumber answer without purePhoneNumber")
        return phone

    @contextlib.contextmanager
    def _translated(self):
        """wechatpy and requests errors -> ours. `from None`: their context holds URLs with secrets."""
        try:
            yield
        except WeChatClientException as error:  # also APILimitedException (45011)
            if error.errcode is None:  # wechatpy's raise_for_status: an HTTP error status
                raise _http_failure(getattr(error.response, "status_code", None)) from None
            raise _rejection(int(error.errcode), error.errmsg) from None
        except requests.Timeout:
            raise WeChatTimeout(f"no answer within {self._timeout}s") from None
        except requests.RequestException as error:
            raise WeChatUnavailable(f"cannot reach WeChat: {type(error).__name__}") from None
