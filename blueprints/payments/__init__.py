from blueprints.payments.views import blp

__all__ = ["blp"]
