"""`kpiwatch import FILE` and `kpiwatch template export`: load targets from disclosures or the Excel template."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from monitor.cli.common import StoreUnavailable, load_settings, open_store
from monitor.importers.document import ImportFailure
from monitor.store.db import session_scope

template_app = typer.Typer(help="Excel 模板 (the fill-in workbook).", no_args_is_help=True)


def import_command(
    file: Path = typer.Argument(..., help="绩效目标表：文本 (.txt/.csv/.tsv)、Word (.docx)、Excel (.xlsx/.xls，"
                                          "或填好的模板)、网页 (.html) 或有文字层的PDF"),
    year: int | None = typer.Option(None, "--year", help="预算年度（文件中没有时使用）"),
    department_code: str | None = typer.Option(None, "--department-code", help="主管部门代码（文件中没有时使用）"),
    dry_run: bool = typer.Option(False, "--dry-run", help="只解析并报告，不写入数据库"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
    allow_partial: bool = typer.Option(False, "--allow-partial",
                                       help="表格在末尾被截断时只导入完整的部分，并列出不完整的行"),
) -> None:
    """导入项目支出绩效目标：一次事务，重复导入不产生重复数据。"""
    from monitor.importers.load import resolve_identity, store_document
    from monitor.importers.output import document_json, parse_any, summary_lines

    try:
        with _progress("解析文件"):
            doc = parse_any(file, allow_partial=allow_partial)
        resolve_identity(doc, year=year, department_code=department_code)
        settings = load_settings()
        strict = settings.targets.strict_month_before
        if dry_run:
            _emit(document_json(doc, year=year, department_code=department_code, strict_month_before=strict),
                  summary_lines(doc), as_json)
            return
        with open_store(settings) as engine, _progress("写入数据库"):
            with session_scope(engine) as session:
                result = store_document(session, doc, year=year, department_code=department_code,
                                        strict_month_before=strict)
        data = document_json(doc, year=year, department_code=department_code, strict_month_before=strict)
        data["store"] = result.to_json()
        counts = {"新建": result.created, "更新": result.updated, "未变": result.unchanged, "删除": result.deleted}
        lines = summary_lines(doc) + [
            "  已写入：" + "，".join(f"{label} 项目{c['projects']}个、指标{c['indicators']}个"
                                    for label, c in counts.items())
        ] + [f"  ! {s}" for s in result.kept_stale]
        if result.proposals:
            lines.append(f"  本年度已开启监控轮次：{result.proposals} 个指标值的更改已作为目标调整申请提交财政局审批，"
                         "原目标未改")
        _emit(data, lines, as_json)
    except ImportFailure as exc:
        if as_json:
            typer.echo(json.dumps(exc.to_json(), ensure_ascii=False))
        else:
            typer.echo(f"导入失败：{exc.describe()}", err=True)
        raise typer.Exit(1) from exc
    except StoreUnavailable as exc:  # already said on stderr; --json callers still get their object
        if as_json:
            typer.echo(json.dumps({"error": exc.message, "file": str(file), "line": None, "field": None,
                                   "problems": []}, ensure_ascii=False))
        raise
    except SQLAlchemyError as exc:
        message = f"数据库拒绝写入，整个文件未导入（已回滚）：{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
        if as_json:
            typer.echo(json.dumps({"error": message, "file": str(file), "line": None, "field": None, "problems": []},
                                  ensure_ascii=False))
        else:
            typer.echo(f"导入失败：{file}: {message}", err=True)
        raise typer.Exit(1) from exc


@template_app.command("export")
def export_command(
    out: Path = typer.Option(Path("kpiwatch-模板.xlsx"), "--out", help="输出的 .xlsx 文件"),
    department: str | None = typer.Option(None, "--department", help="按部门代码预填数据库中的项目和指标"),
    year: int | None = typer.Option(None, "--year", help="预填的预算年度（默认该部门最新年度）"),
) -> None:
    """写出可手工填写的 Excel 模板（项目、指标两张表）；--department 时预填已有数据。"""
    from monitor.importers.excel import export_department, write_template

    try:
        if out.suffix.lower() != ".xlsx":
            raise ImportFailure("模板是 Excel 工作簿，文件名请以 .xlsx 结尾",
                                en="the template is an Excel workbook: name the file ….xlsx", file=str(out))
        if department is None:
            write_template(out)
            typer.echo(f"已写出空白模板：{out}")
            return
        with open_store(load_settings()) as engine, session_scope(engine) as session:
            count = export_department(session, out, department, year=year)
    except ImportFailure as exc:
        typer.echo(f"导出失败：{exc.describe()}", err=True)
        raise typer.Exit(1) from exc
    except OSError as exc:
        typer.echo(f"导出失败：{out}: 无法写入（{exc.strerror or exc}）", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"已写出部门 {department} 的 {count} 个项目：{out}")


def _emit(data: dict, lines: list[str], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        for line in lines:
            typer.echo(line)


class _progress:
    """A spinner for the slow parts, only when a person is watching a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._progress = None

    def __enter__(self):
        if sys.stdout.isatty():
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn(self.label), TimeElapsedColumn(), transient=True)
            self._progress.start()
            self._progress.add_task(self.label, total=None)
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
