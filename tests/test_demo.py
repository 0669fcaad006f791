"""`kpiwatch demo --no-serve` in an empty folder: the whole product on the seed documents, end to end."""

from __future__ import annotations

import email
import sqlite3
from email import policy

from typer.testing import CliRunner

from monitor.cli.main import app


def test_demo_imports_evaluates_writes_emails_and_reports_in_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KPIWATCH_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--as-of", "2024-07-31"])
    assert result.exit_code == 0, result.output
    demo = tmp_path / "kpiwatch-demo"

    with sqlite3.connect(demo / "kpiwatch.sqlite") as db:
        projects = dict(db.execute("SELECT d.code, count(*) FROM project p JOIN department d ON d.id = p.department_id "
                                   "GROUP BY d.code").fetchall())
        states = db.execute("SELECT count(*) FROM indicatorstate s JOIN indicator i ON i.id = s.indicator_id "
                            "JOIN projectstate p ON p.project_id = i.project_id "
                            "WHERE p.as_of = '2024-07-31'").fetchone()[0]
    assert projects == {"144": 19, "959": 5}
    assert states > 0
    assert "与表十二核对一致" in result.output

    digests = sorted(demo.glob("emails/*digest*.eml"))
    subjects = set()
    for path in digests:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        subjects.add(message["Subject"])
        text = message.get_body(("plain",)).get_content()
        assert "/notify/ack/" in text, "every digest lets its reader acknowledge an item from the email"
    assert any(s.startswith("【绩效提醒】晋城市总工会：") for s in subjects)
    assert any(s.startswith("【绩效提醒】晋城市人力资源和社会保障局：") for s in subjects)

    reports = {p.suffix for p in (demo / "reports").iterdir()}
    assert {".html", ".xlsx", ".pdf"} <= reports
    assert (demo / "demo-logins.txt").read_text(encoding="utf-8").count("clerk_") == 2
    assert "2024年度年中绩效监控（1-7月）" in result.output and "已上报 1" in result.output
