"""How long a previewed upload waits for its confirmation: one rule, kept by the portal when it stores a preview
and by the scheduler's recovery job, so a store that sees no previews for a while does not keep their bytes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Connection, CursorResult
from sqlmodel import Session, col

from monitor.store.models import ImportUpload

KEEP_UNCONFIRMED = timedelta(days=1)


def prune_uploads(db: Connection | Session, now: datetime) -> int:
    """Drop the uploads previewed more than `KEEP_UNCONFIRMED` before `now` and never confirmed; how many."""
    dropped = db.execute(delete(ImportUpload).where(col(ImportUpload.uploaded_at) < now - KEEP_UNCONFIRMED))
    assert isinstance(dropped, CursorResult)  # a DELETE's result counts its rows
    return int(dropped.rowcount or 0)
