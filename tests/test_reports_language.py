"""The official tables read in the portal's language, while the documents stay the official Chinese ones.

The downloaded PDF is printed from the Chinese HTML document, so that document is compared byte for byte with
the one the tables printed before they learned English (tests/data/official_reports/, the house-repair year).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlmodel import Session

from monitor.config import Config
from monitor.reports.produce import KINDS, ReportRequest, produce
from tests.test_reports_portal import _client, _world

OFFICIAL = Path(__file__).parent / "data" / "official_reports"


def _document(engine, kind: str) -> str:
    request = ReportRequest(kind, 2024, "html", through=7, charts=False)
    with Session(engine) as session:
        return produce(session, request, dataclasses.replace(Config(), secret_key="test-secret")).decode("utf-8")


@pytest.mark.parametrize("kind", KINDS)
def test_the_chinese_document_the_pdf_prints_from_is_unchanged(engine, kind):
    _world(engine)
    document = _document(engine, kind)
    assert document == (OFFICIAL / f"{kind}.html").read_text(encoding="utf-8")
