"""The house rules that keep the domain core pure: imports flow monitor → rules, notifications; never back."""

import ast
from pathlib import Path

from tests.conftest import ROOT

FORBIDDEN = {
    "rules": {"monitor", "notifications", "sqlalchemy", "sqlmodel", "fastapi", "aiosmtplib", "apscheduler",
              "psycopg", "smtplib", "socket", "requests", "httpx"},
    "notifications": {"monitor", "sqlalchemy", "sqlmodel", "fastapi", "apscheduler"},
}


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_rules_and_notifications_never_import_the_application_or_io():
    offences = []
    for package, forbidden in FORBIDDEN.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in sorted(_imported_roots(path) & forbidden):
                offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offences == []


def test_rules_never_read_the_clock():
    """The evaluation date is always a parameter; `date.today()` or `datetime.now()` would make rules untestable."""
    offences = []
    for path in sorted((ROOT / "rules").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for needle in ("date.today(", "datetime.now(", "datetime.utcnow(", "time.time("):
            if needle in text:
                offences.append(f"{path.relative_to(ROOT)} calls {needle}")
    assert offences == []
