"""Loads the demo city from the copy of zaozhuang.json shipped with the code. Safe to run twice."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from app.city.clouds import PLATFORMS
from app.city.models import Department, District
from app.db import unit_of_work

DEMO_CITY_FILE = Path(__file__).parent / "data" / "zaozhuang.json"


def load_demo_city() -> dict:
    return json.loads(DEMO_CITY_FILE.read_text(encoding="utf-8"))


def seed_city(city: dict) -> dict[str, int]:
    """Insert or update districts and departments by code; returns how many rows changed."""
    changed = {"districts": 0, "departments": 0}
    with unit_of_work() as session:
        for item in city["districts"]:
            district = session.get(District, item["code"])
            if district is None:
                session.add(District(code=item["code"], name=item["name"]))
                changed["districts"] += 1
            elif district.name != item["name"]:
                district.name = item["name"]
                changed["districts"] += 1
        for item in city["departments"]:
            unknown = set(item["clouds"]) - set(PLATFORMS)
            if unknown:
                raise ValueError(f"department {item['code']} names unknown clouds {sorted(unknown)}")
            department = session.scalar(sa.select(Department).where(Department.code == item["code"]))
            if department is None:
                session.add(Department(code=item["code"], name=item["name"], clouds=list(item["clouds"])))
                changed["departments"] += 1
            elif (department.name, department.clouds) != (item["name"], item["clouds"]):
                department.name, department.clouds = item["name"], list(item["clouds"])
                changed["departments"] += 1
    return changed
