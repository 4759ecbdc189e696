"""`flask wifi ...`: registering gateways when they are installed."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.errors import AppError
from app.wifi import gateways

wifi_cli = AppGroup("wifi", help="Wi-Fi gateways.")


@wifi_cli.command("add-gateway")
@click.argument("gw_id")
@click.option("--site", "site_code", required=True, help="hotspot code, e.g. zz-hsr")
@click.option("--name", required=True)
@click.option("--district", "district_code", help="district code, e.g. 370403")
def add_gateway(gw_id, site_code, name, district_code):
    """Register a gateway; prints its secret once."""
    try:
        gateway, secret = gateways.register(gw_id, site_code, name, district_code)
    except AppError as error:
        raise click.ClickException(f"{error.code}: {error.message}") from None
    click.echo(f"gateway: {gateway.gw_id}")
    click.echo(f"secret:  {secret}   (shown once)")
