from blueprints.city.views import blp

__all__ = ["blp"]
