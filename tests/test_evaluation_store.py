"""Evaluation over the store, on SQLite and PostgreSQL: states kept with their as-of date, a change row only when a
light or status moved, project states, the run log, chunking, and the `kpiwatch evaluate` command."""

import json
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlmodel import Session
from typer.testing import CliRunner

from monitor.cli.main import app
from monitor.config import Config
from monitor.evaluation import run_evaluation
from monitor.evaluation.load import load_chunk, previous_states
from monitor.evaluation.write import write_states
from monitor.store.models import EvaluationRun, Indicator, IndicatorState, IndicatorStateChange, ProjectState, Report
from rules.evaluation import evaluate
from tests.evaluation_seed_data import store

SETTINGS = Config()


def states(engine) -> dict[tuple[int, str], IndicatorState]:
    with Session(engine) as session:
        return {(s.indicator_id, s.occurrence): s for s in session.exec(select(IndicatorState)).scalars()}


def changes(engine) -> list[IndicatorStateChange]:
    with Session(engine) as session:
        return list(session.exec(select(IndicatorStateChange).order_by(IndicatorStateChange.id)).scalars())


def evaluated_on(engine, indicator_id: int) -> date:
    """A state's as-of date: its project's, which every run writes once a project."""
    with Session(engine) as session:
        return session.exec(select(ProjectState.as_of).join(Indicator, Indicator.project_id == ProjectState.project_id)
                            .where(Indicator.id == indicator_id)).scalar_one()


def test_states_are_stored_with_numbers_reason_and_as_of(engine):
    ids = store(engine)
    summary = run_evaluation(engine, SETTINGS, as_of=date(2024, 6, 30))
    jobs = states(engine)[(ids["indicator"]["jobs"], "")]
    assert (jobs.light, jobs.status, jobs.since) == ("green", "on_track", date(2024, 6, 30))
    assert evaluated_on(engine, ids["indicator"]["jobs"]) == date(2024, 6, 30)
    assert (jobs.expected, jobs.actual, jobs.ratio) == (Decimal("19500"), Decimal("15600"), Decimal("80"))
    assert jobs.reason == "截至6月30日完成15600人，序时目标19500人"
    assert jobs.likelihood == "有可能" and jobs.run_id == summary.run_id
    paid = states(engine)[(ids["indicator"]["paid"], "2024-05-31")]
    assert (paid.light, paid.status) == ("green", "met")
    with Session(engine) as session:
        run = session.get(EvaluationRun, summary.run_id)
        assert (run.status, run.indicators, run.as_of) == ("ok", summary.indicators, date(2024, 6, 30))
        assert run.counts["lights"] == summary.lights and run.finished_at is not None
        project = session.exec(select(ProjectState).where(ProjectState.project_id == ids["project"]["jy"])).scalar_one()
        assert (project.light, project.budget_light) == ("green", "yellow")
        assert project.spent == Decimal("3900000.00") and project.execution_ratio == Decimal("60")


def test_a_change_is_recorded_only_when_the_light_or_status_moves(engine):
    ids = store(engine)
    run_evaluation(engine, SETTINGS, as_of=date(2024, 6, 30))
    first = len(changes(engine))
    assert first == len(states(engine))  # the first evaluation starts every history
    run_evaluation(engine, SETTINGS, as_of=date(2024, 6, 30))
    assert len(changes(engine)) == first  # nothing moved
    jobs_id = ids["indicator"]["jobs"]
    with Session(engine) as session:  # a correction of the 6月30日 figure, appended as a new revision
        old = session.exec(select(Report).where(Report.indicator_id == jobs_id, Report.as_of == date(2024, 6, 30))
                           ).scalar_one()
        session.add(Report(indicator_id=jobs_id, revision=2, supersedes_id=old.id, value=Decimal("9000"),
                           as_of=date(2024, 6, 30), channel="cli"))
        session.commit()
    run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 1))
    new = changes(engine)[first:]
    moved = [c for c in new if c.previous_light is not None]
    assert [(c.indicator_id, c.previous_light, c.light, c.status, c.as_of) for c in moved] == [
        (jobs_id, "green", "red", "behind", date(2024, 7, 1))]
    # the only other new row: once July's 电费 occurrence opened on 7月1日, August's became the next one shown
    assert [(c.indicator_id, c.occurrence) for c in new if c.previous_light is None] == [
        (ids["indicator"]["power"], "2024-08-20")]
    assert moved[0].reason == "截至6月30日完成9000人，序时目标19500人，仅为序时目标的46%"
    current = states(engine)
    assert current[(jobs_id, "")].since == date(2024, 7, 1)
    assert current[(ids["indicator"]["cost"], "")].since == date(2024, 6, 30)  # unchanged keeps its start
    assert evaluated_on(engine, ids["indicator"]["cost"]) == date(2024, 7, 1)


def test_chunks_give_the_same_result_as_one_pass(engine):
    store(engine)
    whole = run_evaluation(engine, SETTINGS, as_of=date(2024, 9, 1), store=False, collect=True)
    pieces = run_evaluation(engine, SETTINGS, as_of=date(2024, 9, 1), store=False, collect=True, chunk_projects=2)
    columns = ["indicator_id", "occurrence", "light", "status", "reason"]
    assert whole.states[columns].sort_values(columns[:2]).values.tolist() == \
        pieces.states[columns].sort_values(columns[:2]).values.tolist()
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(IndicatorState)).scalar_one() == 0  # --no-store


def test_department_filter_and_empty_store(engine):
    assert run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 31)).indicators == 0
    ids = store(engine)
    summary = run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 31), department="959", collect=True)
    assert set(summary.project_states["project_id"]) == {ids["project"]["gr"], ids["project"]["db"]}
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT DISTINCT i.project_id FROM indicatorstate s "
                                   "JOIN indicator i ON i.id = s.indicator_id")).scalars().all()
    assert set(stored) <= {ids["project"]["gr"], ids["project"]["db"]}


def test_evaluate_command_prints_json_for_every_indicator(engine, db_url, monkeypatch, tmp_path):
    store(engine)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KPIWATCH_DATABASE_URL", db_url)
    monkeypatch.delenv("KPIWATCH_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["evaluate", "--as-of", "2024-06-30", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["as_of"] == "2024-06-30"
    jobs = next(i for i in data["indicators"] if i["indicator"] == "城镇新增就业人数")
    assert {k: jobs[k] for k in ("project", "light", "status", "expected", "actual", "reason")} == {
        "project": "创业就业专项", "light": "green", "status": "on_track", "expected": 19500.0, "actual": 15600.0,
        "reason": "截至6月30日完成15600人，序时目标19500人"}
    table = CliRunner().invoke(app, ["evaluate", "--as-of", "2024-06-30", "--department", "959"])
    assert table.exit_code == 0 and "工人文化宫运行经费" in table.output and "创业就业专项" not in table.output
    unknown = CliRunner().invoke(app, ["evaluate", "--department", "000"])
    assert unknown.exit_code == 1 and "没有代码为 000 的部门" in unknown.output
    not_a_day = CliRunner().invoke(app, ["evaluate", "--as-of", "2023-02-29"])
    assert not_a_day.exit_code == 2 and "2023-02-29" in not_a_day.output and "YYYY-MM-DD" in not_a_day.output


def test_demo_step_shows_lights_per_department_and_project_and_survives_an_empty_store(engine):
    from rich.console import Console

    from monitor.demo.context import DemoContext
    from monitor.demo.evaluation import evaluate_demo

    console = Console(record=True, width=160)
    context = DemoContext(workdir=None, settings=SETTINGS, engine=engine, as_of=date(2024, 7, 31), console=console)
    evaluate_demo(context)
    assert "没有可评估的项目" in console.export_text()
    store(engine)
    console = Console(record=True, width=160)
    evaluate_demo(DemoContext(workdir=None, settings=SETTINGS, engine=engine, as_of=date(2024, 7, 31), console=console))
    out = console.export_text()
    assert "评估（截至 2024-07-31" in out and "各部门项目灯数" in out
    assert "959 晋城市总工会" in out and "工人文化宫运行经费" in out and "指标红5 绿2" in out


def test_province_generator_and_a_full_evaluation_at_a_tiny_scale(db_url, engine):
    """The benchmark's generator (real seed 指标值, corrections, spending) and the chunked run agree on counts."""
    import sys

    sys.path.insert(0, str(__import__("tests.conftest").conftest.ROOT / "bench"))
    from generate_province import generate

    counts = generate(db_url, 0.001, seed=7, batch_projects=20)
    assert counts == {"departments": 2, "projects": 50, "indicators": 1000, "reports": 5000, "spending": 200}
    summary = run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 31), chunk_projects=16)
    assert summary.projects == 50 and summary.indicators >= 1000 and summary.changes == summary.indicators
    assert set(summary.lights) <= {"red", "yellow", "green", "blue", "grey"} and summary.lights.get("green")
    again = run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 31), chunk_projects=50)
    assert (again.indicators, again.changes) == (summary.indicators, 0)


def test_a_state_stored_by_another_writer_after_the_chunk_was_read_is_overwritten_not_a_failure(engine):
    """A run copies the states its read found none of straight into the table (PostgreSQL). A report's
    re-evaluation may have stored one of them meanwhile: the run then upserts instead, and its state is the one
    kept, with nothing doubled."""
    ids = store(engine)
    as_of = date(2024, 6, 30)
    with engine.begin() as conn:
        chunk = load_chunk(conn, 0, 10**9, halves=SETTINGS.evaluation.halves, as_of=as_of)
        result = evaluate(projects=chunk.projects, indicators=chunk.indicators, occurrences=chunk.occurrences,
                          reports=chunk.reports, spending=chunk.spending, adjustments=chunk.adjustments,
                          as_of=as_of, settings=SETTINGS.evaluation)
        read_before = previous_states(conn, 0, 10**9)
    assert len(read_before) == 0
    jobs = ids["indicator"]["jobs"]
    with Session(engine) as session:  # the other writer, in between
        session.add(IndicatorState(indicator_id=jobs, occurrence="", light="red", status="behind", reason="旧"))
        session.commit()
    with engine.begin() as conn:
        write_states(conn, result.indicators, read_before, result.projects, as_of=as_of, run_id=None)
    stored = states(engine)
    assert len(stored) == len(result.indicators)
    assert (stored[(jobs, "")].light, stored[(jobs, "")].reason) == ("green", "截至6月30日完成15600人，序时目标19500人")


def test_written_states_keep_their_text_exactly_and_their_nulls_as_nulls(engine):
    """States go to PostgreSQL by text COPY: quotes, commas, line breaks and backslashes in a reason come back as
    written, an empty text stays empty, and a missing likelihood or measure stays NULL."""
    ids = store(engine)
    as_of = date(2024, 6, 30)
    with engine.begin() as conn:
        chunk = load_chunk(conn, 0, 10**9, halves=SETTINGS.evaluation.halves, as_of=as_of)
        result = evaluate(projects=chunk.projects, indicators=chunk.indicators, occurrences=chunk.occurrences,
                          reports=chunk.reports, spending=chunk.spending, adjustments=chunk.adjustments,
                          as_of=as_of, settings=SETTINGS.evaluation)
        jobs = ids["indicator"]["jobs"]
        row = (result.indicators["indicator_id"] == jobs).to_numpy()
        odd = '说明 "引号", 逗号\n换行 \\N 与 \\ 反斜杠'
        result.indicators.loc[row, ["reason", "reason_en", "likelihood", "forecast"]] = [odd, "", None, float("nan")]
        write_states(conn, result.indicators, previous_states(conn, 0, 10**9), result.projects, as_of=as_of,
                     run_id=None)
    state = states(engine)[(jobs, "")]
    assert (state.reason, state.reason_en, state.likelihood, state.forecast) == (odd, "", None, None)
    assert state.occurrence == "" and state.expected == Decimal("19500")
    assert changes(engine)[0].previous_light is None
