from blueprints.services.views import blp

__all__ = ["blp"]
