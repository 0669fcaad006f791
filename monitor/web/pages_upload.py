"""Excel/CSV round trip in the portal: download the department's workbook, upload it filled in."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
