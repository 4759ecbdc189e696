"""The connectors of the sixteen clouds and the information-sharing platform, one package each:
`connector.py` (registered in integrations.connectors.base.REGISTRY on import) and `sandbox.py` (its twin)."""

from importlib import import_module

from app.city.clouds import PLATFORMS

CLOUD_PACKAGES = tuple(PLATFORMS)  # the sixteen clouds and "sharing"


def load_connectors() -> None:
    """Import every cloud's connector, so the registry knows them all."""
    for package in CLOUD_PACKAGES:
        import_module(f"integrations.clouds.{package}.connector")
