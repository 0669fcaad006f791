"""Backups of the store as one archive a restore can judge before it touches anything.

An archive is a tar file: `manifest.json` first (format, kpiwatch version, schema revision, backend, row count
per table, the dump's sha256), then the database's own dump. SQLite: a copy made with the online backup API,
consistent while the service writes. PostgreSQL: `pg_dump --format=custom` of one exported snapshot, the
same snapshot the revision and the row counts are read in, under the schema lock taken shared (no upgrade runs
halfway through a backup).

A restore refuses an archive of another backend, a damaged one, and one of a schema newer than this kpiwatch;
it refuses to replace a store that has rows unless forced; after restoring it checks the row counts and brings
an older schema up to this kpiwatch's newest revision.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import inspect, pool, text
from sqlalchemy.engine import URL, Connection, make_url

from monitor.store.db import make_engine, normalise_url
from monitor.store.migrate import Plan, head_revision, is_known, kpiwatch_version, upgrade
from monitor.store.models import metadata
from monitor.store.schema_lock import schema_lock
from monitor.store.types import now

FORMAT = "kpiwatch-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMPS = {"sqlite": "store.sqlite", "postgresql": "store.pgdump"}


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    kpiwatch_version: str
    schema_revision: str
    backend: str
    created_at: str
    source: str
    dump: str
    dump_sha256: str
    tables: dict[str, int] = field(default_factory=dict)
    server_version: str | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    upgrade: Plan


def backup(url: str, out: Path, *, overwrite: bool = False) -> Manifest:
    """Write an archive of the store at `url` to `out` (refusing to replace an existing file unless `overwrite`)."""
    url = normalise_url(url)
    if out.exists() and not overwrite:
        raise BackupError(f"{out} 已存在：换一个文件名，或加 --force 覆盖 (exists; --force to replace it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".kpiwatch-backup-") as tmp:
        dump = Path(tmp) / DUMPS[_backend(url)]
        if _backend(url) == "sqlite":
            revision, tables, server = _dump_sqlite(url, dump)
        else:
            revision, tables, server = _dump_postgresql(url, dump)
        manifest = Manifest(kpiwatch_version=kpiwatch_version(), schema_revision=revision, backend=_backend(url),
                            created_at=now().isoformat(timespec="seconds"),
                            source=make_url(url).render_as_string(hide_password=True), dump=dump.name,
                            dump_sha256=_sha256(dump), tables=tables, server_version=server)
        partial = Path(tmp) / "archive.tar"
        with _open_archive(partial, manifest.backend) as archive:
            data = json.dumps(asdict(manifest), ensure_ascii=False, indent=2).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(now().timestamp())
            archive.addfile(info, io.BytesIO(data))
            archive.add(dump, arcname=dump.name, filter=_anonymous)
        os.replace(partial, out)
    return manifest


def _open_archive(path: Path, backend: str) -> tarfile.TarFile:
    """gzip (at gzip's own default level) for SQLite's pages; a custom-format dump is compressed already."""
    if backend == "sqlite":
        return tarfile.open(path, "w:gz", compresslevel=6)
    return tarfile.open(path, "w")


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def read_manifest(path: Path) -> Manifest:
    """The manifest of an archive, or BackupError if the file is not a kpiwatch backup this version can read."""
    try:
        with tarfile.open(path, "r:*") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(f"{MANIFEST} is not a file")
            data = json.loads(member.read().decode("utf-8"))
    except (tarfile.TarError, KeyError, AttributeError, ValueError) as exc:
        raise BackupError(f"{path} 不是 kpiwatch 备份 (not a kpiwatch backup): {exc}") from exc
    if data.get("format") != FORMAT:
        raise BackupError(f"{path} 不是 kpiwatch 备份 (not a kpiwatch backup)")
    if data.get("format_version", 0) > FORMAT_VERSION:
        raise BackupError(f"{path} 由更新的 kpiwatch {data.get('kpiwatch_version')} 写成，格式版本 "
                          f"{data.get('format_version')}：请用该版本或更新的 kpiwatch 恢复 (newer archive format)")
    known = {f.name for f in Manifest.__dataclass_fields__.values()}
    return Manifest(**{k: v for k, v in data.items() if k in known})


def restore(url: str, path: Path, *, force: bool = False, show: Callable[[Plan], None] | None = None) -> Restored:
    """Replace the store at `url` with the archive at `path`, then upgrade it to this kpiwatch's newest schema."""
    url = normalise_url(url)
    manifest = read_manifest(path)
    backend = _backend(url)
    if manifest.backend != backend:
        raise BackupError(f"这是 {manifest.backend} 的备份，不能恢复到 {backend} 数据库 "
                          f"(a {manifest.backend} backup cannot be restored into {backend})")
    if not is_known(manifest.schema_revision):
        raise BackupError(f"备份的结构版本 {manifest.schema_revision}（由 kpiwatch {manifest.kpiwatch_version} 写成）"
                          f"比此 kpiwatch（{kpiwatch_version()}，最新版本 {head_revision()}）新：请用 kpiwatch "
                          f"{manifest.kpiwatch_version} 或更新的版本恢复 "
                          "(the backup's schema is newer than this kpiwatch)")
    with tempfile.TemporaryDirectory(prefix="kpiwatch-restore-") as tmp:
        dump = Path(tmp) / manifest.dump
        _extract(path, manifest.dump, dump)
        if _sha256(dump) != manifest.dump_sha256:
            raise BackupError(f"{path} 已损坏：校验和不符 (the dump's sha256 does not match the manifest)")
        with schema_lock(url):
            if not force and not is_empty(url):
                raise BackupError("目标数据库中已有数据：确认要用备份替换它们，请加 --force "
                                  "(the store has rows; --force replaces them with the backup)")
            if backend == "sqlite":
                _restore_sqlite(url, dump)
            else:
                _restore_postgresql(url, dump, manifest)
        found = count_rows(url, list(manifest.tables))
        if found != manifest.tables:
            wrong = {t: (n, found.get(t)) for t, n in manifest.tables.items() if found.get(t) != n}
            raise BackupError(f"恢复后的行数与备份不符 (rows restored differ from the manifest): {wrong}")
    return Restored(manifest, upgrade(url, show=show))


def is_empty(url: str) -> bool:
    """No row in any table (a store just created by `kpiwatch db upgrade` is empty); a missing SQLite file too."""
    url = normalise_url(url)
    if _backend(url) == "sqlite" and not _sqlite_path(url).exists():
        return True
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            for name in inspect(connection).get_table_names():
                if name != "alembic_version" and connection.execute(
                        text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() is not None:
                    return False
        return True
    finally:
        engine.dispose()


def count_rows(url: str, tables: list[str] | None = None) -> dict[str, int]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return _counts(connection, tables)
    finally:
        engine.dispose()


def _counts(connection: Connection, tables: list[str] | None = None) -> dict[str, int]:
    names = tables if tables is not None else [n for n in inspect(connection).get_table_names()
                                               if n != "alembic_version"]
    return {name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in sorted(names)}


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if database in (None, "", ":memory:"):
        raise BackupError("内存数据库无法备份 (an in-memory store cannot be backed up)")
    return Path(database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _extract(archive_path: Path, name: str, to: Path) -> None:
    with tarfile.open(archive_path, "r:*") as archive:
        source = archive.extractfile(name)
        if source is None:
            raise BackupError(f"{archive_path} 中没有 {name} (the dump is missing)")
        with open(to, "wb") as target:
            shutil.copyfileobj(source, target)


def _revision(connection: Connection) -> str:
    if "alembic_version" not in inspect(connection).get_table_names():
        raise BackupError("数据库还没有结构（空库），无需备份 (the store has no schema yet)")
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise BackupError("数据库还没有结构（空库），无需备份 (the store has no schema yet)")
    return revision


# --- SQLite -------------------------------------------------------------------------------------------------

def _dump_sqlite(url: str, dump: Path) -> tuple[str, dict[str, int], str]:
    path = _sqlite_path(url)
    if not path.exists():
        raise BackupError(f"没有数据库文件 {path} (no store there)")
    source = sqlite3.connect(path, timeout=30)
    copy = sqlite3.connect(dump)
    try:
        source.backup(copy)  # one step: a single read transaction, so the copy is one consistent moment
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, whatever the source used
    finally:
        source.close()
        copy.close()
    engine = make_engine(f"sqlite:///{dump}", poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return _revision(connection), _counts(connection), sqlite3.sqlite_version
    finally:
        engine.dispose()


def _restore_sqlite(url: str, dump: Path) -> None:
    path = _sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(dump)
    target = sqlite3.connect(path, timeout=30)
    try:
        source.backup(target)  # replaces every page of the target in one transaction
    finally:
        source.close()
        target.close()


# --- PostgreSQL -------------------------------------------------------------------------------------------

def _dump_postgresql(url: str, dump: Path) -> tuple[str, dict[str, int], str]:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with schema_lock(url, shared=True), engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                revision, tables = _revision(connection), _counts(connection)
                server = connection.execute(text("SHOW server_version")).scalar_one()
                _run(pg_tool("pg_dump", server), "--format=custom", f"--snapshot={snapshot}",
                     f"--file={dump}", url=url)
    finally:
        engine.dispose()
    return revision, tables, server


def _restore_postgresql(url: str, dump: Path, manifest: Manifest) -> None:
    engine = make_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            server = connection.execute(text("SHOW server_version")).scalar_one()
            # Tables of this kpiwatch the archive does not have (a newer schema's) go first; --clean replaces the rest.
            ours = {t.name for t in metadata.sorted_tables} | {"alembic_version"}
            extra = (ours - set(manifest.tables) - {"alembic_version"}) & set(inspect(connection).get_table_names())
            for name in extra:
                connection.execute(text(f'DROP TABLE "{name}" CASCADE'))
    finally:
        engine.dispose()
    _run(pg_tool("pg_restore", server), "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
         "--no-owner", "--no-privileges", str(dump), url=url)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq takes it (the password in the environment, never on the command line)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(tool: str, *args: str, url: str) -> None:
    uri, env = _libpq(url)
    result = subprocess.run([tool, *args, f"--dbname={uri}"], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"{Path(tool).name} 失败 (failed): {result.stderr.strip()}")


def pg_tool(name: str, server_version: str) -> str:
    """`pg_dump`/`pg_restore` of the server's major version (Debian installs one per major version), else the one
    on PATH if it is at least as new; else a message that says which package to install."""
    leading = re.match(r"\d+", server_version)
    if leading is None:
        raise BackupError(f"无法识别 PostgreSQL 服务器版本 (unknown server version): {server_version!r}")
    major = int(leading.group())
    found: list[str] = []
    for candidate in (f"/usr/lib/postgresql/{major}/bin/{name}", shutil.which(name)):
        if candidate and Path(candidate).exists():
            output = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
            version = re.search(r"(\d+)(?:\.\d+)*", output)
            if version and int(version.group(1)) >= major:
                return candidate
            found.append(f"{candidate} ({output.strip()})")
    raise BackupError(f"需要 PostgreSQL {major} 或更新版本的 {name}：请安装 postgresql-client-{major} "
                      f"(needs {name} >= {major}; found: {', '.join(found) or 'none'})")
