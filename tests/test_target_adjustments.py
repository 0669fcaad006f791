"""Target adjustments (目标调整): a department asks, the bureau decides, and from the effective day the lights, the
monitoring table and the self-evaluation use the adjusted target while still showing the original one."""

from __future__ import annotations

import copy
import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.config import Config
from monitor.evaluation.run import run_evaluation
from monitor.importers.load import store_document
from monitor.notify.actions import add_contact
from monitor.notify.compose import plan
from monitor.progress import adjustments, service
from monitor.progress.adjustments import AdjustmentRefused
from monitor.progress.entries import read_report
from monitor.progress.workbook import build_csv
from monitor.reports.data import load_year
from monitor.reports.produce import ReportRequest, produce
from monitor.reports.selfeval import build_selfeval
from monitor.store.db import session_scope
from monitor.store.models import AuditEvent, Indicator, IndicatorState, Round, TargetAdjustment, User
from monitor.store.target_versions import target_in_force
from rules.scoring import ScoringRules
from tests.import_seeds import hrss_document
from tests.test_progress_world import build_world

SETTINGS = Config()
TODAY = date(2024, 7, 10)
EFFECTIVE = date(2024, 7, 15)


@pytest.fixture
def world(engine):
    return build_world(engine)


def _user(s: Session, name: str) -> User:
    return s.exec(select(User).where(User.username == name)).one()


def _request(engine, indicator_id: int, text: str = "≥6000人", *, user: str = "clerk_hr",
             effective_on: date | None = EFFECTIVE) -> int:
    with session_scope(engine) as s:
        row = adjustments.request_adjustment(s, _user(s, user), indicator_id, text=text, reason="上级追加培训任务",
                                             effective_on=effective_on, channel="portal", today=TODAY)
        return row.id or 0


def _approve(engine, adjustment_id: int, user: str = "admin") -> None:
    with session_scope(engine) as s:
        adjustments.approve_adjustment(s, _user(s, user), adjustment_id, note="同意", channel="portal")


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (s.exec(select(func.count()).select_from(TargetAdjustment)).one(),
                s.exec(select(func.count()).select_from(AuditEvent)).one())


def _light(engine, indicator_id: int, as_of: date) -> str:
    run_evaluation(engine, SETTINGS, as_of=as_of)
    with Session(engine) as s:
        return s.exec(select(IndicatorState.light).where(IndicatorState.indicator_id == indicator_id)).one()


def _report_1500(engine, world) -> None:
    with session_scope(engine) as s:
        service.record_reports(s, _user(s, "clerk_hr"), [read_report(world.ind["count"], value="1500",
                                                                     as_of="2024-06-30")],
                               channel="portal", today=TODAY)


# ---- the done-when: lights from the effective day only, and both targets in the self-evaluation -------------

def test_an_approved_adjustment_changes_the_light_from_its_effective_day_only(engine, world):
    _report_1500(engine, world)
    _approve(engine, _request(engine, world.ind["count"]))
    # by hand, 序时进度 by month: ≥3000人 expects 1500 at 30 June and 1750 at 31 July, so 1500 is green on both
    # days; ≥6000人 from 15 July expects 3500 at 31 July, 1500 ÷ 3500 = 42.9 % → red
    assert _light(engine, world.ind["count"], date(2024, 7, 14)) == "green"
    assert _light(engine, world.ind["count"], date(2024, 7, 31)) == "red"
    assert _light(engine, world.ind["count"], date(2024, 7, 14)) == "green"  # a replay before it: old light again


def test_the_self_evaluation_shows_the_original_and_the_adjusted_target_and_scores_against_the_adjusted(
        engine, world):
    _report_1500(engine, world)
    _approve(engine, _request(engine, world.ind["count"]))
    with Session(engine) as s:
        (project,) = build_selfeval(load_year(s, 2024, project_id=world.hr_project), ScoringRules())
        workbook = produce(s, ReportRequest(kind="selfeval", year=2024, format="xlsx", charts=False), SETTINGS)
    row = next(r for r in project.rows if r.indicator_id == world.ind["count"])
    assert row.target_text == "原目标：≥3000人 → 调整后目标：≥6000人"
    assert "6000" in row.rule and "3000" not in row.rule
    cells = {c for sheet in load_workbook(io.BytesIO(workbook)) for r in sheet.iter_rows(values_only=True) for c in r}
    assert "原目标：≥3000人 → 调整后目标：≥6000人" in cells


def test_the_monitoring_table_before_the_effective_day_shows_only_the_original_target(engine, world):
    _approve(engine, _request(engine, world.ind["count"], effective_on=date(2024, 8, 1)))
    with Session(engine) as s:
        july = produce(s, ReportRequest(kind="monitor", year=2024, format="xlsx", through=7, charts=False), SETTINGS)
        august = produce(s, ReportRequest(kind="monitor", year=2024, format="html", through=8, charts=False),
                         SETTINGS)
    cells = [c for row in load_workbook(io.BytesIO(july)).active.iter_rows(values_only=True) for c in row]
    assert "≥3000人" in cells and not any("6000" in str(c) for c in cells)
    assert "原目标：≥3000人 → 调整后目标：≥6000人" in august.decode()


def test_the_target_stays_as_imported_and_the_version_in_force_follows_the_effective_day(engine, world):
    _approve(engine, _request(engine, world.ind["count"]))
    with Session(engine) as s:
        indicator = s.get(Indicator, world.ind["count"])
        before, after = target_in_force(s, indicator, date(2024, 7, 14)), target_in_force(s, indicator, EFFECTIVE)
    assert indicator.value_text == "≥3000人" and indicator.target_value == 3000
    assert (before.text, before.adjusted) == ("≥3000人", False)
    assert (after.text, after.target.value, after.original_text) == ("≥6000人", 6000, "≥3000人")


def test_a_rejected_adjustment_leaves_the_target_in_force_unchanged(engine, world):
    adjustment_id = _request(engine, world.ind["count"])
    with session_scope(engine) as s:
        adjustments.reject_adjustment(s, _user(s, "admin"), adjustment_id, note="依据不足", channel="portal")
    with Session(engine) as s:
        assert target_in_force(s, s.get(Indicator, world.ind["count"]), date(2024, 12, 31)).text == "≥3000人"
        assert s.get(TargetAdjustment, adjustment_id).status == "rejected"


def test_every_step_is_audited_with_who_and_what(engine, world):
    _approve(engine, _request(engine, world.ind["count"]))
    with Session(engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.entity == "target_adjustment")
                        .order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor, e.department_id) for e in events] == [
        ("request", "clerk_hr", world.hr_id), ("approve", "admin", world.hr_id)]
    assert events[1].before["status"] == "proposed" and events[1].after["status"] == "approved"


# ---- refusals: a clear message and nothing changed ---------------------------------------------------------

def test_a_department_approving_its_own_request_is_refused_and_nothing_changes(engine, world):
    adjustment_id = _request(engine, world.ind["count"])
    before = _counts(engine)
    with pytest.raises(NotAllowed, match="只有财政局管理员可以审批目标调整"):
        _approve(engine, adjustment_id, user="clerk_hr")
    assert _counts(engine) == before
    with Session(engine) as s:
        assert s.get(TargetAdjustment, adjustment_id).status == "proposed"


def test_approving_twice_is_refused_and_nothing_changes(engine, world):
    adjustment_id = _request(engine, world.ind["count"])
    _approve(engine, adjustment_id)
    before = _counts(engine)
    with pytest.raises(AdjustmentRefused, match="已批准，不能再次审批"):
        _approve(engine, adjustment_id)
    assert _counts(engine) == before


def test_requesting_for_another_departments_indicator_is_not_found(engine, world):
    before = _counts(engine)
    with pytest.raises(NotVisible, match="不存在"):
        _request(engine, world.union_indicator)
    assert _counts(engine) == before


def test_the_bureau_does_not_request_and_an_auditor_does_not_decide(engine, world):
    with pytest.raises(NotAllowed, match="只有部门的经办人或负责人可以申请"):
        _request(engine, world.ind["count"], user="admin")
    adjustment_id = _request(engine, world.ind["count"])
    with pytest.raises(NotAllowed):
        _approve(engine, adjustment_id, user="auditor")


@pytest.mark.parametrize(("text", "effective_on", "message"), [
    ("", EFFECTIVE, "请填写调整后的指标值"),
    ("≥3000人", EFFECTIVE, "相同"),
    ("≥6000人", date(2025, 1, 10), "不在 2024 预算年度内"),
])
def test_an_empty_unchanged_or_out_of_year_request_is_refused(engine, world, text, effective_on, message):
    with pytest.raises(AdjustmentRefused, match=message):
        _request(engine, world.ind["count"], text, effective_on=effective_on)
    assert _counts(engine)[0] == 0


def test_a_second_pending_request_for_one_indicator_is_refused(engine, world):
    _request(engine, world.ind["count"])
    with pytest.raises(AdjustmentRefused, match="已有待审核的调整申请"):
        _request(engine, world.ind["count"], "≥5000人")


def test_an_unparseable_target_is_kept_verbatim_and_flagged(engine, world):
    adjustment_id = _request(engine, world.ind["count"], "按上级要求（待定）")
    with Session(engine) as s:
        (view,) = adjustments.list_adjustments(s, _user(s, "admin"))
    assert (view.id, view.value_text, view.kind) == (adjustment_id, "按上级要求（待定）", "unparsed")
    assert view.flag and view.flag.startswith("指标值无法解析，已原样保存")


def test_a_department_lists_only_its_own_adjustments(engine, world):
    _request(engine, world.ind["count"])
    with Session(engine) as s:
        assert adjustments.list_adjustments(s, _user(s, "clerk_union")) == []
        assert [v.indicator for v in adjustments.list_adjustments(s, _user(s, "clerk_hr"))] == ["培训人数"]


# ---- a re-import once the year's first round has opened -----------------------------------------------------

def test_a_reimport_after_a_round_opened_makes_a_proposal_and_leaves_the_target_unchanged(engine):
    document = hrss_document()
    with session_scope(engine) as s:
        store_document(s, copy.deepcopy(document))
    corrected = copy.deepcopy(document)
    item = next(i for p in corrected.projects for i in p.indicators if i.half == "annual")
    original = item.value
    item.value = "≥987654人"
    with session_scope(engine) as s:
        s.add(Round(kind="monitor", year=2024, through_month=7, due=date(2024, 8, 31)))
    with session_scope(engine) as s:
        result = store_document(s, corrected)
    assert result.proposals == 1 and result.to_json()["proposals"] == 1
    with Session(engine) as s:
        indicator = s.exec(select(Indicator).where(Indicator.name == item.name, Indicator.level2 == item.level2,
                                                   Indicator.half == "annual")).first()
        (proposal,) = s.exec(select(TargetAdjustment)).all()
    assert indicator.value_text == original
    assert (proposal.indicator_id, proposal.value_text, proposal.status, proposal.channel, proposal.previous_text) == (
        indicator.id, "≥987654人", "proposed", "import", original)
    with session_scope(engine) as s:  # the same corrected document again proposes nothing more
        assert store_document(s, copy.deepcopy(corrected)).proposals == 0


def test_a_report_is_judged_against_the_adjusted_deadline_once_it_applies(engine, world):
    _approve(engine, _request(engine, world.ind["deadline"], "2024年11月底前", effective_on=date(2024, 7, 1)))
    with session_scope(engine) as s:
        result = service.record_reports(s, _user(s, "clerk_hr"), [read_report(
            world.ind["deadline"], occurrence_due="2024-11-30", completed_on="2024-07-05")],
            channel="portal", today=TODAY)
    assert len(result.stored) == 1


def test_the_digest_quotes_the_target_in_force_not_the_imported_one(engine, world):
    _report_1500(engine, world)
    _approve(engine, _request(engine, world.ind["count"]))
    run_evaluation(engine, SETTINGS, as_of=date(2024, 7, 31))
    with session_scope(engine) as s:
        add_contact(s, department_code="HRSS", name="人社经办", email="clerk@rsj.example.org", role="经办人")
    with Session(engine) as s:
        digest = next(d for d in plan(s, SETTINGS, date(2024, 7, 31)).departments if d.department.code == "HRSS")
    lines = digest.rendered.text.splitlines()
    item = lines.index("- 职业技能培训项目 / 培训人数")
    assert lines[item + 1].strip().startswith("指标值：≥6000人"), digest.rendered.text
    assert "≥3000人" not in digest.rendered.text


def test_the_departments_workbook_gives_the_target_in_force_on_the_day_it_is_downloaded(engine, world):
    _approve(engine, _request(engine, world.ind["count"]))
    with Session(engine) as s:
        before = build_csv(s, [world.hr_id], date(2024, 7, 14))
        after = build_csv(s, [world.hr_id], date(2024, 7, 15))
    row = next(r for r in csv.reader(io.StringIO(after.lstrip("\ufeff"))) if r[0] == str(world.ind["count"]))
    assert "≥6000人" in row and "≥3000人" not in row
    assert "≥6000人" not in before
