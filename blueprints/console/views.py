"""The console: staff and operators log in, manage their password and their department's staff."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity import sessions
from app.identity.policy import current_caller, public, require_role
from app.rate_limits import rate_limit
from app.staff import accounts, management
from blueprints.auth.schemas import RefreshSchema
from blueprints.auth.views import token_body
from blueprints.console.schemas import (
    ConsoleTokenSchema,
    CreatedStaffSchema,
    LoginSchema,
    NewStaffSchema,
    PasswordChangeSchema,
    StaffAccountSchema,
    StaffListQuerySchema,
)

blp = Blueprint("console", __name__, url_prefix="/api/v1/console", description="Console: staff and operators")
ANY_CONSOLE_ROLE = accounts.CONSOLE_ROLES


@blp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/login")
class Login(MethodView):
    @public
    @rate_limit("20 per minute", per="ip")  # by address whatever token is sent: password spraying
    @blp.arguments(LoginSchema)
    @blp.response(200, ConsoleTokenSchema)
    def post(self, body):
        """Log in with username and password (and a TOTP code for operators)"""
        return token_body(accounts.login(body["username"], body["password"], body["totp"], body["new_password"]))


@blp.route("/refresh")
class Refresh(MethodView):
    @public
    @rate_limit("60 per minute")
    @blp.arguments(RefreshSchema)
    @blp.response(200, ConsoleTokenSchema)
    def post(self, body):
        """Trade a console refresh token for a new pair (roles are read afresh)"""
        return token_body(accounts.refresh(body["refresh_token"]))


@blp.route("/logout")
class Logout(MethodView):
    @require_role(*ANY_CONSOLE_ROLE)
    @blp.response(204)
    def post(self):
        """End this console session at once"""
        sessions.revoke(current_caller().session_id)


@blp.route("/me")
class Me(MethodView):
    @require_role(*ANY_CONSOLE_ROLE)
    @blp.response(200, StaffAccountSchema)
    def get(self):
        """My console account"""
        return accounts.get(current_caller())


@blp.route("/password")
class Password(MethodView):
    @require_role(*ANY_CONSOLE_ROLE)
    @rate_limit("10 per minute")
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    def post(self, body):
        """Change my password; my other sessions end"""
        accounts.change_password(current_caller(), body["current_password"], body["new_password"])


@blp.route("/staff")
class Staff(MethodView):
    @require_role("dept_admin", "operator")
    @blp.arguments(StaffListQuerySchema, location="query")
    @blp.response(200, StaffAccountSchema(many=True))
    def get(self, query):
        """Staff of my department (operators: of any department)"""
        return management.list_staff(current_caller(), query["department"])

    @require_role("dept_admin", "operator")
    @blp.arguments(NewStaffSchema)
    @blp.response(201, CreatedStaffSchema)
    def post(self, body):
        """Add a staff account; its one-time password is shown once"""
        created = management.create_staff(
            current_caller(), body["username"], body["display_name"], body["roles"], body["department"]
        )
        return {"account": created.account, "initial_password": created.initial_password}


@blp.route("/staff/<account_id>/disable")
class DisableStaff(MethodView):
    @require_role("dept_admin", "operator")
    @blp.response(200, StaffAccountSchema)
    def post(self, account_id):
        """Disable an account: its sessions end at once"""
        return management.disable(current_caller(), account_id)


@blp.route("/staff/<account_id>/unlock")
class UnlockStaff(MethodView):
    @require_role("dept_admin", "operator")
    @blp.response(200, StaffAccountSchema)
    def post(self, account_id):
        """Lift a lockout after too many failed logins"""
        return management.unlock(current_caller(), account_id)


@blp.route("/staff/<account_id>/reset-password")
class ResetStaffPassword(MethodView):
    @require_role("dept_admin", "operator")
    @blp.response(200, CreatedStaffSchema)
    def post(self, account_id):
        """A new one-time password, shown once; the account's sessions end"""
        account, initial = management.reset_password(current_caller(), account_id)
        return {"account": account, "initial_password": initial}
