"""The demo's first step: import the seed disclosures shipped in `monitor/examples/` and print what came in."""

from __future__ import annotations

from decimal import Decimal

from monitor.demo.context import SEED_DOCUMENTS, DemoContext
from monitor.importers.disclosure import parse_file
from monitor.importers.document import money_text
from monitor.importers.load import store_document
from monitor.store.db import session_scope


def import_seeds(context: DemoContext) -> None:
    console = context.console
    console.print("[bold]导入绩效目标表 (import the seed documents)[/bold]")
    for path in SEED_DOCUMENTS:
        doc = parse_file(path)
        with session_scope(context.engine) as session:
            store_document(session, doc, strict_month_before=context.settings.targets.strict_month_before)
        acc = doc.accounting()
        rec = doc.reconciliation
        total = sum((p.annual_funds or Decimal(0) for p in doc.projects), Decimal(0))
        state = "一致" if rec is not None and rec.ok else "不一致"
        console.print(
            f"   {doc.department_code} {doc.department_name}: 项目 {len(doc.projects)} 个，年度资金 "
            f"{money_text(total / 10000)} 万元；年度指标 {acc['annual']} 个、实施期指标 {acc['period']} 个；"
            f"重复合并 {acc['duplicates']}、拒收 {acc['rejected']}；与表十二核对{state}")
        for r in doc.rejected:
            console.print(f"     拒收 {path.name} 第{r.line}行「{r.text.replace(chr(9), ' | ')}」：{r.reason}")
