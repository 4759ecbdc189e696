"""Reading the city's reference data."""

from __future__ import annotations

import sqlalchemy as sa

from app.city.clouds import PLATFORMS
from app.city.models import Department, District
from app.errors import AppError
from app.extensions import db


def list_districts() -> list[District]:
    return list(db.session.scalars(sa.select(District).order_by(District.code)))


def list_departments(cloud: str | None = None) -> list[Department]:
    departments = db.session.scalars(sa.select(Department).order_by(Department.code))
    return [d for d in departments if cloud is None or cloud in d.clouds]


def get_department(code: str) -> Department:
    department = db.session.scalar(sa.select(Department).where(Department.code == code))
    if department is None:
        raise AppError("DEPARTMENT_NOT_FOUND", "没有这个部门", 404, {"code": code})
    return department


def cloud_names(codes: list[str]) -> list[dict]:
    return [{"code": c, "name": PLATFORMS[c][0], "name_en": PLATFORMS[c][1]} for c in codes if c in PLATFORMS]
