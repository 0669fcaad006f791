"""The Excel/CSV round trip through the portal: download, fill in, upload; all rows or none; re-upload is harmless."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from monitor.store.models import Report, Spending
from tests.test_progress_world import build_world
from tests.test_web_portal import csrf, login, make_client


@pytest.fixture
def world(engine):
    return build_world(engine)


def _download(client, world):
    response = client.get(f"/departments/{world.hr_id}/workbook.xlsx")
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def _fill(wb, world, values: dict[int, dict[str, object]], spending: dict[str, object] | None = None) -> bytes:
    ws = wb["指标填报"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        indicator_id = row[0].value
        for header, value in values.get(indicator_id, {}).items():
            row[headers.index(header)].value = value
    if spending:
        sp = wb["项目支出"]
        sheaders = [c.value for c in sp[1]]
        for header, value in spending.items():
            sp.cell(row=2, column=sheaders.index(header) + 1, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, world, data: bytes, name: str = "填报.xlsx"):
    token = csrf(client, f"/departments/{world.hr_id}/upload")
    return client.post(f"/departments/{world.hr_id}/upload", data={"csrf_token": token},
                       files={"file": (name, data, "application/octet-stream")})


def _good_values(world):
    return {
        world.ind["count"]: {"数值": 1500, "截至日期": date(2024, 6, 30), "偏差原因-经费保障": "资金下达晚"},
        world.ind["rate"]: {"数值": 93.5, "截至日期": "2024-06-30"},
        world.ind["quarterly"]: {"完成期次": "2024-03-31", "完成日期": date(2024, 3, 28)},
        world.ind["quality"]: {"评价等级": "达成年度指标", "完成目标可能性": "确定能"},
    }


def test_the_workbook_lists_only_my_indicators_with_stable_ids_and_targets(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    ws = _download(client, world)["指标填报"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    kinds = ("count", "rate", "deadline", "quarterly", "quality", "unparsed")
    assert [r[0] for r in rows] == [world.ind[k] for k in kinds]
    assert rows[0][5:7] == ("培训人数", "≥3000人") and rows[0][9] == "未填报"
    assert [r[7] for r in rows[:2]] == ["数量：≥ 3000人（越高越好）", "百分比：≥ 90%（越高越好）"]  # kind named once
    assert client.get(f"/departments/{world.union_id}/workbook.xlsx").status_code == 404


def test_upload_stores_every_row_and_the_same_file_again_stores_nothing_new(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    data = _fill(_download(client, world), world, _good_values(world),
                 {"执行数(元)": "480000.50", "截至日期": "2024-06-30"})
    first = _upload(client, world, data)
    assert first.status_code == 200, first.text
    assert "4 条指标填报，1 条支出" in first.text
    second = _upload(client, world, data)
    assert "0 条指标填报，0 条支出；5 条与已有记录相同" in second.text
    with Session(engine) as s:
        reports = s.exec(select(Report)).all()
        assert len(reports) == 4 and {r.channel for r in reports} == {"upload"}
        assert {r.value for r in reports if r.value is not None} == {Decimal("1500"), Decimal("93.5")}
        assert s.exec(select(Spending)).one().amount == Decimal("480000.50")
    # the freshly downloaded workbook now shows the last values and, untouched, uploads as nothing new
    wb = _download(client, world)
    assert list(wb["指标填报"].iter_rows(min_row=2, values_only=True))[0][9] == "1500人（截至 2024-06-30）"
    assert "0 条指标填报" in _upload(client, world, _fill(wb, world, {})).text


def test_one_bad_row_stores_nothing_and_is_named_by_sheet_row_and_column(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    values = _good_values(world)
    values[world.ind["rate"]] = {"数值": "九十", "截至日期": "2024-06-30"}
    response = _upload(client, world, _fill(_download(client, world), world, values))
    assert response.status_code == 422
    problems = response.text.split('class="problems"')[1]
    assert "<td>指标填报</td><td>3</td><td>K 数值</td>" in problems  # the rate indicator is on row 3
    assert "不是数字" in problems
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


def test_csv_round_trip_including_excel_chinese_encoding(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    text = client.get(f"/departments/{world.hr_id}/workbook.csv").text.lstrip("\ufeff")
    lines = text.splitlines()
    header = lines[0].split(",")
    first = lines[1].split(",")
    first[header.index("数值")] = "1600"
    first[header.index("截至日期")] = "2024/7/15"
    data = "\n".join([lines[0], ",".join(first)] + lines[2:]).encode("gb18030")
    response = _upload(client, world, data, "填报.csv")
    assert response.status_code == 200 and "1 条指标填报" in response.text
    assert "1 条与已有记录相同" in _upload(client, world, data, "填报.csv").text
    with Session(engine) as s:
        (report,) = s.exec(select(Report)).all()
        assert (report.value, report.as_of) == (Decimal("1600"), date(2024, 7, 15))


def test_a_workbook_naming_another_departments_indicator_is_refused_whole(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    wb = _download(client, world)
    ws = wb["指标填报"]
    ws.cell(row=2, column=1, value=world.union_indicator)
    data = _fill(wb, world, {world.union_indicator: {"数值": 5, "截至日期": "2024-06-30"},
                             world.ind["rate"]: {"数值": 95, "截至日期": "2024-06-30"}})
    response = _upload(client, world, data)
    assert response.status_code == 422 and "不属于本部门" in response.text
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []


def test_two_different_rows_for_the_same_fact_are_refused_and_identical_ones_stored_once(engine, world):
    client = make_client(engine)
    login(client, "clerk_hr")
    count = world.ind["count"]
    conflicting = f"指标编号,数值,截至日期\n{count},1500,2024-06-30\n{count},1600,2024-06-30\n".encode()
    response = _upload(client, world, conflicting, "填报.csv")
    assert response.status_code == 422
    problems = response.text.split('class="problems"')[1]
    assert "<td>3</td><td>C 截至日期</td>" in problems and "同一指标" in problems
    with Session(engine) as s:
        assert s.exec(select(Report)).all() == []
    spending = f"项目编号,执行数(元),截至日期\n{world.hr_project},100,2024-06-30\n{world.hr_project},200,2024-06-30\n"
    assert "同一项目" in _upload(client, world, spending.encode(), "支出.csv").text
    with Session(engine) as s:
        assert s.exec(select(Spending)).all() == []
    repeated = f"指标编号,数值,截至日期\n{count},1500,2024-06-30\n{count},1500.0,2024-06-30\n".encode()
    response = _upload(client, world, repeated, "填报.csv")
    assert response.status_code == 200 and "1 条指标填报" in response.text and "1 条与已有记录相同" in response.text


@pytest.mark.parametrize("name", ["填报.xlsx", "填报.csv"])
def test_an_empty_file_is_refused_as_empty(engine, world, name):
    client = make_client(engine)
    login(client, "clerk_hr")
    response = _upload(client, world, b"", name)
    assert response.status_code == 422
    assert f"<td>{name}</td><td>—</td><td>-</td><td>文件是空的</td>" in response.text
