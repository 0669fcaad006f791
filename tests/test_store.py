"""The store: migrations create exactly the models' schema on both backends, and money stays exact."""

import json
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.store.db import make_engine
from monitor.store.migrate import current_revision, head_revision, upgrade
from monitor.store.models import BudgetYear, Department, Project, metadata
from tests.conftest import SEED_UNION


def test_upgrade_creates_the_schema_the_models_describe(fresh_db_url):
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration (README: How to change the schema)"
    assert current_revision(fresh_db_url) == head_revision()


def test_upgrade_twice_is_harmless(fresh_db_url):
    upgrade(fresh_db_url)
    upgrade(fresh_db_url)
    assert current_revision(fresh_db_url) == head_revision()


def test_funds_round_trip_as_exact_decimals(session):
    department = Department(code="144", name="晋城市人力资源和社会保障局")
    year = BudgetYear(year=2024)
    session.add_all([department, year])
    session.flush()
    session.add(Project(department_id=department.id, budget_year_id=year.id, import_key="k", name="创业就业专项",
                        annual_funds=Decimal("46949800.01")))
    session.commit()
    session.expunge_all()
    stored = session.exec(select(Project)).one()
    assert stored.annual_funds == Decimal("46949800.01")
    assert isinstance(stored.annual_funds, Decimal)


UNREACHABLE = "postgresql://postgres:s3cret@127.0.0.1:1/kpiwatch"


@pytest.mark.parametrize("command", [
    ["db", "upgrade"],
    ["db", "current"],
    ["import", str(SEED_UNION)],
    ["template", "export", "--department", "959"],
])
def test_an_unreachable_store_is_one_clear_line_without_the_password(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", UNREACHABLE)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("无法打开数据库 postgresql://postgres:***@127.0.0.1:1/kpiwatch：OperationalError")
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_import_json_on_an_unreachable_store_still_prints_its_json_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", UNREACHABLE)
    result = CliRunner().invoke(app, ["import", str(SEED_UNION), "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)
    assert error["error"].startswith("无法打开数据库 postgresql://postgres:***@") and error["file"].endswith(".txt")


def test_db_upgrade_reports_the_revision_reached(fresh_db_url, tmp_path, monkeypatch):
    from sqlalchemy.engine import make_url

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", fresh_db_url)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    shown = make_url(fresh_db_url).render_as_string(hide_password=True)
    assert result.output.endswith(f"数据库已升级到 {head_revision()} ({shown})\n")
