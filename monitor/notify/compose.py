"""Which items go in which department's digest today, who gets escalation copies, and the weekly summary.

Decided from stored facts only (IndicatorState, what was notified when, acknowledgements, waivers, the
last notify run), never from "what happened yesterday in memory", so a restart or a re-run of the same day
changes nothing. `plan()` reads and decides without writing; `commit_plan()` writes each department's
digest, its outbox messages and its item log in one transaction; `dry_run` stops after `plan()`.

Rules (defaults in `[notifications]`):
- digests only on working days (chinese-calendar), at most one per department and day;
- 已逾期 / 进度滞后 / 未填报 items: when new (first time in that status), then again every `repeat_days`;
- 即将到期: on each reminder day (`lead_days` before the due date, moved back to a working day), and the first
  time an item turns due_soon;
- 本期已完成: once, when an item became met since the last run;
- acknowledged items (same status and `since` as when acknowledged) are silent; waived items are listed
  under their own heading, never dropped, and never trigger a digest by themselves;
- an overdue item `escalate_after_days` overdue or in `escalate_after_ignored` earlier digests is copied to
  the supervising department (主管部门); after the `_finance_` thresholds also to the finance bureau;
- after downtime the first run covers every reminder day missed (one catch-up digest, marked as such).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.notify import joblog
from monitor.notify.outbox import NewMessage, enqueue_many
from monitor.notify.tokens import ack_token
from monitor.store.models import (
    ANSWERABLE_CORRECTIVE_STATUSES,
    Contact,
    CorrectiveAction,
    Department,
    Indicator,
    IndicatorState,
    Project,
    ProjectState,
    Round,
    RoundSubmission,
    RoundTask,
    TargetAdjustment,
    User,
    task_overdue,
)
from monitor.store.models.notify import Acknowledgement, NotificationDigest, NotifiedItem, OutboxMessage, Waiver
from monitor.store.target_versions import adjusted_targets
from monitor.store.types import now
from notifications.render import Rendered, render_digest, render_escalation, render_round_status, render_summary
from notifications.views import (
    CorrectiveItem,
    Digest,
    Escalation,
    Item,
    RoundStatusMail,
    RoundStatusRow,
    Summary,
    SummaryRow,
    TaskItem,
    WaivedItem,
)
from rules.calendar import is_working_day, previous_working_day
from rules.evaluation import occurrence_due
from rules.formatting import count_overdue, fmt_decimal
from rules.terms import CORRECTIVE_STATUS_NAMES, OVERDUE_STATUSES, TASK_STATUS_NAMES, TASK_STATUSES

log = logging.getLogger(__name__)

SECTION_OF = {**dict.fromkeys(OVERDUE_STATUSES, "overdue"), "behind": "behind", "over_cap": "behind",
              "no_report": "no_report", "needs_grade": "no_report"}
OPEN = frozenset(SECTION_OF)
UPCOMING = frozenset({"due_soon", "not_due", "on_track"})


@dataclass
class StateRow:
    indicator_id: int
    occurrence: str
    status: str
    light: str
    actual: Decimal | None
    reason: str
    since: date | None
    indicator: str
    target: str
    unit: str | None
    project_id: int
    project: str
    department_id: int
    as_of: date

    @property
    def due(self) -> date | None:
        return occurrence_due(self.occurrence)


@dataclass
class ItemLog:
    """The NotifiedItem row to write for one item included today."""

    indicator_id: int
    occurrence: str
    status: str
    since: date | None
    times: int
    escalation_level: int
    existing_id: int | None


@dataclass
class DepartmentPlan:
    department: Department
    digest: Digest
    rendered: Rendered
    recipients: list[str]
    escalations: list[tuple[list[str], Escalation, Rendered]]
    item_logs: list[ItemLog]
    escalation_level: int

    @property
    def messages(self) -> list[NewMessage]:
        day = self.digest.day.isoformat()
        code = self.department.code
        out = [NewMessage(f"digest|{r}|{code}|{day}", [r], self.rendered.subject, self.rendered.text,
                          self.rendered.html, kind="digest", period=day, department_id=self.department.id)
               for r in self.recipients]
        for recipients, _escalation, rendered in self.escalations:
            out += [NewMessage(f"escalation|{r}|{code}|{day}", [r], rendered.subject, rendered.text, rendered.html,
                               kind="escalation", period=day, department_id=self.department.id)
                    for r in recipients]
        return out


@dataclass
class Plan:
    day: date
    working_day: bool
    window_start: date
    catch_up_from: date | None
    departments: list[DepartmentPlan] = field(default_factory=list)
    summary: tuple[list[str], Summary, Rendered] | None = None
    round_status: list[NewMessage] = field(default_factory=list)  # the bureau's status of each open round
    round_escalations: list[NewMessage] = field(default_factory=list)  # overdue 整改 / round tasks, once each
    warnings: list[str] = field(default_factory=list)

    def messages(self) -> list[NewMessage]:
        out = [m for d in self.departments for m in d.messages]
        if self.summary:
            recipients, summary, rendered = self.summary
            out += [NewMessage(f"summary|{r}|{summary.week}", [r], rendered.subject, rendered.text, rendered.html,
                               kind="summary", period=summary.week) for r in recipients]
        return out + self.round_escalations + self.round_status


def _load_states(session: Session, day: date) -> list[StateRow]:
    """Every stored state with what a digest says of it; the 指标值 quoted is the target in force on `day`
    (an approved 目标调整 replaces the imported one from its effective day)."""
    query = (sa_select(col(IndicatorState.indicator_id), col(IndicatorState.occurrence), col(IndicatorState.status),
                       col(IndicatorState.light), col(IndicatorState.actual), col(IndicatorState.reason),
                       col(IndicatorState.since), col(Indicator.name), col(Indicator.value_text), col(Indicator.unit),
                       col(Project.id), col(Project.name), col(Project.department_id), col(ProjectState.as_of))
             .join(Indicator, col(Indicator.id) == IndicatorState.indicator_id)
             .join(Project, col(Project.id) == Indicator.project_id)
             .join(ProjectState, col(ProjectState.project_id) == Project.id)  # a state's as-of is its project's
             .order_by(col(Project.department_id), col(Project.id), col(Indicator.position), col(Indicator.id),
                       col(IndicatorState.occurrence)))
    rows = [StateRow(*row) for row in session.execute(query).all()]
    adjusted = adjusted_targets(session, sa_select(col(TargetAdjustment.indicator_id)).scalar_subquery(), day)
    for row in rows:
        if row.indicator_id in adjusted:
            row.target = adjusted[row.indicator_id].text
    return rows


def last_notify_day(session: Session, before: date) -> date | None:
    """The as-of date of the latest successful notify run for a day before `before`."""
    rows = session.exec(select(joblog.JobRun)
                        .where(joblog.JobRun.job == "notify", joblog.JobRun.ok == True)  # noqa: E712 - builds SQL; "is True" would not
                        .order_by(col(joblog.JobRun.id).desc()).limit(50)).all()
    days = []
    for row in rows:
        try:
            days.append(date.fromisoformat((row.counts or {}).get("as_of", "")))
        except ValueError:
            continue
    earlier = [d for d in days if d < before]
    return max(earlier) if earlier else None


def _reminder_hit(due: date, lead_days: tuple[int, ...], start: date, day: date) -> int | None:
    """The lead (in days) whose reminder day falls in (start, day], if any."""
    for lead in sorted(lead_days):
        reminder = previous_working_day(due - timedelta(days=lead))
        if start < reminder <= day:
            return lead
    return None


def plan(session: Session, config: Config, day: date, *, force_summary: bool = False) -> Plan:
    """Decide the day's messages without writing anything; `force_summary` builds the weekly summary on any day
    (the demo shows one)."""
    cfg = config.notifications
    working = is_working_day(day)
    last = last_notify_day(session, day)
    window_start = day - timedelta(days=1)
    catch_up_from = None
    if last is not None:
        window_start = max(min(last, day - timedelta(days=1)), day - timedelta(days=cfg.catch_up_max_days))
        missed = [window_start + timedelta(days=i) for i in range(1, (day - window_start).days)]
        if any(is_working_day(d) for d in missed):
            catch_up_from = window_start + timedelta(days=1)
    result = Plan(day, working, window_start, catch_up_from)
    if not cfg.enabled or not (working or force_summary):
        return result

    base = _portal_base(config)
    departments = {d.id: d for d in session.exec(select(Department)).all()}
    contacts: dict[int, list[Contact]] = defaultdict(list)
    for contact in session.exec(select(Contact).where(Contact.active == True)).all():  # noqa: E712 - builds SQL; "is True" would not
        contacts[contact.department_id].append(contact)
    logs = {(n.indicator_id, n.occurrence, n.status): n for n in session.exec(select(NotifiedItem)).all()}
    acks: dict[tuple[int, str], Acknowledgement] = {}
    for ack in session.exec(select(Acknowledgement).order_by(col(Acknowledgement.id))).all():
        acks[(ack.indicator_id, ack.occurrence)] = ack
    waivers = session.exec(select(Waiver).where(Waiver.until >= day, col(Waiver.revoked_at).is_(None))).all()
    waived_projects = {w.project_id: w for w in waivers if w.project_id is not None}
    waived_indicators = {w.indicator_id: w for w in waivers if w.indicator_id is not None}
    done_today = {d for (d,) in session.execute(
        sa_select(col(NotificationDigest.department_id)).where(col(NotificationDigest.day) == day)).all()}

    by_department: dict[int, list[StateRow]] = defaultdict(list)
    evaluated: dict[date, int] = defaultdict(int)
    for row in _load_states(session, day):
        by_department[row.department_id].append(row)
        evaluated[row.as_of] += 1
    result.warnings += stale_lights_warnings(evaluated, day)
    tasks = round_task_items(session, day, window_start, config, base)
    finance = [d for d in departments.values() if d.is_finance_bureau]
    finance_addresses = sorted({a for f in finance for a in _addresses(contacts[_department_id(f)], cfg.finance_roles)})
    escalations_due, escalated_ids = round_escalations(session, day, config, base, contacts, finance,
                                                       finance_addresses)
    correctives = corrective_items(session, day, window_start, config, base, escalated_ids)
    if working:  # queued whether or not the department's digest has anything else to say today
        result.round_escalations = [m for messages in escalations_due.values() for m in messages]
    extra = sorted((set(tasks) | set(correctives)) - set(by_department))
    for department_id in list(by_department) + extra if working else ():
        rows = by_department.get(department_id, [])
        department = departments[department_id]
        if department_id in done_today:
            continue
        try:
            dept_plan = _plan_department(department, rows, day, window_start, catch_up_from, config, base, logs,
                                         acks, waived_projects, waived_indicators, tasks.get(department_id, []),
                                         correctives.get(department_id, []))
        except Exception as exc:
            log.exception("notify: department %s skipped", department.code)
            result.warnings.append(f"{department.name}（{department.code}）跳过：{type(exc).__name__}: {exc}")
            continue
        if dept_plan is None:
            continue
        digest, item_logs, escalated = dept_plan
        recipients = _addresses(contacts[department_id], cfg.digest_roles)
        if not recipients:
            result.warnings.append(f"{department.name}（{department.code}）没有接收提醒的联系人")
        escalations = _escalations(department, _group_occurrences(escalated), departments, finance, contacts,
                                   config, day, base)
        level = max((it.escalation_level for it in escalated), default=0)
        result.departments.append(DepartmentPlan(department, digest, render_digest(digest), recipients, escalations,
                                                 item_logs, level))
    planned = {_department_id(d.department) for d in result.departments}
    result.summary = _plan_summary(session, config, day, departments, contacts, by_department, acks, base, planned,
                                   force_summary)
    if force_summary or summary_due(day, cfg.summary_weekday):
        result.round_status = round_status_messages(session, day, finance_addresses, base)
    return result


def stale_lights_warnings(evaluated: dict[date, int], day: date) -> list[str]:
    """Digests are built from the stored lights; lights of another day would be mailed under this day's date."""
    return [f"{n}条指标状态是{as_of.isoformat()}的评估结果，不是{day.isoformat()}的：邮件按那天的红黄绿灯写成；"
            f"请先运行 kpiwatch evaluate --as-of {day.isoformat()}"
            for as_of, n in sorted(evaluated.items()) if as_of != day]


def _department_id(department: Department) -> int:
    """The id of a department read from the database (every one here was)."""
    assert department.id is not None
    return department.id


def _portal_base(config: Config) -> str:
    portal = getattr(config, "portal", None)
    return (getattr(portal, "base_url", None) or "http://127.0.0.1:8000").rstrip("/")


def _addresses(contacts: list[Contact], roles: tuple[str, ...]) -> list[str]:
    seen: dict[str, None] = {}
    for contact in sorted(contacts, key=lambda c: (roles.index(c.role) if c.role in roles else 99, c.id or 0)):
        if contact.role in roles and contact.email:
            seen.setdefault(contact.email.strip().lower(), None)
    return list(seen)


def round_task_items(session: Session, day: date, window_start: date, config: Config, base: str
                     ) -> dict[int, list[TaskItem]]:
    """The round tasks each department's digest lists today: a task of an open round not yet submitted, on its
    reminder days before the due date (`lead_days`), on its first overdue day and every `repeat_days` after, and
    on the first digest after the day the bureau returned it. Decided from the stored rows and the day alone, like the
    indicators, so a re-run of the day lists the same tasks; they ride in the one digest, never a second mail."""
    cfg = config.notifications
    out: dict[int, list[TaskItem]] = defaultdict(list)
    query = (select(RoundTask, Round).join(Round, col(Round.id) == RoundTask.round_id)
             .where(col(Round.status) == "open", col(RoundTask.status).in_(("pending", "returned")))
             .order_by(col(Round.due), col(RoundTask.id)))
    window = [window_start + timedelta(days=i) for i in range(1, (day - window_start).days + 1)]
    for task, round_ in session.exec(query).all():
        due = round_.due
        returned = (task.status == "returned" and task.updated_at is not None
                    and window_start <= task.updated_at.date() < day)  # once: the digest after the return's day
        late = [(d - due).days for d in window if d > due]
        overdue_hit = any((n - 1) % max(cfg.repeat_days, 1) == 0 for n in late)
        reminder = due >= day and _reminder_hit(due, cfg.lead_days, window_start, day) is not None
        if not (returned or overdue_hit or reminder):
            continue
        out[task.department_id].append(TaskItem(
            round_.title(), TASK_STATUS_NAMES[task.status], due, f"{base}/rounds/tasks/{task.id}",
            days_left=(due - day).days if due >= day else None,
            days_overdue=(day - due).days if day > due else None, returned=returned))
    return out


def corrective_items(session: Session, day: date, window_start: date, config: Config, base: str,
                     escalated: set[int]) -> dict[int, list[CorrectiveItem]]:
    """The 整改 each department's digest lists today, still waiting for its answer: the first digest after the
    bureau issued or reopened it, its reminder days before the due date (`lead_days`), its first overdue day and
    every `repeat_days` after, and the day it is escalated. Decided from the stored rows and the day alone, as
    for round tasks; they ride in the one digest."""
    cfg = config.notifications
    out: dict[int, list[CorrectiveItem]] = defaultdict(list)
    query = (select(CorrectiveAction, Project.name, Indicator.name)
             .join(Project, col(Project.id) == CorrectiveAction.project_id)
             .outerjoin(Indicator, col(Indicator.id) == CorrectiveAction.indicator_id)
             .where(col(CorrectiveAction.status).in_(ANSWERABLE_CORRECTIVE_STATUSES))
             .order_by(col(CorrectiveAction.due), col(CorrectiveAction.id)))
    window = [window_start + timedelta(days=i) for i in range(1, (day - window_start).days + 1)]
    for action, project, indicator in session.exec(query).all():
        due = action.due
        changed = action.decided_at if action.status == "reopened" else action.issued_at
        fresh = changed is not None and window_start <= changed.date() < day
        late = [(d - due).days for d in window if d > due]
        overdue_hit = any((n - 1) % max(cfg.repeat_days, 1) == 0 for n in late)
        reminder = due >= day and _reminder_hit(due, cfg.lead_days, window_start, day) is not None
        if not (fresh or overdue_hit or reminder or action.id in escalated):
            continue
        out[action.department_id].append(CorrectiveItem(
            project, indicator, action.requirement, CORRECTIVE_STATUS_NAMES[action.status], due,
            f"{base}/corrective#action-{action.id}", days_left=(due - day).days if due >= day else None,
            days_overdue=action.days_overdue(day), escalated=action.id in escalated))
    return out


def _escalated_keys(session: Session) -> set[str]:
    """The (kind, id, due) of every round escalation already in the outbox: once queued, never planned again."""
    keys = session.execute(sa_select(col(OutboxMessage.dedup_key)).where(
        col(OutboxMessage.kind) == "escalation", col(OutboxMessage.dedup_key).like("round-escalation|%"))).all()
    return {"|".join(key.split("|")[2:]) for (key,) in keys}


def round_escalations(session: Session, day: date, config: Config, base: str, contacts: dict,
                      finance: list[Department], finance_addresses: list[str]
                      ) -> tuple[dict[int, list[NewMessage]], set[int]]:
    """Each 整改 unanswered, and each round task unsubmitted, `[rounds] escalate_after_days` after its due date
    is copied ONCE to the bureau's performance office and the department's head: one message per item and
    recipient whose dedup key names the item and its due date, not the day, so a re-run or any later day finds
    it queued and adds nothing (a reopened 整改 with a new due date may escalate once more). Returns the messages
    by department and the ids of the 整改 escalated today."""
    threshold = config.rounds.escalate_after_days
    already = _escalated_keys(session)
    out: dict[int, list[NewMessage]] = defaultdict(list)
    escalated: set[int] = set()
    bureau = finance[0].name if finance else "财政局"
    pending: list[tuple[int, str, Item]] = []
    query = (select(CorrectiveAction, Project.name, Indicator.name)
             .join(Project, col(Project.id) == CorrectiveAction.project_id)
             .outerjoin(Indicator, col(Indicator.id) == CorrectiveAction.indicator_id)
             .where(col(CorrectiveAction.status).in_(ANSWERABLE_CORRECTIVE_STATUSES)))
    for action, project, indicator in session.exec(query).all():
        late = action.days_overdue(day)
        key = f"corrective|{action.id}|{action.due.isoformat()}"
        if late is None or late < threshold or key in already:
            continue
        escalated.add(stored_id_of(action))
        pending.append((action.department_id, key, Item(
            project, indicator or "整改", action.requirement, CORRECTIVE_STATUS_NAMES[action.status],
            f"整改期限{action.due.month}月{action.due.day}日，逾期{late}天仍未答复整改结果",
            f"{base}/corrective#action-{action.id}", due=action.due, days_overdue=late, note="整改事项",
            escalation_level=2)))
    tasks = (select(RoundTask, Round).join(Round, col(Round.id) == RoundTask.round_id)
             .where(col(Round.status) == "open"))
    for task, round_ in session.exec(tasks).all():
        key = f"task|{task.id}|{round_.due.isoformat()}"
        late = (day - round_.due).days
        if not task_overdue(round_, task, day) or late < threshold or key in already:
            continue
        pending.append((task.department_id, key, Item(
            round_.title(), "填报任务", "按期上报", TASK_STATUS_NAMES[task.status],
            f"报送截止{round_.due.month}月{round_.due.day}日，逾期{late}天仍未上报", f"{base}/rounds/tasks/{task.id}",
            due=round_.due, days_overdue=late, note="填报任务", escalation_level=2)))
    departments = {_department_id(d): d for d in session.exec(select(Department)).all()}
    for department_id, key, item in pending:
        department = departments[department_id]
        heads = _addresses(contacts[department_id], config.rounds.escalate_to_roles)
        view = Escalation(department.name, bureau, day, 2, [item], threshold, base)
        to_bureau = render_escalation(view)
        to_head = render_escalation(replace(view, addressee=f"{department.name}负责人"))
        copies = [(r, to_bureau) for r in finance_addresses]
        copies += [(r, to_head) for r in heads if r not in finance_addresses]
        out[department_id] += [NewMessage(f"round-escalation|{r}|{key}", [r], rendered.subject, rendered.text,
                                          rendered.html, kind="escalation", period=day.isoformat(),
                                          department_id=department_id) for r, rendered in dict(copies).items()]
    return out, escalated


def stored_id_of(action: CorrectiveAction) -> int:
    """The id of a 整改 read from the database (every one here was)."""
    assert action.id is not None
    return action.id


def round_status_messages(session: Session, day: date, recipients: list[str], base: str) -> list[NewMessage]:
    """The bureau's status of each open round by department, with the weekly summary: one message per round and
    recipient whose dedup key names the day, so it goes out at most once a day whatever re-runs."""
    if not recipients:
        return []
    departments = {_department_id(d): d for d in session.exec(select(Department)).all()}
    out = []
    for round_ in session.exec(select(Round).where(Round.status == "open").order_by(col(Round.id))).all():
        tasks = list(session.exec(select(RoundTask).where(RoundTask.round_id == round_.id)))
        submitted: dict[int, int] = defaultdict(int)
        for (task_id,) in session.execute(sa_select(col(RoundSubmission.task_id)).where(
                col(RoundSubmission.task_id).in_([t.id for t in tasks] or [-1]))).all():
            submitted[task_id] += 1
        counts = {TASK_STATUS_NAMES[s]: sum(1 for t in tasks if t.status == s) for s in TASK_STATUSES}
        counts["逾期"] = sum(1 for t in tasks if task_overdue(round_, t, day))
        rows = sorted((RoundStatusRow(f"{departments[t.department_id].code} {departments[t.department_id].name}",
                                      TASK_STATUS_NAMES[t.status], task_overdue(round_, t, day),
                                      submitted.get(t.id or 0, 0)) for t in tasks), key=lambda r: r.department)
        mail = RoundStatusMail(round_.title(), day, round_.due, counts, rows, f"{base}/rounds/{round_.id}", base)
        rendered = render_round_status(mail)
        out += [NewMessage(f"round-status|{r}|{round_.id}|{day.isoformat()}", [r], rendered.subject, rendered.text,
                           rendered.html, kind="round_status", period=day.isoformat()) for r in recipients]
    return out


def _plan_department(department: Department, rows: list[StateRow], day: date, window_start: date,
                     catch_up_from: date | None, config: Config, base: str,
                     logs: dict[tuple[int, str, str], NotifiedItem], acks: dict[tuple[int, str], Acknowledgement],
                     waived_projects: dict[int, Waiver], waived_indicators: dict[int, Waiver],
                     tasks: list[TaskItem] | None = None, correctives: list[CorrectiveItem] | None = None):
    cfg = config.notifications
    sections: dict[str, list[Item]] = defaultdict(list)
    waived: list[WaivedItem] = []
    waived_seen: set[tuple] = set()
    item_logs: list[ItemLog] = []
    escalated: list[Item] = []
    quiet = acknowledged = 0
    for row in rows:
        waiver = waived_indicators.get(row.indicator_id) or waived_projects.get(row.project_id)
        relevant = row.status in OPEN or row.status in UPCOMING or row.status == "met"
        if waiver is not None:
            key = (waiver.id, row.indicator_id)
            if relevant and row.status not in ("met", "not_due", "on_track") and key not in waived_seen:
                waived_seen.add(key)
                waived.append(WaivedItem(row.project, row.indicator, waiver.until, waiver.reason))
            continue
        ack = acks.get((row.indicator_id, row.occurrence))
        if ack is not None and ack.status == row.status and ack.since == row.since:
            if row.status in OPEN or row.status == "due_soon":
                acknowledged += 1
            continue
        entry = logs.get((row.indicator_id, row.occurrence, row.status))
        # the log of this status' earlier notifications, unless the status began anew since (then fresh)
        earlier = entry if entry is not None and entry.since == row.since else None
        fresh = earlier is None
        due = row.due
        link = f"{base}/projects/{row.project_id}#ind-{row.indicator_id}"
        token = ack_token(config, row.indicator_id, row.occurrence, row.status, row.since, _department_id(department))
        ack_link = f"{base}/notify/ack/{token}" if token else None
        latest = "未填报" if row.actual is None else fmt_decimal(row.actual, row.unit)

        if row.status in OPEN:
            if earlier is not None and (day - earlier.last_notified_on).days < cfg.repeat_days:
                quiet += 1
                continue
            times = 1 if earlier is None else earlier.times + 1
            ignored = 0 if earlier is None else earlier.times
            days_overdue = None
            level = 0
            note = "" if earlier is None else f"第{times}次提醒"
            if SECTION_OF[row.status] == "overdue":
                start = due or row.since
                days_overdue = max(0, (day - start).days) if start else 0
                if days_overdue >= cfg.escalate_finance_after_days or ignored >= cfg.escalate_finance_after_ignored:
                    level = 2
                elif days_overdue >= cfg.escalate_after_days or ignored >= cfg.escalate_after_ignored:
                    level = 1
                if level:
                    note = "；".join(filter(None, [note, "已抄送主管部门" if level == 1 else "已抄送主管部门及财政局"]))
            item = Item(row.project, row.indicator, row.target, latest, row.reason, link, due=due,
                        days_overdue=days_overdue, ack_link=ack_link, note=note, escalation_level=level)
            sections[SECTION_OF[row.status]].append(item)
            if level:
                escalated.append(item)
            item_logs.append(ItemLog(row.indicator_id, row.occurrence, row.status, row.since, times, level,
                                     None if entry is None else entry.id))
        elif row.status in UPCOMING and due is not None and due >= day:
            lead = _reminder_hit(due, cfg.lead_days, window_start, day)
            first_due_soon = row.status == "due_soon" and fresh
            if lead is None and not first_due_soon:
                continue
            times = 1 if earlier is None else earlier.times + 1
            item = Item(row.project, row.indicator, row.target, latest, row.reason, link, due=due,
                        days_left=(due - day).days, ack_link=ack_link)
            sections["due_soon"].append(item)
            item_logs.append(ItemLog(row.indicator_id, row.occurrence, row.status, row.since, times, 0,
                                     None if entry is None else entry.id))
        elif (row.status == "met" and fresh and row.since is not None and row.since > window_start
              and (due is None or (day - due).days <= cfg.repeat_days
                   or any((row.indicator_id, row.occurrence, st) in logs for st in OPEN))):
            sections["done"].append(Item(row.project, row.indicator, row.target, latest, row.reason, link, due=due))
            item_logs.append(ItemLog(row.indicator_id, row.occurrence, row.status, row.since, 1, 0,
                                     None if entry is None else entry.id))
    if not any(sections.values()) and not tasks and not correctives:
        return None
    overdue = count_overdue(_indicator_of(item) for item in sections.get("overdue", []))  # before grouping
    sections = {key: _group_occurrences(items) for key, items in sections.items()}
    digest = Digest(department.name, day, sections, base, lead_days=max(cfg.lead_days, default=7),
                    waived=waived, quiet_open=quiet, acknowledged=acknowledged, catch_up_from=catch_up_from,
                    overdue_periods=overdue.periods, tasks=list(tasks or []), correctives=list(correctives or []))
    return digest, item_logs, escalated


def _indicator_of(item: Item) -> tuple[str, str, str]:
    """Which indicator an item is about (its report link names it): the periods of one indicator group to one."""
    return item.project, item.indicator, item.link


def _group_occurrences(items: list[Item]) -> list[Item]:
    """One line per indicator: a monthly task overdue for six months is one item naming six due dates, not six
    items (the flood that gets digests ignored)."""
    groups: dict[tuple[str, str, str], list[Item]] = {}
    for item in items:
        groups.setdefault(_indicator_of(item), []).append(item)
    out = []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        group.sort(key=lambda it: it.due or date.min)
        latest = group[-1]
        overdue = [it.days_overdue for it in group if it.days_overdue is not None]
        shown = group[0] if overdue else latest  # the occurrence whose due date the item names
        dues = "、".join(f"{it.due.month}月{it.due.day}日" for it in group if it.due)
        notes = [f"共{len(group)}期（{dues}）"] + sorted({it.note for it in group if it.note})
        left = [it.days_left for it in group if it.days_left is not None]
        out.append(Item(latest.project, latest.indicator, latest.target, latest.latest, shown.reason, latest.link,
                        due=shown.due, days_overdue=max(overdue) if overdue else None,
                        days_left=min(left) if left else None, ack_link=latest.ack_link, note="；".join(notes),
                        escalation_level=max(it.escalation_level for it in group)))
    return out


def _escalations(department: Department, escalated: list[Item], departments: dict, finance: list[Department],
                 contacts: dict, config: Config, day: date, base: str):
    if not escalated:
        return []
    cfg = config.notifications
    out = []
    parent = departments.get(department.parent_id) if department.parent_id not in (None, department.id) else None
    level1 = [it for it in escalated if it.escalation_level >= 1]
    level2 = [it for it in escalated if it.escalation_level >= 2]
    finance_addresses = sorted({a for f in finance for a in _addresses(contacts[f.id], cfg.finance_roles)})
    if parent is not None and level1:
        addresses = _addresses(contacts[parent.id], cfg.escalation_roles)
        view = Escalation(department.name, parent.name, day, 1, level1, cfg.escalate_after_days, base)
        if addresses:
            out.append((addresses, view, render_escalation(view)))
    finance_items = level2 if parent is not None else level1
    if finance_items and finance_addresses:
        name = finance[0].name if finance else ""
        threshold = cfg.escalate_finance_after_days if parent is not None else cfg.escalate_after_days
        view = Escalation(department.name, name, day, 2, finance_items, threshold, base)
        already = {a for addresses, _v, _r in out for a in addresses}
        addresses = [a for a in finance_addresses if a not in already]
        if addresses:
            out.append((addresses, view, render_escalation(view)))
    return out


def summary_due(day: date, weekday: int) -> bool:
    """The first working day on or after `weekday` (ISO, 1 = Monday) in `day`'s week."""
    if not is_working_day(day) or day.isoweekday() < weekday:
        return False
    monday = day - timedelta(days=day.isoweekday() - 1)
    first = monday + timedelta(days=weekday - 1)
    return not any(is_working_day(first + timedelta(days=i)) for i in range((day - first).days))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}年第{week}周"


def _plan_summary(session: Session, config: Config, day: date, departments: dict, contacts: dict,
                  by_department: dict, acks: dict, base: str, planned_today: set[int], force: bool = False):
    cfg = config.notifications
    if not force and not summary_due(day, cfg.summary_weekday):
        return None
    finance = [d for d in departments.values() if d.is_finance_bureau]
    recipients = sorted({a for f in finance for a in _addresses(contacts[f.id], cfg.finance_roles)})
    if not recipients:
        return None
    week_start = day - timedelta(days=7)
    digests: dict[int, int] = defaultdict(int)
    for (department_id,) in session.execute(sa_select(col(NotificationDigest.department_id))
                                            .where(col(NotificationDigest.day) > week_start,
                                                   col(NotificationDigest.day) < day)).all():
        digests[department_id] += 1
    for department_id in planned_today:
        digests[department_id] += 1
    cutoff = now() - timedelta(days=cfg.inactive_login_days)
    inactive: dict[int, list[str]] = defaultdict(list)
    users = select(User).where(col(User.department_id).is_not(None),
                               User.disabled == False)  # noqa: E712 - builds SQL; "is False" would not
    for user in session.exec(users).all():
        assert user.department_id is not None  # the query asks for users of a department
        last = user.last_login_at
        if last is None or last < cutoff:
            inactive[user.department_id].append(user.display_name or user.username)
    rows = []
    listed = {d.id for d in departments.values() if not d.is_finance_bureau} | set(by_department)
    for department_id in sorted(listed, key=lambda i: departments[i].code):
        states = by_department.get(department_id, [])
        lights: dict[str, int] = defaultdict(int)
        for state in states:
            lights[state.light] += 1
        rows.append(SummaryRow(
            departments[department_id].name, dict(lights),
            overdue=count_overdue(s.indicator_id for s in states if s.status in OVERDUE_STATUSES),
            unreported=sum(1 for s in states if s.status == "no_report"),
            acknowledged=sum(1 for s in states if (a := acks.get((s.indicator_id, s.occurrence))) is not None
                             and a.status == s.status and a.since == s.since),
            digests=digests.get(department_id, 0),
            inactive_users=sorted(inactive.get(department_id, []))))
    failed = session.execute(sa_select(col(OutboxMessage.id)).where(col(OutboxMessage.status) == "failed")).all()
    summary = Summary(iso_week(day), day, rows, staleness_warnings(session, config), len(failed), base)
    return recipients, summary, render_summary(summary)


def staleness_warnings(session: Session, config: Config, *, english: bool = False) -> list[str]:
    """Self-monitoring: say so when evaluation or sending has not succeeded recently (in English for the
    portal's English page; emails and the CLI are Chinese)."""
    limit = timedelta(hours=config.notifications.stale_hours)
    current = now()
    warnings = []
    evaluation = joblog.last_evaluation(session)
    send = joblog.last_success(session, "send")
    checks = [("评估", evaluation.finished_at if evaluation else None),
              ("邮件发送", send.finished_at if send else None)]
    hours = config.notifications.stale_hours
    for (name, moment), name_en in zip(checks, ("Evaluation", "Sending email"), strict=True):
        if moment is None:
            warnings.append(f"{name_en} has never succeeded" if english else f"{name}从未成功运行")
        elif current - moment > limit:
            warnings.append(f"{name_en} last succeeded at {moment:%Y-%m-%d %H:%M}, more than {hours} hours ago"
                            if english else f"{name}最近一次成功是{moment:%Y-%m-%d %H:%M}，已超过{hours}小时")
    return warnings


def commit_plan(engine: Engine, config: Config, result: Plan) -> dict:
    """Write each department's digest record, item log and outbox messages in one transaction each."""
    counts = {"departments": 0, "messages": 0, "escalations": 0, "skipped": 0, "summary": 0}
    sender = config.smtp.sender
    unsubscribe = config.notifications.list_unsubscribe
    for dept_plan in result.departments:
        try:
            with Session(engine) as session:
                session.add(NotificationDigest(department_id=_department_id(dept_plan.department), day=result.day,
                                               catch_up=result.catch_up_from is not None,
                                               escalation_level=dept_plan.escalation_level,
                                               counts={k: len(v) for k, v in dept_plan.digest.sections.items()},
                                               created_at=now()))
                session.flush()
                for item in dept_plan.item_logs:
                    _write_item_log(session, item, result.day)
                counts["messages"] += enqueue_many(session, dept_plan.messages, sender=sender,
                                                   list_unsubscribe=unsubscribe)
                session.commit()
            counts["departments"] += 1
            counts["escalations"] += sum(len(a) for a, _v, _r in dept_plan.escalations)
        except IntegrityError:
            counts["skipped"] += 1  # another run built this department's digest for the day first
        except Exception as exc:
            log.exception("notify: writing the digest of %s failed", dept_plan.department.code)
            result.warnings.append(f"{dept_plan.department.name}：写入失败 {type(exc).__name__}: {exc}")
            counts["skipped"] += 1
    if result.round_escalations or result.round_status:
        with Session(engine) as session:
            counts["round_escalations"] = enqueue_many(session, result.round_escalations, sender=sender,
                                                       list_unsubscribe=unsubscribe)
            counts["round_status"] = enqueue_many(session, result.round_status, sender=sender,
                                                  list_unsubscribe=unsubscribe)
            session.commit()
    if result.summary is not None:
        with Session(engine) as session:
            recipients, summary, rendered = result.summary
            counts["summary"] = enqueue_many(session, [m for m in result.messages() if m.kind == "summary"],
                                             sender=sender, list_unsubscribe=unsubscribe)
            session.commit()
    return {"as_of": result.day.isoformat()} | counts


def _write_item_log(session: Session, item: ItemLog, day: date) -> None:
    if item.existing_id is not None:
        row = session.get(NotifiedItem, item.existing_id)
        assert row is not None  # plan() read it; item logs are never deleted
        row.since = item.since
        row.last_notified_on = day
        row.times = item.times
        row.escalation_level = item.escalation_level
        if item.times == 1:
            row.first_notified_on = day
    else:
        row = NotifiedItem(indicator_id=item.indicator_id, occurrence=item.occurrence, status=item.status,
                           since=item.since, first_notified_on=day, last_notified_on=day, times=item.times,
                           escalation_level=item.escalation_level)
    session.add(row)


def run_notify(engine: Engine, config: Config, day: date | None = None, *, log: bool = True) -> tuple[Plan, dict]:
    """Plan a day's digests and queue them (sending is the sender's work). `log=False` when the scheduler's
    runner already writes the JobRun row."""
    day = day or now().date()
    if not log:
        return _run_notify(engine, config, day)
    with joblog.job_run(engine, "notify") as run:
        result, run.counts = _run_notify(engine, config, day)
    return result, run.counts


def _run_notify(engine: Engine, config: Config, day: date) -> tuple[Plan, dict]:
    with Session(engine) as session:
        result = plan(session, config, day)
    if not result.working_day:
        return result, {"as_of": day.isoformat(), "skipped": "非工作日"}
    counts = commit_plan(engine, config, result)
    counts["catch_up_from"] = result.catch_up_from.isoformat() if result.catch_up_from else None
    if result.warnings:
        counts["warnings"] = result.warnings[:50]
    return result, counts
