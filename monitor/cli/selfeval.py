"""`kpiwatch import-selfeval FILE --user U`: a department's 项目支出绩效自评表 with its year's results.

A self-evaluation is more than targets: its 实际完成值, 全年执行数 and budget change become reports, spending and
an adjustment, which only the finance bureau's admins may record (channel "import"), so the command acts as one.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from monitor.accounts.permissions import NotAllowed, NotVisible
from monitor.cli.common import acting_as
from monitor.importers.document import ImportFailure
from monitor.store.types import SHANGHAI


def import_selfeval_command(
    file: Path = typer.Argument(..., help="项目支出绩效自评表：Excel (.xlsx/.xls)、Word (.docx)、网页 (.html) 或文本"),
    user: str = typer.Option(..., "--user", "-u", help="财政局管理员的用户名"),
    department_code: str | None = typer.Option(None, "--department-code", help="主管部门代码（表中没有时使用）"),
) -> None:
    """导入绩效自评表：目标与分值、实际完成值（年末填报）、全年执行数、预算调整和部门自评得分，一次事务。"""
    from monitor.importers.selfeval_load import read_file, store_selfeval

    try:
        table, sha, fmt = read_file(file)
    except ImportFailure as exc:
        typer.echo(f"导入失败：{exc.describe()}", err=True)
        raise typer.Exit(1) from exc
    with acting_as(user, (NotAllowed, NotVisible, ImportFailure)) as (session, owner):
        stored = store_selfeval(session, owner, table, sha256=sha, fmt=fmt, today=datetime.now(SHANGHAI).date(),
                                department_code=department_code)
        typer.echo(f"已导入自评表「{table.name}」（{table.year}年度）：{len(table.indicators)} 个指标，"
                   f"{stored.reports} 条年末填报，{stored.spending} 条全年执行数，"
                   f"{'1 笔' if stored.adjustment else '无'}预算调整；部门自评总分 {table.total_score}")
