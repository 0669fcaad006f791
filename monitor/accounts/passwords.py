"""Argon2id password hashes (argon2-cffi's defaults, which follow RFC 9106's recommendations).

`KPIWATCH_PASSWORD_PROFILE=cheapest` switches to argon2-cffi's CHEAPEST parameters, which its documentation
says are "only useful for testing": a test suite that logs in a thousand times would otherwise spend minutes
hashing. Verification reads the parameters from each stored hash, so hashes made under either profile verify
under both. Production never sets it.
"""

from __future__ import annotations

import os
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PROFILE_ENV = "KPIWATCH_PASSWORD_PROFILE"
PROFILES = {"rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY, "cheapest": profiles.CHEAPEST}
MIN_LENGTH = 8


class WeakPassword(ValueError):
    pass


@cache
def _hasher(profile: str) -> PasswordHasher:
    if profile not in PROFILES:
        raise ValueError(f"{PROFILE_ENV}={profile!r}：可选 {', '.join(PROFILES)}")
    return PasswordHasher.from_parameters(PROFILES[profile])


def hasher() -> PasswordHasher:
    return _hasher(os.environ.get(PROFILE_ENV, "rfc9106-low-memory"))


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少 {MIN_LENGTH} 个字符 (password must have at least {MIN_LENGTH} characters)")
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so a wrong username is as slow as a wrong password
    and timing does not reveal which usernames exist. Made on first use (argon2 is slow on purpose, and every
    process that imports the accounts, each CLI command, would otherwise pay for it at start-up)."""
    return _dummy(os.environ.get(PROFILE_ENV, "rfc9106-low-memory"))


@cache
def _dummy(profile: str) -> str:
    return _hasher(profile).hash("kpiwatch-no-such-user")
