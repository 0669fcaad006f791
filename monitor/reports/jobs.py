"""Scheduled drafts: the monitoring table a week before its due date and the self-evaluation in early January,
emailed (through the outbox) to each department's contacts and, for the whole city, to the finance bureau.

Both jobs run daily and act on or after their configured day (so a scheduler that was down that day still
sends once); the outbox's deduplication key (kind | department | year) makes every later run a no-op.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from monitor.config import Config
from monitor.job_context import JobContext
from monitor.reports.produce import ReportRequest, produce
from monitor.store.models import BudgetYear, Contact, Department, Project
from monitor.store.rows import stored_id


def _month_day(text: str, year: int, key: str) -> date:
    try:
        month, day = (int(x) for x in text.split("-"))
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"[reports] {key}: 应为 \"MM-DD\"，得到 {text!r}") from exc


def monitor_draft_window(settings: Config, year: int) -> tuple[date, date]:
    due = _month_day(settings.reports.monitor_due, year, "monitor_due")
    return due - timedelta(days=settings.reports.monitor_draft_days_before), due


def selfeval_draft_window(settings: Config, year: int) -> tuple[date, date]:
    """From the configured day of the following year until the end of March of it."""
    return _month_day(settings.reports.selfeval_draft, year + 1, "selfeval_draft"), date(year + 1, 3, 31)


def _recipients(session: Session, department_ids: list[int]) -> list[str]:
    emails = session.exec(select(Contact.email).where(col(Contact.department_id).in_(department_ids or [-1]),
                                                      col(Contact.active).is_(True)).order_by(col(Contact.id))).all()
    return list(dict.fromkeys(emails))


def send_drafts(session: Session, settings: Config, kind: str, year: int) -> dict[str, int]:
    """Queue the draft of `kind` ("monitor" or "selfeval") for `year` to every department and the bureau."""
    from monitor.notify.outbox import enqueue
    from monitor.store.models.notify import OutboxMessage

    label = {"monitor": "绩效运行监控表", "selfeval": "绩效自评表"}[kind]
    sender = getattr(getattr(settings, "smtp", None), "sender", None)
    counts = {"queued": 0, "already": 0, "no_contact": 0}
    departments = session.exec(
        select(Department).join(Project, col(Project.department_id) == Department.id)
        .join(BudgetYear, col(BudgetYear.id) == Project.budget_year_id).where(BudgetYear.year == year)
        .distinct().order_by(Department.code)).all()
    bureaus = session.exec(select(Department).where(col(Department.is_finance_bureau).is_(True)))
    bureau_ids = [stored_id(d) for d in bureaus]
    targets: list[tuple[str, str, list[int], int | None]] = [
        (d.code, d.name, [stored_id(d)], stored_id(d)) for d in departments]
    targets.append(("ALL", "财政局（全部部门）", bureau_ids, None))
    for code, name, contact_ids, department_id in targets:
        recipients = _recipients(session, contact_ids)
        if not recipients:
            counts["no_contact"] += 1
            continue
        key = f"report-{kind}|{code}|{year}"
        if session.exec(select(col(OutboxMessage.id)).where(OutboxMessage.dedup_key == key)).first() is not None:
            counts["already"] += 1
            continue
        attachments = []
        for fmt in ("xlsx", "pdf"):
            data = produce(session, ReportRequest(kind, year, fmt, department=department_id), settings)
            attachments.append((f"{year}-{label}(草稿)-{code}.{fmt}", data))
        if kind == "selfeval" and department_id is None:
            attachments.append((f"{year}-各部门自评排名.xlsx", produce(session, ReportRequest("ranking", year, "xlsx"),
                                                                    settings)))
        text = (f"{name}：\n\n附件是 kpiwatch 根据已填报数据生成的 {year} 年度{label}草稿（Excel 与 PDF）。"
                f"标为“未填报”的内容请在门户中补充；定性指标请在等级区间内评分，得分未满的指标请填写偏差原因分析及改进措施。\n")
        queued = enqueue(session, dedup_key=key, recipients=recipients,
                         subject=f"【kpiwatch】{year}年度{label}草稿 — {name}", text=text, attachments=attachments,
                         kind="report", period=str(year), department_id=department_id, sender=sender)
        counts["queued" if queued else "already"] += 1
    return counts


def _run(context: JobContext, kind: str) -> dict[str, int]:
    today = context.as_of
    year = today.year if kind == "monitor" else today.year - 1
    window = (monitor_draft_window if kind == "monitor" else selfeval_draft_window)(context.settings, year)
    if not window[0] <= today <= window[1]:
        return {"not_due": 1}
    with Session(context.engine, expire_on_commit=False) as session:
        if session.exec(select(BudgetYear).where(BudgetYear.year == year)).first() is None:
            return {"no_year": 1}
        counts = send_drafts(session, context.settings, kind, year)
        session.commit()
    return counts


def monitor_draft(context: JobContext) -> dict[str, int]:
    """Daily: from `monitor_draft_days_before` days before `monitor_due` until it, queue the monitoring draft."""
    return _run(context, "monitor")


def selfeval_draft(context: JobContext) -> dict[str, int]:
    """Daily: from `selfeval_draft` (MM-DD of the following year) until 31 March, queue the self-evaluation draft."""
    return _run(context, "selfeval")
