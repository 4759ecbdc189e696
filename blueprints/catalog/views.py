"""The service catalog: citizens browse and search what is live; departments register services and
move their versions; operators review them.

Department routes take a clerk's or admin's console token, or the department system's client
token with `catalog:write`; each sees only its own department's services.
"""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.catalog import contract_keys, reads, service, usage
from app.identity.policy import current_caller, public, require_any, require_role
from blueprints.catalog import pages
from blueprints.catalog.schemas import (
    CategorySchema,
    ContractKeySchema,
    DraftSchema,
    EditSchema,
    HotQuerySchema,
    HotServiceSchema,
    ListingQuerySchema,
    LiveServiceSchema,
    MoveSchema,
    NewServiceSchema,
    ServiceDetailSchema,
    VersionSchema,
)

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Service catalog: registration and review")
DEPARTMENT = {"roles": ("dept_admin", "clerk"), "scopes": ("catalog:write",)}
EITHER_SIDE = {"roles": ("dept_admin", "clerk", "operator"), "scopes": ("catalog:write",)}


def where(query: dict) -> tuple:
    return query["district"], query["audience"]


@blp.route("/catalog/categories")
class Categories(MethodView):
    @public
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """Categories as citizens think of them, each grouping clouds"""
        return [{"code": c, "name": name, "clouds": list(clouds)} for c, (name, clouds) in reads.CATEGORIES.items()]


@blp.route("/catalog/services")
class Services(MethodView):
    @public
    @pages.cached
    @blp.arguments(ListingQuerySchema, location="query")
    @blp.response(200, LiveServiceSchema(many=True))
    def get(self, query):
        """Live services by category, district and audience, or found by `q` (Chinese, pinyin, initials)"""
        filters = (query["category"], *where(query), query["q"])

        return pages.page(lambda: LiveServiceSchema(many=True).dump(reads.listing(*filters)))

    @require_any(**DEPARTMENT)
    @blp.arguments(NewServiceSchema)
    @blp.response(201, VersionSchema)
    def post(self, body):
        """Register a service of my department; its first version is a draft"""
        return service.register(current_caller(), body["code"], body["cloud"], body["kind"], body["content"])


@blp.route("/catalog/hot")
class HotServices(MethodView):
    @public
    @blp.arguments(HotQuerySchema, location="query")
    @blp.response(200, HotServiceSchema(many=True))
    def get(self, query):
        """The live services citizens used most in the last 7 days, most used first"""
        # The ranking moves with every use: built each time, revalidated by content.
        return pages.uncached(HotServiceSchema(many=True).dump(usage.hot(query["limit"], *where(query))))


@blp.route("/catalog/services/<code>")
class ServiceDetail(MethodView):
    @public
    @pages.cached
    @blp.response(200, ServiceDetailSchema)
    def get(self, code):
        """A live service: what it does, its rules, its form"""
        return pages.page(lambda: ServiceDetailSchema().dump(reads.detail(code)))


@blp.route("/catalog/services/<code>/versions")
class Versions(MethodView):
    @require_any(**EITHER_SIDE)
    @blp.response(200, VersionSchema(many=True))
    def get(self, code):
        """Every version of a service, with the reviewers' comments"""
        return service.versions(current_caller(), code)[1]

    @require_any(**DEPARTMENT)
    @blp.arguments(DraftSchema)
    @blp.response(201, VersionSchema)
    def post(self, body, code):
        """A new draft beside the live version"""
        return service.new_draft(current_caller(), code, body["content"])


@blp.route("/catalog/services/<code>/versions/<int:number>")
class Draft(MethodView):
    @require_any(**DEPARTMENT)
    @blp.arguments(EditSchema)
    @blp.response(200, VersionSchema)
    def put(self, body, code, number):
        """Change a draft (a submitted version cannot change)"""
        return service.edit_draft(current_caller(), code, number, body["content"])


@blp.route("/catalog/services/<code>/versions/<int:number>/<action>")
class Move(MethodView):
    @require_any(**EITHER_SIDE)
    @blp.arguments(MoveSchema)
    @blp.response(200, VersionSchema)
    def post(self, body, code, number, action):
        """submit, approve, reject, reopen, publish, suspend, resume or retire (409 when the table forbids it)"""
        return service.transition(current_caller(), code, number, action, body["comment"])


@blp.route("/catalog/contract-keys")
class ContractKeys(MethodView):
    @require_any(**DEPARTMENT)
    @blp.response(201, ContractKeySchema)
    def post(self):
        """A key for my department's endpoint to check our signatures with; the secret is shown once"""
        key_id, secret = contract_keys.issue(current_caller())
        return {"key_id": key_id, "secret": secret}


@blp.route("/ops/catalog/review-queue")
class ReviewQueue(MethodView):
    @require_role("operator")
    @blp.response(200, VersionSchema(many=True))
    def get(self):
        """Submitted versions waiting for a decision, oldest first"""
        return [version for _, version in service.review_queue(current_caller())]
