from blueprints.auth.views import blp, wellknown

__all__ = ["blp", "wellknown"]
