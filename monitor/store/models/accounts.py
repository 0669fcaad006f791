"""People who log in, their API tokens, and the audit trail of every change they make."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from monitor.store.types import instant_field, json_field

USER_ROLES = ("clerk", "head", "admin", "auditor")


class User(SQLModel, table=True):
    """A login. `department_id` is None for the finance bureau's staff, whose `role` is admin or auditor."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    display_name: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=254)
    password_hash: str = Field(max_length=200)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    role: str = Field(default="clerk", max_length=16)
    disabled: bool = Field(default=False)
    created_at: datetime | None = instant_field()
    last_login_at: datetime | None = instant_field()
    # Every portal session carries the generation it was signed in under; raising it (logout, a new password,
    # a new role, disabling) ends all of the user's sessions at once, checked on the lookup each request makes.
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class LoginThrottle(SQLModel, table=True):
    """Failed logins of one account name from one address (`account` "" = any name from that address).

    In the store rather than in memory, so a restart or another replica does not start the count again; a row
    exists for names nobody has, too, so the throttle answers the same whether the account exists or not.
    """

    __table_args__ = (UniqueConstraint("account", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=100)
    address: str = Field(max_length=64)
    failures: int = Field(default=0)
    last_failure_at: datetime = instant_field(nullable=False, index=True)


class ApiToken(SQLModel, table=True):
    """A bearer token for the REST API; only its hash is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(default="", max_length=12)
    created_at: datetime | None = instant_field()
    last_used_at: datetime | None = instant_field()
    revoked_at: datetime | None = instant_field()


class AuditEvent(SQLModel, table=True):
    """One change to targets, reports, users or settings: who, when, through which channel, before and after."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = instant_field(index=True)
    actor: str = Field(max_length=100)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = Field(default="", max_length=16)
    action: str = Field(max_length=50)
    entity: str = Field(max_length=50)
    entity_id: int | None = Field(default=None, index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    before: dict | None = json_field()
    after: dict | None = json_field()
    note: str | None = Field(default=None, sa_column=Column(Text))
