"""A year on the seed data for the round tests: both seed disclosures imported, the bureau's admin and each
department's clerk and head, a few reports and spending, evaluated as of 31 July 2024."""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor.accounts.passwords import hash_password
from monitor.config import Config, DatabaseConfig
from monitor.evaluation.run import run_evaluation
from monitor.importers.load import store_document
from monitor.progress import service
from monitor.progress.entries import read_report, read_spending
from monitor.store.db import session_scope
from monitor.store.models import Department, Indicator, Project, User
from monitor.web.app import create_app
from tests.import_seeds import hrss_document, union_document

PASSWORD = "correct-horse-42"
TODAY = date(2024, 8, 10)
AS_OF = date(2024, 7, 31)
USERS = (("bureau", "admin", None), ("auditor", "auditor", None), ("clerk_144", "clerk", "144"),
         ("head_144", "head", "144"), ("clerk_959", "clerk", "959"), ("head_959", "head", "959"))


@dataclass
class RoundWorld:
    settings: Config
    hr_id: int
    union_id: int
    hr_project: int  # the first project of 144, with reports
    reported: int  # a 数量指标 of it with a report as of 31 July
    unreported: int  # an annual indicator of it nobody reported


def user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def build_round_world(engine: Engine, url: str) -> RoundWorld:
    settings = dataclasses.replace(Config(), database=DatabaseConfig(url=url), secret_key="rounds-test")
    with session_scope(engine) as s:
        store_document(s, copy.deepcopy(hrss_document()))
        store_document(s, copy.deepcopy(union_document()))
    with session_scope(engine) as s:
        departments = {d.code: d.id for d in s.exec(select(Department))}
        hashed = hash_password(PASSWORD)
        for username, role, code in USERS:
            s.add(User(username=username, password_hash=hashed, role=role, display_name=username,
                       department_id=departments[code] if code else None))
    with session_scope(engine) as s:
        hr_id, union_id = departments["144"], departments["959"]
        project = s.exec(select(Project).where(Project.department_id == hr_id).order_by(col(Project.id))).first()
        assert project is not None
        indicators = list(s.exec(select(Indicator).where(Indicator.project_id == project.id,
                                                         Indicator.half == "annual")
                                 .order_by(col(Indicator.position), col(Indicator.id))))
        measured = [i for i in indicators if i.kind == "quantity"]
        reported, unreported = measured[0], next(i for i in indicators if i.id != measured[0].id)
        clerk = user(s, "clerk_144")
        value = (reported.target_value or Decimal(10)) * Decimal("0.3")
        service.record_reports(s, clerk, [read_report(reported.id, value=str(value), as_of=AS_OF.isoformat())],
                               channel="portal", today=TODAY)
        service.record_spending(s, clerk, [read_spending(project.id, amount=str((project.annual_funds or 0) / 4),
                                                         as_of=AS_OF.isoformat())], channel="portal", today=TODAY)
        world = RoundWorld(settings=settings, hr_id=hr_id, union_id=union_id, hr_project=project.id or 0,
                           reported=reported.id or 0, unreported=unreported.id or 0)
    run_evaluation(engine, settings, as_of=AS_OF)
    return world


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(engine: Engine, world: RoundWorld, username: str, page: str) -> tuple[TestClient, str]:
    """A portal session as `username` on the world's app (clock on TODAY), and the form token `page` carries."""
    application = create_app(world.settings, engine)
    application.state.clock = lambda: TODAY
    client = TestClient(application)
    token = CSRF.search(client.get("/login").text).group(1)
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                         "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    return client, CSRF.search(client.get(page).text).group(1)
