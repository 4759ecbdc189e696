import json
from pathlib import Path

from app.city.models import Department, District
from app.city.seed import DEMO_CITY_FILE, load_demo_city, seed_city
from app.extensions import db


def test_seed_loads_every_district_and_department_once(app_ctx):
    city = load_demo_city()
    assert seed_city(city) == {"districts": len(city["districts"]), "departments": len(city["departments"])}
    assert seed_city(city) == {"districts": 0, "departments": 0}
    assert db.session.query(District).count() == 6
    assert db.session.get(District, "370481").name == "滕州市"
    jxw = db.session.query(Department).filter_by(code="jxw").one()
    assert jxw.clouds == ["city_services", "industry", "energy"]


def test_seed_demo_command_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    second = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "6 districts" in first.output
    assert second.exit_code == 0 and "0 districts" in second.output and "0 departments" in second.output


def test_product_ships_its_own_copy_of_the_demo_city():
    shipped = json.loads(DEMO_CITY_FILE.read_text(encoding="utf-8"))
    assert DEMO_CITY_FILE.is_relative_to(Path(__file__).resolve().parents[2] / "app")
    assert shipped["city"]["name"] == "枣庄市"


def test_citizens_see_districts_and_departments(client, app):
    app.test_cli_runner().invoke(args=["seed-demo"])
    districts = client.get("/api/v1/districts").json
    assert {"code": "370405", "name": "台儿庄区"} in districts
    housing = client.get("/api/v1/departments?cloud=housing").json
    assert {d["code"] for d in housing} == {"zjj", "gjj"}
    gjj = client.get("/api/v1/departments/gjj").json
    assert gjj["clouds"] == [{"code": "housing", "name": "智慧住建云", "name_en": "Housing"}]
    assert client.get("/api/v1/departments/nope").json["error"]["code"] == "DEPARTMENT_NOT_FOUND"
