"""Each seed document parsed once per test session, shared by the import test modules (never mutate: deepcopy)."""

from __future__ import annotations

from functools import cache

from monitor.importers.disclosure import parse_file
from monitor.importers.document import ParsedDocument
from tests.conftest import SEED_HRSS, SEED_UNION


@cache
def hrss_document() -> ParsedDocument:
    return parse_file(SEED_HRSS)


@cache
def union_document() -> ParsedDocument:
    return parse_file(SEED_UNION)
