"""Signed acknowledgement links: an email recipient can explain an item without logging in, but only that
item, only in the status it had when the email was built, and only for `ack_link_days`."""

from __future__ import annotations

from datetime import date

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from monitor.config import Config

SALT = "kpiwatch-ack"


class InvalidToken(ValueError):
    pass


def _serializer(config: Config) -> URLSafeTimedSerializer | None:
    if not config.secret_key:
        return None
    return URLSafeTimedSerializer(config.secret_key, salt=SALT)


def ack_token(config: Config, indicator_id: int, occurrence: str, status: str, since: date | None,
              department_id: int) -> str | None:
    """None without KPIWATCH_SECRET_KEY: then emails carry no acknowledgement link (the portal still works)."""
    serializer = _serializer(config)
    if serializer is None:
        return None
    return serializer.dumps({"i": indicator_id, "o": occurrence, "s": status,
                             "d": department_id, "t": since.isoformat() if since else None})


def read_ack_token(config: Config, token: str) -> dict:
    serializer = _serializer(config)
    if serializer is None:
        raise InvalidToken("未配置 KPIWATCH_SECRET_KEY，无法验证链接")
    try:
        data = serializer.loads(token, max_age=config.notifications.ack_link_days * 86400)
    except SignatureExpired as exc:
        raise InvalidToken("链接已过期，请登录门户说明") from exc
    except BadSignature as exc:
        raise InvalidToken("链接无效") from exc
    return {"indicator_id": int(data["i"]), "occurrence": str(data["o"]), "status": str(data["s"]),
            "department_id": int(data["d"]), "since": date.fromisoformat(data["t"]) if data.get("t") else None}
