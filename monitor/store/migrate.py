"""Schema changes as a plan first: where the store is, where it goes, and each revision on the way.

Every schema change is its own Alembic revision under `migrations/versions/` (README: "How to change the
schema"); released revisions are never edited. A change runs under the store's schema lock, so two processes
never apply the same revision, and the plan is made after the lock is taken: a process that waited for another
one's upgrade finds nothing left to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import make_url

from monitor.store.db import make_engine, normalise_url
from monitor.store.schema_lock import schema_lock

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(RuntimeError):
    """A schema change that cannot be made; the message says why and what to do."""


class UnknownRevision(SchemaError):
    """The store (or a backup) has a revision this kpiwatch does not have: a newer kpiwatch wrote it."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(f"数据库的结构版本 {revision} 比此 kpiwatch（{kpiwatch_version()}，"
                         f"最新版本 {head_revision()}）新：请安装写入它的那个或更新的 kpiwatch "
                         f"(schema revision {revision} is newer than this kpiwatch knows)")


@dataclass(frozen=True)
class Step:
    revision: str
    message: str


@dataclass(frozen=True)
class Plan:
    """What a schema change will do: from `current` to `target` (None = empty store), through `steps` in order."""

    current: str | None
    target: str | None
    steps: tuple[Step, ...]
    downgrade: bool = False

    def describe(self) -> list[str]:
        """The plan as lines for a person to read before anything changes."""
        lines = [f"当前版本 (current): {self.current or '(空库 / empty)'}",
                 f"目标版本 (target):  {self.target or '(空库 / empty)'}"]
        if not self.steps:
            return lines + ["无需变更 (nothing to do)"]
        verb = "将撤销 (to undo)" if self.downgrade else "将执行 (to apply)"
        return lines + [f"{verb}:"] + [f"  {step.revision}  {step.message}" for step in self.steps]


def kpiwatch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kpiwatch")
    except PackageNotFoundError:
        return "unknown"


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str:
    """The newest revision this kpiwatch has (there is exactly one head: a test keeps it so)."""
    head = scripts().get_current_head()
    if head is None:
        raise SchemaError("kpiwatch 安装不完整：没有数据库迁移脚本 (no migration scripts installed)")
    return head


def is_known(revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return scripts().get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def plan_upgrade(url: str, revision: str = "head") -> Plan:
    current = current_revision(url)
    script = scripts()
    if current is not None and not is_known(current):
        raise UnknownRevision(current)
    target = _resolve(script, revision)
    if target is None and current is not None:
        raise SchemaError(f"升级的目标不能是空库：要撤销请用 kpiwatch db downgrade (use downgrade to go to {revision})")
    try:
        steps = list(script.iterate_revisions(target, current or "base"))
    except (CommandError, RevisionError) as exc:
        raise SchemaError(f"{revision} 比当前版本 {current} 旧：要撤销请用 kpiwatch db downgrade "
                          f"({revision} is older than {current})") from exc
    return Plan(current, target, tuple(Step(s.revision, s.doc) for s in reversed(steps)))


def plan_downgrade(url: str, revision: str) -> Plan:
    current = current_revision(url)
    script = scripts()
    if current is not None and not is_known(current):
        raise UnknownRevision(current)
    target = _resolve(script, revision)
    try:
        steps = list(script.iterate_revisions(current or "base", target or "base"))
    except (CommandError, RevisionError) as exc:
        raise SchemaError(f"{revision} 不比当前版本 {current} 旧 ({revision} is not older than {current})") from exc
    return Plan(current, target, tuple(Step(s.revision, s.doc) for s in steps), downgrade=True)


def _resolve(script: ScriptDirectory, revision: str) -> str | None:
    if revision == "base":
        return None
    try:
        found = script.get_revision(revision)
    except (CommandError, RevisionError) as exc:
        raise SchemaError(f"没有结构版本 {revision} (no such revision)") from exc
    if found is None:
        raise SchemaError(f"没有结构版本 {revision} (no such revision)")
    return found.revision


def migrate(url: str, revision: str = "head", *, downgrade: bool = False,
            show: Callable[[Plan], None] | None = None, wait: bool = True,
            waiting: Callable[[str], None] | None = None, dry_run: bool = False) -> Plan:
    """Take the schema lock, plan the change, show it, and carry it out (unless `dry_run`)."""
    parsed = make_url(normalise_url(url))
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    with schema_lock(url, wait=wait, waiting=waiting):
        plan = plan_downgrade(url, revision) if downgrade else plan_upgrade(url, revision)
        if show is not None:
            show(plan)
        if plan.steps and not dry_run:
            config = alembic_config(url)
            if downgrade:
                command.downgrade(config, plan.target or "base")
            else:
                command.upgrade(config, plan.target or "head")
    return plan


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head", *, show: Callable[[Plan], None] | None = None, wait: bool = True,
            waiting: Callable[[str], None] | None = None) -> Plan:
    """Bring the schema at `url` to `revision`, one process at a time (a second one waits, calling `waiting`
    with who holds the lock); `show` sees the plan before it runs. A SQLite file's folder is created if missing."""
    return migrate(url, revision, show=show, wait=wait, waiting=waiting)
