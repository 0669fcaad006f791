"""The demo's report step: both documents for the demo data, in every format, under `<demo dir>/reports/`."""

from __future__ import annotations

from monitor.demo.context import DemoContext
from monitor.reports.produce import FORMATS, ReportRequest, produce
from monitor.store.db import session_scope


def make_reports(context: DemoContext) -> None:
    console = context.console
    year = context.as_of.year
    folder = context.workdir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    console.print("[bold]报告：绩效运行监控表与绩效自评表[/bold]")
    with session_scope(context.engine) as session:
        plans = [("monitor", f"{year}-监控表"), ("selfeval", f"{year}-自评表(草稿)"), ("summary", f"{year}-部门汇总"),
                 ("ranking", f"{year}-部门排名")]
        for kind, stem in plans:
            for fmt in FORMATS:
                if kind in ("summary", "ranking") and fmt == "pdf":
                    continue
                path = folder / f"{stem}.{fmt}"
                path.write_bytes(produce(session, ReportRequest(kind, year, fmt), context.settings))
                context.outputs[f"report-{kind}-{fmt}"] = path
    console.print(f"   已生成 {len(list(folder.iterdir()))} 个文件：{folder.resolve()}")
    console.print(f"   例如 {(folder / f'{year}-自评表(草稿).pdf').resolve()}")
