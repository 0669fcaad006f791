"""Accounts, tokens, audit and report-progress from the command line, on the real store."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from monitor.accounts.passwords import verify_password
from monitor.accounts.tokens import user_for_token
from monitor.cli.main import app
from monitor.progress.workbook import build_csv
from monitor.store.models import AuditEvent, Report, User
from tests.test_progress_world import build_world


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)
    return invoke


def test_users_are_added_with_argon2_listed_and_disabled(run, engine):
    build_world(engine, users=False)
    added = run("users", "add", "li_clerk", "--role", "clerk", "--department", "HRSS", "--name", "李经办",
                input="s3cure-pass\ns3cure-pass\n")
    assert added.exit_code == 0, added.output
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "li_clerk")).one()
        assert user.password_hash.startswith("$argon2id$") and verify_password(user.password_hash, "s3cure-pass")
    assert "li_clerk" in run("users", "list").output
    refused = run("users", "add", "nobody", "--role", "clerk", "--password", "s3cure-pass")
    assert refused.exit_code == 1 and "--department" in refused.output
    short = run("users", "add", "shorty", "--role", "admin", "--password", "short")
    assert short.exit_code == 1 and "至少 8 个字符" in short.output
    assert run("users", "disable", "li_clerk").exit_code == 0
    with Session(engine) as s:
        assert s.exec(select(User).where(User.username == "li_clerk")).one().disabled
        actions = [(e.action, e.actor.startswith("cli")) for e in s.exec(
            select(AuditEvent).where(AuditEvent.entity == "user").order_by(AuditEvent.id)).all()]
    assert actions == [("create", True), ("disable", True)]


def test_tokens_are_shown_once_and_revoked(run, engine):
    build_world(engine)
    created = run("tokens", "create", "--user", "clerk_hr", "--name", "对接")
    token = created.stdout.strip().splitlines()[-1]
    with Session(engine) as s:
        assert user_for_token(s, token).username == "clerk_hr"
    assert token not in run("tokens", "list").output
    assert run("tokens", "revoke", "1").exit_code == 0
    with Session(engine) as s:
        assert user_for_token(s, token) is None


def _csv_for(engine, world, edits: dict[int, dict[str, str]]) -> bytes:
    with Session(engine) as s:
        text = build_csv(s, [world.hr_id]).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for row in rows[1:]:
        for column, value in edits.get(int(row[0]), {}).items():
            row[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def test_report_progress_follows_the_upload_rules(run, engine, tmp_path):
    world = build_world(engine)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv_for(engine, world, {world.ind["count"]: {"数值": "800", "截至日期": "2024-06-30"},
                                             world.ind["deadline"]: {"完成日期": "2024-13-01"}}))
    result = run("report-progress", str(bad), "--user", "clerk_hr", "--today", "2024-07-31")
    assert result.exit_code == 1
    assert "bad.csv 第4行 N 完成日期" in result.output and "未保存任何内容" in result.output
    good = tmp_path / "good.csv"
    good.write_bytes(_csv_for(engine, world, {world.ind["count"]: {"数值": "800", "截至日期": "2024-06-30"}}))
    report = ("report-progress", str(good), "--user", "clerk_hr", "--today", "2024-07-31")
    assert "已保存 1 条指标填报" in run(*report).output
    assert "已保存 0 条指标填报" in run(*report).output
    foreign = run("report-progress", str(good), "--user", "clerk_union", "--today", "2024-07-31")
    assert foreign.exit_code == 1 and "不属于本部门" in foreign.output
    with Session(engine) as s:
        (report,) = s.exec(select(Report)).all()
        assert (report.value, report.channel) == (Decimal("800"), "cli")


def test_audit_export_has_before_and_after(run, engine, tmp_path):
    build_world(engine)
    run("users", "disable", "clerk_union")
    out = tmp_path / "audit.csv"
    assert run("audit", "export", "--entity", "user", "--out", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    (event,) = rows
    assert (event["action"], event["entity"]) == ("disable", "user")
    assert '"disabled": false' in event["before"] and '"disabled": true' in event["after"]
    assert "password_hash" not in event["before"]
    assert "disable" in run("audit", "list").output


@pytest.mark.parametrize("args", [
    ("users", "add", "u" * 101, "--role", "auditor", "--password", "s3cure-pass"),
    ("users", "add", "wang", "--role", "auditor", "--password", "s3cure-pass", "--name", "名" * 101),
    ("tokens", "create", "--user", "clerk_hr", "--name", "令" * 101),
])
def test_names_longer_than_the_store_keeps_are_refused_not_crashed(run, engine, args):
    build_world(engine)
    with Session(engine) as s:
        before = (len(s.exec(select(User)).all()), len(s.exec(select(AuditEvent)).all()))
    refused = run(*args)
    assert refused.exit_code == 1 and "过长" in refused.output
    with Session(engine) as s:
        assert (len(s.exec(select(User)).all()), len(s.exec(select(AuditEvent)).all())) == before
