"""The demo's portal step: users for every imported department and a few sample reports.

Passwords are random per demo run (printed, and written to `demo-logins.txt` in the demo folder), so no
usable credential ever lives in the repository. Sample reports and spending carry the note
"示例数据 sample data" and are dated in the budget year before the demo's as-of date.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from monitor.accounts.users import create_user
from monitor.demo.context import DemoContext
from monitor.progress import service
from monitor.progress.entries import ReportEntry, SpendingEntry
from monitor.store.db import session_scope
from monitor.store.models import BudgetYear, Department, Indicator, Project, User
from rules.terms import GRADES, MEASURED_KINDS, QUALITATIVE, SCHEDULED_KINDS

SAMPLE_NOTE = "示例数据 sample data"
PROJECTS_PER_DEPARTMENT = 3


_ROLE_TITLES = {"clerk": "经办人", "head": "负责人", "admin": "管理员"}


def _password() -> str:
    return "demo-" + secrets.token_hex(4)


def seed_portal(context: DemoContext) -> None:
    console = context.console
    console.print("[bold]门户账号与示例填报 (portal users and sample reports)[/bold]")
    logins: list[tuple[str, str, str, str]] = []
    with session_scope(context.engine) as session:
        departments = session.exec(select(Department).where(Department.is_finance_bureau == False)  # noqa: E712 - builds SQL, not a truth test
                                   .order_by(Department.code)).all()
        if not departments:
            console.print("   库中没有部门，跳过（先导入绩效目标表）(no departments in the store; nothing to do)")
            return
        for username, role, department in [("finance_admin", "admin", None)] + [
                (f"{kind}_{d.code}".lower(), kind, d) for d in departments for kind in ("clerk", "head")]:
            if session.exec(select(User).where(User.username == username)).first() is not None:
                continue
            password = _password()
            create_user(session, username=username, password=password, role=role,
                        department_id=department.id if department else None,
                        display_name=f"{department.name if department else '财政局'}{_ROLE_TITLES[role]}",
                        actor="demo", channel="demo")
            logins.append((username, password, role, department.name if department else "财政局 (all departments)"))
    counts = [0, 0]
    for department in departments:
        with session_scope(context.engine) as session:
            clerk = session.exec(select(User).where(User.username == f"clerk_{department.code}".lower())).first()
            if clerk is None:
                continue
            drafts, spending = _samples(session, department, context.as_of)
            result = service.record_reports(session, clerk, drafts, channel="demo", today=context.as_of)
            stored, _ = service.record_spending(session, clerk, spending, channel="demo", today=context.as_of)
            counts[0] += len(result.stored)
            counts[1] += len(stored)
    context.demo_logins = logins
    path = context.workdir / "demo-logins.txt"
    path.write_text("".join(f"{u}\t{p}\t{r}\t{d}\n" for u, p, r, d in logins), encoding="utf-8")
    context.outputs["demo_logins"] = path
    console.print(f"   {len(logins)} 个账号（密码见 {path}）；"
                  f"示例填报 {counts[0]} 条、支出 {counts[1]} 条，均标注“{SAMPLE_NOTE}”")


def _samples(session: Session, department: Department, as_of: date) -> tuple[list[ReportEntry], list[SpendingEntry]]:
    """Plausible progress for the department's first few projects: partly on track, one behind, some done."""
    projects = session.exec(select(Project).where(Project.department_id == department.id).order_by(col(Project.id))
                            .limit(PROJECTS_PER_DEPARTMENT)).all()
    drafts: list[ReportEntry] = []
    spending: list[SpendingEntry] = []
    for n, project in enumerate(projects):
        budget_year = session.get(BudgetYear, project.budget_year_id)
        assert budget_year is not None  # the project's foreign key
        year = budget_year.year
        cutoff = min(as_of, date(year, 12, 31))
        reported_on = min(cutoff, date(year, 6, 30))
        ids = session.exec(select(col(Indicator.id)).where(Indicator.project_id == project.id)
                           .where(Indicator.half == "annual")).all()
        infos = service.load_infos(session, [i for i in ids if i is not None])
        for k, info in enumerate(sorted(infos.values(), key=lambda i: i.indicator.position)):
            share = Decimal("0.55") if n != 1 else Decimal("0.25")  # the second project lags behind
            if info.kind in MEASURED_KINDS and info.target.value is not None:
                value = (info.target.value if info.kind == "percent"
                         else (info.target.value * share).quantize(Decimal(1)))
                drafts.append(ReportEntry(info.indicator.id, value=value, as_of=reported_on, note=SAMPLE_NOTE,
                                          likelihood="确定能" if n != 1 else "有可能",
                                          deviation_causes={"人员保障": "经办人员调整，进度滞后"} if n == 1 else None))
            elif info.kind in SCHEDULED_KINDS:
                due = next((d for d in info.occurrence_dues if d <= cutoff), None)
                if due is not None and k % 2 == 0:
                    drafts.append(ReportEntry(info.indicator.id, occurrence_due=due,
                                              completed_on=max(date(year, 1, 1), due - timedelta(days=3)),
                                              note=SAMPLE_NOTE))
            elif info.kind == QUALITATIVE and k % 2 == 0:
                drafts.append(ReportEntry(info.indicator.id, grade=GRADES[0], explanation="按计划推进",
                                          note=SAMPLE_NOTE))
        if project.annual_funds:
            rate = Decimal("0.52") if n != 1 else Decimal("0.18")
            spending.append(SpendingEntry(project.id, (project.annual_funds * rate).quantize(Decimal("0.01")),
                                          reported_on, SAMPLE_NOTE))
    return drafts, spending
