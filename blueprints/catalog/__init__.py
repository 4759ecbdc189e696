from blueprints.catalog.views import blp

__all__ = ["blp"]
