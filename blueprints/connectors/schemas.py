import marshmallow as ma


class ConnectorKindSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    config = ma.fields.Dict(required=True, metadata={"description": "JSON Schema; secret fields have x-secret"})
    secret_fields = ma.fields.List(ma.fields.String(), required=True)
    operations = ma.fields.Dict(
        required=True, metadata={"description": "name → title, inputs and output (JSON Schema), freshness"}
    )


class ConfigureSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    # Both required: left out, a default would open a department's connector to every department, or
    # switch back on one an operator had switched off.
    department = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "whose system; null: the platform's own"}
    )
    enabled = ma.fields.Boolean(required=True)
    settings = ma.fields.Dict(
        required=True, metadata={"description": "per the kind's config schema; leave a secret out to keep it"}
    )


class ConnectorSchema(ma.Schema):
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    department = ma.fields.String(allow_none=True)
    enabled = ma.fields.Boolean(required=True)
    settings = ma.fields.Dict(required=True, metadata={"description": "without the secret fields"})
    secrets_set = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "names only"})
    updated_at = ma.fields.String(required=True)


class ConnectorStatusSchema(ConnectorSchema):
    breaker = ma.fields.Dict(required=True, metadata={"description": "state, failures in a row, retry_after"})
    figures = ma.fields.Dict(
        required=True, metadata={"description": "last 15 minutes: calls, outcomes, error_rate, p95_ms, last_error"}
    )
