from blueprints.catalog import webhook_views  # noqa: F401 - its routes join `blp`
from blueprints.catalog.views import blp

__all__ = ["blp"]
