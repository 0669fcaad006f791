"""The demo's report step writes both documents for whatever the demo store holds and says where."""

import io
from datetime import date

from rich.console import Console
from sqlmodel import Session

from monitor.config import Config
from monitor.demo.context import DemoContext
from monitor.demo.reports import make_reports
from tests.test_reports import seed_house_repair


def test_demo_step_writes_both_reports_and_prints_the_folder(engine, tmp_path):
    with Session(engine) as session:
        seed_house_repair(session)
    out = io.StringIO()
    context = DemoContext(workdir=tmp_path, settings=Config(), engine=engine,
                          as_of=date(2024, 7, 31), console=Console(file=out, width=200))
    make_reports(context)
    folder = tmp_path / "reports"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["2024-监控表.html", "2024-监控表.xlsx", "2024-监控表.pdf", "2024-自评表(草稿).html",
                            "2024-自评表(草稿).xlsx", "2024-自评表(草稿).pdf", "2024-部门汇总.html",
                            "2024-部门汇总.xlsx", "2024-部门排名.html", "2024-部门排名.xlsx"])
    assert (folder / "2024-自评表(草稿).pdf").read_bytes().startswith(b"%PDF")
    assert "88.63" in (folder / "2024-自评表(草稿).html").read_text(encoding="utf-8")
    assert str(folder.resolve()) in out.getvalue()
