"""Plain factory functions: make_<thing>(**overrides) writes one row and returns it."""

from __future__ import annotations

from app.city.models import Department, District
from app.db import unit_of_work


def make_district(code: str = "370402", name: str = "市中区") -> District:
    with unit_of_work() as session:
        district = District(code=code, name=name)
        session.add(district)
    return district


def make_department(code: str = "gjj", name: str = "枣庄市住房公积金管理中心", clouds=("housing",)) -> Department:
    with unit_of_work() as session:
        department = Department(code=code, name=name, clouds=list(clouds))
        session.add(department)
    return department
