"""A document uploaded in the portal for import, kept between its preview and the admin's confirmation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field


class ImportUpload(SQLModel, table=True):
    """The bytes previewed, under their SHA-256, so the file imported is the file previewed on whichever
    replica the confirmation reaches (replicas share nothing but the store). Rows a day old are let go."""

    sha256: str = Field(primary_key=True, max_length=64)
    filename: str = Field(max_length=255)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: int | None = Field(default=None, foreign_key="user.id")
    uploaded_at: datetime = instant_field(nullable=False, index=True)
