"""An inquiry bound to a built-in connector: what the connector is given, and how its failures read.

Prepared inside the run's short read (the connector's configuration, the citizen's verified identity,
a bound account's number), then run with no database connection held.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import marshmallow as ma

from app.clock import shown
from app.connectors import service as connectors
from app.connectors.errors import as_cloud_error
from app.errors import AppError
from app.identity.models import Citizen
from app.inquiry import accounts
from app.inquiry.errors import login_required, service_unavailable
from integrations.connectors.base import Connector, Identity
from integrations.errors import IntegrationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectorCall:
    connector: Connector
    operation: str
    identity: Identity | None
    allow_stale: bool
    inputs: dict

    def run(self, cleaned: dict) -> dict:
        try:
            outcome = connectors.gateway().call(
                self.connector, self.operation, cleaned, self.identity, allow_stale=self.allow_stale
            )
        except ma.ValidationError as error:
            # The department's own rules for an input are stricter than the form's.
            raise AppError("VALIDATION_FAILED", "填写的信息有误", 422, {"fields": error.messages}) from None
        except IntegrationError as error:
            log.warning(
                "cloud call failed",
                extra={"connector": self.connector.name, "operation": self.operation, "failure": str(error)},
            )
            raise as_cloud_error(error) from None
        return {
            "result": outcome.result,
            "as_of": shown(outcome.as_of),
            "stale": outcome.stale,
            "age_seconds": outcome.age_seconds,
            "public_until": outcome.public_until,
        }


def prepare_connector_call(
    binding: dict, department: str, citizen: Citizen | None, inputs: dict, account_id: uuid.UUID | None
) -> ConnectorCall:
    target = connectors.built(binding["connector"])
    operation = binding["operation"]
    op = target.connector.operations.get(operation) if target is not None else None
    if op is None or op.internal or target.department_code not in (None, department):
        # Disabled, or given to another department, by an operator since the service went live.
        raise service_unavailable()
    identity = None
    if op.identity:
        if citizen is None:
            raise service_unavailable()  # the checklist requires real name for a personal operation
        identity = accounts.identity_of(citizen)
    if account_id is not None:
        if citizen is None:
            raise login_required()
        inputs["account_no"] = accounts.number_for(citizen.id, account_id, op.account)
    return ConnectorCall(target.connector, operation, identity, bool(binding.get("allow_stale")), inputs)
