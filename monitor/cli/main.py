"""The `kpiwatch` command line: one Typer app, one module per command group.

Each module under `monitor/cli/` defines its commands on its own `typer.Typer()` (or plain functions)
and is registered here, so `kpiwatch --help` lists everything and a newcomer finds a command by file name.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="kpiwatch",
    help="kpiwatch: 预算绩效目标运行监控 (performance-target monitoring for public budgets).",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    # Imported here, not at module top, so each group stays an independent module.
    from monitor.cli import db as db_cli

    app.add_typer(db_cli.app, name="db")

    from monitor.cli import demo as demo_cli

    app.command("demo")(demo_cli.demo_command)

    from monitor.cli import importing as importing_cli

    app.command("import")(importing_cli.import_command)
    app.add_typer(importing_cli.template_app, name="template")

    from monitor.cli import selfeval as selfeval_cli

    app.command("import-selfeval")(selfeval_cli.import_selfeval_command)

    from monitor.cli import targets as targets_cli

    app.command("parse-target")(targets_cli.parse_target_command)

    from monitor.cli import report as report_cli

    app.add_typer(report_cli.app, name="report")

    from monitor.cli import progress as progress_cli

    app.command("report-progress")(progress_cli.report_progress_command)

    from monitor.cli import budget as budget_cli

    app.add_typer(budget_cli.app, name="budget")

    from monitor.cli import users as users_cli

    app.add_typer(users_cli.app, name="users")

    from monitor.cli import tokens as tokens_cli

    app.add_typer(tokens_cli.app, name="tokens")

    from monitor.cli import audit as audit_cli

    app.add_typer(audit_cli.app, name="audit")

    from monitor.cli import evaluate as evaluate_cli

    app.command("evaluate")(evaluate_cli.evaluate_command)

    from monitor.cli import scheduler as scheduler_cli

    app.command("scheduler")(scheduler_cli.scheduler_command)

    from monitor.cli import serve as serve_cli

    app.command("serve")(serve_cli.serve_command)

    from monitor.cli import notify as notify_cli

    notify_cli.register(app)

    from monitor.cli import rounds as rounds_cli

    app.add_typer(rounds_cli.app, name="round")

    from monitor.cli import corrective as corrective_cli

    app.add_typer(corrective_cli.app, name="corrective")
    from monitor.cli import adjust as adjust_cli

    app.add_typer(adjust_cli.app, name="adjust")

    from monitor.cli import backup as backup_cli

    backup_cli.register(app)

_register()
