"""What a scheduled job receives: the settings, the store, and which scheduled run it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from monitor.config import Config


@dataclass(frozen=True)
class JobContext:
    settings: Config
    engine: Engine
    job: str
    scheduled_at: datetime  # the run's scheduled time (aware); the same on every replica

    @property
    def as_of(self) -> date:
        """The calendar day of the scheduled run in the scheduler's time zone: the evaluation date."""
        return self.scheduled_at.date()
