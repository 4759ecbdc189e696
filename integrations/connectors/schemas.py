"""What a connector kind declares, as JSON Schema: for departments choosing an operation to bind and for
operators configuring one. Secret fields are marked `x-secret` and `writeOnly`; no value is ever shown."""

from __future__ import annotations

from functools import lru_cache

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin


@lru_cache(maxsize=1)
def _converter():
    # Nested schemas inline: connectors of different clouds may well both have a schema called Step.
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)
    APISpec("connectors", "1", "3.0.3", plugins=[plugin])
    return plugin.converter


def json_schema(schema: type[ma.Schema]) -> dict:
    return _converter().schema2jsonschema(schema())


def secret_fields(schema: type[ma.Schema]) -> list[str]:
    return [name for name, field in schema().fields.items() if field.metadata.get("x-secret")]


def describe_connector(cls) -> dict:
    return {
        "kind": cls.kind,
        "title": cls.title,
        "config": json_schema(cls.Config),
        "secret_fields": secret_fields(cls.Config),
        "operations": {
            name: {
                "title": op.title,
                "inputs": json_schema(op.inputs),
                "output": json_schema(op.output),
                "fresh_seconds": op.fresh_seconds,
                "stale_seconds": op.stale_seconds,
                "personal": op.identity,
                "account": op.account,
            }
            for name, op in cls.operations.items()
            if not op.internal
        },
    }
