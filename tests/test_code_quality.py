"""The linter and the type checker are part of the suite: a style slip or a type error fails CI like a test.

Their configuration is in pyproject.toml ([tool.ruff], [tool.mypy]); every `noqa` and `type: ignore` left in
the code says why on its own line.
"""

import re
import subprocess
import sys

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_no_type_error():
    result = _run("mypy", "--no-incremental")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_suppression_says_why():
    """A `# noqa: CODE` or `# type: ignore[code]` is followed by its reason, so a reader can judge it."""
    bare = re.compile(r"#\s*(noqa(:\s*[A-Z0-9, ]+)?|type:\s*ignore(\[[a-z-, ]+\])?)\s*$")
    offences = [f"{path.relative_to(ROOT)}:{number}"
                for folder in ("monitor", "rules", "notifications", "tests", "bench")
                for path in sorted((ROOT / folder).rglob("*.py"))
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if bare.search(line)]
    assert offences == []
