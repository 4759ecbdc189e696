"""The department contract: how we call a department's own HTTPS endpoint (docs/department-contract.md)."""

from integrations.department_contract.client import (
    CONTRACT,
    ContractResult,
    DepartmentRejected,
    HealthResult,
    as_app_error,
    call,
    health_check,
)
from integrations.department_contract.endpoint import EndpointRefused, check_endpoint_url, local_endpoints_allowed
from integrations.department_contract.signing import ContractSignatureError, sign, verify

__all__ = [
    "CONTRACT",
    "ContractResult",
    "ContractSignatureError",
    "DepartmentRejected",
    "EndpointRefused",
    "HealthResult",
    "as_app_error",
    "call",
    "check_endpoint_url",
    "health_check",
    "local_endpoints_allowed",
    "sign",
    "verify",
]
