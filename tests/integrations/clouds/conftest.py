"""Each cloud's connector against its twin, served by the session's sandbox, with the sandbox credentials."""

import time
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import requests

from integrations.clouds import load_connectors
from integrations.clouds.sharing import connector as sharing_connector
from integrations.connectors import signing
from integrations.connectors.base import REGISTRY
from integrations.connectors.signing import Outgoing
from integrations.sandbox import keyring


@pytest.fixture
def connect(sandbox_url):
    """connect("environment") → a configured connector talking to that cloud's twin."""
    load_connectors()

    def build(cloud: str, **settings):
        cls = REGISTRY[cloud]
        raw = {
            "base_url": f"{sandbox_url}/{cloud}",
            "app_key": keyring.cloud_app_key(cloud),
            "app_secret": keyring.cloud_app_secret(cloud),
            **settings,
        }
        return cls(cloud, cls.Config().load(raw))

    return build


@pytest.fixture
def same_nonce(monkeypatch):
    """Every request signed with one nonce, as a replayed request would be (the request signers' nonce, and
    the one the sharing platform's adapter puts in the bodies it signs itself)."""
    fixed = uuid.uuid4()
    for module in (signing, sharing_connector):
        monkeypatch.setattr(module, "uuid", SimpleNamespace(uuid4=lambda: fixed))


@pytest.fixture
def signed_six_minutes_ago(monkeypatch):
    """Every request signed with a timestamp six minutes old, past the five minutes the twins allow."""
    clock = SimpleNamespace(time=lambda: time.time() - 360, monotonic=time.monotonic)
    monkeypatch.setattr(signing, "time", clock)


@pytest.fixture
def signed_get(connect, sandbox_url):
    """signed_get("medical", "/HisApi/Hospital/List") → send(): one GET, signed once by the cloud's connector,
    sent as often as the test likes (the second time, a replay)."""

    def sign(cloud: str, path: str, params: dict | None = None):
        url = f"{sandbox_url}/{cloud}{path}"
        outgoing = Outgoing("GET", urlsplit(url).path, dict(params or {}))
        connect(cloud).signer.sign(outgoing)
        return lambda: requests.get(url, params=outgoing.params, headers=outgoing.headers, timeout=5)

    return sign


@pytest.fixture
def fault_once(sandbox_url):
    """fault_once("energy") → the twin's next answer is garbage (an HTML page); fault_once("sharing", "fail")
    → it fails with HTTP 503."""

    def inject(cloud: str, mode: str = "garbage") -> None:
        url = f"{sandbox_url}/_control/faults/{cloud}"
        requests.put(url, json={"mode": mode, "times": 1}, timeout=5).raise_for_status()

    return inject
