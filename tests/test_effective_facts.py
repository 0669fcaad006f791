"""The facts in force: one rule (`monitor.store.facts`), and every reader sees the same facts through it."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pandas as pd
from sqlmodel import Session, select

from monitor.evaluation.load import load_chunk
from monitor.progress.entries import read_report, read_spending
from monitor.progress.service import record_reports, record_spending
from monitor.reports.data import load_year
from monitor.store import facts
from monitor.store.db import session_scope
from monitor.store.models import User
from tests.conftest import ROOT
from tests.test_api_progress import _auth, _token
from tests.test_progress_world import TODAY, build_world
from tests.test_web_portal import login, make_client


def _clerk(s: Session) -> User:
    return s.exec(select(User).where(User.username == "clerk_hr")).one()


def _corrected_twice(engine, world) -> tuple[set[int], set[int]]:
    """A count reported on 30 June, corrected by naming the row, corrected again by reporting the same date,
    plus a later fact; and spending with the same history. Returns the ids in force (reports, spending)."""
    count = world.ind["count"]
    with session_scope(engine) as s:
        first = record_reports(s, _clerk(s), [read_report(count, value="1200", as_of="2024-06-30")],
                               channel="portal", today=TODAY).stored[0]
    with session_scope(engine) as s:
        record_reports(s, _clerk(s), [read_report(count, value="1250", as_of="2024-06-30", supersedes_id=first.id)],
                       channel="api", today=TODAY)
    with session_scope(engine) as s:
        third = record_reports(s, _clerk(s), [read_report(count, value="1300", as_of="2024-06-30"),
                                              read_report(count, value="1400", as_of="2024-07-15")],
                               channel="upload", today=TODAY).stored
    assert [r.revision for r in third] == [3, 1]
    with session_scope(engine) as s:
        spent, _ = record_spending(s, _clerk(s), [read_spending(world.hr_project, "100", "2024-06-30")],
                                   channel="portal", today=TODAY)
        record_spending(s, _clerk(s), [read_spending(world.hr_project, "150", "2024-06-30", None, spent[0].id)],
                        channel="portal", today=TODAY)
        later, _ = record_spending(s, _clerk(s), [read_spending(world.hr_project, "160", "2024-06-30"),
                                                  read_spending(world.hr_project, "300", "2024-07-15")],
                                   channel="portal", today=TODAY)
    return {r.id for r in third}, {r.id for r in later}


def test_every_reader_sees_the_same_facts_of_a_history_corrected_twice(engine):
    world = build_world(engine)
    reports, spending = _corrected_twice(engine, world)
    count = world.ind["count"]
    in_force = {(date(2024, 6, 30), Decimal("1300")), (date(2024, 7, 15), Decimal("1400"))}
    spent = {(date(2024, 6, 30), Decimal("160")), (date(2024, 7, 15), Decimal("300"))}

    with Session(engine) as s:
        effective = facts.effective_reports(s, [count])[count]
        assert {r.id for r in effective} == reports and {(r.as_of, r.value) for r in effective} == in_force
        assert {r.id for r in facts.effective_spending(s, [world.hr_project])[world.hr_project]} == spending

        (project,) = load_year(s, 2024, project_id=world.hr_project).projects
        (data,) = [i for i in project.indicators if i.id == count]
        assert {(f.as_of, f.value) for f in data.reports} == in_force
        assert set(project.spending) == spent

    with engine.connect() as conn:
        chunk = load_chunk(conn, world.hr_project, world.hr_project)
    assert set(chunk.reports.loc[chunk.reports["indicator_id"] == count, "id"]) == reports
    assert set(chunk.spending["id"]) == spending

    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    history = client.get(f"/api/v1/indicators/{count}/history", headers=headers).json()
    assert {h["id"] for h in history if h["effective"]} == reports and len(history) == 4
    listed = client.get(f"/api/v1/projects/{world.hr_project}", headers=headers).json()
    (indicator,) = [i for i in listed["indicators"] if i["id"] == count]
    assert (indicator["latest"]["value"], indicator["latest"]["as_of"]) == ("1400", "2024-07-15")
    assert listed["spent"]["id"] in spending and listed["spent"]["amount"] == "300.00"
    money = client.get(f"/api/v1/projects/{world.hr_project}/spending", headers=headers).json()
    assert {m["id"] for m in money if m["effective"]} == spending

    login(client, "clerk_hr")
    page = client.get(f"/projects/{world.hr_project}").text
    assert {int(i) for i in re.findall(r'class="effective" data-report="(\d+)"', page)} == reports
    assert len(re.findall(r'class="superseded" data-report="\d+"', page)) == 2
    assert {int(i) for i in re.findall(r'<tr class=""><td>#(\d+) r', page)} == spending


def test_the_dataframe_form_drops_what_is_superseded():
    rows = pd.DataFrame({"id": [1, 2, 3], "supersedes_id": [None, 1, None], "value": [10.0, 20.0, 30.0]})
    assert facts.in_force_frame(rows)["id"].tolist() == [2, 3]
    untouched = pd.DataFrame({"id": [1, 2], "supersedes_id": [None, None]})
    assert facts.in_force_frame(untouched) is untouched


# Ways of telling superseded rows from the rest by `supersedes_id`: a correlated subquery, a NOT IN
# subquery (in SQLAlchemy or in SQL text), a Python set of the ids some row names, a DataFrame column.
FILTERING = re.compile(
    r"\.supersedes_id\s*==?\s*\w+\.id\b"
    r"|supersedes_id\s*\.\s*(is_not|isnot|in_|not_in|notin_)\s*\("
    r"|supersedes_id\s+IS\s+NOT\s+NULL|NOT\s+(EXISTS|IN)\b.*supersedes_id"
    r"|\.supersedes_id\s+for\s+\w+\s+in\b"
    r"|\w\[\s*[\"']supersedes_id[\"']\s*\]")


def test_the_rule_for_superseded_rows_is_written_only_in_the_facts_module():
    helper = ROOT / "monitor" / "store" / "facts.py"
    assert FILTERING.search(helper.read_text(encoding="utf-8"))  # the pattern does match the rule
    offences = []
    for package in ("monitor", "rules", "notifications"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == helper:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if FILTERING.search(line):
                    offences.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offences == []
