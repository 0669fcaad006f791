"""`kpiwatch import-selfeval FILE --user U`: a department's 项目支出绩效自评表 with its year's results.

A self-evaluation is more than targets: its 实际完成值, 全年执行数 and budget change become reports, spending and
an adjustment, which only the finance bureau's admins may record (channel "import"), so the command acts as one.
`--dry-run` reads the file and shows what would be stored without opening the store, so it needs no user.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.cli.common import acting_as
from monitor.importers.document import ImportFailure
from monitor.store.types import SHANGHAI


def import_selfeval_command(
    file: Path = typer.Argument(..., help="项目支出绩效自评表：Excel (.xlsx/.xls)、Word (.docx)、网页 (.html) 或文本"),
    user: str | None = typer.Option(None, "--user", "-u", help="财政局管理员的用户名（写入时必填）"),
    department_code: str | None = typer.Option(None, "--department-code", help="主管部门代码（表中没有时使用）"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只解析并显示将要写入的内容，不写入数据库"),
    as_json: bool = typer.Option(False, "--json", help="试运行时输出一个 JSON 对象"),
    allow_partial: bool = typer.Option(False, "--allow-partial",
                                       help="表格在末尾被截断时只导入完整的部分，并列出不完整的行"),
) -> None:
    """导入绩效自评表：目标与分值、实际完成值（年末填报）、全年执行数、预算调整和部门自评得分，一次事务。"""
    from monitor.importers.selfeval_load import dry_run_json, dry_run_lines, read_file, store_selfevals

    try:
        read = read_file(file, allow_partial=allow_partial)
        if dry_run:
            data = dry_run_json(read, department_code=department_code)
            for line in [json.dumps(data, ensure_ascii=False)] if as_json else dry_run_lines(data):
                typer.echo(line)
            return
    except ImportFailure as exc:
        if as_json:
            typer.echo(json.dumps(exc.to_json(), ensure_ascii=False))
        else:
            typer.echo(f"导入失败：{exc.describe()}", err=True)
        raise typer.Exit(1) from exc
    if user is None:
        typer.echo("导入失败：写入自评表须用 --user 指定财政局管理员（只看内容请加 --dry-run）", err=True)
        raise typer.Exit(2)
    with acting_as(user, (NotAllowed, NotVisible, ImportFailure)) as (session, owner):
        stored = store_selfevals(session, owner, read, today=datetime.now(SHANGHAI).date(),
                                 department_code=department_code)
        for table in read.tables:
            typer.echo(f"已导入自评表「{table.name}」（{table.year}年度）：{len(table.indicators)} 个指标；"
                       f"部门自评总分 {table.total_score if table.total_score is not None else '未填'}")
            for row in table.incomplete:
                typer.echo(f"  不完整 第{row.line}行：{row.text}，未导入")
        typer.echo(f"共 {len(read.tables)} 个项目：{stored.reports} 条年末填报，{stored.spending} 条全年执行数，"
                   f"{f'{stored.adjustments} 笔' if stored.adjustments else '无'}预算调整")
        for kept in stored.kept:
            typer.echo(f"  ! 第{kept['line']}行「{kept['project']}/{kept['name']}」：{kept['reason']}")
