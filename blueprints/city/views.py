from flask.views import MethodView
from flask_smorest import Blueprint

from app.city import service
from app.identity.policy import public
from blueprints.city.schemas import DepartmentQuerySchema, DepartmentSchema, DistrictSchema

blp = Blueprint("city", __name__, url_prefix="/api/v1", description="The city: districts and departments")


def _department_out(department) -> dict:
    return {"code": department.code, "name": department.name, "clouds": service.cloud_names(department.clouds)}


@blp.route("/districts")
class Districts(MethodView):
    @public
    @blp.response(200, DistrictSchema(many=True))
    def get(self):
        """Districts of the city"""
        return service.list_districts()


@blp.route("/departments")
class Departments(MethodView):
    @public
    @blp.arguments(DepartmentQuerySchema, location="query")
    @blp.response(200, DepartmentSchema(many=True))
    def get(self, query):
        """Departments and the clouds they run"""
        return [_department_out(d) for d in service.list_departments(query.get("cloud"))]


@blp.route("/departments/<string:code>")
class DepartmentDetail(MethodView):
    @public
    @blp.response(200, DepartmentSchema)
    def get(self, code):
        """One department"""
        return _department_out(service.get_department(code))
