import marshmallow as ma

from app.city.clouds import PLATFORMS


class DistrictSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "administrative division code"})
    name = ma.fields.String(required=True)


class CloudSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    name_en = ma.fields.String(required=True)


class DepartmentSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    clouds = ma.fields.List(ma.fields.Nested(CloudSchema), required=True)


class DepartmentQuerySchema(ma.Schema):
    cloud = ma.fields.String(
        validate=ma.validate.OneOf(sorted(PLATFORMS)), metadata={"description": "only departments that run this cloud"}
    )
