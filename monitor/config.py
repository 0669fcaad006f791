"""Settings: `config.toml` for what may be shared, environment variables for secrets and per-machine values.

Every section is a frozen dataclass whose defaults are the documented defaults of the top-level `config.toml`
(a test keeps the two in step). Loading checks every key against its dataclass, so a typo or a wrong type is
reported with the key's full name instead of being silently ignored.

Environment overrides:
- `KPIWATCH_CONFIG`        path of the config file (default: `./config.toml` if present, else built-in defaults)
- `KPIWATCH_DATABASE_URL`  overrides `[database] url`
- `KPIWATCH_SMTP_PASSWORD` the SMTP password (never in the file)
- `KPIWATCH_SECRET_KEY`    signs sessions and CSRF tokens (never in the file)
- `KPIWATCH_METRICS_TOKEN` bearer token that opens `/metrics` from any address (never in the file)
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.spreadsheets.limits import Limits
from notifications.smtp import SECURITY_MODES, SmtpSettings
from rules.scoring import ScoringRules
from rules.terms import CAP_FORMULAS, EXACT_FORMULAS, EvaluationSettings


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file, the key and the reason."""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///kpiwatch.sqlite"


@dataclass(frozen=True)
class TargetsConfig:
    strict_month_before: bool = False


@dataclass(frozen=True)
class PortalConfig:
    base_url: str = "http://127.0.0.1:8000"
    default_lang: str = "zh"
    session_hours: int = 12
    login_max_failures: int = 5
    ip_max_failures: int = 30
    login_backoff_seconds: int = 10
    login_backoff_max_seconds: int = 900
    login_forget_minutes: int = 60
    secure_cookies: bool = False
    trusted_proxies: tuple[str, ...] = ()
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    shutdown_grace_seconds: int = 30


@dataclass(frozen=True)
class LoggingConfig:
    """How the services log: plain text lines or one JSON object per line, on stderr (the journal under systemd)."""

    format: str = "text"
    level: str = "INFO"


# [scoring] is read straight into the pure scorer's rules (as [smtp] is into the mail sender's `SmtpSettings`):
# one dataclass, one set of defaults.
ScoringConfig = ScoringRules


@dataclass(frozen=True)
class ReportsConfig:
    """The monitoring table's cut-off and due date, the scheduled drafts, and the 序时进度 curve."""

    monitor_through_month: int = 7
    monitor_due: str = "08-31"
    monitor_draft_days_before: int = 7
    selfeval_draft: str = "01-05"
    time_progress: tuple[Decimal, ...] = ()
    font_family: str = "Noto Sans CJK SC"


@dataclass(frozen=True)
class NotificationsConfig:
    """Who is told what and when: digests, reminders, repeats, escalation and the weekly summary."""

    enabled: bool = True
    lead_days: tuple[int, ...] = (7, 3, 1)
    repeat_days: int = 7
    escalate_after_days: int = 14
    escalate_after_ignored: int = 2
    escalate_finance_after_days: int = 30
    escalate_finance_after_ignored: int = 4
    digest_roles: tuple[str, ...] = ("负责人", "经办人", "绩效管理员")
    escalation_roles: tuple[str, ...] = ("负责人", "绩效管理员")
    finance_roles: tuple[str, ...] = ("绩效管理员",)
    summary_weekday: int = 1
    inactive_login_days: int = 14
    stale_hours: int = 36
    catch_up_max_days: int = 30
    ack_link_days: int = 30
    list_unsubscribe: str = ""


@dataclass(frozen=True)
class RoundsConfig:
    """The `[rounds]` section: when an overdue round task or 整改 item is copied to the bureau and the head."""

    escalate_after_days: int = 14
    escalate_to_roles: tuple[str, ...] = ("负责人",)


@dataclass(frozen=True)
class EvaluationConfig(EvaluationSettings):
    """The `[evaluation]` section: the rules' thresholds (issue 5) plus what the application does with them."""

    halves: tuple[str, ...] = ("annual",)
    chunk_projects: int = 5000
    # A running evaluation stamps its row every third of this; one silent for longer was killed and is closed.
    lease_seconds: int = 300
    # How long a second evaluation waits for the running one before it is refused.
    wait_seconds: int = 900


@dataclass(frozen=True)
class SchedulerConfig:
    """When the scheduled jobs run (issue 5); jobs themselves are listed in monitor/scheduler/jobs.py."""

    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    evaluate_at: str = "06:30"
    misfire_grace_seconds: int = 86400
    # A job's lease is renewed every third of this while it runs; one not renewed for longer is taken over.
    lease_seconds: int = 300
    # Runs of one scheduled time, counting the first, before a run that keeps dying is given up.
    max_attempts: int = 3
    # Finished leases older than this are deleted by the recovery job.
    keep_leases_days: int = 7
    cron: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    portal: PortalConfig = field(default_factory=PortalConfig)
    limits: Limits = field(default_factory=Limits)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    rounds: RoundsConfig = field(default_factory=RoundsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    smtp_password: str | None = field(default=None, metadata={"env_only": True})
    secret_key: str | None = field(default=None, metadata={"env_only": True})
    metrics_token: str | None = field(default=None, metadata={"env_only": True})
    source: str = field(default="<defaults>", metadata={"env_only": True})


ENV_OVERRIDES: dict[str, tuple[str, ...]] = {
    "KPIWATCH_DATABASE_URL": ("database", "url"),
}
ENV_SECRETS: dict[str, str] = {
    "KPIWATCH_SMTP_PASSWORD": "smtp_password",
    "KPIWATCH_SECRET_KEY": "secret_key",
    "KPIWATCH_METRICS_TOKEN": "metrics_token",
}
SECRET_KEY_NAMES = {"password", "secret", "secret_key", "token", "api_key"}


def load_config(path: str | Path | None = None, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read the config file (if any), apply environment overrides, and validate everything."""
    env = os.environ if env is None else env
    path = _resolve_path(path, env)
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{path}: file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text") from exc
    source = str(path) if path is not None else "<defaults>"
    for env_name, key_path in ENV_OVERRIDES.items():
        if env.get(env_name):
            raw.setdefault(key_path[0], {})[key_path[1]] = env[env_name]
    config = _build(Config, raw, source, prefix="")
    _check_database_url(config.database.url, "KPIWATCH_DATABASE_URL" if env.get("KPIWATCH_DATABASE_URL") else source)
    secrets = {attr: env.get(name) or None for name, attr in ENV_SECRETS.items()}
    return dataclasses.replace(config, source=source, **secrets)


def _check_database_url(url: str, where: str) -> None:
    """Refuse a URL the store cannot open here, so `kpiwatch db upgrade` says which setting is wrong instead of
    failing deep inside SQLAlchemy. The URL itself is never echoed: it may carry a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        driver = make_url(url).get_backend_name()
    except ArgumentError as exc:
        raise ConfigError(f"{where}: database.url: not a database URL "
                          "(expected e.g. sqlite:///kpiwatch.sqlite or postgresql://user@host:5432/db)") from exc
    if driver not in ("sqlite", "postgresql", "postgres"):  # normalise_url runs postgres:// on psycopg
        raise ConfigError(f"{where}: database.url: unsupported database {driver!r} (use sqlite or postgresql)")


def _resolve_path(path: str | Path | None, env: typing.Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path)
    if env.get("KPIWATCH_CONFIG"):
        return Path(env["KPIWATCH_CONFIG"])
    local = Path("config.toml")
    return local if local.is_file() else None


def _build(cls: type, raw: Any, source: str, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: [{prefix.rstrip('.')}] must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("env_only")}
    for key in raw:
        full = f"{prefix}{key}"
        if key in SECRET_KEY_NAMES or key.endswith(("_password", "_token")):
            raise ConfigError(f"{source}: {full}: secrets never live in the config file; use an environment variable")
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise ConfigError(f"{source}: {full}: unknown key (known here: {known})")
    values = {}
    for name in fields:
        if name in raw:
            full = f"{prefix}{name}"
            values[name] = _coerce(hints[name], raw[name], source, full)
            problem = _CHECKS[full](values[name]) if full in _CHECKS else None
            if problem:
                raise ConfigError(f"{source}: {full}: {problem}, got {raw[name]!r}")
    try:
        return cls(**values)
    except ValueError as exc:  # a rule the section's own class keeps, such as smtp.max_connections at least 1
        raise ConfigError(f"{source}: {exc}") from exc


def _one_of(*allowed: str) -> typing.Callable[[Any], str | None]:
    return lambda value: None if value in allowed else "expected one of " + ", ".join(allowed)


def _between(low: int, high: int) -> typing.Callable[[Any], str | None]:
    return lambda value: None if low <= value <= high else f"expected {low} to {high}"


def _month_day(value: str) -> str | None:
    try:
        datetime.strptime(f"2023-{value}", "%Y-%m-%d")  # a day every year has: 02-29 is refused
    except ValueError:
        return "expected a day of the year as MM-DD"
    return None


def _clock(value: str) -> str | None:
    try:
        datetime.strptime(value, "%H:%M")
    except ValueError:
        return "expected a time of day as HH:MM"
    return None


def _addresses(value: tuple[str, ...]) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"expected IP addresses or networks such as 10.0.0.5 or 10.0.0.0/24 ({item!r} is neither)"
    return None


def _time_zone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return "expected a time zone name such as Asia/Shanghai"
    return None


# Values the types alone do not rule out, checked when the file is read so the key is named at start-up
# rather than when a job first uses it.
_CHECKS: dict[str, typing.Callable[[Any], str | None]] = {
    "portal.default_lang": _one_of("zh", "en"),
    "portal.trusted_proxies": _addresses,
    "portal.metrics_allow": _addresses,
    "logging.format": _one_of("text", "json"),
    "logging.level": _one_of("DEBUG", "INFO", "WARNING", "ERROR"),
    "smtp.security": _one_of(*SECURITY_MODES),
    "smtp.port": _between(1, 65535),
    "reports.monitor_through_month": _between(1, 12),
    "reports.monitor_due": _month_day,
    "reports.selfeval_draft": _month_day,
    "scheduler.timezone": _time_zone,
    "scheduler.evaluate_at": _clock,
    "notifications.summary_weekday": _between(1, 7),
    "rounds.escalate_after_days": _between(1, 366),
    "scoring.cap_formula": _one_of(*CAP_FORMULAS),
    "scoring.exact_formula": _one_of(*EXACT_FORMULAS),
    "scoring.late_share": _between(0, 1),
    "scoring.missed_share": _between(0, 1),
    **{f"limits.{name}": _between(1, 2**40) for name in ("upload_bytes", "unzipped_bytes", "rows", "cell_chars")},
}


def _coerce(hint: Any, value: Any, source: str, key: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):  # a section: hints are classes, never instances
        return _build(hint, value, source, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, source, key)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{source}: {key}: expected a list, got {value!r}")
        item_hint = args[0]
        return tuple(_coerce(item_hint, item, source, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key}: expected a table, got {value!r}")
        return {k: _coerce(args[1], v, source, f"{key}.{k}") for k, v in value.items()}
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {key}: expected a whole number, got {value!r}")
        return value
    if hint is Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ConfigError(f"{source}: {key}: expected a number, got {value!r}")
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ConfigError(f"{source}: {key}: expected a number, got {value!r}") from exc
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {key}: expected text, got {value!r}")
        return value
    return value
