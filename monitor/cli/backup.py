"""`kpiwatch backup OUT` and `kpiwatch restore IN`: the whole store as one archive, and back."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from monitor.cli.common import StoreUnavailable, load_settings, shown_url
from monitor.store.backup import BackupError, Manifest, backup, read_manifest, restore
from monitor.store.migrate import Plan


def backup_command(
    out: Path = typer.Argument(..., help="备份文件 (the archive to write), e.g. kpiwatch-2024-07-31.tar"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的文件 (replace an existing file)"),
) -> None:
    """备份数据库到一个文件（服务运行时也可以）：数据、结构版本与 kpiwatch 版本。"""
    url = load_settings().database.url
    try:
        manifest = backup(url, out, overwrite=force)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(url, exc) from exc
    typer.echo(f"已备份 {shown_url(url)} 到 {out}：{_summary(manifest)}")


def restore_command(
    archive: Path = typer.Argument(..., exists=True, dir_okay=False, help="kpiwatch backup 写成的文件"),
    force: bool = typer.Option(False, "--force", help="替换一个已有数据的数据库 (replace a store that has rows)"),
) -> None:
    """从备份恢复数据库（先停止服务）；较旧的结构随后升级到最新版本。"""
    url = load_settings().database.url
    try:
        manifest = read_manifest(archive)
        typer.echo(f"备份 {archive}：{manifest.created_at} 来自 {manifest.source}，{_summary(manifest)}")
        restored = restore(url, archive, force=force, show=_show)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    except (SQLAlchemyError, OSError) as exc:
        raise StoreUnavailable(url, exc) from exc
    typer.echo(f"已恢复到 {shown_url(url)}：{restored.manifest.rows} 行，结构版本 {restored.upgrade.target}")


def _summary(manifest: Manifest) -> str:
    return (f"{len(manifest.tables)} 张表 {manifest.rows} 行，结构版本 {manifest.schema_revision}，"
            f"kpiwatch {manifest.kpiwatch_version}")


def _show(plan: Plan) -> None:
    if plan.steps:
        for line in plan.describe():
            typer.echo(line)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
