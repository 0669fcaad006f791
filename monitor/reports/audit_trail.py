"""The audit trail as an auditor reads it: names instead of ids, one sentence per change, filters and pages.

The store keeps each event as recorded (who, when, through which channel, before and after as JSON); this module
only reads. Every event becomes one `TrailRow`: its department, project and indicator by name, and a sentence —
谁 何时 经由 哪个渠道 把 哪个项目的哪个指标 从 … 改为 … — in Chinese or in English, never both. The same rows feed the
portal page, the CSV and the Excel export, so what an auditor downloads is what they saw.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.progress.adjustments import flag_in
from monitor.spreadsheets.cells import csv_row, put
from monitor.store.models import AuditEvent, Department, Indicator, Project, Report, Spending, User
from rules.calendar import SHANGHAI
from rules.terms import (
    ADJUSTMENT_STATUS_NAMES,
    ADJUSTMENT_STATUS_NAMES_EN,
    CHANNEL_NAMES,
    CHANNEL_NAMES_EN,
    ROUND_KIND_NAMES,
    ROUND_KIND_NAMES_EN,
)

ENTITIES = ("report", "spending", "indicator", "project", "user", "token", "setting", "target_adjustment")
ENTITY_NAMES = {"report": ("填报", "report"), "spending": ("支出", "spending"), "indicator": ("指标", "indicator"),
                "project": ("项目", "project"), "user": ("用户", "user"), "token": ("令牌", "token"),
                "setting": ("设置", "setting"), "session": ("登录会话", "sign-in session"),
                "round": ("填报轮次", "round"), "roundtask": ("轮次任务", "round task"),
                "budget_adjustment": ("预算调整", "budget adjustment"), "weights": ("分值/权重", "weights"),
                "target_adjustment": ("目标调整", "target adjustment"), "corrective": ("整改", "corrective action")}
ACTION_NAMES = {"report": ("填报", "reported"), "correct": ("更正", "corrected"), "create": ("新增", "created"),
                "update": ("修改", "changed"), "change": ("修改", "changed"), "delete": ("删除", "deleted"),
                "disable": ("停用", "disabled"), "lock": ("锁定", "locked"), "revoke": ("吊销", "revoked"),
                "set_password": ("重设密码", "reset the password of"), "login": ("登录", "signed in to"),
                "logout": ("退出", "signed out of"), "open": ("发起", "opened"), "close": ("关闭", "closed"),
                "review": ("审核", "reviewed"), "submit": ("上报", "submitted"), "set_role": ("更改角色", "changed"),
                "weights": ("修改分值", "changed the weights of"), "login_failed": ("登录失败", "failed to sign in to"),
                "request": ("申请", "requested"), "approve": ("批准", "approved"), "reject": ("驳回", "rejected"),
                "issue": ("发起", "issued"), "answer": ("答复", "answered"), "accept": ("验收", "accepted"),
                "reopen": ("重新整改", "reopened")}
# Codes stored in a round's record, by name.
CODE_NAMES = {kind: (ROUND_KIND_NAMES[kind], ROUND_KIND_NAMES_EN[kind]) for kind in ROUND_KIND_NAMES} | {
    "open": ("进行中", "open"), "closed": ("已关闭", "closed"), "all": ("全部项目", "all projects"),
    "focus": ("重点监控项目", "focus projects")} | {
    status: (ADJUSTMENT_STATUS_NAMES[status], ADJUSTMENT_STATUS_NAMES_EN[status]) for status in ADJUSTMENT_STATUS_NAMES}
# Who acted when no person did.
ACTOR_NAMES = {"system": ("系统", "the system"), "anonymous": ("匿名", "someone unknown"), "demo": ("演示", "the demo")}
# Channels of events that no report comes through (the report channels are in rules.terms).
OTHER_CHANNELS = {"import": ("导入", "an import"), "config": ("配置", "the settings"), "email": ("邮件", "an email"),
                  "system": ("系统", "the system"), "scheduler": ("定时任务", "the scheduler")}
FIELD_NAMES = {
    "value": ("数值", "value"), "as_of": ("截至日期", "as-of date"), "occurrence_due": ("完成期次", "occurrence"),
    "completed_on": ("完成日期", "completed on"), "grade": ("评价等级", "grade"),
    "explanation": ("情况说明", "explanation"),
    "forecast": ("全年预计", "forecast"), "forecast_text": ("全年预计", "forecast"),
    "deviation_causes": ("偏差原因", "deviation causes"), "likelihood": ("完成可能性", "likelihood"),
    "note": ("备注", "note"), "amount": ("执行数（元）", "spending (yuan)"), "value_text": ("指标值", "target"),
    "name": ("名称", "name"), "weight": ("权重", "weight"), "role": ("角色", "role"), "active": ("有效", "active"),
    "display_name": ("姓名", "name"),
    "indicators": ("指标数", "indicators"), "kind": ("类型", "kind"), "year": ("年度", "year"),
    "through_month": ("数据截至月份", "data through month"), "due": ("报送截止日期", "due date"),
    "status": ("状态", "status"), "selection": ("范围", "selection"), "address": ("地址", "address"),
    "departments": ("部门", "departments"), "scope": ("项目范围", "scope"),
    "large_funds": ("大额资金标准", "large funds"),
    "large_funds_yuan": ("大额资金标准（元）", "large funds from (yuan)"),
    "quantity_deviation_percent": ("数量指标偏差阈值（%）", "quantity deviation threshold (%)"),
    "verdict": ("审核结论", "verdict"), "comment": ("意见", "comment"), "version": ("版本", "version"),
    "reason": ("原因", "reason"), "previous_text": ("原指标值", "target before"),
    "decision_note": ("审批意见", "decision note"), "effective_on": ("调整日期", "effective on"),
    "source": ("资金来源", "fund source"),
    "fiscal": ("其中：财政拨款", "of which fiscal"), "other": ("其中：其他资金", "of which other funds"),
    "carryover": ("其中：上年结转", "of which carried over"), "disabled": ("停用", "disabled"),
    "email": ("邮箱", "email"), "username": ("用户名", "username"), "levels": ("一级分值", "level points"),
    "tasks": ("任务数", "tasks"),
}
BOOKKEEPING = {"id", "revision", "supersedes_id", "channel", "indicator_id", "project_id", "created_at",
               "department_id", "user_id", "task_id", "round_id", "opened_by", "opened_at", "closed_by", "closed_at"}
EXPORT_HEADERS = {"zh": ("编号", "时间", "操作人", "渠道", "操作", "部门", "项目", "指标", "说明", "附注"),
                  "en": ("No.", "When", "By", "Channel", "Action", "Department", "Project", "Indicator",
                         "What happened", "Remark")}


@dataclass(frozen=True)
class TrailFilter:
    since: date | None = None
    until: date | None = None
    actor: str | None = None
    department_id: int | None = None
    project_id: int | None = None
    entity: str | None = None


@dataclass
class TrailRow:
    event_id: int
    at: datetime | None
    actor: str
    channel: str
    action: str
    department: str
    project: str
    indicator: str
    sentence: str
    project_id: int | None = None
    note: str = ""


@dataclass
class TrailPage:
    rows: list[TrailRow]
    total: int
    page: int
    per_page: int
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(1, -(-self.total // self.per_page))


def read_trail(session: Session, where: TrailFilter, *, lang: str = "zh", page: int = 1,
               per_page: int | None = 50) -> TrailPage:
    """The events matching `where`, newest first, as readable rows; one page of them unless `per_page` is None."""
    query = select(AuditEvent)
    for condition in _conditions(where):
        query = query.where(condition)
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if where.project_id is None and per_page is not None:
        count = select(func.count()).select_from(AuditEvent)
        for condition in _conditions(where):
            count = count.where(condition)
        total = session.exec(count).one()
        page = min(max(page, 1), max(1, -(-total // per_page)))
        events = session.exec(query.offset((page - 1) * per_page).limit(per_page)).all()
        return TrailPage(_rows(session, events, lang), total, page, per_page)
    rows = _rows(session, session.exec(query).all(), lang)
    if where.project_id is not None:  # the project is read from each event's before/after, not a column
        rows = [row for row in rows if row.project_id == where.project_id]
    if per_page is None:
        return TrailPage(rows, len(rows), 1, max(len(rows), 1))
    page = min(max(page, 1), max(1, -(-len(rows) // per_page)))
    return TrailPage(rows[(page - 1) * per_page:page * per_page], len(rows), page, per_page)


def _conditions(where: TrailFilter) -> list[Any]:
    conditions: list[Any] = []
    if where.since is not None:
        conditions.append(col(AuditEvent.at) >= datetime.combine(where.since, time(), SHANGHAI))
    if where.until is not None:
        conditions.append(col(AuditEvent.at) < datetime.combine(where.until + timedelta(days=1), time(), SHANGHAI))
    if where.actor:
        conditions.append(col(AuditEvent.actor) == where.actor)
    if where.department_id is not None:
        conditions.append(col(AuditEvent.department_id) == where.department_id)
    if where.entity:
        conditions.append(col(AuditEvent.entity) == where.entity)
    return conditions


class _Names:
    """Every name the events refer to, read in a few queries for the whole page."""

    def __init__(self, session: Session, events: Sequence[AuditEvent]) -> None:
        indicator_ids = {_ref(e, "indicator_id") for e in events} | {e.entity_id for e in events
                                                                      if e.entity == "indicator"}
        report_ids = {e.entity_id for e in events if e.entity == "report"}
        if report_ids - {None}:
            indicator_ids |= set(session.exec(select(Report.indicator_id).where(
                col(Report.id).in_(report_ids - {None}))).all())
        self.indicators = {i.id: i for i in _by_id(session, Indicator, indicator_ids)}
        project_ids = {_ref(e, "project_id") for e in events} | {i.project_id for i in self.indicators.values()}
        project_ids |= {e.entity_id for e in events if e.entity == "project"}
        spending_ids = {e.entity_id for e in events if e.entity == "spending"}
        if spending_ids - {None}:
            project_ids |= set(session.exec(select(Spending.project_id).where(
                col(Spending.id).in_(spending_ids - {None}))).all())
        self.projects = {p.id: p for p in _by_id(session, Project, project_ids)}
        self.departments = {d.id: d for d in session.exec(select(Department)).all()}
        usernames = {e.actor for e in events}
        self.users = {u.username: u for u in session.exec(select(User).where(col(User.username).in_(usernames)))}

    def person(self, username: str, en: bool = False) -> str:
        if username in ACTOR_NAMES and username not in self.users:
            return ACTOR_NAMES[username][1 if en else 0]
        user = self.users.get(username)
        if user is not None and user.display_name and user.display_name != username:
            return f"{user.display_name}（{username}）"
        return username


def actor_name(username: str, lang: str = "zh") -> str:
    """An actor as a person reads them: the system and the unknown by name in `lang`, anybody else as written."""
    return ACTOR_NAMES.get(username, (username, username))[1 if lang == "en" else 0]


def _by_id(session: Session, model: Any, ids: Iterable[int | None]) -> Sequence[Any]:
    wanted = [i for i in ids if i is not None]
    return session.exec(select(model).where(col(model.id).in_(wanted))).all() if wanted else []


def _ref(event: AuditEvent, key: str) -> int | None:
    for side in (event.after, event.before):
        if isinstance(side, dict) and isinstance(side.get(key), int):
            return side[key]
    return None


def _note(event: AuditEvent, lang: str) -> str:
    """The event's note as stored; a target adjustment's request keeps the grammar's flag, said in `lang`."""
    if event.entity == "target_adjustment" and event.action == "request":
        return flag_in(lang, event.note) or ""
    return event.note or ""


def _rows(session: Session, events: Sequence[AuditEvent], lang: str) -> list[TrailRow]:
    names = _Names(session, events)
    return [_row(event, names, lang) for event in events]


def _row(event: AuditEvent, names: _Names, lang: str) -> TrailRow:
    en = lang == "en"
    indicator = names.indicators.get(_ref(event, "indicator_id") or (
        event.entity_id if event.entity == "indicator" else None))
    project_id = indicator.project_id if indicator is not None else _ref(event, "project_id") or (
        event.entity_id if event.entity == "project" else None)
    project = names.projects.get(project_id)
    department = names.departments.get(event.department_id or (project.department_id if project else None))
    channel = (CHANNEL_NAMES_EN if en else CHANNEL_NAMES).get(event.channel) or OTHER_CHANNELS.get(
        event.channel, (event.channel, event.channel))[1 if en else 0]
    action = ACTION_NAMES.get(event.action, (event.action, event.action))[1 if en else 0]
    row = TrailRow(event_id=event.id or 0, at=event.at,
                   actor=names.person(event.actor, en), channel=channel, action=action,
                   department=department.name if department else "", project=project.name if project else "",
                   indicator=indicator.name if indicator else "", sentence="", project_id=project_id,
                   note=_note(event, lang))
    row.sentence = _sentence(event, row, en)
    return row


def _sentence(event: AuditEvent, row: TrailRow, en: bool) -> str:
    when = row.at.strftime("%Y-%m-%d %H:%M") if row.at else "?"
    what = _object(event, row, en)
    changes = _changes(event.before, event.after, en)
    if en:
        text = f"{row.actor} {row.action} {what} on {when} via {row.channel}"
        return text + (f": {'; '.join(changes)}" if changes else "") + "."
    text = f"{row.actor} 于 {when} 经由{row.channel}{row.action}{what}"
    return text + (f"：{'；'.join(changes)}" if changes else "") + "。"


def _object(event: AuditEvent, row: TrailRow, en: bool) -> str:
    entity = ENTITY_NAMES.get(event.entity, (event.entity, event.entity))[1 if en else 0]
    if row.indicator:
        return (f"the indicator “{row.indicator}” of “{row.project}”" if en
                else f"「{row.project}」的指标「{row.indicator}」")
    if row.project:
        return f"the {entity} of “{row.project}”" if en else f"「{row.project}」的{entity}"
    label = _label(event.after) or _label(event.before)
    if label:
        return f"the {entity} “{label}”" if en else f"{entity}「{label}」"
    return f"the {entity}" if en else entity


def _label(side: Any) -> str | None:
    if isinstance(side, dict):
        for key in ("username", "name", "display_name"):
            if side.get(key):
                return str(side[key])
    return None


def _changes(before: Any, after: Any, en: bool) -> list[str]:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    out = []
    for key in [k for k in after if k not in BOOKKEEPING] + [k for k in before if k not in after and
                                                              k not in BOOKKEEPING]:
        old, new = before.get(key), after.get(key)
        if old == new or (old in (None, "") and new in (None, "")):
            continue
        label = FIELD_NAMES.get(key, (key, key))[1 if en else 0]
        new, old = _named_values(new, en), _named_values(old, en)
        if not before:
            out.append(f"{label} {_shown(new, en)}" if en else f"{label}为 {_shown(new)}")
        else:
            out.append(f"{label} from {_shown(old, en)} to {_shown(new, en)}" if en
                       else f"{label}从 {_shown(old)} 改为 {_shown(new)}")
    return out


def _named_values(value: Any, en: bool) -> Any:
    """A nested record's keys, and the codes of a round's kind, status and scope, by their names."""
    if isinstance(value, dict):
        return {FIELD_NAMES.get(k, (k, k))[1 if en else 0]: _named_values(v, en) for k, v in value.items()}
    if isinstance(value, str) and value in CODE_NAMES:
        return CODE_NAMES[value][1 if en else 0]
    return value


def _shown(value: Any, en: bool = False) -> str:
    if value is None or value == "":
        return "(empty)" if en else "（空）"
    if isinstance(value, dict):
        if en:
            return ", ".join(f"{k}: {_shown(v, en)}" for k, v in value.items())
        return "，".join(f"{k}：{_shown(v)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def export_csv(rows: Iterable[TrailRow], lang: str = "zh") -> str:
    """UTF-8 with a BOM, so Excel opens the Chinese text; every cell neutralised as any export's are."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADERS["en" if lang == "en" else "zh"])
    for row in rows:
        writer.writerow(csv_row(_cells(row)))
    return out.getvalue()


def export_xlsx(rows: Iterable[TrailRow], lang: str = "zh") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Audit trail" if lang == "en" else "审计日志"
    for column, header in enumerate(EXPORT_HEADERS["en" if lang == "en" else "zh"], start=1):
        put(sheet.cell(row=1, column=column), header)
    for number, row in enumerate(rows, start=2):
        for column, value in enumerate(_cells(row), start=1):
            put(sheet.cell(row=number, column=column), value)
    for letter, width in zip("ABCDEFGHIJ", (8, 17, 16, 8, 8, 24, 30, 24, 80, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cells(row: TrailRow) -> list[Any]:
    at = row.at.strftime("%Y-%m-%d %H:%M:%S") if row.at else ""
    return [row.event_id, at, row.actor, row.channel, row.action, row.department, row.project, row.indicator,
            row.sentence, row.note]
