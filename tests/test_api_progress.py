"""The REST API: bearer tokens, department scope, batches that are all or nothing, and its OpenAPI description."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from monitor.accounts.tokens import create_token, revoke_token
from monitor.store.db import session_scope
from monitor.store.models import Report, Spending, User
from tests.test_progress_world import build_world
from tests.test_web_portal import make_client


def _token(engine, username: str) -> str:
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        return create_token(s, user, "test")[1]


@pytest.fixture
def world(engine):
    return build_world(engine)


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_without_a_valid_token_nothing_is_answered(engine, world):
    client = make_client(engine)
    assert client.get("/api/v1/projects").status_code == 401
    assert client.get("/api/v1/projects", headers=_auth("kpw_made-up")).status_code == 401
    token = _token(engine, "clerk_hr")
    assert client.get("/api/v1/me", headers=_auth(token)).json()["username"] == "clerk_hr"
    with session_scope(engine) as s:
        from monitor.accounts.tokens import list_tokens
        revoke_token(s, list_tokens(s)[0].id, actor="admin")
    assert client.get("/api/v1/me", headers=_auth(token)).status_code == 401


def test_lists_only_my_departments_projects_with_parsed_targets(engine, world):
    client = make_client(engine)
    projects = client.get("/api/v1/projects", headers=_auth(_token(engine, "clerk_hr"))).json()
    assert [p["id"] for p in projects] == [world.hr_project]
    indicators = {i["name"]: i for i in projects[0]["indicators"]}
    assert indicators["培训人数"]["kind"] == "quantity"
    assert (indicators["培训人数"]["comparator"], indicators["培训人数"]["target_value"]) == (">=", "3000")
    assert indicators["补贴发放"]["occurrences"] == ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]
    everything = client.get("/api/v1/projects", headers=_auth(_token(engine, "admin"))).json()
    assert {p["id"] for p in everything} == {world.hr_project, world.union_project}


def test_posting_one_or_many_reports_and_reading_the_history(engine, world):
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    one = client.post("/api/v1/reports", headers=headers,
                      json={"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-06-30"})
    assert one.status_code == 201 and len(one.json()["stored"]) == 1
    first_id = one.json()["stored"][0]["id"]
    many = client.post("/api/v1/reports", headers=headers, json=[
        {"indicator_id": world.ind["count"], "value": "1250", "as_of": "2024-06-30", "supersedes_id": first_id},
        {"indicator_id": world.ind["quality"], "grade": "达成年度指标", "likelihood": "确定能"},
        {"indicator_id": world.ind["quarterly"], "occurrence_due": "2024-06-30", "completed_on": "2024-06-20"},
    ])
    assert many.status_code == 201, many.text
    assert [r["revision"] for r in many.json()["stored"]] == [2, 1, 1]
    again = client.post("/api/v1/reports", headers=headers, json={"indicator_id": world.ind["quality"],
                                                                 "grade": "达成年度指标", "likelihood": "确定能"})
    assert again.json() == {"stored": [], "unchanged": [0], "notices": []}
    history = client.get(f"/api/v1/indicators/{world.ind['count']}/history", headers=headers).json()
    assert [(h["value"], h["effective"]) for h in history] == [("1250", True), ("1200", False)]
    with Session(engine) as s:
        assert {r.channel for r in s.exec(select(Report)).all()} == {"api"}


def test_a_batch_with_one_bad_report_stores_nothing_and_names_it(engine, world):
    client = make_client(engine)
    response = client.post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")), json=[
        {"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-06-30"},
        {"indicator_id": world.ind["quality"], "grade": "优秀"},
    ])
    assert response.status_code == 422
    (problem,) = response.json()["detail"]["problems"]
    assert (problem["index"], problem["field"]) == (1, "grade")
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


@pytest.mark.parametrize("body, expected", [
    ({"value": "1200", "as_of": "2024-06-30"}, [(None, "indicator_id", "指标编号")]),
    ({"indicator_id": "count", "value": "很多", "as_of": "2024-06-30"}, [(None, "value", "数值")]),
    ({"indicator_id": "count", "value": "1200", "as_of": "2024-02-30"}, [(None, "as_of", "截至日期")]),
    ([{"indicator_id": "count", "value": "1", "as_of": "2024-06-30"},
      {"indicator_id": "deadline", "completed_on": "2024-13-01"}], [(1, "completed_on", "完成日期")]),
])
def test_mistyped_fields_are_named_like_every_other_refusal(engine, world, body, expected):
    def with_ids(item):
        return {k: world.ind[v] if k == "indicator_id" else v for k, v in item.items()}
    payload = [with_ids(i) for i in body] if isinstance(body, list) else with_ids(body)
    response = make_client(engine).post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")), json=payload)
    assert response.status_code == 422
    problems = response.json()["detail"]["problems"]
    assert [(p["index"], p["field"], p["label"]) for p in problems] == expected
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


def test_another_departments_indicator_and_project_are_refused_as_not_found(engine, world):
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_union"))
    refused = client.post("/api/v1/reports", headers=headers, json=[
        {"indicator_id": world.union_indicator, "value": "10", "as_of": "2024-06-30"},
        {"indicator_id": world.ind["count"], "value": "10", "as_of": "2024-06-30"}])
    assert refused.status_code == 404
    assert refused.json()["detail"]["problems"][0]["index"] == 1
    assert client.get(f"/api/v1/indicators/{world.ind['count']}/history", headers=headers).status_code == 404
    assert client.get(f"/api/v1/projects/{world.hr_project}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/projects/{world.hr_project}/spending", headers=headers,
                       json={"amount": "1", "as_of": "2024-06-30"}).status_code == 404
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == [] and s.exec(select(Spending)).all() == []


def test_auditor_tokens_read_but_may_not_write(engine, world):
    client = make_client(engine)
    headers = _auth(_token(engine, "auditor"))
    assert client.get(f"/api/v1/projects/{world.hr_project}", headers=headers).status_code == 200
    posted = client.post("/api/v1/reports", headers=headers,
                         json={"indicator_id": world.ind["count"], "value": "1", "as_of": "2024-06-30"})
    assert posted.status_code == 403


def test_spending_through_the_api_is_exact_yuan(engine, world):
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    posted = client.post(f"/api/v1/projects/{world.hr_project}/spending", headers=headers,
                         json={"amount": "654321.09", "as_of": "2024-07-31"})
    assert posted.status_code == 201
    assert client.get(f"/api/v1/projects/{world.hr_project}", headers=headers).json()["spent"]["amount"] == "654321.09"
    with Session(engine) as s:
        assert s.exec(select(Spending)).one().amount == Decimal("654321.09")


def test_openapi_describes_the_progress_endpoints(engine, world):
    schema = make_client(engine).get("/api/v1/openapi.json").json()
    assert {"/api/v1/projects", "/api/v1/reports", "/api/v1/indicators/{indicator_id}/history",
            "/api/v1/projects/{project_id}/spending"} <= set(schema["paths"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_openapi_shows_what_a_report_post_takes_and_answers(engine, world):
    schema = make_client(engine).get("/api/v1/openapi.json").json()

    def resolved(node: dict) -> dict:  # a model by reference or written out: the reader sees the same
        return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node else node

    post = schema["paths"]["/api/v1/reports"]["post"]
    one, many = (resolved(s) for s in post["requestBody"]["content"]["application/json"]["schema"]["anyOf"])
    assert one["title"] == "ReportIn" and {"indicator_id", "value", "as_of", "note"} <= set(one["properties"])
    assert one["required"] == ["indicator_id"] and many["type"] == "array" and resolved(many["items"]) == one
    assert post["security"] == [{"HTTPBearer": []}]
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RecordedReports"}


def test_clerks_posting_at_the_same_moment_each_get_their_own_answer_and_everything_is_stored_once(engine, world):
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date, timedelta

    from monitor.store.models import AuditEvent

    client = make_client(engine)
    hr, union = _auth(_token(engine, "clerk_hr")), _auth(_token(engine, "clerk_union"))
    days = [(date(2024, 6, 1) + timedelta(days=n)).isoformat() for n in range(24)]

    def post(n: int):
        # Two departments' clerks at once; every sixth post is refused (a count cannot be negative) and
        # every eighth is the union's clerk trying the HR indicator (not found).
        headers, indicator = (union, world.union_indicator) if n % 2 else (hr, world.ind["count"])
        if n % 8 == 7:
            indicator = world.ind["count"]
        value = "-5" if n % 6 == 5 else str(1000 + n)
        return n, client.post("/api/v1/reports", headers=headers,
                              json={"indicator_id": indicator, "value": value, "as_of": days[n]})

    with ThreadPoolExecutor(12) as pool:
        answers = dict(pool.map(post, range(len(days))))
    assert {n for n, a in answers.items() if a.status_code == 404} == {7, 15, 23}
    assert {n for n, a in answers.items() if a.status_code == 422} == {5, 11, 17}
    stored = {n for n, a in answers.items() if a.status_code == 201}
    assert stored == set(range(24)) - {5, 7, 11, 15, 17, 23}
    for n in stored:
        (report,) = answers[n].json()["stored"]
        assert (report["value"], report["as_of"]) == (str(1000 + n), days[n])
        assert report["indicator_id"] == (world.union_indicator if n % 2 else world.ind["count"])
    with Session(engine) as s:
        reports = s.exec(select(Report)).all()
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "report")).all()
        users = {u.id: u.username for u in s.exec(select(User)).all()}
    assert sorted((r.as_of.isoformat(), r.value, users[r.user_id]) for r in reports) == sorted(
        (days[n], Decimal(1000 + n), "clerk_union" if n % 2 else "clerk_hr") for n in stored)
    assert sorted(e.entity_id for e in events) == sorted(r.id for r in reports)


def test_a_post_while_another_process_holds_the_write_lock_is_told_to_retry_and_stores_nothing(tmp_path):
    import sqlite3

    from sqlalchemy import event

    from monitor.store.db import make_engine
    from monitor.store.migrate import upgrade

    url = f"sqlite:///{tmp_path}/busy.sqlite"
    upgrade(url)
    engine = make_engine(url)
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA busy_timeout=200"))
    world = build_world(engine)
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    other = sqlite3.connect(tmp_path / "busy.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. `kpiwatch import` of a large document in another process
    try:
        answer = client.post("/api/v1/reports", headers=headers,
                             json={"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-06-30"})
    finally:
        other.rollback()
        other.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "未保存任何内容" in answer.json()["detail"]  # in the default language, Chinese
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []
    again = client.post("/api/v1/reports", headers=headers,
                        json={"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-06-30"})
    assert again.status_code == 201
    engine.dispose()


def _named_schema(schema: dict) -> bool:
    """A schema a client can generate code from: a named model, or a list of one."""
    if "$ref" in schema:
        return True
    return schema.get("type") == "array" and "$ref" in schema.get("items", {})


def test_every_successful_api_answer_is_described_by_a_named_schema(engine):
    schema = make_client(engine).get("/api/v1/openapi.json").json()
    undescribed = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2"):
                    continue
                body = response.get("content", {}).get("application/json", {}).get("schema", {})
                if not _named_schema(body):
                    undescribed.append(f"{method.upper()} {path} {status}: {body}")
    assert len(schema["paths"]) >= 6
    assert undescribed == []


def test_an_answer_carries_every_field_its_schema_names(engine, world):
    """The response models filter what they do not name: the answers must still hold what they held before."""
    client = make_client(engine)
    headers = _auth(_token(engine, "clerk_hr"))
    posted = client.post("/api/v1/reports", headers=headers,
                         json={"indicator_id": world.ind["count"], "value": "1200.50", "as_of": "2024-07-31",
                               "forecast": "2000", "deviation_causes": {"经费保障": "拨付延迟"},
                               "likelihood": "有可能"})
    assert posted.status_code == 201, posted.text
    stored = posted.json()["stored"][0]
    assert (stored["value"], stored["as_of"], stored["forecast"]) == ("1200.5", "2024-07-31", "2000")
    assert stored["deviation_causes"] == {"经费保障": "拨付延迟"} and stored["channel"] == "api"
    assert stored["created_at"].endswith("+08:00")
    history = client.get(f"/api/v1/indicators/{world.ind['count']}/history", headers=headers).json()
    assert [(row["value"], row["effective"]) for row in history] == [("1200.5", True)]
    project = client.get(f"/api/v1/projects/{world.hr_project}", headers=headers).json()
    count = next(i for i in project["indicators"] if i["id"] == world.ind["count"])
    assert count["latest"]["value"] == "1200.5" and count["occurrences"] == []
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "clerk_hr"


@pytest.mark.parametrize("with_refusal", [False, True], ids=["all-good", "one-refused"])
def test_posts_committed_together_keep_each_revision_and_audit_event_as_if_posted_one_by_one(engine, world,
                                                                                              with_refusal):
    """Under load the API reads, locks and audits a whole group commit of posts at once: a later post on the
    same slot still corrects the earlier one of its own batch, each event names its own clerk, and a refused
    post costs its neighbours nothing (on PostgreSQL the batch is then run again post by post)."""
    import threading
    from datetime import date

    from fastapi import HTTPException
    from fastapi.security import HTTPAuthorizationCredentials

    from monitor.store.group_commit import GroupCommit
    from monitor.store.models import AuditEvent
    from monitor.web.api import ReportIn, ReportPost

    tokens = {name: HTTPAuthorizationCredentials(scheme="Bearer", credentials=_token(engine, name))
              for name in ("clerk_hr", "clerk_union")}

    def post(clerk: str, indicator: int, value: str) -> ReportPost:
        entry = ReportIn(indicator_id=indicator, value=value, as_of=date(2024, 7, 1)).entry()
        return ReportPost(tokens[clerk], [entry], date(2024, 7, 31))

    writer = GroupCommit(engine)
    started, release = threading.Event(), threading.Event()
    blocker = writer.submit(lambda session: (started.set(), release.wait(10)))
    started.wait(10)
    middle = "-5" if with_refusal else "100"  # the same fact again: unchanged
    futures = [writer.submit(p) for p in (post("clerk_hr", world.ind["count"], "100"),
                                          post("clerk_union", world.union_indicator, "7"),
                                          post("clerk_hr", world.ind["count"], middle),
                                          post("clerk_hr", world.ind["count"], "200"))]
    release.set()
    try:
        blocker.result(10)
        first, union, third, second = (f.exception(10) or f.result() for f in futures)
    finally:
        writer.close()
    if with_refusal:
        assert isinstance(third, HTTPException) and third.status_code == 422
    else:
        assert (third["stored"], third["unchanged"], writer.batches) == ([], [0], 2)
    assert [r["value"] for r in (first["stored"] + union["stored"] + second["stored"])] == ["100", "7", "200"]
    with Session(engine) as s:
        count = s.exec(select(Report).where(Report.indicator_id == world.ind["count"]).order_by(Report.id)).all()
        events = {e.entity_id: e for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "report")).all()}
    assert [(r.value, r.revision, r.supersedes_id) for r in count] == [
        (Decimal(100), 1, None), (Decimal(200), 2, count[0].id)]
    (union_report,) = union["stored"]
    assert {i: (e.actor, e.action) for i, e in events.items()} == {
        count[0].id: ("clerk_hr", "report"), union_report["id"]: ("clerk_union", "report"),
        count[1].id: ("clerk_hr", "correct")}
    assert events[count[1].id].before["value"] == "100"


def test_a_post_waits_for_another_writer_on_its_indicator_then_corrects_what_that_one_stored(engine, world):
    """Two server processes (or the portal and the API) writing one slot at once: the API's batch locks the
    indicator when it reads it, so it waits for the other writer's commit and then supersedes that report instead
    of both becoming revision 2 of the same fact."""
    from datetime import date

    from fastapi.security import HTTPAuthorizationCredentials

    from monitor.progress import service
    from monitor.progress.entries import ReportEntry
    from monitor.store.db import write_turn
    from monitor.store.group_commit import GroupCommit
    from monitor.web.api import ReportIn, ReportPost

    as_of, today = date(2024, 7, 1), date(2024, 7, 31)
    with session_scope(engine) as s:
        clerk = s.exec(select(User).where(User.username == "clerk_hr")).one()
        service.record_reports(s, clerk, [ReportEntry(indicator_id=world.ind["count"], value=Decimal(50),
                                                      as_of=as_of)], channel="portal", today=today)
    token = HTTPAuthorizationCredentials(scheme="Bearer", credentials=_token(engine, "clerk_hr"))
    writer = GroupCommit(engine)
    try:
        with Session(engine, expire_on_commit=False) as portal, write_turn(portal):
            service.record_reports(portal, clerk, [ReportEntry(indicator_id=world.ind["count"], value=Decimal(100),
                                                               as_of=as_of)], channel="portal", today=today)
            api_post = writer.submit(ReportPost(token, [ReportIn(indicator_id=world.ind["count"], value="200",
                                                                  as_of=as_of).entry()], today))
            with pytest.raises(TimeoutError):
                api_post.result(0.5)  # the portal's write holds the indicator until it commits
            portal.commit()
        answer = api_post.result(10)
    finally:
        writer.close()
    with Session(engine) as s:
        rows = s.exec(select(Report).where(Report.indicator_id == world.ind["count"]).order_by(Report.id)).all()
    assert [(r.value, r.revision) for r in rows] == [(Decimal(50), 1), (Decimal(100), 2), (Decimal(200), 3)]
    assert rows[2].supersedes_id == rows[1].id and [r["id"] for r in answer["stored"]] == [rows[2].id]
