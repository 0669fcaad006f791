"""The report charts in the page's language: a chart an English report page shows says its titles, axes,
legends and light names in English, the departments' names as written; the documents' charts (PDF, CLI) stay
the official Chinese ones. What a chart says is read back from its figure's text, as matplotlib draws it."""

from __future__ import annotations

import dataclasses
import html
import re

from matplotlib.figure import Figure
from matplotlib.text import Text
from sqlmodel import Session, select

from monitor.config import Config
from monitor.reports import charts
from monitor.reports.data import YearData, load_year
from monitor.reports.selfeval import build_selfeval
from monitor.store.models import Department
from monitor.web.i18n import translator
from rules.terms import LIGHT_NAMES, LIGHT_NAMES_EN, LIGHTS, NOT_EVALUATED, NOT_EVALUATED_EN
from tests.test_reports import SETTINGS, seed_house_repair
from tests.test_reports_portal import _client, _world

CJK = re.compile(r"[\u3400-\u9fff]")
NUMBER = re.compile(r"[\d.−-]+")
DEPARTMENT = "晋城市人力资源和社会保障局"


def _said(fig: Figure) -> set[str]:
    """Every word the figure draws (titles, axes, ticks, legend, bar labels), plain numbers apart."""
    fig.draw_without_rendering()
    return {text for text in (t.get_text() for t in fig.findobj(Text)) if text and not NUMBER.fullmatch(text)}


def _figures(session: Session, t=charts.official) -> list[Figure]:
    seed_house_repair(session)
    data = load_year(session, 2024)
    projects = build_selfeval(data, SETTINGS.scoring)
    return [charts.lights_figure(data, t=t), charts.spending_figure(data, 7, t=t),
            charts.score_figure(projects, SETTINGS.scoring, t=t)]


def test_an_english_pages_charts_say_every_word_in_english_but_the_departments_names(session):
    lights, spending, scores = (_said(fig) for fig in _figures(session, translator("en")))
    assert {"2024: indicator lights by department", "Indicators", NOT_EVALUATED_EN,
            *(LIGHT_NAMES_EN[light] for light in LIGHTS if light != "grey")} <= lights
    assert DEPARTMENT in lights
    assert {"2024: budget execution against time progress", "Actual execution", "Time progress",
            "Cumulative execution (%)"} <= spending
    assert {"Self-evaluation scores", "Projects", "Excellent\n90–100", "Poor\n0–60"} <= scores
    assert [text for text in lights | spending | scores if CJK.search(text.replace(DEPARTMENT, ""))] == []


def test_the_documents_charts_say_the_official_chinese_as_before(session):
    lights, spending, scores = (_said(fig) for fig in _figures(session))
    assert lights == {"2024年 各部门指标监控灯", "指标数", DEPARTMENT, NOT_EVALUATED,
                      *(LIGHT_NAMES[light] for light in LIGHTS if light != "grey")}
    assert spending == {"2024年 预算执行进度与序时进度", "实际执行率", "序时进度", "累计执行率（%）",
                        *(f"{m}月" for m in range(1, 13))}
    assert scores == {"自评得分分布", "项目数", "差\n0–60", "中\n60–80", "良\n80–90", "优\n90–100", "0 个", "1 个"}


def _year_of(engine, code: str) -> YearData:
    with Session(engine) as session:
        department = session.exec(select(Department).where(Department.code == code)).one()
        return load_year(session, 2024, department_ids={department.id})


def test_the_chart_an_english_report_page_shows_is_the_english_one(engine):
    _world(engine)
    page = _client(engine, "clerk_hr").get("/reports/monitor?year=2024&through=7&lang=en").text
    address = html.unescape(re.search(r'<img class="chart" src="([^"]+)"', page).group(1))
    shown = _client(engine, "clerk_hr").get(address).content  # a fresh sign-in: the address alone says English
    settings = dataclasses.replace(Config(), secret_key="test-secret").reports
    data = _year_of(engine, "144")
    assert shown == charts.spending_curve(data, 7, settings.time_progress, settings.font_family, translator("en"))
    assert shown != charts.spending_curve(data, 7, settings.time_progress, settings.font_family)
