"""Rewrite the single initial migration from the models (developer tool, until the first release).

kpiwatch has no released schema yet, so the whole schema lives in one migration, `0001_initial`, generated
from the models by Alembic's autogenerate against an empty SQLite database. After the first release this
tool goes away and every change gets its own migration.

    python -m monitor.store.regenerate_migration
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from monitor.store.db import MIGRATIONS, alembic_config

REVISION = "0001"


def regenerate() -> Path:
    versions = MIGRATIONS / "versions"
    versions.mkdir(exist_ok=True)
    for old in versions.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/empty.sqlite"
        command.revision(alembic_config(url), message="initial", autogenerate=True, rev_id=REVISION)
    (path,) = versions.glob(f"{REVISION}_*.py")
    text = path.read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith("Create Date:")) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


if __name__ == "__main__":
    print(regenerate())
