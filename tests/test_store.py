"""The store: migrations create exactly the models' schema on both backends, and money stays exact."""

from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import Session, select

from monitor.store.db import current_revision, make_engine, upgrade
from monitor.store.models import BudgetYear, Department, Project, metadata


def test_upgrade_creates_the_schema_the_models_describe(fresh_db_url):
    upgrade(fresh_db_url)
    engine = make_engine(fresh_db_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                       metadata)
    engine.dispose()
    assert differences == [], "models changed without regenerating the migration"
    assert current_revision(fresh_db_url) == "0001"


def test_upgrade_twice_is_harmless(fresh_db_url):
    upgrade(fresh_db_url)
    upgrade(fresh_db_url)
    assert current_revision(fresh_db_url) == "0001"


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
