"""Operator commands: `flask seed-demo`, `flask outbox ...`."""

from __future__ import annotations

import uuid

import click
from flask import Flask
from flask.cli import AppGroup

outbox_cli = AppGroup("outbox", help="Inspect and retry outbox messages.")


@outbox_cli.command("list")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default="dead", show_default=True)
@click.option("--limit", default=50, show_default=True)
def outbox_list(status, limit):
    """List messages, newest first (dead letters by default)."""
    from app.outbox.service import list_messages

    for m in list_messages(status, limit):
        click.echo(
            f"{m.id}  {m.topic:<16} attempts={m.attempts}/{m.max_attempts}  {m.destination}  {m.last_error or ''}"
        )


@outbox_cli.command("retry")
@click.argument("message_id", type=click.UUID)
def outbox_retry(message_id: uuid.UUID):
    """Give a dead letter a fresh set of attempts."""
    from app.outbox.service import retry_dead

    retry_dead(message_id)
    click.echo(f"{message_id} queued again")


keys_cli = AppGroup("keys", help="Key rotation.")


@keys_cli.command("rotate")
def keys_rotate():
    """Re-encrypt personal data still under an older PII key with PII_ACTIVE_KID."""
    from app.security.rotation import rotate

    for column, count in rotate().items():
        click.echo(f"{column}: {count} re-encrypted")


def register_cli(app: Flask) -> None:
    from app.oauth.cli import departments_cli
    from app.payments.cli import payments_cli
    from app.staff.cli import staff_cli
    from app.wifi.cli import wifi_cli

    app.cli.add_command(outbox_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(departments_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(wifi_cli)
    app.cli.add_command(payments_cli)

    @app.cli.command("seed-demo")
    def seed_demo():
        """Load the demo city and take its demo catalog live. Running it twice changes nothing."""
        from app.catalog.demo_seed import seed_catalog
        from app.city.seed import load_demo_city, seed_city

        changed = seed_city(load_demo_city())
        click.echo("demo city: " + ", ".join(f"{n} {k} added or changed" for k, n in changed.items()))
        if app.config["APP_ENV"] == "production":
            # Demo services and a demo operator account have no place before real citizens.
            click.echo("demo catalog: not seeded in production (APP_ENV=production)")
            return
        report = seed_catalog()
        if report.connectors:
            click.echo(f"demo connectors: {len(report.connectors)} configured, pointed at the sandbox twins")
        click.echo(f"demo catalog: {len(report.added)} services added and live, {len(report.present)} there already")
        if report.not_seeded:
            click.echo(
                f"demo catalog: SANDBOX is off, so the {len(report.not_seeded)} services answered by the sandbox's "
                "twins (with sandbox-only keys) were not seeded; set SANDBOX=1 to have them"
            )
        for code, problem in report.failed.items():
            click.echo(f"demo catalog: {code} not seeded: {problem}", err=True)
        if report.failed:
            raise click.ClickException(f"{len(report.failed)} demo services could not be taken live (see above)")
