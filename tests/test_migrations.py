"""Numbered migrations, one head, and models that agree with them."""

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.readiness import migration_heads

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def scripts():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(VERSIONS.parent))
    return ScriptDirectory.from_config(config)


def test_one_head():
    assert len(migration_heads()) == 1


def test_files_are_numbered_in_order_and_named_by_revision():
    files = sorted(p for p in VERSIONS.glob("*.py"))
    assert files, "no migrations"
    for number, path in enumerate(files, start=1):
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", path.name), path.name
        assert path.name.startswith(f"{number:04d}_"), f"{path.name}: expected number {number:04d}"
        revision = scripts().get_revision(path.stem)
        assert revision is not None, f"{path.name}: revision id must equal the file name"
        assert len(path.stem) <= 32, "alembic_version holds 32 characters"
        expected_down = files[number - 2].stem if number > 1 else None
        assert revision.down_revision == expected_down, f"{path.name} should follow {expected_down}"


def test_models_and_migrations_agree_on_postgresql(app):
    with app.app_context(), db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert differences == []


def test_migrations_run_up_and_down_on_the_embedded_sqlite(make_app, tmp_path):
    """`make run` migrates a SQLite file; every revision must work there too."""
    sqlite_app = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'city.db'}")
    with sqlite_app.app_context():
        upgrade()
        assert sqlite_app.test_client().get("/readyz").status_code == 200
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), db.metadata) == []
