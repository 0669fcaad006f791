"""Log lines of the long-running commands (`kpiwatch serve`, `kpiwatch scheduler`), as `[logging]` says.

Both write to stderr, which systemd puts in the journal. "text" is for people reading `journalctl`; "json" is one
object per line (time, level, logger, message, and for uvicorn's access lines the client, method, path and
status as fields) for a log collector that should not have to parse prose.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import Any

from monitor.config import LoggingConfig
from rules.calendar import SHANGHAI

TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# What uvicorn's access lines carry as arguments: '%s - "%s %s HTTP/%s" %d'.
ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLines(logging.Formatter):
    """One JSON object per record, keys in a fixed order so lines diff and grep well."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, SHANGHAI).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            entry.update(zip(ACCESS_FIELDS, record.args, strict=True))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(config: LoggingConfig) -> None:
    """Send every logger (uvicorn's and APScheduler's included) through one stderr handler in the chosen form."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if config.format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
