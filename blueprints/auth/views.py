from flask import Blueprint as FlaskBlueprint
from flask import current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity import citizens, sessions
from app.identity.policy import current_caller, public, require_citizen
from app.rate_limits import rate_limit
from blueprints.auth.schemas import (
    AlipayLoginSchema,
    CitizenSchema,
    CitizenUpdateSchema,
    RefreshSchema,
    TokenSchema,
    WeChatLoginSchema,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Citizens: login, tokens, own profile")
wellknown = FlaskBlueprint("wellknown", __name__)


@blp.after_request
def _no_store(response):
    # Tokens and personal data must not sit in a proxy's or the phone's HTTP cache (RFC 6749 5.1).
    response.headers["Cache-Control"] = "no-store"
    return response


def token_body(pair, citizen=None) -> dict:
    body = {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }
    if citizen is not None:
        body["citizen"] = citizen
    return body


@blp.route("/auth/wechat")
class WeChatLogin(MethodView):
    @public
    @rate_limit("30 per minute")
    @blp.arguments(WeChatLoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Log in from the WeChat mini-program with a wx.login() code"""
        return token_body(*citizens.login_with_wechat(body["code"]))


@blp.route("/auth/alipay")
class AlipayLogin(MethodView):
    @public
    @rate_limit("30 per minute")
    @blp.arguments(AlipayLoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Log in from the Alipay mini-program with a my.getAuthCode() code"""
        return token_body(*citizens.login_with_alipay(body["auth_code"]))


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @public
    @rate_limit("60 per minute")
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Trade a refresh token for a new pair (the old one is spent)"""
        return token_body(citizens.refresh(body["refresh_token"]))


@blp.route("/auth/logout")
class Logout(MethodView):
    @require_citizen
    @blp.response(204)
    def post(self):
        """Log out this device: its tokens stop working at once"""
        sessions.revoke(current_caller().session_id)


@blp.route("/auth/logout-all")
class LogoutAll(MethodView):
    @require_citizen
    @blp.response(204)
    def post(self):
        """Log out every device of this citizen"""
        caller = current_caller()
        sessions.revoke_all("citizen", caller.subject)


@blp.route("/me")
class Me(MethodView):
    @require_citizen
    @blp.response(200, CitizenSchema)
    def get(self):
        """My profile, personal data masked"""
        return citizens.profile(current_caller())

    @require_citizen
    @blp.arguments(CitizenUpdateSchema)
    @blp.response(200, CitizenSchema)
    def patch(self, changes):
        """Change my nickname"""
        return citizens.update(current_caller(), changes)

    @require_citizen
    @blp.response(204)
    def delete(self):
        """Delete my account: personal data erased, every device logged out"""
        citizens.erase(current_caller())


@wellknown.get("/.well-known/jwks.json")
@public
def jwks():
    """Public keys that verify our access tokens (all keys still in rotation)."""
    response = jsonify(current_app.extensions["signing_keys"].public_jwks)
    response.cache_control.public, response.cache_control.max_age = True, 300
    return response
