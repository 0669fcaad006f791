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


# ---- inside monitor/: layers, lowest first; a package imports its own modules and lower layers only ----------

LAYERS = (
    {"spreadsheets", "shutdown"},                # leaves that import no kpiwatch code: export cells, the stop latch
    {"config", "store", "job_context", "logs"},  # settings, tables and sessions (+ the audit trail), jobs' input
    {"accounts", "importers", "progress", "evaluation", "readiness", "weights"},
    {"notify", "reports", "rounds"},
    {"web", "scheduler"},
    {"cli", "demo"},
)
LAYER = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}

# Imports between packages of one layer that today's code needs; each is one-way, so no circle can arise.
SIBLING_IMPORTS = {
    ("job_context", "config"): "a scheduled job receives the settings",
    ("logs", "config"): "logging is set up from the [logging] section",
    ("progress", "accounts"): "recording a report checks the user's permissions",
    ("weights", "accounts"): "changing weights refuses anyone but an administrator with the same NotAllowed",
    ("importers", "progress"): "a re-import after a round opened proposes target adjustments, not overwrites",
    ("reports", "notify"): "the scheduled drafts are queued through the outbox",
    ("rounds", "reports"): "a submitted version freezes the report's document and its self-evaluation entries",
    ("cli", "demo"): "`kpiwatch demo` runs the demo",
}

def _monitor_imports() -> list[tuple[str, str, str]]:
    """(importing module, its package, imported monitor module) for every import in monitor/, lazy ones included."""
    found = []
    for path in sorted((ROOT / "monitor").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = parts[1] if len(parts) > 1 else ""
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"monitor.{alias.name}" for alias in node.names] if node.module == "monitor" else [node.module]
            else:
                continue
            found += [(module, package, name) for name in names if name.startswith("monitor.")]
    return found


def _package(module: str) -> str:
    return module.split(".")[1]


def test_every_package_of_monitor_has_a_layer():
    packages = {path.relative_to(ROOT / "monitor").parts[0].removesuffix(".py")
                for path in (ROOT / "monitor").rglob("*.py")} - {"__init__"}
    assert sorted(packages - set(LAYER)) == []


def test_monitor_imports_only_downwards():
    offences = []
    for module, package, imported in _monitor_imports():
        target = _package(imported)
        if target == package:
            continue
        if package not in LAYER or target not in LAYER:
            offences.append(f"{module} imports {imported}: a package without a layer")
        elif LAYER[target] > LAYER[package]:
            offences.append(f"{module} imports {imported}: upwards")
        elif LAYER[target] == LAYER[package] and (package, target) not in SIBLING_IMPORTS:
            offences.append(f"{module} imports {imported}: a sibling not in SIBLING_IMPORTS")
    assert offences == []


def test_every_allowance_is_still_needed():
    """A sibling import that no code makes any more is deleted, so the rules stay tight."""
    imports = _monitor_imports()
    used_siblings = {(package, _package(imported)) for _module, package, imported in imports}
    assert sorted(set(SIBLING_IMPORTS) - used_siblings) == []


def test_the_packages_of_monitor_import_each_other_without_a_circle():
    graph: dict[str, set[str]] = {}
    for _module, package, imported in _monitor_imports():
        if _package(imported) != package:
            graph.setdefault(package, set()).add(_package(imported))
    circles, state = [], {}

    def visit(package: str, path: list[str]) -> None:
        state[package] = "open"
        for target in sorted(graph.get(package, ())):
            if state.get(target) == "open":
                circles.append(" → ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[package] = "done"

    for package in sorted(graph):
        if package not in state:
            visit(package, [package])
    assert circles == []
