from blueprints.payments.ops_views import blp as ops_blp
from blueprints.payments.views import blp

__all__ = ["blp", "ops_blp"]
