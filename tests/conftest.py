"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is reached at `KPIWATCH_TEST_PG` (default `postgresql://postgres@127.0.0.1:5432/test`); the suite
creates its own databases there and drops them afterwards, so parallel runs never collide. An unreachable
server fails the suite: it is never skipped. `KPIWATCH_TEST_BACKENDS=sqlite` narrows a local run to SQLite
(by deselection, not skipping); CI always runs both.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from monitor.store.db import make_engine, normalise_url
from monitor.store.migrate import upgrade
from monitor.store.models import metadata
from monitor.web import reevaluate

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "monitor" / "examples"
SEED_HRSS = SEEDS / "000_65cb778bbbd667b7.txt"
SEED_UNION = SEEDS / "004_a620ed73b42e717d.txt"

# Fixtures of the previous release (its store, and a schema revision after head) for every test module.
pytest_plugins = ["tests.release_fixture"]



def pytest_configure(config) -> None:
    # argon2 at its cheapest for the whole suite and the processes it starts (monitor/accounts/passwords.py
    # says why that is safe); the login throttle's timing tests ask for the production cost themselves.
    os.environ.setdefault("KPIWATCH_PASSWORD_PROFILE", "cheapest")


PG_SERVER = os.environ.get("KPIWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _backends() -> list[str]:
    wanted = os.environ.get("KPIWATCH_TEST_BACKENDS", "sqlite,postgresql")
    if os.environ.get("CI"):
        wanted = "sqlite,postgresql"
    return [b.strip() for b in wanted.split(",") if b.strip()]


BACKENDS = _backends()


def _pg_admin_engine() -> Engine:
    engine = make_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:
        engine.dispose()
        pytest.fail(f"PostgreSQL is unreachable at {PG_SERVER}: {exc}. Start it with "
                    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.")
    return engine


def create_database(backend: str, tmp_dir: Path) -> tuple[str, callable]:
    """A new, empty database of the given backend; returns its URL and a function that drops it."""
    if backend == "sqlite":
        path = tmp_dir / f"kpiwatch-{uuid.uuid4().hex[:8]}.sqlite"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    admin = _pg_admin_engine()
    name = f"kpiwatch_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(PG_SERVER)).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session")
def _migrated_urls(tmp_path_factory) -> Iterator[dict[str, str]]:
    """One migrated database per backend for the whole session; tests empty it after use."""
    urls: dict[str, str] = {}
    drops = []
    try:
        for backend in BACKENDS:
            url, drop = create_database(backend, tmp_path_factory.mktemp(backend))
            drops.append(drop)
            upgrade(url)
            urls[backend] = url
        yield urls
    finally:
        for drop in drops:
            drop()


@pytest.fixture(params=BACKENDS)
def db_url(request, _migrated_urls) -> Iterator[str]:
    """URL of a migrated, empty database (SQLite and PostgreSQL in turn)."""
    url = _migrated_urls[request.param]
    yield url
    assert reevaluate.settle_all(timeout=120), "an API report's re-evaluation was still running after 120 s"
    _empty(url)


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(params=BACKENDS)
def fresh_db_url(request, tmp_path) -> Iterator[str]:
    """URL of a brand-new database with no schema at all, dropped after the test."""
    url, drop = create_database(request.param, tmp_path)
    yield url
    drop()


def _empty(url: str) -> None:
    leaked: list = []
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                leaked = connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).all()
                names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())
    finally:
        engine.dispose()
    if leaked:
        pytest.fail(f"the test left {len(leaked)} connection(s) idle in a transaction (a session or connection "
                    "was never closed); they were terminated so the next test starts clean", pytrace=False)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate and key for 127.0.0.1, for the loopback TLS servers of the mail tests."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def server_tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context
