"""Console passwords: argon2id (argon2-cffi's RFC 9106 defaults) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import AppError

_hasher = PasswordHasher()
# Checked when the username is unknown, so a miss costs as long as a hit and names cannot be probed.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")

MIN_LENGTH, MAX_LENGTH = 12, 128


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_new_password(password: str, username: str) -> None:
    """Length over composition rules (NIST SP 800-63B): long, not the username, not one repeated character."""
    problems = []
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        problems.append(f"长度须为 {MIN_LENGTH}–{MAX_LENGTH} 个字符")
    if username.lower() in password.lower():
        problems.append("不能包含用户名")
    if len(set(password)) < 5:
        problems.append("不能只由少数几个字符重复组成")
    if problems:
        raise AppError("WEAK_PASSWORD", "密码不符合要求：" + "；".join(problems), 422, {"problems": problems})
