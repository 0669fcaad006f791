"""Reports: the mid-year monitoring table and the year-end self-evaluation, the department summary and the
bureau ranking, with charts, in HTML, Excel and PDF. `produce` is the one entry point for the CLI, the portal,
the demo and the scheduler."""

from monitor.reports.produce import FORMATS, KINDS, ReportRequest, produce

__all__ = ["FORMATS", "KINDS", "ReportRequest", "produce"]
