"""Taking the demo catalog (app/catalog/demo.py) live the way it happens for real: each department drafts
and submits its services, a demo operator approves them, the department publishes. Safe to run twice.

- The operator is a real console account, `demo-operator`, whose random first password and TOTP secret
  are never shown: nobody logs in as it, and the audit log and `decided_by` name it.
- audit.record() names the caller of the current request; the command line has none, so each step runs
  in a request context of its own that carries the acting caller and one request id for the whole run.
- With SANDBOX on, a connector per cloud is configured first, pointed at the clouds' twins with sandbox
  credentials (app/connectors/demo.py); most inquiries are bound to those connectors' operations.
- Other inquiries are bound to the department twin and signed with sandbox keys (integrations/sandbox/keyring.py),
  stored as each department's contract key. With SANDBOX off they are not seeded at all: those keys must
  never exist outside the sandbox. Link services need no key and are seeded either way.
- `make run` seeds before gunicorn serves /_sandbox, so while seeding, calls to the sandbox's own URL are
  served in process (integrations/sandbox/inprocess.py) and the publish checklist's health check passes.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app, g

from app.audit import service as audit
from app.catalog import service as catalog
from app.catalog.demo import DemoService, demo_services
from app.catalog.lifecycle import actor_name
from app.catalog.models import ContractKey, Service, ServiceVersion
from app.city.models import Department
from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller
from app.staff import accounts
from app.staff.models import StaffAccount

DEMO_OPERATOR = "demo-operator"
# What is left to do from each status of a version on its way, and which side does it.
STEPS = {
    "DRAFT": (("submit", "department"), ("approve", "operator"), ("publish", "department")),
    "SUBMITTED": (("approve", "operator"), ("publish", "department")),
    "APPROVED": (("publish", "department"),),
}


@dataclass
class SeedReport:
    added: list[str] = field(default_factory=list)  # taken live by this run
    present: list[str] = field(default_factory=list)  # there already: left as they are
    not_seeded: list[str] = field(default_factory=list)  # bound to the twin while SANDBOX is off
    failed: dict[str, str] = field(default_factory=dict)  # code -> why
    connectors: list[str] = field(default_factory=list)  # configured by this run, pointed at the twins


def department_caller(department: str) -> Caller:
    """The department's own system, as a client with catalog:write."""
    return Caller("client", f"demo-{department}", scopes=frozenset({"catalog:write"}), department=department)


def seed_catalog() -> SeedReport:
    config, report = current_app.config, SeedReport()
    names = dict(db.session.execute(sa.select(Department.code, Department.name)).all())
    base_url = config["DEPARTMENT_SYSTEM_BASE_URL"]
    run = f"seed-demo-{uuid.uuid4().hex[:12]}"
    operator = demo_operator()
    if config["SANDBOX"]:
        from app.connectors.demo import seed_connectors

        with acting_as(operator, run):
            report.connectors = seed_connectors(operator)
    with _sandbox_served_in_process():
        for item in demo_services():
            if item.bound_to_twin and not config["SANDBOX"]:
                report.not_seeded.append(item.code)
                continue
            try:
                key_id = _sandbox_key(item.department, run) if item.by_contract else None
                content = item.content(names.get(item.department, item.department), base_url, key_id)
                added = _take_live(item, content, operator, run)
            except AppError as error:
                details = error.details.get("problems") or error.details or ""
                report.failed[item.code] = f"{error.code} {error.message} {details}".strip()
                continue
            (report.added if added else report.present).append(item.code)
    return report


def demo_operator() -> Caller:
    account = db.session.scalar(sa.select(StaffAccount).where(StaffAccount.username == DEMO_OPERATOR))
    if account is None:
        # The one-time password and TOTP enrolment are dropped here on purpose: never shown, never used.
        account = accounts.create(DEMO_OPERATOR, "演示审核员", "operator", ["operator"], None).account
    return accounts.caller_of(account)


@contextmanager
def acting_as(caller: Caller, request_id: str):
    """A request context of the command's own, so the audit log names `caller` for what happens inside."""
    with current_app.test_request_context("/seed-demo", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        # g belongs to the app context, which outlives this request context: leave it as it was.
        saved = {name: g.pop(name, None) for name in ("caller", "request_id")}
        g.caller, g.request_id = caller, request_id
        try:
            yield
        finally:
            for name, value in saved.items():
                g.pop(name, None)
                if value is not None:
                    setattr(g, name, value)


def _sandbox_served_in_process():
    """The sandbox in process, when the twin's URL is this app's own /_sandbox (not served yet)."""
    config = current_app.config
    sandbox = f"{config['PUBLIC_BASE_URL']}/_sandbox"
    if config["SANDBOX"] and config["DEPARTMENT_SYSTEM_BASE_URL"].startswith(f"{sandbox}/"):
        from integrations.sandbox.inprocess import sandbox_in_process

        return sandbox_in_process(sandbox)
    return nullcontext()


def _sandbox_key(department: str, run: str) -> str:
    """The department's sandbox contract key, stored once: the twin checks signatures with the same secret."""
    from integrations.sandbox import keyring

    key_id = keyring.department_contract_key_id(department)
    if db.session.scalar(sa.select(ContractKey.id).where(ContractKey.key_id == key_id)) is None:
        with acting_as(department_caller(department), run), unit_of_work() as s:
            secret = keyring.department_contract_secret(department)
            s.add(ContractKey(key_id=key_id, department_code=department, secret=secret, created_at=utcnow()))
            audit.record("contract_key.issue", "contract_key", key_id)
    return key_id


def _take_live(item: DemoService, content: dict, operator: Caller, run: str) -> bool:
    """Register the service and take it through the lifecycle, or finish a run that stopped half way.
    False when the service is there already (live, or changed by people since): it is left alone."""
    department = department_caller(item.department)
    service = db.session.scalar(sa.select(Service).where(Service.code == item.code))
    if service is None:
        with acting_as(department, run):
            version = catalog.register(department, item.code, item.cloud, item.kind, content)
        number, status = version.number, version.status
    else:
        version = _unfinished(service, department)
        if version is None:
            return False
        number, status = version.number, version.status
        if status == "DRAFT":  # stopped at the checklist, e.g. the twin was not reachable: bind it anew
            with acting_as(department, run):
                catalog.edit_draft(department, item.code, number, content)
    sides = {"department": department, "operator": operator}
    for action, side in STEPS[status]:
        with acting_as(sides[side], run):
            catalog.transition(sides[side], item.code, number, action)
    return True


def _unfinished(service: Service, department: Caller) -> ServiceVersion | None:
    """The demo's own first version still on its way (an earlier run stopped), if that is all there is."""
    if service.live_version_id is not None or service.department_code != department.department:
        return None
    versions = db.session.scalars(sa.select(ServiceVersion).where(ServiceVersion.service_id == service.id)).all()
    if len(versions) != 1 or versions[0].created_by != actor_name(department):
        return None
    return versions[0] if versions[0].status in STEPS else None
