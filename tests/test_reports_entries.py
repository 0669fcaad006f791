"""A person's score inside the qualitative band and the 偏差原因 text: checked, stored append-only, used."""

from decimal import Decimal as D

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.reports.data import load_year
from monitor.reports.entries import record_entry
from monitor.reports.selfeval import build_selfeval
from monitor.store.models import Indicator, SelfEvalEntry
from rules.scoring import BandError
from tests.test_reports import SETTINGS, seed_house_repair


def _indicator(session, name):
    return session.exec(select(Indicator).where(Indicator.name == name, Indicator.half == "annual")).scalars().one()


def test_pick_outside_the_band_is_refused_and_nothing_is_stored(session):
    seed_house_repair(session)
    comfort = _indicator(session, "工作环境安全舒适度提升")
    with pytest.raises(BandError, match=r"工作环境安全舒适度提升指标的实际得分区间为\[24, 30\]，请调整后再保存"):
        record_entry(session, indicator_id=comfort.id, year=2024, rules=SETTINGS.scoring, score="20")
    session.rollback()
    assert session.exec(select(SelfEvalEntry)).scalars().all() == []


def test_picked_score_and_texts_change_the_total_and_keep_history(session):
    """Draft 88.63 used 24 (band floor); picking 28 adds 4 → 92.63, 优."""
    seed_house_repair(session)
    comfort = _indicator(session, "工作环境安全舒适度提升")
    first = record_entry(session, indicator_id=comfort.id, year=2024, rules=SETTINGS.scoring, score="28")
    second = record_entry(session, indicator_id=comfort.id, year=2024, rules=SETTINGS.scoring,
                          explanation="个别区域照明仍需改善，明年随办公区改造一并完成")
    session.commit()
    assert (second.supersedes_id, second.revision, second.score) == (first.id, 2, D("28"))
    (result,) = build_selfeval(load_year(session, 2024), SETTINGS.scoring)
    assert (result.total, result.grade) == (D("92.63"), "优")
    assert "工作环境安全舒适度提升" not in result.missing_explanations
    assert result.needs_person == []


def test_measured_indicators_take_no_manual_score(session):
    seed_house_repair(session)
    area = _indicator(session, "二级直线条吊单价")
    with pytest.raises(BandError, match="系统按实际完成值计分"):
        record_entry(session, indicator_id=area.id, year=2024, rules=SETTINGS.scoring, score="6")


def test_cli_writes_each_format_and_refuses_a_score_outside_the_band(session, db_url, tmp_path, monkeypatch):
    seed_house_repair(session)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("KPIWATCH_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    runner = CliRunner()
    for fmt in ("html", "xlsx", "pdf"):
        out = tmp_path / f"m.{fmt}"
        result = runner.invoke(app, ["report", "monitor", "--year", "2024", "--through", "7", "--department", "144",
                                     "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    result = runner.invoke(app, ["report", "selfeval", "--year", "2024", "--out", str(tmp_path / "s.html")])
    assert result.exit_code == 0 and "88.63" in (tmp_path / "s.html").read_text(encoding="utf-8")
    comfort = _indicator(session, "工作环境安全舒适度提升")
    refused = runner.invoke(app, ["report", "score", "--year", "2024", "--indicator", str(comfort.id), "--score", "31"])
    assert refused.exit_code == 1 and "实际得分区间为[24, 30]" in refused.output
    missing = runner.invoke(app, ["report", "ranking", "--year", "2023", "--out", str(tmp_path / "r.html")])
    assert missing.exit_code == 1 and "2023" in missing.output


def test_cli_sets_the_years_cut_off_month(session, db_url, tmp_path, monkeypatch):
    seed_house_repair(session)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("KPIWATCH_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    runner = CliRunner()
    shown = runner.invoke(app, ["report", "cutoff", "--year", "2024"])
    assert shown.exit_code == 0 and "截至 7 月底（默认值）" in shown.output
    assert "截至 6 月底" in runner.invoke(app, ["report", "cutoff", "--year", "2024", "--month", "6"]).output
    out = tmp_path / "m.html"
    assert runner.invoke(app, ["report", "monitor", "--year", "2024", "--out", str(out)]).exit_code == 0
    assert "数据截至6月底" in out.read_text(encoding="utf-8")
    assert "（默认值）" in runner.invoke(app, ["report", "cutoff", "--year", "2024", "--clear"]).output
