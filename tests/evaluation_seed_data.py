"""Real seed projects (their 指标值 verbatim from monitor/examples) with sample 2024 reports, as frames for the
pure rules and as rows for the store. Targets go through the real grammar, `rules.targets.parse_target`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session

from rules.targets import parse_target

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2024

# (project key, department code, department name, project name, annual funds 元)
PROJECTS = [
    ("jy", "144", "晋城市人力资源和社会保障局", "创业就业专项", Decimal("13000000")),
    ("da", "144", "晋城市人力资源和社会保障局", "档案整理费用", Decimal("139300")),
    ("wf", "144", "晋城市人力资源和社会保障局", "2023年已完成未支付项目", Decimal("200000")),
    ("gr", "959", "晋城市总工会", "工人文化宫运行经费", Decimal("1500000")),
    ("db", "959", "晋城市总工会", "大病医疗互助风险金", Decimal("1000000")),
]
# (indicator key, project key, 二级指标, 三级指标, 指标值) — values exactly as printed in the seed documents
INDICATORS = [
    ("jobs", "jy", "经济效益指标", "城镇新增就业人数", "≥3.9万人"),
    ("incubator", "jy", "时效指标", "孵化基地补贴发放时间", "5月和8月"),
    ("cost", "da", "成本指标", "档案整理实施成本（尾款）", "≤13.93万元"),
    ("scrambled", "da", "质量指标", "档案整理完成时", "档案整理完成时"),
    ("promote", "wf", "社会效益指标", "促进专项基金的规范管理", "促进"),
    ("paid", "wf", "时效指标", "相关费用支付完成时间", "2024年5月"),
    ("power", "gr", "时效指标", "电费缴纳时间", "每月20日前"),
    ("heating", "gr", "时效指标", "暖气费缴纳时间", "11月份"),
    ("satisfaction", "db", "服务对象满意度指标", "职工满意度", "≥90%"),
]
# (indicator key, fields of the report)
REPORTS = [
    ("jobs", {"value": "3000", "as_of": date(2024, 1, 31)}),
    ("jobs", {"value": "6500", "as_of": date(2024, 2, 29)}),
    ("jobs", {"value": "5800", "as_of": date(2024, 3, 31)}),
    ("jobs", {"value": "15600", "as_of": date(2024, 6, 30)}),
    ("jobs", {"value": "21000", "as_of": date(2024, 9, 30)}),
    ("jobs", {"value": "47000", "as_of": date(2024, 12, 31)}),
    ("cost", {"value": "60000", "as_of": date(2024, 3, 31)}),
    ("cost", {"value": "139300", "as_of": date(2024, 6, 30), "forecast": "139300"}),
    ("cost", {"value": "150000", "as_of": date(2024, 12, 31)}),
    ("paid", {"completed_on": date(2024, 6, 3)}),
    ("incubator", {"occurrence_due": date(2024, 5, 31), "completed_on": date(2024, 5, 20)}),
    ("power", {"occurrence_due": date(2024, 1, 20), "completed_on": date(2024, 1, 18)}),
    ("power", {"completed_on": date(2024, 3, 19)}),  # no occurrence named: counts for the one due 3月20日
    ("heating", {"occurrence_due": date(2024, 11, 30), "completed_on": date(2024, 12, 2)}),
    ("satisfaction", {"value": "85", "as_of": date(2024, 12, 31)}),
    ("promote", {"grade": "部分达成年度指标并具有一定效果", "as_of": date(2024, 12, 31)}),
]
SPENDING = [
    ("jy", Decimal("3900000"), date(2024, 6, 30)),
    ("gr", Decimal("1200000"), date(2024, 7, 31)),
]


def targets():
    out = {}
    for key, _project, level2, name, text in INDICATORS:
        out[key] = parse_target(text, year=YEAR, level2=level2, name=name)
    return out


def frames(reports=REPORTS, spending=SPENDING, plan_windows: dict | None = None) -> dict[str, pd.DataFrame]:
    """The inputs of `rules.evaluation.evaluate` for the seed projects; ids are 1-based positions."""
    project_ids = {p[0]: i + 1 for i, p in enumerate(PROJECTS)}
    indicator_ids = {x[0]: i + 1 for i, x in enumerate(INDICATORS)}
    plan_windows = plan_windows or {}
    projects = pd.DataFrame([{
        "project_id": project_ids[key], "department_id": int(code), "project": name, "year": YEAR,
        "plan_start": plan_windows.get(key, (None, None))[0], "plan_end": plan_windows.get(key, (None, None))[1],
        "annual_funds": float(funds),
    } for key, code, _dn, name, funds in PROJECTS])
    parsed = targets()
    indicators = pd.DataFrame([{
        "indicator_id": indicator_ids[key], "project_id": project_ids[pkey], "kind": parsed[key].kind,
        "comparator": parsed[key].comparator,
        "target_value": None if parsed[key].value is None else float(parsed[key].value),
        "unit": parsed[key].unit, "direction": parsed[key].direction, "name": name, "level2": level2,
        "value_text": text, "parse_reason": parsed[key].reason,
    } for key, pkey, level2, name, text in INDICATORS])
    occurrences = pd.DataFrame([
        {"indicator_id": indicator_ids[key], "start": o.start, "due": o.due}
        for key, *_ in INDICATORS for o in parsed[key].occurrences
    ])
    report_rows = []
    for n, (key, fields) in enumerate(reports, start=1):
        row = {"id": n, "indicator_id": indicator_ids[key], "value": None, "as_of": None, "occurrence_due": None,
               "completed_on": None, "grade": None, "forecast": None}
        row.update({k: (float(v) if k in ("value", "forecast") else v) for k, v in fields.items()})
        report_rows.append(row)
    spend = pd.DataFrame([{"id": n, "project_id": project_ids[k], "amount": float(a), "as_of": d}
                          for n, (k, a, d) in enumerate(spending, start=1)],
                         columns=["id", "project_id", "amount", "as_of"])
    return {
        "projects": projects, "indicators": indicators, "occurrences": occurrences,
        "reports": pd.DataFrame(report_rows, columns=["id", "indicator_id", "value", "as_of", "occurrence_due",
                                                      "completed_on", "grade", "forecast"]),
        "spending": spend,
    }


def store(engine: Engine, reports=REPORTS, spending=SPENDING) -> dict[str, dict[str, int]]:
    """Insert the seed projects, indicators (with the grammar's columns), reports and spending; returns ids."""
    from monitor.store.models import BudgetYear, Department, Indicator, Project, Report, Spending

    parsed = targets()
    ids: dict[str, dict[str, int]] = {"department": {}, "project": {}, "indicator": {}}
    with Session(engine) as session:
        year = BudgetYear(year=YEAR)
        session.add(year)
        for key, code, dept_name, name, funds in PROJECTS:
            if code not in ids["department"]:
                dept = Department(code=code, name=dept_name)
                session.add(dept)
                session.flush()
                ids["department"][code] = dept.id
            project = Project(department_id=ids["department"][code], budget_year_id=year.id, import_key=name,
                              name=name, annual_funds=funds)
            session.add(project)
            session.flush()
            ids["project"][key] = project.id
        for position, (key, pkey, level2, name, text) in enumerate(INDICATORS):
            t = parsed[key]
            row = Indicator(project_id=ids["project"][pkey], half="annual", level1="产出", level2=level2, name=name,
                            value_text=text, position=position, kind=t.kind, comparator=t.comparator,
                            target_value=t.value, unit=t.unit, direction=t.direction, target_json=t.to_json(),
                            parse_reason=t.reason)
            session.add(row)
            session.flush()
            ids["indicator"][key] = row.id
        for key, fields in reports:
            values = {k: (Decimal(v) if k in ("value", "forecast") else v) for k, v in fields.items()}
            session.add(Report(indicator_id=ids["indicator"][key], channel="cli",
                               created_at=datetime(2024, 12, 31, 18, tzinfo=SHANGHAI), **values))
        for key, amount, day in spending:
            session.add(Spending(project_id=ids["project"][key], amount=amount, as_of=day, channel="cli"))
        session.commit()
    return ids
