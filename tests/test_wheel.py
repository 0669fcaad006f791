"""A wheel that stands alone: built (with the sdist) from a clean copy of the source, installed into a fresh
virtualenv outside the source tree, it runs `kpiwatch demo --no-serve` in an empty folder with nothing but what
it ships: the seed documents, templates, stylesheets and migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "rules", "notifications")
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")


def _run(*args: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KPIWATCH_", "PYTHON", "VIRTUAL_ENV")) and k != "PATH"}
    env["PATH"] = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(ROOT)))
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def _shipped_data() -> set[str]:
    """Every file of the packages that is not Python: what the code reads at run time."""
    return {p.relative_to(ROOT).as_posix() for package in PACKAGES for p in (ROOT / package).rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")}


@pytest.mark.slow
def test_the_built_wheel_installs_into_a_fresh_venv_and_runs_the_demo_from_an_empty_folder(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCE)
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", dist, source, cwd=tmp_path, timeout=300)
    (wheel,) = dist.glob("kpiwatch-*.whl")
    (sdist,) = dist.glob("kpiwatch-*.tar.gz")

    names = set(zipfile.ZipFile(wheel).namelist())
    assert _shipped_data() <= names, f"not in the wheel: {sorted(_shipped_data() - names)}"
    migrations = {p.relative_to(ROOT).as_posix() for p in (ROOT / "monitor/store/migrations").rglob("*.py")}
    assert migrations <= names
    assert not any(n.startswith("tests/") for n in names)
    with tarfile.open(sdist) as packed:
        in_sdist = {n.split("/", 1)[1] for n in packed.getnames() if "/" in n}
    assert _shipped_data() <= in_sdist, f"not in the sdist: {sorted(_shipped_data() - in_sdist)}"

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path, timeout=120)
    python = venv / "bin" / "python"
    # This venv's pip installs into the new one (--python), which stays free of everything else.
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile", wheel,
         cwd=tmp_path, timeout=600)

    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run(python, "-c", "import monitor, rules, notifications; print(monitor.__file__)", cwd=empty, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(venv)

    demo = _run(venv / "bin" / "kpiwatch", "demo", "--no-serve", cwd=empty, timeout=600)
    assert "与表十二核对一致" in demo.stdout
    out = empty / "kpiwatch-demo"
    with sqlite3.connect(out / "kpiwatch.sqlite") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (_head(),)
        assert db.execute("SELECT count(*) FROM project").fetchone() == (24,)
        assert db.execute("SELECT count(*) FROM indicatorstate").fetchone()[0] > 0
    assert any(p.name.endswith(".eml") and "digest" in p.name for p in (out / "emails").iterdir())
    assert {".html", ".xlsx", ".pdf"} <= {p.suffix for p in (out / "reports").iterdir()}
    assert sorted(p.name for p in empty.iterdir()) == ["kpiwatch-demo"]


def _head() -> str:
    from monitor.store.migrate import head_revision

    return head_revision()
