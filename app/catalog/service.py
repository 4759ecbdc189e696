"""Registering services and moving their versions through the lifecycle (app/catalog/lifecycle.py).

A department (its staff, or its system with `catalog:write`) sees and changes only its own services;
another department's service is "not found". Operators see every service.
Rows are locked service first, then version, in every writer, so concurrent moves take turns.
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from app.audit import service as audit
from app.catalog import lifecycle, reads, webhooks
from app.catalog.content import check_content, checklist
from app.catalog.models import KINDS, Service, ServiceVersion
from app.city.clouds import PLATFORMS
from app.city.models import Department
from app.clock import utcnow
from app.db import unit_of_work
from app.errors import AppError
from app.extensions import db
from app.identity.tokens import Caller

CODE = re.compile(r"[a-z][a-z0-9-]{2,63}", re.ASCII)
OPEN = ("DRAFT", "SUBMITTED", "APPROVED", "REJECTED")  # a version on its way; at most one per service


def _not_found() -> AppError:
    return AppError("SERVICE_NOT_FOUND", "没有这个服务", 404)


def _service(caller: Caller, code: str, for_update: bool = False) -> Service:
    query = sa.select(Service).where(Service.code == code)
    service = db.session.scalar(query.with_for_update() if for_update else query)
    if service is None or lifecycle.side_of(caller, service) is None:
        raise _not_found()
    return service


def _version(service: Service, number: int, for_update: bool = False) -> ServiceVersion:
    query = sa.select(ServiceVersion).where(ServiceVersion.service_id == service.id, ServiceVersion.number == number)
    version = db.session.scalar(query.with_for_update() if for_update else query)
    if version is None:
        raise AppError("VERSION_NOT_FOUND", "没有这个版本", 404)
    return version


def register(caller: Caller, code: str, cloud: str, kind: str, content: dict) -> ServiceVersion:
    """A new service of the caller's department, with its first version as a draft."""
    if caller.kind not in {"staff", "client"} or not caller.department:
        raise AppError("DEPARTMENT_ONLY", "只有部门可以登记服务", 403)
    if not CODE.fullmatch(code or ""):
        raise AppError("INVALID_SERVICE_CODE", "服务编码须为 3–64 位小写字母、数字或 -，以字母开头", 422)
    if cloud not in PLATFORMS:
        raise AppError("UNKNOWN_CLOUD", "没有这个云平台", 422, {"allowed": sorted(PLATFORMS)})
    if kind not in KINDS:
        raise AppError("UNKNOWN_SERVICE_KIND", "服务类型不正确", 422, {"allowed": list(KINDS)})
    content = check_content(kind, content)
    try:
        with unit_of_work() as s:
            if s.scalar(sa.select(Department.id).where(Department.code == caller.department)) is None:
                raise AppError("UNKNOWN_DEPARTMENT", "没有这个部门", 422)
            if s.scalar(sa.select(Service.id).where(Service.code == code)) is not None:
                raise AppError("SERVICE_CODE_TAKEN", "服务编码已被使用", 409)
            now = utcnow()
            service = Service(code=code, department_code=caller.department, cloud=cloud, kind=kind)
            service.id, service.uses, service.created_at = uuid.uuid4(), 0, now
            s.add(service)
            s.flush()  # the version refers to it
            version = _new_version(caller, service, 1, content)
            s.flush()
            audit_created(service, version)
    except sa.exc.IntegrityError:
        raise AppError("SERVICE_CODE_TAKEN", "服务编码已被使用", 409) from None
    return version


def _new_version(caller: Caller, service: Service, number: int, content: dict) -> ServiceVersion:
    now = utcnow()
    version = ServiceVersion(
        id=uuid.uuid4(),
        service_id=service.id,
        number=number,
        status="DRAFT",
        content=content,
        created_by=lifecycle.actor_name(caller),
        created_at=now,
        updated_at=now,
    )
    db.session.add(version)
    return version


def audit_created(service: Service, version: ServiceVersion) -> None:
    audit.record(
        "service.draft", "service_version", version.id, details={"service": service.code, "version": version.number}
    )


def new_draft(caller: Caller, code: str, content: dict | None = None) -> ServiceVersion:
    """A new draft beside the live version (a copy of the newest version unless content is given)."""
    with unit_of_work() as s:
        service = _service(caller, code, for_update=True)
        if lifecycle.side_of(caller, service) != lifecycle.DEPARTMENT:
            raise AppError("DEPARTMENT_ONLY", "只有服务所属部门可以编写草稿", 403)
        versions = s.scalars(sa.select(ServiceVersion).where(ServiceVersion.service_id == service.id)).all()
        if any(v.status in OPEN for v in versions):
            raise AppError("DRAFT_EXISTS", "该服务已有未完成的版本，请先处理它", 409)
        newest = max(versions, key=lambda v: v.number)
        content = check_content(service.kind, content or newest.content)
        version = _new_version(caller, service, newest.number + 1, content)
        s.flush()
        audit_created(service, version)
    return version


def edit_draft(caller: Caller, code: str, number: int, content: dict) -> ServiceVersion:
    """Replace a draft's content. A version is immutable once submitted."""
    with unit_of_work():
        service = _service(caller, code, for_update=True)
        version = _version(service, number, for_update=True)
        if lifecycle.side_of(caller, service) != lifecycle.DEPARTMENT:
            raise AppError("DEPARTMENT_ONLY", "只有服务所属部门可以修改草稿", 403)
        if version.status != "DRAFT":
            raise AppError("VERSION_NOT_EDITABLE", "已提交的版本不能修改", 409, {"status": version.status})
        version.content, version.updated_at = check_content(service.kind, content), utcnow()
        audit.record("service.edit", "service_version", version.id, details={"service": code, "version": number})
    return version


def transition(caller: Caller, code: str, number: int, action: str, comment: str | None = None) -> ServiceVersion:
    """Move a version (lifecycle.TRANSITIONS); submitting and publishing must pass the checklist."""
    if action not in lifecycle.ACTIONS:
        raise AppError("UNKNOWN_ACTION", "没有这个操作", 422, {"allowed": list(lifecycle.ACTIONS)})
    with unit_of_work() as s:
        service = _service(caller, code, for_update=True)
        version = _version(service, number, for_update=True)
        if action in {"submit", "publish"} and version.status in {"DRAFT", "APPROVED"}:
            problems = checklist(service.kind, version.content, service.department_code)
            if problems:
                raise AppError("CHECKLIST_FAILED", "上线检查未通过", 409, {"problems": problems})
        moved = lifecycle.move(caller, service, version, action, comment)
        webhooks.on_status_change(service, version, action, moved.source, moved.target, comment)
        if action in {"publish", "suspend", "resume", "retire"}:
            reads.invalidate()  # after the commit: citizens see the change on their next read
        if action == "publish":
            _make_live(s, service, version)
        elif action == "retire" and service.live_version_id == version.id:
            service.live_version_id = None
    return version


def _make_live(s, service: Service, version: ServiceVersion) -> None:
    """The one live version of the service, swapped in the same transaction as the move."""
    if service.live_version_id and service.live_version_id != version.id:
        before = s.get(ServiceVersion, service.live_version_id, with_for_update=True)
        if before is not None and before.status in {"LIVE", "SUSPENDED"}:
            source = before.status
            lifecycle.supersede(service, before)
            webhooks.on_status_change(service, before, "supersede", source, before.status, None)
    service.live_version_id = version.id


def versions(caller: Caller, code: str) -> tuple[Service, list[ServiceVersion]]:
    service = _service(caller, code)
    found = db.session.scalars(
        sa.select(ServiceVersion).where(ServiceVersion.service_id == service.id).order_by(ServiceVersion.number)
    ).all()
    return service, list(found)


def review_queue(caller: Caller) -> list[tuple[Service, ServiceVersion]]:
    """Submitted versions, oldest first: what operators have to decide."""
    if not (caller.kind == "operator" and "operator" in caller.roles):
        raise AppError("FORBIDDEN", "无权进行此操作", 403)
    rows = db.session.execute(
        sa.select(Service, ServiceVersion)
        .join(ServiceVersion, ServiceVersion.service_id == Service.id)
        .where(ServiceVersion.status == "SUBMITTED")
        .order_by(ServiceVersion.submitted_at)
    ).all()
    return [(row[0], row[1]) for row in rows]
