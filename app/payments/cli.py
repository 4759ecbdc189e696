"""`flask payments ...`: reconciling days against the channels' statements by hand (the job does yesterday)."""

from __future__ import annotations

from datetime import date, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.payments import reconcile as reconciliation

payments_cli = AppGroup("payments", help="Payments: reconciliation against the channels' statements.")
MAX_DAYS = 92  # the channels keep statements about three months


@payments_cli.command("reconcile")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="first day (Beijing)")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), help="last day, included [default: --from]")
@click.option("--channel", type=click.Choice(["wechat", "alipay"]), help="[default: each in PAYMENT_CHANNELS]")
def reconcile_command(first, last, channel):
    """Compare each day's trade statement with our payments and refunds; disagreements are kept as
    discrepancies for operators (running a day again counts them again, adds none). Orders are not changed."""
    first, last = first.date(), (last or first).date()
    if last < first:
        raise click.BadParameter(f"{last} is before --from {first}", param_hint="--to")
    if (last - first).days + 1 > MAX_DAYS:
        raise click.BadParameter(f"{(last - first).days + 1} days; at most {MAX_DAYS} at a time", param_hint="--to")
    today = reconciliation.beijing_today()
    if last >= today:
        raise click.BadParameter(
            f"{last} is not over yet in Beijing (today is {today}): a day's statement exists from the next day",
            param_hint="--to",
        )
    wanted = [channel] if channel else list(current_app.config["PAYMENT_CHANNELS"])
    work = [(first + timedelta(days=n), name) for n in range((last - first).days + 1) for name in wanted]
    lines, failed = [], 0
    try:
        with click.progressbar(work, label="reconciling", item_show_func=_label) as bar:
            for day, name in bar:
                try:
                    lines.append(_line(reconciliation.reconcile(name, day)))
                except reconciliation.ReconcileError as error:
                    failed += 1
                    lines.append(f"{day} {name}: NOT RECONCILED: {error}")
    finally:
        # After the bar, so the lines are not drawn over; printed even if a day broke off the run.
        for line in lines:
            click.echo(line)
    if failed:
        raise click.ClickException(f"{failed} of {len(work)} day(s) and channel(s) could not be reconciled (above)")


def _label(item: tuple[date, str] | None) -> str | None:
    return None if item is None else f"{item[0]} {item[1]}"


def _line(summary: dict) -> str:
    found = summary["discrepancies"]
    told = ", ".join(f"{kind} {n}" for kind, n in found.items()) if found else "none"
    # WeChat says so for a day without trades; Alipay's same answer may also mean "not made yet".
    note = " (the channel said it has no statement of that day)" if summary["no_statement"] else ""
    return (
        f"{summary['day']} {summary['channel']}: statement {summary['statement_payments']} payments "
        f"{summary['statement_refunds']} refunds, ours {summary['ours_payments']} payments "
        f"{summary['ours_refunds']} refunds, matched {summary['matched']}, discrepancies: {told}{note}"
    )
