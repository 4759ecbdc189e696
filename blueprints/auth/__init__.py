from blueprints.auth import me_views  # noqa: F401 - registers the /me/... routes on blp
from blueprints.auth.views import blp, wellknown

__all__ = ["blp", "wellknown"]
