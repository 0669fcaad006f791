"""Scoring weights through every channel: a project's own level weights and its indicators' 分值/权重, set by
the finance bureau in the portal, the template and the API, each changing the self-evaluation score exactly as
computed by hand below; refused for a department, refused with the field named for bad values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest
from sqlmodel import Session, col, select

from monitor.accounts.tokens import create_token
from monitor.config import Config
from monitor.reports.data import load_year
from monitor.reports.selfeval import build_selfeval
from monitor.store.db import session_scope
from monitor.store.models import AuditEvent, BudgetYear, Department, Indicator, Project, Spending, User
from tests.test_progress_world import add_users
from tests.test_reports import add_project, report
from tests.test_web_portal import csrf, login, make_client

RULES = Config().scoring
# 100 000 元, spent 90 000 → 执行率 90 % → 9 of 10.
ROWS = [
    ("产出指标", "数量指标", "培训人数", "≥100人"),  # 80 reported: points × 80 ÷ 100
    ("产出指标", "质量指标", "培训合格率", "≥95%"),  # 95: met, full points
    ("产出指标", "数量指标", "培训班次", "≥10期"),  # 10: met
    ("效益指标", "社会效益指标", "就业率", "≥90%"),  # 90: met
    ("满意度指标", "服务对象满意度指标", "学员满意度", "≥90%"),  # 81: points × 81 ÷ 90 = points × 0.9
]
ACTUALS = {"培训人数": "80", "培训合格率": "95", "培训班次": "10", "就业率": "90", "学员满意度": "81"}
# Default weights 10 / 50 / 30 / 10, 产出 split equally (16.67 + 16.67 + 16.66):
# 9 + 16.67 × 0.8 (13.34) + 16.67 + 16.66 + 30 + 10 × 0.9 (9) = 94.67
DEFAULT_TOTAL = D("94.67")
# The department's own: 10 / 60 / 20 / 10, 产出 rows 30 + 20 + 10:
# 9 + 30 × 0.8 (24) + 20 + 10 + 20 + 9 = 92.00
LEVELS = {"execution": "10", "output": "60", "effect": "20", "satisfaction": "10"}
WEIGHTS = {"培训人数": "30", "培训合格率": "20", "培训班次": "10"}
WEIGHTED_TOTAL = D("92.00")


@dataclass
class Seed:
    project_id: int
    other_project_id: int
    ind: dict[str, int]


@pytest.fixture
def seed(engine) -> Seed:
    with session_scope(engine) as s:
        hr = Department(code="HRSS", name="市人力资源和社会保障局")
        union = Department(code="UNION", name="市总工会")
        year = BudgetYear(year=2024)
        s.add_all([hr, union, year, Department(code="FIN", name="市财政局", is_finance_bureau=True)])
        s.flush()
        project, ind = add_project(s, department=hr, year=year, name="职业技能培训", funds=D("100000"), rows=ROWS)
        other, _ = add_project(s, department=union, year=year, name="职工帮扶", funds=D("1000"), rows=ROWS[:1])
        s.add(Spending(project_id=project.id, amount=D("90000"), as_of=date(2024, 12, 31), channel="portal"))
        for name, value in ACTUALS.items():
            report(s, ind[name], value=D(value), as_of=date(2024, 12, 31))
        add_users(s)
        s.flush()
        return Seed(project.id, other.id, {name: i.id for name, i in ind.items()})


def selfeval_total(engine, project_id: int, year: int = 2024) -> tuple[D, list[D], list[str]]:
    with Session(engine) as s:
        (p,) = build_selfeval(load_year(s, year, project_id=project_id), RULES)
    return p.total, [r.points for r in p.rows], p.warnings


def _token(engine, username: str) -> dict:
    with session_scope(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        return {"Authorization": f"Bearer {create_token(s, user, 'test')[1]}"}


def _api_body(seed: Seed) -> dict:
    return {"levels": LEVELS, "indicators": [{"id": seed.ind[n], "weight": w} for n, w in WEIGHTS.items()]}


def _stored(engine, seed: Seed) -> tuple[dict, dict]:
    with Session(engine) as s:
        project = s.get(Project, seed.project_id)
        weights = {i.name: i.weight for i in s.exec(select(Indicator).where(
            col(Indicator.project_id) == seed.project_id))}
        return project.level_weights(), weights


def test_without_weights_the_default_levels_and_equal_shares_give_the_hand_computed_total(engine, seed):
    total, points, warnings = selfeval_total(engine, seed.project_id)
    assert points == [D("16.67"), D("16.67"), D("16.66"), D(30), D(10)]
    assert (total, warnings) == (DEFAULT_TOTAL, [])


def test_weights_set_through_the_api_change_the_score_as_computed_by_hand(engine, seed):
    client = make_client(engine)
    answer = client.put(f"/api/v1/projects/{seed.project_id}/weights", json=_api_body(seed),
                        headers=_token(engine, "admin"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["changed"] is True and body["notes"] == []
    assert {k: D(v) for k, v in body["levels"].items()} == {k: D(v) for k, v in LEVELS.items()}
    assert [D(i["points"]) for i in body["indicators"]] == [D(30), D(20), D(10), D(20), D(10)]
    assert [i["weight"] for i in body["indicators"]] == ["30", "20", "10", None, None]  # as typed, on both stores
    total, points, _ = selfeval_total(engine, seed.project_id)
    assert (total, points) == (WEIGHTED_TOTAL, [D(30), D(20), D(10), D(20), D(10)])
    read = client.get(f"/api/v1/projects/{seed.project_id}/weights", headers=_token(engine, "clerk_hr")).json()
    assert read["indicators"] == body["indicators"]


def test_every_weight_change_is_audited_with_who_and_through_which_channel(engine, seed):
    client = make_client(engine)
    client.put(f"/api/v1/projects/{seed.project_id}/weights", json=_api_body(seed), headers=_token(engine, "admin"))
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).where(col(AuditEvent.entity).in_(("project", "indicator")),
                                                 AuditEvent.action != "create")).all()
    by_entity = {(e.entity, e.entity_id): e for e in events}
    level_event = by_entity[("project", seed.project_id)]
    assert (level_event.actor, level_event.channel, level_event.action) == ("admin", "api", "weights")
    levels = ("weight_execution", "weight_output", "weight_effect", "weight_satisfaction")
    assert {k: level_event.after[k] for k in levels} == dict(zip(levels, ("10", "60", "20", "10"), strict=True))
    assert level_event.before == dict.fromkeys(levels)
    assert level_event.after["department_id"] is not None
    row = by_entity[("indicator", seed.ind["培训人数"])]
    assert (row.actor, row.channel, row.before["weight"], row.after["weight"]) == ("admin", "api", None, "30")


def test_a_department_user_gets_403_editing_weights_and_nothing_is_stored(engine, seed):
    client = make_client(engine)
    answer = client.put(f"/api/v1/projects/{seed.project_id}/weights", json=_api_body(seed),
                        headers=_token(engine, "clerk_hr"))
    assert answer.status_code == 403
    login(client, "clerk_hr")
    page = f"/projects/{seed.project_id}"
    assert 'name="level_output"' not in client.get(page).text
    form = {"csrf_token": csrf(client, page), "level_output": "60", f"weight_{seed.ind['培训人数']}": "30"}
    assert client.post(f"{page}/weights", data=form).status_code == 403
    assert client.put(f"/api/v1/projects/{seed.other_project_id}/weights", json={"levels": LEVELS},
                      headers=_token(engine, "clerk_hr")).status_code == 404
    assert _stored(engine, seed) == ({"预算执行率": None, "产出": None, "效益": None, "满意度": None},
                                     {name: None for name in ACTUALS})


@pytest.mark.parametrize("body, field, message", [
    ({"indicators": [{"id": "培训人数", "weight": "0"}]}, "indicators.{培训人数}", "须大于0，而不是「0」"),
    ({"indicators": [{"id": "培训人数", "weight": "-5"}]}, "indicators.{培训人数}", "须大于0，而不是「-5」"),
    ({"indicators": [{"id": "培训人数", "weight": "三十"}]}, "indicators.{培训人数}", "「三十」不是数字"),
    ({"levels": {"output": "abc"}}, "levels.output", "「abc」不是数字"),
    ({"levels": {"output": "60"}}, "levels", "合计须为 100 分，现为 110"),
])
def test_bad_weights_are_refused_naming_the_field_and_nothing_is_stored(engine, seed, body, field, message):
    named = [{**item, "id": seed.ind[item["id"]]} for item in body.get("indicators", [])]
    body = {**body, "indicators": [*named, {"id": seed.ind["培训班次"], "weight": "10"}]}
    answer = client_put(engine, seed, body)
    assert answer.status_code == 422
    problems = answer.json()["detail"]["problems"]
    expected = field.format(**{name: i for name, i in seed.ind.items()})
    assert [(p["field"], message in p["problem"]) for p in problems] == [(expected, True)]
    assert _stored(engine, seed) == ({"预算执行率": None, "产出": None, "效益": None, "满意度": None},
                                     {name: None for name in ACTUALS})


def client_put(engine, seed: Seed, body: dict):
    return make_client(engine).put(f"/api/v1/projects/{seed.project_id}/weights", json=body,
                                   headers=_token(engine, "admin"))


def test_weights_that_do_not_add_up_are_scaled_and_the_api_and_the_self_evaluation_say_so(engine, seed):
    """产出 50 (default) with rows 20 / 20 / 20: 50 × 20 ÷ 60 = 16.67, 16.67, 16.66; noted in both places."""
    body = {"indicators": [{"id": seed.ind[n], "weight": "20"} for n in ("培训人数", "培训合格率", "培训班次")]}
    answer = client_put(engine, seed, body).json()
    note = "产出指标分值合计 60，与本级分值 50 不符，已按比例折算"
    assert answer["notes"] == [note]
    assert [D(i["points"]) for i in answer["indicators"]][:3] == [D("16.67"), D("16.67"), D("16.66")]
    total, _, warnings = selfeval_total(engine, seed.project_id)
    assert (total, warnings) == (DEFAULT_TOTAL, [note])


def test_weights_set_in_the_portal_change_the_score_as_computed_by_hand(engine, seed):
    client = make_client(engine)
    login(client, "admin")
    page = f"/projects/{seed.project_id}"
    form = {"csrf_token": csrf(client, page), **{f"level_{k}": v for k, v in LEVELS.items()},
            **{f"weight_{seed.ind[n]}": w for n, w in WEIGHTS.items()}}
    saved = client.post(f"{page}/weights", data=form)
    assert saved.status_code == 200 and "已保存" in saved.text
    assert selfeval_total(engine, seed.project_id)[0] == WEIGHTED_TOTAL
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.entity == "project")).one()
    assert (event.actor, event.channel) == ("admin", "portal")


def test_the_portal_form_refuses_a_bad_weight_naming_the_indicator_and_keeps_what_was_typed(engine, seed):
    client = make_client(engine)
    login(client, "admin")
    page = f"/projects/{seed.project_id}"
    form = {"csrf_token": csrf(client, page), f"weight_{seed.ind['培训人数']}": "<b>x</b>"}
    refused = client.post(f"{page}/weights", data=form)
    assert refused.status_code == 422
    assert "指标「培训人数」：「&lt;b&gt;x&lt;/b&gt;」不是数字" in refused.text
    assert "<b>x</b>" not in refused.text
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in refused.text
    assert _stored(engine, seed)[1]["培训人数"] is None


def test_the_portal_shows_the_weights_in_english_on_request(engine, seed):
    client = make_client(engine)
    login(client, "admin")
    text = client.get(f"/projects/{seed.project_id}?lang=en").text
    assert "Points and weights" in text and "Save weights" in text and "分值/权重" not in text


def test_the_weights_endpoints_are_documented_in_openapi(engine, seed):
    spec = make_client(engine).get("/api/v1/openapi.json").json()
    operations = spec["paths"]["/api/v1/projects/{project_id}/weights"]
    assert set(operations) == {"get", "put"}
    assert "WeightsIn" in spec["components"]["schemas"] and "WeightsOut" in spec["components"]["schemas"]


# ---- the template: export, fill in, import back -----------------------------------------------------------

def _export(engine, tmp_path):
    from openpyxl import load_workbook

    from monitor.importers.excel import export_department

    out = tmp_path / "HRSS.xlsx"
    with Session(engine) as s:
        export_department(s, out, "HRSS", year=2024)
    return out, load_workbook(out)


def _column(ws, header: str) -> int:
    return next(c.column for c in ws[1] if c.value == header)


def _import(engine, path):
    from monitor.importers.excel import read_workbook
    from monitor.importers.load import store_document

    doc = read_workbook(path)
    with session_scope(engine) as s:
        return store_document(s, doc)


def _fill(wb, *, weights: dict[str, object], levels: dict[str, object]) -> None:
    projects, indicators = wb["项目"], wb["指标"]
    for header, value in levels.items():
        projects.cell(row=2, column=_column(projects, header), value=value)
    name_col, weight_col = _column(indicators, "三级指标"), _column(indicators, "分值")
    for row in range(2, indicators.max_row + 1):
        name = indicators.cell(row=row, column=name_col).value
        if name in weights:
            indicators.cell(row=row, column=weight_col, value=weights[name])


TEMPLATE_LEVELS = {"预算执行率分值": 10, "产出指标分值": 60, "效益指标分值": 20, "满意度指标分值": 10}


def test_weights_filled_in_the_template_change_the_score_as_computed_by_hand(engine, seed, tmp_path):
    out, wb = _export(engine, tmp_path)
    _fill(wb, weights={"培训人数": 30, "培训合格率": "20", "培训班次": 10.0}, levels=TEMPLATE_LEVELS)
    wb.save(out)
    _import(engine, out)
    assert selfeval_total(engine, seed.project_id)[0] == WEIGHTED_TOTAL
    levels, weights = _stored(engine, seed)
    assert levels == {"预算执行率": 10, "产出": 60, "效益": 20, "满意度": 10}
    assert {n: weights[n] for n in WEIGHTS} == {"培训人数": 30, "培训合格率": 20, "培训班次": 10}


def test_the_template_exports_the_weights_in_force_and_reimporting_it_changes_nothing(engine, seed, tmp_path):
    client_put(engine, seed, _api_body(seed))
    out, wb = _export(engine, tmp_path)
    indicators = wb["指标"]
    names, points = _column(indicators, "三级指标"), _column(indicators, "分值")
    printed = {indicators.cell(row=r, column=names).value: indicators.cell(row=r, column=points).value
               for r in range(2, indicators.max_row + 1)}
    assert printed == {"培训人数": 30, "培训合格率": 20, "培训班次": 10, "就业率": None, "学员满意度": None}
    projects = wb["项目"]
    assert {h: projects.cell(row=2, column=_column(projects, h)).value for h in TEMPLATE_LEVELS} == TEMPLATE_LEVELS
    before = _stored(engine, seed)
    result = _import(engine, out)
    assert result.updated["indicators"] == 0
    assert _stored(engine, seed) == before
    with Session(engine) as s:  # only the API's change is on record: the round trip changed no weight
        events = s.exec(select(AuditEvent).where(AuditEvent.action.in_(("weights", "update")))).all()
    assert {e.channel for e in events} == {"api"}
    assert selfeval_total(engine, seed.project_id)[0] == WEIGHTED_TOTAL


@pytest.mark.parametrize("weights, levels, cells, message", [
    ({"培训人数": -1}, {}, [("指标", "分值")], "须大于0，而不是「-1」"),
    ({"培训人数": "很多"}, {}, [("指标", "分值")], "「很多」不是数字"),
    ({}, {"产出指标分值": 70}, [("项目", "预算执行率分值"), ("项目", "效益指标分值"), ("项目", "满意度指标分值")],
     "四项一级分值须都填写"),
    ({}, {**TEMPLATE_LEVELS, "产出指标分值": 70},
     [("项目", "预算执行率分值、产出指标分值、效益指标分值、满意度指标分值")], "四项一级分值合计须为 100，现为 110"),
])
def test_a_bad_weight_in_the_template_is_refused_naming_the_cell_and_nothing_is_stored(
        engine, seed, tmp_path, weights, levels, cells, message):
    from monitor.importers.document import ImportFailure

    out, wb = _export(engine, tmp_path)
    _fill(wb, weights={"培训班次": 10, **weights}, levels=levels)
    wb.save(out)
    with pytest.raises(ImportFailure) as refused:
        _import(engine, out)
    problems = [p for p in refused.value.problems if p["column"] != "三级指标"]
    assert [(p["sheet"], p["column"]) for p in problems] == cells
    assert message in problems[0]["problem"] and problems[0]["row"] >= 2
    assert _stored(engine, seed) == ({"预算执行率": None, "产出": None, "效益": None, "满意度": None},
                                     {name: None for name in ACTUALS})


# ---- a disclosure table that prints 分值 after each 指标值 (TAB layout) ---------------------------------------

WEIGHTED_TABLE = "\n".join("\t".join(row) for row in [
    ["晋城市市级预算部门（单位）项目支出绩效目标表"], [], ["(2024年度)"], [],
    ["项目名称", "", "档案整理费用", "", "", "", "", "", ""],
    ["主管部门及代码", "144-晋城市人力资源和社会保障局", "实施单位", "晋城市人力资源和社会保障局", "", "", ""],
    ["项目属性", "一次性项目（1年结束）", "项目期", "1年", "", "", ""],
    ["项目资金（元）", "实施期资金总额：", "139,300", "年度资金总额：", "139,300", "", ""],
    ["", "其中：中央财政资金", "0", "其中：中央财政资金", "0", "", ""],
    ["", "省级财政资金", "0", "省级财政资金", "0", "", ""],
    ["", "市县（区）财政资金", "139,300", "市县（区）财政资金", "139,300", "", ""],
    ["", "单位自筹", "0", "单位自筹", "0", "", ""],
    ["实施期目标", "", "", "年度目标", "", "", ""],
    ["总体目标", "完成全部事业单位档案整理", "", "", "完成全部事业单位档案整理", "", ""],
    ["一级指标", "二级指标", "三级指标", "指标值", "分值", "二级指标", "三级指标", "指标值", "分值"],
    ["产出指标", "数量指标", "档案整理份数", "≥12898份", "{w1}", "数量指标", "档案整理份数", "≥12898份", "{w1}"],
    ["", "", "移交档案份数", "≥2401份", "{w2}", "", "移交档案份数", "≥2401份", "{w2}"],
    ["效益指标", "社会效益指标", "人事管理规范化", "提高", "{w3}", "社会效益指标", "人事管理规范化", "提高", "{w3}"],
    ["负责人:", "经办人:", "联系电话:", "填报日期:", "20240104114301", "", ""],
])


def _parse_weighted(**weights: str):
    from monitor.importers.disclosure import parse_text

    return parse_text(WEIGHTED_TABLE.format(**weights), source="档案整理费用.txt")


def test_a_disclosure_table_with_a_weight_column_imports_each_row_s_weight_and_the_levels_it_implies(engine):
    """Rows 40 + 30 (产出) and 20 (效益) leave 100 − 90 = 10 for 预算执行率; no 满意度 row: 满意度 0."""
    from monitor.importers.load import store_document

    doc = _parse_weighted(w1="40", w2="30", w3="20")
    assert doc.rejected == []
    (project,) = doc.projects
    assert [(i.half, i.name, i.weight) for i in project.indicators if i.half == "annual"] == [
        ("annual", "档案整理份数", D(40)), ("annual", "移交档案份数", D(30)), ("annual", "人事管理规范化", D(20))]
    from monitor.importers.output import project_json

    assert [i["weight"] for i in project_json(project, 2024)["indicators"]] == ["40", "30", "20"]  # --dry-run --json
    with session_scope(engine) as s:
        store_document(s, doc)
    with Session(engine) as s:
        stored = s.exec(select(Project)).one()
        assert stored.level_weights() == {"预算执行率": 10, "产出": 70, "效益": 20, "满意度": 0}
        points = [r.points for r in build_selfeval(load_year(s, 2024), RULES)[0].rows]
    assert points == [D(40), D(30), D(20)]


def test_a_non_number_weight_in_a_disclosure_table_rejects_its_row_naming_the_line_and_the_cell():
    doc = _parse_weighted(w1="四十", w2="30", w3="20")
    rejected = {(r.half, r.line) for r in doc.rejected}
    line = WEIGHTED_TABLE.splitlines().index(next(x for x in WEIGHTED_TABLE.splitlines() if "档案整理份数" in x)) + 1
    assert rejected == {("period", line), ("annual", line)}
    assert all("分值「四十」：「四十」不是数字" in r.reason for r in doc.rejected)
    assert "档案整理份数" not in [i.name for i in doc.projects[0].indicators]


# ---- Sichuan 自评表 (部门预算项目支出绩效自评表): 权重 per row, 预算执行率 权重 10, no 满意度 ------------------------

def _sichuan(engine, rows: list[tuple[str, str, str, str]], actuals: dict[str, str]) -> Seed:
    """青神县发展和改革局 2023, 工资性支出: 调整后预算数 251.89 万, 预算执行数 251.89 万 (100 %)."""
    with session_scope(engine) as s:
        dept = Department(code="QSFGJ", name="青神县发展和改革局")
        year = BudgetYear(year=2023)
        s.add_all([dept, year])
        s.flush()
        project, ind = add_project(s, department=dept, year=year, name="工资性支出", funds=D("2518900"), rows=rows)
        s.add(Spending(project_id=project.id, amount=D("2518900"), as_of=date(2023, 12, 31), channel="portal"))
        for name, value in actuals.items():
            report(s, ind[name], value=D(value), as_of=date(2023, 12, 31))
        add_users(s)
        s.flush()
        return Seed(project.id, project.id, {name: i.id for name, i in ind.items()})


def test_a_sichuan_table_with_one_output_row_of_weight_90_scores_as_the_department_s_weights_say(engine):
    """One 产出 row 权重 90 (=100%, 95 reached) and 预算执行率 权重 10, nothing else on the table.
    By hand: 执行率 100 % → 10; the row 90 × (1 − |95 − 100| ÷ 100) = 85.50; total 95.50 优.
    With the defaults it would be 10 + 50 × 0.95 and 40 points unallocated: 57.50 差."""
    seed = _sichuan(engine, [("产出指标", "数量指标", "发放(缴纳)覆盖率", "=100%")], {"发放(缴纳)覆盖率": "95"})
    assert selfeval_total(engine, seed.project_id, 2023)[0] == D("57.50")
    body = {"levels": {"execution": "10", "output": "90", "effect": "0", "satisfaction": "0"},
            "indicators": [{"id": seed.ind["发放(缴纳)覆盖率"], "weight": "90"}]}
    answer = client_put(engine, seed, body)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["notes"], [D(i["points"]) for i in answer.json()["indicators"]]) == ([], [D(90)])
    total, points, warnings = selfeval_total(engine, seed.project_id, 2023)
    assert (total, points, warnings) == (D("95.50"), [D(90)], [])


def test_the_real_qingshen_table_scores_its_rows_of_60_and_30_with_10_for_budget_execution(engine):
    """The printed 自评表 (权重 10 / 60 / 30, no 满意度), both rows met (=100%): 10 + 60 + 30 = 100.00."""
    rows = [("产出指标", "数量指标", "发放(缴纳)覆盖率", "=100%"),
            ("效益指标", "社会效益指标", "足额保障率(参保率)", "=100%")]
    seed = _sichuan(engine, rows, {"发放(缴纳)覆盖率": "100", "足额保障率(参保率)": "100"})
    body = {"levels": {"execution": "10", "output": "60", "effect": "30", "satisfaction": "0"},
            "indicators": [{"id": seed.ind["发放(缴纳)覆盖率"], "weight": "60"},
                           {"id": seed.ind["足额保障率(参保率)"], "weight": "30"}]}
    assert client_put(engine, seed, body).status_code == 200
    total, points, warnings = selfeval_total(engine, seed.project_id, 2023)
    assert (total, points, warnings) == (D("100.00"), [D(60), D(30)], [])


def test_the_self_evaluation_prints_each_row_s_points_and_the_scaling_note_in_html_excel_and_pdf(engine, seed,
                                                                                                 tmp_path):
    import io
    import subprocess

    from openpyxl import load_workbook

    from monitor.reports import ReportRequest, produce

    body = {"indicators": [{"id": seed.ind[n], "weight": w} for n, w in (("培训人数", "30"), ("培训合格率", "20"),
                                                                        ("培训班次", "10"))]}
    client_put(engine, seed, body)  # 产出 rows 30 + 20 + 10 = 60 against the default 50: scaled 25 / 16.67 / 8.33
    note = "产出指标分值合计 60，与本级分值 50 不符，已按比例折算"
    settings = Config()
    with Session(engine) as s:
        html = produce(s, ReportRequest("selfeval", 2024, "html", project_id=seed.project_id), settings).decode()
        xlsx = produce(s, ReportRequest("selfeval", 2024, "xlsx", project_id=seed.project_id), settings)
        pdf = produce(s, ReportRequest("selfeval", 2024, "pdf", project_id=seed.project_id), settings)
    assert note in html and "<td class=\"num\">25.00</td>" in html and "<td class=\"num\">8.33</td>" in html
    ws = load_workbook(io.BytesIO(xlsx)).worksheets[-1]
    by_name = {ws.cell(r, 3).value: r for r in range(10, ws.max_row + 1)}
    assert [ws.cell(by_name[n], 6).value for n in ("培训人数", "培训合格率", "培训班次")] == [25, 16.67, 8.33]
    assert note in [ws.cell(r, 1).value for r in range(10, ws.max_row + 1)]
    (tmp_path / "s.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "产出指标分值合计 60" in text and "8.33" in text


# the same in the space-separated layout (monitor/examples/004, 工人文化宫运行经费, with a 分值 column added)
WEIGHTED_SPACES = """ 晋城市市级预算部门（单位）项目支出绩效目标表
（2024年度）
项目名称 工人文化宫运行经费
主管部门及代码 959-晋城市总工会 实施单位 晋城市总工会
项目属性 一次性项目（1年结束） 项目期 1年
项目资金
（元）
实施期资金总额： 1,500,000 年度资金总额： 1,500,000
其中：中央财政资金 0 其中：中央财政资金 0
省级财政资金 0 省级财政资金 0
市县（区）财政资金 1,500,000 市县（区）财政资金 1,500,000
单位自筹 0 单位自筹 0
其他资金 其他资金
实施期目标 年度目标
总体目标
维持工人文化宫场馆的正常运转
维持工人文化宫场馆的正常运转
一级指标 二级指标 三级指标 指标值 分值 二级指标 三级指标 指标值 分值
产出指标
数量指标
供热面积 ＞30000平方米 30
数量指标
供热面积 ＞30000平方米 30
管理面积 ＞20000平方米 20 管理面积 ＞20000平方米 20
效益指标
社会效益指标 保障文化宫正常运转 保障 30 社会效益指标 保障文化宫正常运转 保障 30
满意度指标 服务对象满意度指标 职工/群众满意度 ≥90% 10 服务对象满意度指标 职工/群众满意度 ≥90% 10
负责人： 经办人： 联系电话： 填报日期： 20240117172726
"""


def test_a_space_separated_table_with_a_weight_column_imports_each_row_s_weight(engine):
    from monitor.importers.disclosure import parse_text
    from monitor.importers.load import store_document

    doc = parse_text(WEIGHTED_SPACES, source="工人文化宫.txt")
    assert doc.rejected == [] and doc.layout == "rowtext"
    (project,) = doc.projects
    assert [(i.name, i.value, i.weight) for i in project.annual_indicators] == [
        ("供热面积", "＞30000平方米", D(30)), ("管理面积", "＞20000平方米", D(20)),
        ("保障文化宫正常运转", "保障", D(30)), ("职工/群众满意度", "≥90%", D(10))]
    with session_scope(engine) as s:
        store_document(s, doc)
    with Session(engine) as s:  # rows 50 + 30 + 10 leave 10 for 预算执行率
        assert s.exec(select(Project)).one().level_weights() == {"预算执行率": 10, "产出": 50, "效益": 30, "满意度": 10}
