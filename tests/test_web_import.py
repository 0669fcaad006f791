"""The finance bureau's upload of a published target table: a dry-run preview first, then the import, by an
admin only, with CSRF, the upload limits, and errors naming the uploaded file and line."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from monitor.store.models import AuditEvent, Indicator, Project
from tests.test_progress_world import build_world
from tests.test_web_portal import CSRF, login, make_client

LAYOUTS = Path(__file__).parent / "data" / "layouts"
PIPES = LAYOUTS / "010_sichuan_jingyan_mata_2023_markdown.txt"


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (s.execute(select(func.count()).select_from(Project)).scalar_one(),
                s.execute(select(func.count()).select_from(Indicator)).scalar_one())


def _admin(engine):
    build_world(engine)
    client = make_client(engine)
    login(client, "admin")
    return client


def _preview(client, name: str, data: bytes, **form: str):
    token = CSRF.search(client.get("/admin/import").text).group(1)
    return client.post("/admin/import/preview", data={"csrf_token": token, **form},
                       files={"file": (name, data, "application/octet-stream")})


def test_an_admin_previews_a_table_then_imports_it_under_their_name(engine):
    client = _admin(engine)
    before = _counts(engine)
    with Session(engine) as s:
        last_event = s.execute(select(func.max(AuditEvent.id))).scalar_one() or 0
    page = _preview(client, "马踏镇.txt", PIPES.read_bytes(), allow_partial="1")
    assert page.status_code == 200, page.text
    assert "预览（尚未导入）" in page.text and "马踏镇.txt" in page.text
    assert "单位预算数合计与各项目预算数之和不符" in page.text  # the reconciliation, as the CLI prints it
    assert _counts(engine) == before  # the preview stores nothing
    confirm = {name: value for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page.text)}
    done = client.post("/admin/import", data=confirm)
    assert done.status_code == 200, done.text
    assert "新建 2 个项目、12 个指标" in done.text
    assert _counts(engine) == (before[0] + 2, before[1] + 12)
    with Session(engine) as s:
        events = s.execute(select(AuditEvent.actor, AuditEvent.channel, AuditEvent.entity)
                           .where(AuditEvent.id > last_event)).all()
    assert set(events) == {("admin", "import", "indicator")} and len(events) == 2  # one per project created


def test_a_cut_off_table_without_the_choice_is_refused_naming_the_file_and_line(engine):
    client = _admin(engine)
    before = _counts(engine)
    page = _preview(client, "马踏镇.txt", PIPES.read_bytes())
    assert page.status_code == 422
    assert "马踏镇.txt 第17行" in page.text and "被截断" in page.text and "确认导入" not in page.text
    assert _counts(engine) == before


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(engine):
    client = _admin(engine)
    limits = client.app.state.settings.limits
    client.app.state.settings = dataclasses.replace(client.app.state.settings,
                                                    limits=dataclasses.replace(limits, upload_bytes=1024))
    page = _preview(client, "big.txt", b"x" * 2048)
    assert page.status_code == 413 and "big.txt" in page.text and "1024 bytes" in page.text


def test_only_an_admin_may_upload_and_only_with_the_forms_token(engine):
    build_world(engine)
    clerk = make_client(engine)
    login(clerk, "clerk_hr")
    assert clerk.get("/admin/import").status_code == 403
    admin = make_client(engine)
    login(admin, "admin")
    refused = admin.post("/admin/import/preview", files={"file": ("t.txt", PIPES.read_bytes(), "text/plain")})
    assert refused.status_code == 403


def test_a_preview_on_one_replica_is_imported_by_another(engine, tmp_path, monkeypatch):
    """Replicas share nothing but the store: the confirmation may reach another machine than the preview did,
    whose temporary folder is another one."""
    first = _admin(engine)
    page = _preview(first, "马踏镇.txt", PIPES.read_bytes(), allow_partial="1")
    confirm = {name: value for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page.text)}
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the other machine's /tmp
    other = make_client(engine)
    login(other, "admin")
    before = _counts(engine)
    done = other.post("/admin/import", data={**confirm, "csrf_token": CSRF.search(
        other.get("/admin/import").text).group(1)})
    assert done.status_code == 200, done.text
    assert _counts(engine) == (before[0] + 2, before[1] + 12)
    again = other.post("/admin/import", data={**confirm, "csrf_token": CSRF.search(
        other.get("/admin/import").text).group(1)})
    assert again.status_code == 410  # imported once: the kept upload is gone with its import
