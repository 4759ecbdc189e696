import marshmallow as ma


class QuerySchema(ma.Schema):
    inputs = ma.fields.Dict(load_default=dict, metadata={"description": "answers to the service's form, by field name"})


class SourceSchema(ma.Schema):
    department = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


class QueryAnswerSchema(ma.Schema):
    service = ma.fields.String(required=True)
    result = ma.fields.Dict(required=True, metadata={"description": "the department's answer"})
    as_of = ma.fields.String(required=True, metadata={"description": "when the department's data was current"})
    source = ma.fields.Nested(SourceSchema, required=True)
    stale = ma.fields.Boolean(required=True, metadata={"description": "true: from cache while the source is down"})
