from blueprints.connectors.views import blp

__all__ = ["blp"]
