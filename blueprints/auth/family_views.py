"""The citizen's family members (就诊人/游客): listed, added after a real-name check, removed."""

from flask.views import MethodView

from app.identity import family
from app.identity.policy import current_caller, require_citizen
from app.rate_limits import rate_limit
from blueprints.auth.schemas import FamilyListSchema, FamilyMemberCreateSchema, FamilyMemberSchema
from blueprints.auth.views import blp


# Reading and adding are two endpoints on one path: a rate limit counts per endpoint, and polling the
# list must not use up the limit on adding.
@blp.route("/me/family")
class FamilyList(MethodView):
    @require_citizen
    @blp.response(200, FamilyListSchema)
    def get(self):
        """My family members, personal data masked"""
        return {"items": family.list_members(current_caller()), "max": family.MAX_MEMBERS}


@blp.route("/me/family")
class FamilyAdd(MethodView):
    @require_citizen
    @rate_limit("60 per hour")  # real-name checks also have a daily cap per citizen
    @blp.arguments(FamilyMemberCreateSchema)
    @blp.response(201, FamilyMemberSchema)
    def post(self, body):
        """Add a family member, verified against the population database (up to 5)"""
        return family.add(current_caller(), body["relation"], body["name"], body["id_number"])


@blp.route("/me/family/<uuid:member_id>")
class FamilyMemberItem(MethodView):
    @require_citizen
    @blp.response(204)
    def delete(self, member_id):
        """Remove a family member"""
        family.remove(current_caller(), member_id)
