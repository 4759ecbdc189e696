from blueprints.oauth.views import blp

__all__ = ["blp"]
