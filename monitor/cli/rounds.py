"""`kpiwatch round open|status|close|submit|review`: the bureau's rounds from the command line, through the same
service as the portal and the API (same refusals, same audit trail; channel "cli")."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import typer
from sqlmodel import Session, col, select

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.cli.common import acting_as, load_settings, parse_day
from monitor.progress.validation import ValidationFailed
from monitor.rounds import service
from monitor.rounds.service import Comment, RoundError
from monitor.rounds.summary import status_lines
from monitor.store.models import Round, User
from monitor.store.rows import stored_id
from monitor.store.types import SHANGHAI
from rules.terms import REVIEW_VERDICTS, ROUND_KINDS, ROUND_SCOPES, FocusRules

app = typer.Typer(help="填报轮次：发起、查看进度、上报、审核、关闭。", no_args_is_help=True)

USER = typer.Option(..., "--user", "-u", help="以哪个用户的身份操作（发起、审核、关闭须为财政局管理员）")
TODAY = typer.Option(None, "--today", help="以此日期为“今天”判断逾期 (YYYY-MM-DD)，默认当天")


REFUSALS = (NotAllowed, NotVisible, RoundError, ValidationFailed)


def day_or_today(text: str | None, name: str) -> date:
    """The --today (or another day's) option, today in Shanghai when not given."""
    return parse_day(text, name) or datetime.now(SHANGHAI).date()


def act_as(username: str) -> AbstractContextManager[tuple[Session, User]]:
    return acting_as(username, REFUSALS)


@app.command("open")
def open_command(
    kind: str = typer.Option(..., "--kind", help=" | ".join(ROUND_KINDS)),
    year: int = typer.Option(..., "--year", help="预算年度，例如 2024"),
    due: str = typer.Option(..., "--due", help="报送截止日期 YYYY-MM-DD"),
    through: int | None = typer.Option(None, "--through", help="数据截至月份 1-12（自评固定为 12）"),
    department: list[str] | None = typer.Option(None, "--department", help="部门代码，可重复；默认全部部门"),
    scope: str = typer.Option("all", "--scope", help=" | ".join(ROUND_SCOPES) + "（focus：按规则筛选重点监控项目）"),
    large_funds: str | None = typer.Option(None, "--large-funds", help="focus：大额资金标准（万元），默认 500"),
    deviation: str | None = typer.Option(None, "--deviation", help="focus：数量指标偏差阈值（%），默认 30"),
    user: str = USER,
    today: str | None = TODAY,
) -> None:
    """发起轮次：每个有项目的部门一项任务。"""
    defaults = FocusRules()
    try:
        percent = Decimal(deviation) if deviation else defaults.quantity_deviation_percent
    except InvalidOperation as exc:
        raise typer.BadParameter(f"--deviation: 应为数字，得到 {deviation!r}") from exc
    with act_as(user) as (session, owner):
        threshold = service.large_funds(large_funds)
        rules = FocusRules(large_funds_yuan=threshold or defaults.large_funds_yuan,
                           quantity_deviation_percent=percent)
        round_ = service.open_round(session, owner, kind=kind, year=year, through_month=through,
                                    due=day_or_today(due, "--due"), department_codes=department or None, scope=scope,
                                    rules=rules, channel="cli")
        session.flush()
        lines = status_lines(service.round_status(session, owner, stored_id(round_), day_or_today(today, "--today")))
    typer.echo("已发起。\n" + "\n".join(lines))


@app.command("status")
def status_command(
    round_id: int | None = typer.Argument(None, help="轮次编号；默认最近的一个"),
    user: str = USER,
    today: str | None = TODAY,
) -> None:
    """轮次进度：各部门待填报 / 已上报 / 已退回 / 已通过 / 逾期。"""
    with act_as(user) as (session, owner):
        if round_id is None:
            latest = session.exec(select(Round).order_by(col(Round.id).desc())).first()
            if latest is None:
                raise RoundError("还没有任何轮次 (no rounds yet)")
            round_id = stored_id(latest)
        lines = status_lines(service.round_status(session, owner, round_id, day_or_today(today, "--today")))
    typer.echo("\n".join(lines))


@app.command("close")
def close_command(round_id: int = typer.Argument(..., help="轮次编号"), user: str = USER) -> None:
    """关闭轮次：之后不能再填报、上报或审核。"""
    with act_as(user) as (session, owner):
        round_ = service.close_round(session, owner, round_id, channel="cli")
        title = service.round_title(round_)
    typer.echo(f"已关闭 {title}")


@app.command("submit")
def submit_command(task_id: int = typer.Argument(..., help="任务编号（见 kpiwatch round status）"),
                   user: str = USER) -> None:
    """负责人上报本部门任务：生成并冻结本版表格。"""
    settings = load_settings()
    with act_as(user) as (session, owner):
        submission = service.submit_task(session, owner, task_id, settings=settings, channel="cli")
        version, digest = submission.version, submission.xlsx_sha256
    typer.echo(f"已上报任务 {task_id} 第 {version} 版（Excel sha256 {digest}）")


@app.command("review")
def review_command(
    task_id: int = typer.Argument(..., help="任务编号"),
    verdict: str = typer.Option(..., "--verdict", help=" | ".join(REVIEW_VERDICTS)),
    comment: list[str] | None = typer.Option(None, "--comment", help="总体意见，可重复"),
    project_comment: list[str] | None = typer.Option(None, "--project-comment", help="项目编号=意见，可重复"),
    indicator_comment: list[str] | None = typer.Option(None, "--indicator-comment", help="指标编号=意见，可重复"),
    user: str = USER,
) -> None:
    """审核已上报的版本：approved 通过，returned 退回（须写意见）。"""
    comments = [Comment(text) for text in comment or []]
    for option, values, key in (("--project-comment", project_comment, "project_id"),
                                ("--indicator-comment", indicator_comment, "indicator_id")):
        for value in values or []:
            number, sep, text = value.partition("=")
            if not sep or not number.strip().isdigit():
                raise typer.BadParameter(f"{option}: 应为 编号=意见，得到 {value!r}")
            comments.append(Comment(text, **{key: int(number)}))
    with act_as(user) as (session, owner):
        submission = service.review_task(session, owner, task_id, verdict, comments, channel="cli")
        version = submission.version
    typer.echo(f"任务 {task_id} 第 {version} 版：{verdict}")
