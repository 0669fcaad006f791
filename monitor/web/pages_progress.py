"""Department and project pages: what is due, what was reported, and the forms to report it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
