"""PDF from the same HTML through WeasyPrint: A4, print CSS, fonts embedded (subset) in the file."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it pulls in pango and takes a moment

    return HTML(string=html, base_url=".").write_pdf()
