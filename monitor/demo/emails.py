"""The demo's notification step: sample contacts (under example.org, marked 示例) for every seed department and
a sample finance bureau, then the day's digests, escalation copies and the weekly summary as .eml files in
`<demo dir>/emails/`. A dry run: nothing is queued, so the demo never tries to mail example.org."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from monitor.demo.context import DemoContext
from monitor.notify.compose import plan
from monitor.notify.eml import write_eml
from monitor.store.models import Contact, Department

SAMPLE_ROLES = (("负责人", "head"), ("经办人", "clerk"), ("绩效管理员", "perf"))


def _slug(code: str, index: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "", code.lower())
    return slug or f"dept{index}"


def sample_contacts(session: Session) -> int:
    """Contacts for departments that have none; returns how many were added."""
    if not session.exec(select(Department).where(Department.is_finance_bureau == True)).first():  # noqa: E712 - builds SQL, not a truth test
        session.add(Department(code="DEMO-CZJ", name="市财政局（示例）", is_finance_bureau=True))
        session.flush()
    have = {c.department_id for c in session.exec(select(Contact)).all()}
    added = 0
    for index, department in enumerate(session.exec(select(Department).order_by(col(Department.id))).all()):
        assert department.id is not None  # read from the store
        if department.id in have:
            continue
        slug = _slug(department.code, index)
        roles = (("绩效管理员", "perf"),) if department.is_finance_bureau else SAMPLE_ROLES
        for role, local in roles:
            session.add(Contact(department_id=department.id, name=f"示例{role}（样例联系人）",
                                email=f"{local}.{slug}@example.org", role=role))
            added += 1
    session.commit()
    return added


def notify_demo(context: DemoContext) -> None:
    console = context.console
    console.print("\n[bold]提醒邮件[/bold]（示例联系人，地址均在 example.org 下；只写出 .eml，不实际发送）")
    with Session(context.engine) as session:
        added = sample_contacts(session)
        result = plan(session, context.settings, context.as_of, force_summary=True)
    messages = result.messages()
    folder = context.workdir / "emails"
    paths = write_eml(folder, messages, sender=context.settings.smtp.sender)
    context.outputs["emails"] = folder
    console.print(f"   新增示例联系人 {added} 个；{len(result.departments)} 个部门有提醒；"
                  f"共 {len(paths)} 封邮件（含督办抄送与周报）")
    for message in messages[:8]:
        console.print(f"   {message.recipients[0]:32} {message.subject}")
    if not result.working_day:
        console.print(f"   {context.as_of.isoformat()} 不是工作日：部门摘要不发送，只有周报。")
    console.print(f"   邮件文件：{folder.resolve()}  (用邮件客户端打开 .eml 查看)")
    console.print("   实际发送：配置 \\[smtp] 后运行 `kpiwatch notify`；发件箱：`kpiwatch outbox list`")
