"""Inputs no store can hold are refused by name, never answered with a 500: ids beyond any key, numbers beyond
the columns' exact range, NUL characters, and CSV files the parser cannot read (issue 13, item 2)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import Session, select

from monitor.config import ConfigError, load_config
from monitor.importers.document import ImportFailure
from monitor.importers.excel import read_workbook
from monitor.progress.workbook import parse_csv, parse_upload
from monitor.spreadsheets.limits import Limits
from monitor.store.models import Report, Spending
from tests.test_api_progress import _auth, _token
from tests.test_progress_world import build_world
from tests.test_web_portal import login, make_client

BEYOND_SQLITE = 2**63  # past SQLite's 64-bit keys
BEYOND_POSTGRESQL = 2**31  # past PostgreSQL's int4 keys


@pytest.fixture
def world(engine):
    return build_world(engine)


def stored(engine) -> tuple[int, int]:
    with Session(engine) as session:
        return len(session.exec(select(Report)).all()), len(session.exec(select(Spending)).all())


@pytest.mark.parametrize("huge", [BEYOND_SQLITE, BEYOND_POSTGRESQL])
def test_an_id_beyond_any_key_in_an_api_url_is_not_found(engine, world, huge):
    client = make_client(engine)
    headers = _auth(_token(engine, "admin"))

    for path in (f"/api/v1/projects/{huge}", f"/api/v1/indicators/{huge}/history",
                 f"/api/v1/projects/{huge}/spending"):
        assert client.get(path, headers=headers).status_code == 404, path


def test_an_id_beyond_any_key_in_a_portal_url_is_a_not_found_page(engine, world):
    client = make_client(engine)
    login(client, "admin")

    page = client.get(f"/projects/{BEYOND_SQLITE}")

    assert page.status_code == 404 and "<html" in page.text.lower()


@pytest.mark.parametrize("field", ["indicator_id", "supersedes_id"])
def test_an_id_beyond_any_key_in_a_json_body_names_nothing_and_stores_nothing(engine, world, field):
    client = make_client(engine)
    body = {"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-06-30", field: BEYOND_SQLITE}

    response = client.post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")), json=body)

    assert response.status_code in (404, 422)
    assert [p["field"] for p in response.json()["detail"]["problems"]] == [field]
    assert stored(engine) == (0, 0)


@pytest.mark.parametrize("field, value, says", [
    ("value", "1e30", "整数部分最多 18 位"),
    ("value", "0.0000001", "最多 6 位小数"),
    ("forecast", "1e309", "整数部分最多 18 位"),
    ("note", "首行\u0000次行", "空字符"),
    ("deviation_causes", {"其他": "\u0000"}, "空字符"),
    ("explanation", "\u0000", "空字符"),
])
def test_a_report_value_the_store_cannot_keep_exactly_is_refused_by_name(engine, world, field, value, says):
    client = make_client(engine)
    body = {"indicator_id": world.ind["count"], "value": "1200", "as_of": "2024-06-30", field: value}

    response = client.post("/api/v1/reports", headers=_auth(_token(engine, "clerk_hr")), json=body)

    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]["problems"]
    assert problem["field"] == field and says in problem["problem"]
    assert stored(engine) == (0, 0)


@pytest.mark.parametrize("amount, says", [
    ("1e30", "整数部分最多 16 位"),
    ("10000000000000000", "整数部分最多 16 位"),
    ("12.345", "最多 2 位小数"),
])
def test_a_spending_amount_beyond_numeric_18_2_is_refused_by_name(engine, world, amount, says):
    client = make_client(engine)

    response = client.post(f"/api/v1/projects/{world.hr_project}/spending",
                           headers=_auth(_token(engine, "clerk_hr")), json={"amount": amount, "as_of": "2024-06-30"})

    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]["problems"]
    assert problem["field"] == "amount" and says in problem["problem"]
    assert stored(engine) == (0, 0)


def test_a_csv_with_an_unbalanced_quote_names_its_line():
    rows = "指标编号,数值\n1,100\n2,\"200\n" + "x" * 140_000 + "\n3,300\n"

    parsed = parse_csv(rows.encode("utf-8"), "填报.csv")

    (problem,) = parsed.problems
    assert problem.sheet == "填报.csv" and problem.row == 3 and "引号不成对" in problem.problem
    assert len(str(problem)) < 300  # the over-long cell is not echoed back


def test_a_csv_with_a_nul_character_is_refused_naming_its_line():
    parsed = parse_csv("指标编号,数值\n1,100\n2,2\u000000\n".encode(), "填报.csv")

    (problem,) = parsed.problems
    assert (problem.sheet, problem.row) == ("填报.csv", 3) and "空字符" in problem.problem


# --- size limits, checked before anything is opened ------------------------------------------------------------

def workbook_with_one_cell(text: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["指标编号", "数值"])
    book.active.append([1, text])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_a_member_that_unzips_to(book: bytes, size: int) -> bytes:
    """A workbook carrying a member of `size` zero bytes, which deflates to almost nothing (a zip bomb's shape)."""
    out = io.BytesIO(book)
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/image1.bin", bytes(size))
    return out.getvalue()


def test_a_small_xlsx_that_unzips_past_the_limit_is_refused_before_it_is_opened():
    bomb = with_a_member_that_unzips_to(workbook_with_one_cell("1200"), 3 * 2**20)
    assert len(bomb) < 100_000  # small on the wire

    parsed = parse_upload("填报.xlsx", bomb, Limits(unzipped_bytes=1024 * 1024))

    (problem,) = parsed.problems
    assert "解压后超过 1 MB" in problem.problem and parsed.reports == []


def test_a_template_import_that_unzips_past_the_limit_names_the_file(tmp_path):
    bomb = tmp_path / "模板.xlsx"
    bomb.write_bytes(with_a_member_that_unzips_to(workbook_with_one_cell("1200"), Limits().unzipped_bytes + 1))

    with pytest.raises(ImportFailure, match="解压后超过") as refused:
        read_workbook(bomb)

    assert "模板.xlsx" in str(refused.value)


def test_an_upload_over_the_byte_limit_is_refused_naming_the_limit():
    parsed = parse_upload("填报.csv", b"x" * 2048, Limits(upload_bytes=1024))

    assert [problem.problem for problem in parsed.problems] == [
        "文件超过 1024 bytes (file larger than the 1024 bytes limit)"]


def test_rows_past_the_limit_are_refused_naming_the_first_row_beyond_it():
    csv_text = "指标编号,数值\n" + "".join(f"{n},{n}\n" for n in range(1, 20))

    parsed = parse_upload("填报.csv", csv_text.encode(), Limits(rows=10))

    (problem,) = parsed.problems
    assert problem.row == 11 and "超过 10 行" in problem.problem and parsed.reports == []


def test_a_cell_past_the_limit_is_refused_quoting_only_its_start():
    parsed = parse_upload("填报.xlsx", workbook_with_one_cell("长" * 20_000), Limits(cell_chars=10_000))

    (problem,) = parsed.problems
    assert (problem.row, problem.column) == (2, "B") and "超过 10000 字（20000 字" in problem.problem
    assert len(problem.problem) < 200


def test_a_limit_of_zero_in_config_is_refused(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[limits]\nrows = 0\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="limits.rows"):
        load_config(config, env={})
