"""Each cloud's connector against its twin, served by the session's sandbox, with the sandbox credentials."""

import pytest

from integrations.clouds import load_connectors
from integrations.connectors.base import REGISTRY
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
