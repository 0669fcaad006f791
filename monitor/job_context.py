"""What a scheduled job receives: the settings, the store, and which scheduled run it is.

It sits beside the settings, below the jobs of notify/ and reports/ that take it and the scheduler that
passes it, so a job never imports the scheduler.
"""

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
