"""`kpiwatch corrective issue|answer|accept|reopen|list`: 整改 from the command line, through the same service as
the portal and the API (same refusals, same audit trail; channel "cli")."""

from __future__ import annotations

import typer

from monitor.cli.rounds import TODAY, USER, act_as, day_or_today
from monitor.rounds import corrective
from monitor.rounds.corrective import Origin
from monitor.store.models import CorrectiveAction
from monitor.store.rows import stored_id
from rules.terms import CORRECTIVE_STATUS_NAMES, CORRECTIVE_STATUSES

app = typer.Typer(help="整改：财政局发起，部门答复整改结果，财政局验收或重新整改。", no_args_is_help=True)


def _line(action: CorrectiveAction, today: str | None) -> str:
    late = action.days_overdue(day_or_today(today, "--today"))
    return (f"整改 {stored_id(action)}  部门 {action.department_id}  项目 {action.project_id}"
            + (f"  指标 {action.indicator_id}" if action.indicator_id else "")
            + f"  期限 {action.due.isoformat()}  {CORRECTIVE_STATUS_NAMES[action.status]}"
            + (f"  逾期 {late} 天" if late else "") + f"\n   要求：{action.requirement}"
            + (f"\n   结果：{action.answer}" if action.answer else ""))


@app.command("issue")
def issue_command(
    project: int = typer.Option(..., "--project", help="项目编号"),
    requirement: str = typer.Option(..., "--requirement", help="整改要求和建议"),
    due: str = typer.Option(..., "--due", help="整改期限 YYYY-MM-DD"),
    indicator: int | None = typer.Option(None, "--indicator", help="指标编号（针对某一指标时）"),
    task: int | None = typer.Option(None, "--task", help="来自哪项已审核的轮次任务（见 kpiwatch round status）"),
    user: str = USER,
    today: str | None = TODAY,
) -> None:
    """财政局发起整改：来自审核（--task）或来自红黄灯（不写 --task）。"""
    with act_as(user) as (session, owner):
        action = corrective.issue(session, owner, Origin(project, indicator, task), requirement=requirement,
                                  due=day_or_today(due, "--due"), today=day_or_today(today, "--today"), channel="cli")
        session.flush()
        line = _line(action, today)
    typer.echo("已发起。\n" + line)


@app.command("answer")
def answer_command(action_id: int = typer.Argument(..., help="整改编号"),
                   result: str = typer.Option(..., "--result", help="整改结果和结论"), user: str = USER) -> None:
    """部门经办人或负责人答复整改结果。"""
    with act_as(user) as (session, owner):
        corrective.answer(session, owner, action_id, result, channel="cli")
    typer.echo(f"已答复整改 {action_id}，等待财政局验收")


@app.command("accept")
def accept_command(action_id: int = typer.Argument(..., help="整改编号"),
                   note: str | None = typer.Option(None, "--note", help="验收意见"),
                   user: str = USER, today: str | None = TODAY) -> None:
    """财政局验收整改结果。"""
    with act_as(user) as (session, owner):
        corrective.accept(session, owner, action_id, today=day_or_today(today, "--today"), note=note, channel="cli")
    typer.echo(f"已验收整改 {action_id}")


@app.command("reopen")
def reopen_command(action_id: int = typer.Argument(..., help="整改编号"),
                   note: str = typer.Option(..., "--note", help="重新整改的原因"),
                   due: str | None = typer.Option(None, "--due", help="新的整改期限 YYYY-MM-DD"),
                   user: str = USER, today: str | None = TODAY) -> None:
    """财政局退回整改结果，要求重新整改。"""
    with act_as(user) as (session, owner):
        corrective.reopen(session, owner, action_id, today=day_or_today(today, "--today"), note=note,
                          due=day_or_today(due, "--due") if due else None, channel="cli")
    typer.echo(f"已要求重新整改 {action_id}")


@app.command("list")
def list_command(status: str | None = typer.Option(None, "--status", help=" | ".join(CORRECTIVE_STATUSES)),
                 user: str = USER, today: str | None = TODAY) -> None:
    """整改事项：财政局看全部，部门只看本部门。"""
    with act_as(user) as (session, owner):
        lines = [_line(a, today) for a in corrective.visible_actions(session, owner,
                                                                     statuses=(status,) if status else None)]
    typer.echo("\n".join(lines) or "没有整改事项")
