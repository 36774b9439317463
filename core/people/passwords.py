"""Password hashing for people who log in to the console (machines keep bearer keys).

Hashes are argon2id PHC strings from pwdlib (``$argon2id$v=19$m=65536,t=3,p=4$...``); the
parameters travel inside each hash, so a future change of cost still verifies old ones and
:func:`verify` reports when a hash should be upgraded.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.errors import Invalid

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user does not exist, so an unknown username costs the same
# time as a wrong password (no user enumeration by timing).
_dummy: list[str] = []


def _dummy_hash() -> str:
    if not _dummy:  # made on first use: argon2 is slow on purpose, imports should not be
        _dummy.append(_hasher.hash("tousu-no-such-user"))
    return _dummy[0]


def check_policy(password: str, field: str = "password") -> None:
    """Refuse passwords shorter than 8 or longer than 256 characters (422 naming ``field``)."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise Invalid(
            "{field}: a password has {low} to {high} characters",
            field=field,
            params={"field": field, "low": MIN_LENGTH, "high": MAX_LENGTH},
            rule=f"length {MIN_LENGTH}..{MAX_LENGTH}",
        )


def hash_password(password: str) -> str:
    """An argon2id PHC string for ``password`` (checks the length policy first)."""
    check_policy(password)
    return _hasher.hash(password)


def verify(password: str, stored: str | None) -> bool:
    """True when ``password`` matches ``stored``; a missing hash never matches but costs the
    same time as a real check. CPU-bound (~0.1–0.4 s): call it through
    :func:`verify_async` from request handlers."""
    if not stored:
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return bool(_hasher.verify(password, stored))
    except Exception:  # a malformed stored hash is a failed login, not a server error
        return False


async def verify_async(password: str, stored: str | None) -> bool:
    """:func:`verify` in a worker thread, so a login does not stall the event loop."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(verify, password, stored)


async def hash_async(password: str) -> str:
    import anyio.to_thread

    check_policy(password)
    return await anyio.to_thread.run_sync(hash_password, password)
