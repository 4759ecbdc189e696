"""Gateways are registered once, with a secret shown once and kept encrypted."""

import hashlib
import hmac

import pytest
import sqlalchemy as sa

from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.wifi import gateways
from tests.factories import make_district


def test_a_registered_gateway_is_recognised_and_checks_what_it_signs(app_ctx):
    make_district("370403", "薛城区")
    gateway, secret = gateways.register("zz-hsr-01", "zz-hsr", "枣庄站 1 号网关", "370403")
    found = gateways.active("zz-hsr-01")
    assert found is not None and found.id == gateway.id
    message = b"gw_id=zz-hsr-01&stage=login"
    good = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    assert gateways.signature_ok(found, message, good.upper())
    assert not gateways.signature_ok(found, message + b"&x=1", good)
    assert not gateways.signature_ok(found, message, "签名" * 32)  # garbage is wrong, not a crash
    assert not gateways.signature_ok(found, message, good[:-1])
    assert gateways.active("unknown-gw") is None


def test_the_secret_is_encrypted_at_rest(app_ctx):
    _, secret = gateways.register("gw-1", "zz-hsr", "gw")
    stored = db.session.execute(sa.text("SELECT secret FROM wifi_gateways")).scalar_one()
    assert secret not in stored and stored.split(":", 1)[0]


@pytest.mark.parametrize(
    ("gw_id", "district", "code"),
    [("bad id with spaces", None, "INVALID_GATEWAY_ID"), ("gw-2", "999999", "UNKNOWN_DISTRICT")],
)
def test_bad_registrations_are_refused_and_store_nothing(app_ctx, gw_id, district, code):
    with pytest.raises(AppError) as refused:
        gateways.register(gw_id, "zz-hsr", "gw", district)
    assert refused.value.code == code
    assert db.session.scalar(sa.text("SELECT count(*) FROM wifi_gateways")) == 0


def test_a_gateway_is_registered_once_and_disabled_ones_get_no_service(app, app_ctx):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["wifi", "add-gateway", "gw-3", "--site", "zz-hsr", "--name", "gw"])
    assert first.exit_code == 0 and "secret:" in first.output
    again = runner.invoke(args=["wifi", "add-gateway", "gw-3", "--site", "zz-hsr", "--name", "gw"])
    assert again.exit_code != 0 and "GATEWAY_EXISTS" in again.output
    with unit_of_work() as s:
        s.execute(sa.text("UPDATE wifi_gateways SET status = 'disabled'"))
    assert gateways.active("gw-3") is None
