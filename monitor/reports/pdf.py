"""PDF from the same HTML through WeasyPrint: A4, print CSS, fonts embedded (subset) in the file.

Layout is WeasyPrint's cost (≈0.2 s a project on one core), so a long report is cut into chunks of whole
projects, laid out in parallel worker processes and joined page by page with pypdf. Every page's footer names
its project instead of a running page number, which would restart in each chunk.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache

log = logging.getLogger(__name__)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it pulls in pango and takes a moment

    return HTML(string=html, base_url=".").write_pdf()


def workers() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


@lru_cache(maxsize=1)
def _pool() -> ProcessPoolExecutor:
    # forkserver, not fork: the caller may be a threaded web server; the server preloads WeasyPrint once so
    # each worker starts in milliseconds, and the pool lives as long as the process
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["weasyprint", "monitor.reports.pdf"])
    return ProcessPoolExecutor(max_workers=workers(), mp_context=mp)


def htmls_to_pdf(htmls: list[str]) -> bytes:
    """Lay out each HTML document (in parallel when there are several) and join them in order."""
    parts = None
    if len(htmls) > 1 and workers() > 1:
        try:
            parts = list(_pool().map(html_to_pdf, htmls))
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            # e.g. a __main__ the workers cannot re-import (a script read from stdin): lay out here instead
            log.warning("PDF workers unavailable (%s); laying out in this process", exc)
            _pool.cache_clear()
    if parts is None:
        parts = [html_to_pdf(h) for h in htmls]
    if len(parts) == 1:
        return parts[0]
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
