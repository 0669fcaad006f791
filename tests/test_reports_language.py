"""The official tables read in the portal's language, while the documents stay the official Chinese ones.

The downloaded PDF is printed from the Chinese HTML document, so that document is compared byte for byte with
the one the tables printed before they learned English (tests/data/official_reports/, the house-repair year).
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlmodel import Session, select

from monitor.accounts.passwords import hash_password
from monitor.config import Config
from monitor.reports.produce import KINDS, ReportRequest, produce
from monitor.store.models import Indicator, User
from monitor.web.i18n import english
from rules.terms import GRADES
from tests.selfeval_sample import write
from tests.test_reports_portal import CSRF, PASSWORD, _client, _world
from tests.test_selfeval_review import _import

OFFICIAL = Path(__file__).parent / "data" / "official_reports"
CJK = re.compile(r"[\u3400-\u9fff]")


def _document(engine, kind: str) -> str:
    request = ReportRequest(kind, 2024, "html", through=7, charts=False)
    with Session(engine) as session:
        return produce(session, request, dataclasses.replace(Config(), secret_key="test-secret")).decode("utf-8")


class _Cells(HTMLParser):
    """The text of every table cell, heading cells apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: list[str] = []
        self.cells: list[str] = []
        self._into: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("th", "td"):
            self._into = self.headings if tag == "th" else self.cells
            self._into.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._into is not None:
            self._into[-1] += data.strip()


def _cells(html: str) -> _Cells:
    cells = _Cells()
    cells.feed(html)
    return cells


@pytest.mark.parametrize("kind", KINDS)
def test_the_chinese_document_the_pdf_prints_from_is_unchanged(engine, kind):
    _world(engine)
    document = _document(engine, kind)
    assert document == (OFFICIAL / f"{kind}.html").read_text(encoding="utf-8")


def test_the_english_monitoring_table_has_english_headings_and_the_departments_own_names(engine):
    _world(engine)
    page = _client(engine, "clerk_hr").get("/reports/monitor?year=2024&through=7&lang=en")
    cells = _cells(page.text)
    assert {"Project", "Department and code", "Level 1", "Level 3", "Progress, months 1–7", "Note"} <= set(
        cells.headings)
    assert not [h for h in cells.headings if CJK.search(h)]
    assert {"房屋修缮费用", "二级直线条吊面积", "产出指标"} <= set(cells.cells)
    assert "Not reported" in cells.cells and "未填报" not in page.text


def test_the_chinese_monitoring_table_in_the_portal_is_the_official_body(engine):
    _world(engine)
    page = _client(engine, "clerk_hr").get("/reports/monitor?year=2024&through=7&lang=zh").text
    shown = re.findall(r'<section class="project">.*?</section>', page, re.S)
    assert len(shown) == 1 and shown[0] in _document(engine, "monitor")  # the clerk's one project, as printed


def test_the_english_self_evaluation_says_how_each_indicator_was_scored_in_english(engine):
    _world(engine)
    cells = _cells(_client(engine, "clerk_hr").get("/reports/selfeval?year=2024&lang=en").text)
    assert {"How it was scored", "Total", "Grade"} <= set(cells.headings)
    assert "100 ≥ 100: full points" in cells.cells
    assert "Good" in cells.cells  # the grade 良 of 88.63


def test_the_english_review_gives_each_disagreement_in_english_beside_the_departments_names(engine, tmp_path):
    with Session(engine) as session:
        session.add(User(username="bureau", password_hash=hash_password(PASSWORD), role="admin"))
        session.commit()
    _import(engine, write(tmp_path / "自评表.xlsx"))
    cells = _cells(_client(engine, "bureau").get("/reports/review?year=2024&lang=en").text)
    assert "Full points for a target not met: 30 × 450 ÷ 500, should be 27.00" in cells.cells
    assert "Points taken for a target met: 98 ≥ 95: full points, should be the full 20.00" in cells.cells
    assert "The scores add up to 97.50, not the total 100.00; kpiwatch's rules give a total of 96.00" in cells.cells
    assert {"Budget execution", "Total", "服务老人人数"} <= set(cells.cells)


def test_a_built_sentence_is_said_by_its_catalogue_entry_and_what_a_department_wrote_stays():
    assert english("系统评估：红灯；见附件说明") == "System's light: Red; 见附件说明"
    assert english("12 超出上限 10 达 2 倍及以上：0 分") == "12 over the limit 10 by 2 times or more: 0 points"
    assert english("原目标：≥500人 → 调整后目标：≥450人") == "Original target: ≥500人 → adjusted: ≥450人"
    assert english("结算未完成；系统预测全年 450人；系统判断：有可能") == (
        "结算未完成; System's year-end forecast 450人; System's judgement: Possible")


def test_a_review_reason_quoting_an_actual_kpiwatch_could_not_read_is_said_in_english_around_the_quote():
    said = english("实际完成值「大部分覆盖」既不是数字也不是已知的评价等级，kpiwatch 无法据此评分：未填报，应得 0.00")
    assert said == ("The actual “大部分覆盖” is neither a number nor a known grade, so kpiwatch cannot score by it: "
                    "Not reported; should be 0.00")
    assert english(f"评价等级「{GRADES[1]}」的得分区间为[6, 8]，自评得分 10 不在区间内，应得 8") == (
        "The grade “Partly met, with some effect” scores within [6, 8]; the self-evaluation's 10 is outside it, so 8")


def test_a_score_outside_its_band_is_refused_in_english_on_an_english_page(engine):
    _world(engine)
    hr = _client(engine, "clerk_hr")
    token = CSRF.search(hr.get("/reports/selfeval?year=2024&lang=en").text).group(1)
    with Session(engine) as session:
        # the department's own project was made first; the union's has an indicator of the same name
        comfort = session.exec(select(Indicator).where(Indicator.name == "工作环境安全舒适度提升")
                               .order_by(Indicator.id)).first()
    refused = hr.post("/reports/selfeval/entry", data={
        "csrf_token": token, "year": "2024", "indicator_id": str(comfort.id), "score": "31", "explanation": "",
        "back": "/reports/selfeval?year=2024"})
    alert = re.search(r'<p class="error" role="alert">([^<]*)</p>', refused.text).group(1)
    assert alert == "工作环境安全舒适度提升: the score must be within [24, 30]; nothing saved"


def _every_scoring_basis() -> list[str]:
    """The bases and warnings the scoring rules give, one case per branch of `rules.scoring`."""
    from decimal import Decimal as D

    from rules.scoring import IndicatorInput, ScoringRules, level_shares, score_indicator, score_project
    from rules.targets import RANGE

    def item(kind: str, **fields) -> IndicatorInput:
        return IndicatorInput(key=1, level1="产出指标", name="服务人数", kind=kind, **fields)

    cases = [
        item("unparsed"), item("qualitative"), item("qualitative", grade="很好"),  # a grade as written
        item("qualitative", grade=GRADES[0]), item("qualitative", grade=GRADES[1], picked=D(7)),
        item("deadline"), item("recurring", occurrences=("on_time", "on_time")),
        item("recurring", occurrences=("on_time", "late", "missed")),
        item("quantity", target=D(10)), item("quantity", actual=D(5)),
        item("quantity", actual=D(5), target=D(1), comparator=RANGE),
        item("quantity", actual=D(5), target=D(1), upper=D(9), comparator=RANGE),
        item("quantity", actual=D(12), target=D(10)), item("quantity", actual=D("9.99"), target=D(10)),
        item("quantity", actual=D(12), target=D(10), direction="lower_is_better"),
        item("quantity", actual=D(30), target=D(10), direction="lower_is_better"),
        item("quantity", actual=D(9), target=D(10), direction="exact"),
        item("quantity", actual=D(0), target=D(0), direction="exact", comparator="="),
        item("quantity", actual=D(-1), target=D(0)), item("percent", actual=D(1), target=D(0), comparator=">"),
        item("window"),
    ]
    variants = [ScoringRules(), ScoringRules(cap_formula="ratio", exact_formula="all_or_nothing"),
                ScoringRules(exact_formula="ratio")]
    texts = {score_indicator(case, D(10), rules).rule for case in cases for rules in variants}
    texts |= {score_indicator(item("quantity", actual=D(0), target=D(10), direction="lower_is_better"), D(10),
                              ScoringRules(cap_formula="ratio")).rule}
    texts |= {level_shares("产出", [D(5), None], D(4), ScoringRules()).note or "",
              level_shares("产出", [D(5), D(6)], D(50), ScoringRules()).note or "",
              level_shares("产出", [D(5)], D(0), ScoringRules()).note or "",
              level_shares("产出", [None], D(0), ScoringRules()).note or ""}
    texts |= set(score_project(D(1), D(2), [IndicatorInput(key=1, level1="其他", name="服务人数", kind="quantity")],
                               ScoringRules(redistribute={})).warnings)
    return sorted(t for t in texts if t)


def test_every_basis_and_warning_of_the_scoring_rules_reads_in_english():
    written = re.compile("服务人数|很好|其他")  # the department's names and words, which stay as written
    bases = _every_scoring_basis()
    assert len(bases) > 20
    assert [(basis, english(basis)) for basis in bases if CJK.search(written.sub("", english(basis)))] == []
