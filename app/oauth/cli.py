"""`flask departments ...`: credentials of department systems. A secret is printed once and never kept."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.clock import local
from app.errors import AppError
from app.oauth import service
from app.oauth.scopes import SCOPES

departments_cli = AppGroup("departments", help="OAuth2 clients of department systems.")


def _fail(error: AppError):
    raise click.ClickException(f"{error.code}: {error.message}")


def _print_once(credentials: service.Credentials) -> None:
    # Straight to the operator's terminal: never to a log, never stored in clear.
    click.echo(f"client_id:     {credentials.client_id}")
    click.echo(f"client_secret: {credentials.client_secret}")
    click.echo("The secret is shown only this once: put it in the department system's secret store now.")


@departments_cli.command("create-client")
@click.argument("department_code")
@click.option("--name", required=True, help="what the system is, e.g. 公积金业务系统")
@click.option(
    "--scope", "scopes", multiple=True, required=True, type=click.Choice(sorted(SCOPES)), help="repeat for each"
)
def create_client(department_code, name, scopes):
    """Register a department system; prints its client id and secret once."""
    try:
        credentials = service.create_client(department_code, name, list(scopes))
    except AppError as error:
        _fail(error)
    _print_once(credentials)


@departments_cli.command("list-clients")
@click.option("--department", "department_code", help="only this department's clients")
def list_clients(department_code):
    """Every client, without secrets."""

    def shown(moment):
        return local(moment).isoformat(timespec="seconds") if moment else "never"

    for c in service.list_clients(department_code):
        click.echo(
            f"{c.client_id}  {c.department_code:<8} {c.status:<8} {','.join(c.scopes)}  {c.name}  "
            f"created {shown(c.created_at)}  secret set {shown(c.secret_changed_at)}  last used {shown(c.last_used_at)}"
        )


@departments_cli.command("disable-client")
@click.argument("client_id")
def disable_client(client_id):
    """Disable a client: no new tokens, and its live tokens stop working at once."""
    try:
        revoked = service.disable_client(client_id)
    except AppError as error:
        _fail(error)
    click.echo(f"{client_id} disabled; {revoked} live token(s) revoked")


@departments_cli.command("rotate-secret")
@click.argument("client_id")
def rotate_secret(client_id):
    """A new secret, printed once; the old secret and the tokens it obtained stop working at once."""
    try:
        credentials = service.rotate_secret(client_id)
    except AppError as error:
        _fail(error)
    _print_once(credentials)
