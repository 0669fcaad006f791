"""The demo's round step: the bureau opens the year's monitoring round (重点监控 projects picked by the rules from
the evaluation just stored), one department's head submits, and the round's status is printed."""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select

from monitor.demo.context import DemoContext
from monitor.rounds import service
from monitor.rounds.summary import status_lines
from monitor.store.db import session_scope
from monitor.store.models import Department, RoundTask, User
from monitor.store.rows import stored_id


def open_demo_round(context: DemoContext) -> None:
    console = context.console
    console.print("\n[bold]填报轮次 (a monitoring round)[/bold]")
    year = context.as_of.year
    reports = context.settings.reports
    month, day = (int(part) for part in reports.monitor_due.split("-"))
    with session_scope(context.engine) as session:
        admin = session.exec(select(User).where(User.username == "finance_admin")).first()
        if admin is None:
            console.print("   没有财政局管理员账号，跳过 (no bureau account; nothing to do)")
            return
        round_ = service.open_round(session, admin, kind="monitor", year=year,
                                    through_month=reports.monitor_through_month, due=date(year, month, day),
                                    scope="focus", channel="demo")
        tasks = session.exec(select(RoundTask, Department)
                             .join(Department, col(Department.id) == RoundTask.department_id)
                             .where(RoundTask.round_id == round_.id).order_by(Department.code)).all()
        submitted = None
        for task, department in tasks[-1:]:
            head = session.exec(select(User).where(User.username == f"head_{department.code}".lower())).first()
            if head is not None:
                submitted = service.submit_task(session, head, stored_id(task), settings=context.settings,
                                                channel="demo")
        session.flush()
        for line in status_lines(service.round_status(session, admin, stored_id(round_), context.as_of)):
            console.print(f"   {line}")
        if submitted is not None:
            console.print(f"   已上报的第 {submitted.version} 版已冻结（Excel sha256 {submitted.xlsx_sha256[:12]}…）；"
                          f"门户 /rounds/{round_.id} 审核，或 `kpiwatch round status {round_.id} --user finance_admin`")
