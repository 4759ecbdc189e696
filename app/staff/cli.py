"""`flask staff ...`: the way the first operator and the department admins come to exist."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.audit import service as audit
from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity import sessions
from app.staff import accounts, totp
from app.staff.models import StaffAccount

staff_cli = AppGroup("staff", help="Console accounts of staff and operators.")


def _fail(error: AppError):
    raise click.ClickException(f"{error.code}: {error.message}")


@staff_cli.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="name shown in the console")
@click.option("--kind", type=click.Choice(["staff", "operator"]), required=True)
@click.option("--role", "roles", multiple=True, required=True, help="dept_admin, clerk, operator or auditor")
@click.option("--department", help="department code (staff only)")
def create(username, display_name, kind, roles, department):
    """Create an account; prints its one-time password (and TOTP enrolment) once."""
    try:
        created = accounts.create(username, display_name, kind, list(roles), department)
    except AppError as error:
        _fail(error)
    click.echo(f"username:          {created.account.username}")
    click.echo(f"one-time password: {created.initial_password}   (shown once; set a new one at first login)")
    if created.totp_uri:
        click.echo(f"TOTP (scan once):  {created.totp_uri}")


@staff_cli.command("list")
def list_accounts():
    """Every console account (no secrets)."""
    for a in db.session.scalars(sa.select(StaffAccount).order_by(StaffAccount.kind, StaffAccount.username)):
        locked = " locked" if a.locked_until and a.locked_until > utcnow() else ""
        department, roles = a.department_code or "-", ",".join(a.roles)
        click.echo(f"{a.id}  {a.kind:<8} {a.username:<20} {department:<8} {roles}  {a.status}{locked}")


def _account(username: str) -> StaffAccount:
    account = db.session.scalar(
        sa.select(StaffAccount).where(StaffAccount.username == username.strip().lower()).with_for_update()
    )
    if account is None:
        raise click.ClickException(f"no account {username!r}")
    return account


@staff_cli.command("unlock")
@click.argument("username")
def unlock(username):
    """Lift a lockout."""
    with unit_of_work():
        account = _account(username)
        account.failed_logins, account.locked_until = 0, None
        audit.record("staff.unlock", "staff_account", account.id)
    click.echo(f"{username} unlocked")


@staff_cli.command("disable")
@click.argument("username")
def disable(username):
    """Disable an account and end its sessions now."""
    with unit_of_work():
        account = _account(username)
        account.status = "disabled"
        audit.record("staff.disable", "staff_account", account.id)
        sessions.revoke_all(account.kind, str(account.id), "account_disabled")
    click.echo(f"{username} disabled")


@staff_cli.command("reset-totp")
@click.argument("username")
def reset_totp(username):
    """A new TOTP secret for an operator who lost their phone; prints the enrolment once."""
    with unit_of_work():
        account = _account(username)
        if account.kind != "operator":
            raise click.ClickException("only operators use TOTP")
        account.totp_secret, account.totp_last_step = totp.new_secret(), None
        audit.record("staff.reset_totp", "staff_account", account.id)
        sessions.revoke_all(account.kind, str(account.id), "totp_reset")
    click.echo(f"TOTP (scan once):  {totp.provisioning_uri(account.totp_secret, account.username)}")


__all__ = ["staff_cli"]
