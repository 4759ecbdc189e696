"""Running an inquiry service (查询) for a citizen: the service's rules, its form, then its binding.

A service is answered by a built-in connector to its department's cloud (integrations/clouds, through
the guarded call: cache, circuit breaker, figures), or by the department's own endpoint under the
contract (integrations/department_contract), which is how a department puts a new inquiry live with no
code change here. No database connection is held while a department answers: a slow department must
not hold the pool that every other citizen needs.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from app.catalog.contract_keys import secret_for
from app.catalog.form_inputs import check_inputs
from app.catalog.models import Service
from app.catalog.reads import generation, live_version_of
from app.catalog.usage import record_use
from app.city.models import Department
from app.clock import shown
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller
from app.inquiry import accounts, history
from app.inquiry.connector_call import ConnectorCall, prepare_connector_call
from app.inquiry.errors import login_required, real_name_required, service_unavailable
from app.rate_limits import address_key
from integrations.department_contract import client as contract
from integrations.errors import IntegrationError

log = logging.getLogger(__name__)
DEFAULT_READ_TIMEOUT = contract.DEFAULT_TIMEOUT[1]


@dataclass(frozen=True)
class Bound:
    """What a run needs of the live version, read in one short transaction."""

    code: str
    department: str
    department_name: str
    kind: str
    content: dict


# What each service's live version needs, kept per process for the catalog generation it was read in:
# a publish, a suspension or a connector's new settings move the generation on (app/catalog/reads.py).
_bound: dict[str, tuple[int, Bound]] = {}


def _live(code: str) -> Bound:
    current = generation()
    hit = _bound.get(code)
    if hit is not None and hit[0] == current >= 0:
        return hit[1]
    bound = _read_live(code)
    if current >= 0:
        _bound[code] = (current, bound)
    return bound


def _read_live(code: str) -> Bound:
    row = db.session.execute(
        live_version_of(code).add_columns(Department.name).join(Department, Department.code == Service.department_code)
    ).first()
    if row is None:
        raise AppError("SERVICE_NOT_FOUND", "没有这个服务，或它暂停了", 404)
    service, version, department_name = row
    return Bound(service.code, service.department_code, department_name, service.kind, version.content)


def _citizen_block(caller: Caller, content: dict):
    """(the citizen, who is asking as a contract department sees it); (None, None) for a guest of a service
    that needs no login. A contract binding asking for the verified identity also gets the citizen's name
    and ID number as the population database confirmed them."""
    if caller.kind != "citizen":
        if content.get("login_required", True):
            raise login_required()
        return None, None
    citizen = accounts.citizen_of(caller)
    verified = citizen.real_name_verified_at is not None
    if content.get("real_name_required") and not verified:
        raise real_name_required()
    block = {"id": caller.subject, "real_name_verified": verified}
    if (content.get("binding") or {}).get("identity") == "verified":
        block |= {"name": citizen.real_name, "id_number": citizen.id_number}
    return citizen, block


def query(caller: Caller, code: str, inputs: dict, account_id: uuid.UUID | None = None) -> dict:
    """The department's answer for this citizen, with when its data was current and whose it is.
    `public_until`: for an answer that is nobody's own and fresh, the clock time it stays fresh until
    (blueprints/services/shared_answers.py lets guests asking the same share it); else None."""
    prepared: ConnectorCall | None = None
    try:
        bound = _live(code)
        if bound.kind != "inquiry":
            raise AppError("NOT_AN_INQUIRY", "此服务不是查询类服务", 409, {"kind": bound.kind})
        citizen, block = _citizen_block(caller, bound.content)
        binding = bound.content["binding"]
        if binding["type"] == "connector":
            prepared = prepare_connector_call(binding, bound.department, citizen, dict(inputs), account_id)
            inputs = prepared.inputs
        else:
            if account_id is not None:
                raise AppError("ACCOUNT_NOT_APPLICABLE", "此服务不能使用绑定账户", 422)
            # Read each time, not kept with the rest: a key retired now must stop signing now.
            secret = secret_for(bound.department, binding.get("key_id")) if binding["type"] == "contract" else None
        cleaned = check_inputs(bound.content["form"], inputs)
    finally:
        if db.session.registry.has():  # a service known to this worker needed no session at all
            db.session.rollback()  # end the read before the outbound call
    try:
        answer = prepared.run(cleaned) if prepared is not None else _by_contract(bound, binding, secret, cleaned, block)
    except AppError as error:
        if citizen is not None:
            history.record(caller.subject, code, bound.content["form"], cleaned, error.code)
        raise
    record_use(code, f"citizen:{caller.subject}" if citizen else f"ip:{address_key()}")
    if citizen is not None:
        outcome = "stale" if answer["stale"] else "ok"
        history.record(caller.subject, code, bound.content["form"], cleaned, outcome)
    return {
        "service": code,
        **answer,
        "source": {"department": bound.department, "name": bound.department_name},
    }


def _by_contract(bound: Bound, binding: dict, secret: str | None, cleaned: dict, block: dict | None) -> dict:
    if binding["type"] != "contract" or secret is None:
        # The key the service was approved with has been retired: the department must issue a new one.
        raise service_unavailable()
    timeout = (contract.CONNECT_TIMEOUT_SECONDS, binding.get("timeout_seconds") or DEFAULT_READ_TIMEOUT)
    # Unique per call, as the contract promises the department; a failure is logged with it and our request id.
    call_id = uuid.uuid4().hex
    try:
        answer = contract.call(
            binding["url"],
            binding["key_id"],
            secret,
            "query",
            bound.code,
            cleaned,
            block,
            timeout,
            request_id=call_id,
        )
    except IntegrationError as error:
        # For the operators: which department failed how. Never the inputs or the citizen block.
        log.warning(
            "department call failed",
            extra={"service": bound.code, "department": bound.department, "call_id": call_id, "failure": str(error)},
        )
        raise contract.as_app_error(error) from None
    # A department's own contract is called afresh for everyone: its answers are never shared.
    shown_as_of = shown(answer.as_of)
    return {"result": answer.result, "as_of": shown_as_of, "stale": False, "age_seconds": None, "public_until": None}
