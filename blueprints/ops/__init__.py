from blueprints.ops.views import blp

__all__ = ["blp"]
