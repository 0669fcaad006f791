"""API bearer tokens: shown once at creation, stored only as a SHA-256 hash, revocable.

A token is 256 random bits, so a fast hash is enough (no dictionary to attack) and every API call stays cheap.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from monitor.store import audit
from monitor.store.models import ApiToken, User
from monitor.store.types import now

PREFIX = "kpw_"
TOKEN_FIELDS = ("id", "user_id", "name", "prefix", "revoked_at")


class TokenError(ValueError):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str = "", *, actor: User | str | None = None,
                 channel: str = "cli") -> tuple[ApiToken, str]:
    """The stored row and the plaintext token (which exists only in this return value)."""
    if user.disabled:
        raise TokenError(f"用户 {user.username} 已停用 (user disabled)")
    if len(name.strip()) > 100:
        raise TokenError(f"名称过长（{len(name.strip())} 字，最多 100）(name too long)")
    assert user.id is not None, "a token belongs to a stored user"
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip(), token_hash=token_hash(plain), prefix=plain[:10],
                   created_at=now())
    session.add(row)
    session.flush()
    audit.record(session, actor=actor or user, channel=channel, action="create", entity="token", entity_id=row.id,
                 department_id=user.department_id, after=audit.snapshot(row, TOKEN_FIELDS))
    return row, plain


def list_tokens(session: Session, user: User | None = None) -> Sequence[ApiToken]:
    query = select(ApiToken).order_by(col(ApiToken.id))
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return session.exec(query).all()


def revoke_token(session: Session, token_id: int, *, actor: User | str | None, channel: str = "cli",
                 owner: User | None = None) -> ApiToken:
    """Revoke by id; with `owner`, only that user's own token (a foreign id reads as not found)."""
    row = session.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise TokenError(f"令牌 {token_id} 不存在 (no such token)")
    if row.revoked_at is not None:
        return row
    before = audit.snapshot(row, TOKEN_FIELDS)
    row.revoked_at = now()
    session.add(row)
    user = session.get(User, row.user_id)
    audit.record(session, actor=actor, channel=channel, action="revoke", entity="token", entity_id=row.id,
                 department_id=user.department_id if user else None, before=before,
                 after=audit.snapshot(row, TOKEN_FIELDS))
    return row


_USERS_FOR_HASHES = (select(ApiToken.token_hash, User).join(ApiToken, col(ApiToken.user_id) == col(User.id))
                     .where(col(ApiToken.token_hash).in_(bindparam("hashes", expanding=True)))
                     .where(col(ApiToken.revoked_at).is_(None)))


def user_for_token(session: Session, plain: str) -> User | None:
    """The active user behind a token, or None; touching `last_used_at` is left out to keep reads read-only."""
    return users_for_tokens(session, [plain]).get(plain)


def users_for_tokens(session: Session, plains: Iterable[str]) -> dict[str, User]:
    """The active user behind each valid token (invalid, revoked and disabled ones are left out), in one query."""
    hashes = {token_hash(plain): plain for plain in plains if plain.startswith(PREFIX)}
    if not hashes:
        return {}
    rows = session.exec(_USERS_FOR_HASHES, params={"hashes": list(hashes)}).all()
    return {hashes[digest]: user for digest, user in rows if not user.disabled}
