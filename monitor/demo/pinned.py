"""What a demo store keeps beside itself so that `kpiwatch serve` on it later works as the demo did.

The demo signs its emails' acknowledgement links with a key and lives on a fixed as-of date. Both are written to
`demo-settings.json` in the demo folder (the key only when the demo made it up: a KPIWATCH_SECRET_KEY from the
environment never goes to disk), and `kpiwatch serve` pointed at that store reads them: the links in the demo's
emails keep working, and the portal judges what is due and late on the demo's date, not today's.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from monitor.config import Config

SETTINGS_FILE = "demo-settings.json"


@dataclass(frozen=True)
class DemoSettings:
    as_of: date
    secret_key: str | None = None  # None: the demo used KPIWATCH_SECRET_KEY, which serve reads from there too


def write(workdir: Path, pinned: DemoSettings) -> Path:
    """The settings file, readable by its owner only (it may hold the demo's signing key)."""
    path = workdir / SETTINGS_FILE
    data = {"as_of": pinned.as_of.isoformat()}
    if pinned.secret_key:
        data["secret_key"] = pinned.secret_key
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
    return path


def for_store(database_url: str) -> DemoSettings | None:
    """The settings of the demo that made this SQLite store, or None for any other store."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database).parent / SETTINGS_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return DemoSettings(as_of=date.fromisoformat(data["as_of"]), secret_key=data.get("secret_key"))


def apply(settings: Config, pinned: DemoSettings) -> Config:
    """The settings to serve the demo store with: the demo's signing key unless the environment gives one."""
    return dataclasses.replace(settings, secret_key=settings.secret_key or pinned.secret_key)
