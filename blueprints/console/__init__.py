from blueprints.console.views import blp

__all__ = ["blp"]
