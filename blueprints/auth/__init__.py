from blueprints.auth import family_views, link_views, me_views  # noqa: F401 - register the /me/... routes on blp
from blueprints.auth.views import blp, wellknown

__all__ = ["blp", "wellknown"]
