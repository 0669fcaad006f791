"""`kpiwatch notify`, `kpiwatch outbox …`, `kpiwatch status` and `kpiwatch contacts …`: build and send the
department emails, look into the outbox, and check that evaluation and sending still run."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import func
from sqlmodel import Session, col, select

from monitor.cli.common import load_settings, open_store

if TYPE_CHECKING:
    from monitor.notify.sender import SendingStopped, SendStats

console = Console()
outbox_app = typer.Typer(help="邮件发件箱：查看、发送、重试 (the outbox: list, send, retry).", no_args_is_help=True)
contacts_app = typer.Typer(help="接收提醒的联系人 (who receives each department's emails).", no_args_is_help=True)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of：日期应写成 YYYY-MM-DD（例如 2024-02-29），得到 {value!r}") from exc


def notify_command(
    as_of: str | None = typer.Option(None, "--as-of", help="提醒日期 YYYY-MM-DD（默认今天）"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只生成：不入发件箱、不发送、不记录"),
    out: Path | None = typer.Option(None, "--out", help="与 --dry-run 同用：把每封邮件写成 .eml 文件到此目录"),
    send: bool = typer.Option(True, "--send/--no-send", help="入发件箱后立即发送（默认）"),
) -> None:
    """生成当日各部门的提醒邮件（工作日），放入发件箱并发送；--dry-run --out DIR 只写出 .eml 文件。"""
    from monitor.notify.compose import plan, run_notify
    from monitor.notify.eml import write_eml
    from monitor.notify.sender import SendingStopped, send_pending
    from monitor.store.types import now

    settings = load_settings()
    day = _parse_day(as_of) or now().date()
    with open_store(settings) as engine:
        if dry_run:
            with Session(engine, expire_on_commit=False) as session:
                result = plan(session, settings, day)
            messages = result.messages()
            if not result.working_day:
                console.print(f"{day.isoformat()} 不是工作日：不发送提醒。")
            for message in messages:
                console.print(f"{message.kind:10} {', '.join(message.recipients):32} {message.subject}")
            if out is not None:
                paths = write_eml(out, messages, sender=settings.smtp.sender)
                console.print(f"已写出 {len(paths)} 封邮件到 {out.resolve()}")
            for warning in result.warnings:
                console.print(f"[yellow]注意：{warning}[/yellow]")
            return
        if out is not None:
            raise typer.BadParameter("--out is only used with --dry-run")
        result, counts = run_notify(engine, settings, day)
        if not result.working_day:
            console.print(f"{day.isoformat()} 不是工作日：不发送提醒。")
            return
        console.print(f"{day.isoformat()}：{counts['departments']}个部门，新入发件箱{counts['messages']}封"
                      f"（抄送督办{counts['escalations']}封，周报{counts['summary']}封）"
                      + ("，补发汇总" if result.catch_up_from else ""))
        for warning in result.warnings:
            console.print(f"[yellow]注意：{warning}[/yellow]")
        if send:
            try:
                stats = send_pending(engine, settings)
            except SendingStopped as stopped:
                _stopped(stopped)
            _sent(stats)


@outbox_app.command("list")
def outbox_list(
    status: str | None = typer.Option(None, "--status", help="pending、sending、sent 或 failed"),
    limit: int = typer.Option(50, "--limit"),
) -> None:
    """列出发件箱中的邮件（最新在前）。"""
    from monitor.store.models.notify import OutboxMessage

    settings = load_settings()
    with open_store(settings) as engine, Session(engine, expire_on_commit=False) as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id).desc()).limit(limit)
        if status:
            query = query.where(OutboxMessage.status == status)
        rows = session.exec(query).all()
        totals = dict(session.exec(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    table = Table("id", "状态", "类型", "收件人", "主题", "尝试", "错误")
    for row in rows:
        table.add_row(str(row.id), row.status, row.kind, row.recipients.replace("\n", ", "), row.subject,
                      str(row.attempts), (row.last_error or "")[:60])
    console.print(table)
    console.print("合计：" + "，".join(f"{k} {v}" for k, v in sorted(totals.items())) if totals else "发件箱为空")


@outbox_app.command("retry")
def outbox_retry(ids: list[int] = typer.Argument(None, help="邮件编号；默认全部失败的邮件")) -> None:
    """把失败的邮件重新放回队列。"""
    from monitor.notify.outbox import retry

    settings = load_settings()
    with open_store(settings) as engine:
        count = retry(engine, ids or None)
    console.print(f"已重新排队 {count} 封")


@outbox_app.command("send")
def outbox_send(
    loop: bool = typer.Option(False, "--loop", help="持续运行：专用发送进程"),
    poll: float = typer.Option(5.0, "--poll", help="与 --loop 同用：发件箱为空时每隔几秒查看一次"),
) -> None:
    """发送发件箱中到期的邮件（一次，或 --loop 持续运行）。"""
    from monitor.notify.sender import SendingStopped, send_forever, send_pending

    settings = load_settings()
    with open_store(settings) as engine:
        if loop:
            from monitor.shutdown import stop_on_signals

            stop_on_signals()  # SIGTERM: finish the message in hand, then stop
            send_forever(engine, settings, poll_seconds=poll)
            return
        try:
            stats = send_pending(engine, settings)
        except SendingStopped as stopped:
            _stopped(stopped)
    _sent(stats)


def _stopped(stopped: SendingStopped) -> NoReturn:
    """A pass stopped by a refused SMTP login: say why and exit 1 (the pass is already recorded as failed)."""
    stats = stopped.stats
    console.print(f"[red]{stopped}[/red]")
    console.print(f"发送：成功{stats.sent}，待重试{stats.retrying}，失败{stats.failed}，保留待发{stats.kept}")
    raise typer.Exit(1)


def _sent(stats: SendStats) -> None:
    """A pass's counts; messages given up in it (refused by the server) are listed and exit 1, as a refused login
    does (the pass is already recorded as failed, and `kpiwatch status` shows them until they are retried)."""
    console.print(f"发送：成功{stats.sent}，待重试{stats.retrying}，失败{stats.failed}")
    if not stats.failed:
        return
    console.print(f"[red]{stats.failed}封邮件投递失败、已放弃：[/red]")
    for error in stats.errors[:20]:
        console.print(f"[red]  {error}[/red]")
    console.print("核对联系人邮箱后用 `kpiwatch outbox retry` 重新发送")
    raise typer.Exit(1)


def status_command() -> None:
    """就绪检查（同 /readyz）、评估与发送最近一次成功的时间、发件箱情况；未就绪、超过 stale_hours 未成功、
    最近一次发送失败、有邮件投递失败或长时间未能送出则退出码 1。"""
    from monitor.cli.readiness import show_readiness
    from monitor.notify import joblog
    from monitor.notify.compose import staleness_warnings
    from monitor.notify.outbox import counts
    from monitor.notify.sender import delivery_warnings

    settings = load_settings()
    with open_store(settings, migrate=False) as engine, Session(engine, expire_on_commit=False) as session:
        ready = show_readiness(console, engine, settings)  # what /readyz says; a status check changes nothing
        if not ready.store_usable:
            raise typer.Exit(1)
        evaluation = joblog.last_evaluation(session)
        table = Table("任务", "最近成功", "最近一次运行", "结果")
        for job in ("evaluate", "notify", "send"):
            ok = joblog.last_success(session, job)
            last = joblog.last_run(session, job)
            table.add_row(job, _when(ok.finished_at if ok else None), _when(last.started_at if last else None),
                          "—" if last is None else ("成功" if last.ok else ("运行中/中断" if last.ok is None
                                                                            else f"失败：{(last.error or '')[:60]}")))
        table.add_row("evaluation run", _when(evaluation.finished_at if evaluation else None), "", "")
        console.print(table)
        box = counts(engine)
        console.print("发件箱：" + ("，".join(f"{k} {v}" for k, v in sorted(box.items())) or "空"))
        warnings = staleness_warnings(session, settings)
        last_send = joblog.last_run(session, "send")
        if last_send is not None and last_send.ok is False:
            reason = ((last_send.error or "").splitlines() or [""])[0][:200]
            warnings.append(f"最近一次邮件发送失败（{_when(last_send.started_at)}）：{reason}")
        warnings.extend(delivery_warnings(engine, settings.smtp))
    for warning in warnings:
        console.print(f"[red]告警：{warning}[/red]")
    if warnings or box.get("failed") or not ready.ready:
        raise typer.Exit(1)


def _when(moment) -> str:
    if moment is None:
        return "从未"
    return f"{moment:%Y-%m-%d %H:%M}"


@contacts_app.command("list")
def contacts_list(department: str | None = typer.Option(None, "--department", help="Department code.")) -> None:
    """列出联系人。"""
    from monitor.store.models import Contact, Department

    settings = load_settings()
    with open_store(settings) as engine, Session(engine, expire_on_commit=False) as session:
        query = select(Contact, Department).join(Department, col(Department.id) == Contact.department_id)
        if department:
            query = query.where(Department.code == department)
        rows = session.exec(query.order_by(Department.code, col(Contact.id))).all()
    table = Table("id", "部门", "姓名", "邮箱", "角色", "有效")
    for contact, dept in rows:
        table.add_row(str(contact.id), f"{dept.name}（{dept.code}）", contact.name, contact.email, contact.role,
                      "是" if contact.active else "否")
    console.print(table)


@contacts_app.command("add")
def contacts_add(
    department: str = typer.Option(..., "--department", help="Department code."),
    name: str = typer.Option(..., "--name"),
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option("经办人", "--role", help="负责人, 经办人 or 绩效管理员."),
) -> None:
    """添加联系人。"""
    from monitor.notify.actions import ActionError, add_contact

    settings = load_settings()
    with open_store(settings) as engine, Session(engine, expire_on_commit=False) as session:
        try:
            contact = add_contact(session, department_code=department, name=name, email=email, role=role)
        except ActionError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    console.print(f"已添加联系人 {contact.id}：{contact.name} <{contact.email}>（{contact.role}）")


@contacts_app.command("remove")
def contacts_remove(contact_id: int = typer.Argument(...)) -> None:
    """停用联系人（保留记录）。"""
    from monitor.notify.actions import ActionError, remove_contact

    settings = load_settings()
    with open_store(settings) as engine, Session(engine, expire_on_commit=False) as session:
        try:
            contact = remove_contact(session, contact_id)
        except ActionError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    console.print(f"已停用联系人 {contact.id}：{contact.name}")


def register(app: typer.Typer) -> None:
    app.command("notify")(notify_command)
    app.command("status")(status_command)
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(contacts_app, name="contacts")
