"""Users and roles: a YAML file of argon2id-hashed passwords, edited by ``hotline user add``.

File shape (``WebConfig.users_file``)::

    users:
      zhang.wei: {role: supervisor, seat: "1271", password_hash: "$argon2id$v=19$..."}
      li.na:     {role: agent, agent_id: "1272", password_hash: "$argon2id$v=19$..."}

Roles, from least to most: ``agent`` (own state only), ``qa-reviewer``, ``qa-lead``, ``supervisor``
(the floor: wallboard, agent actions, listen/whisper/barge), ``admin`` (everything). Which role may
do what is in :data:`hotline.web.routes` (each route lists its roles). Hashing is argon2-cffi's
``PasswordHasher`` (argon2id, its default parameters); the hash is slow on purpose (~50 ms), so
callers on the event loop run :func:`verify_hash` off the loop (the web component has a pool for it).
"""

from __future__ import annotations

import enum
import functools
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hotline.web.errors import UsersFileError

_HASHER = PasswordHasher()
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


class Role(enum.StrEnum):
    """What a user is allowed to do (see the module docstring)."""

    AGENT = "agent"
    QA_REVIEWER = "qa-reviewer"
    QA_LEAD = "qa-lead"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    """One login.

    Attributes:
        name: login name.
        role: the user's role.
        password_hash: argon2id PHC string.
        seat: the PJSIP seat the user listens from (supervisors: ChanSpy rings this seat).
        agent_id: the routing agent this login acts as (agents: their own state only).
    """

    name: str
    role: Role
    password_hash: str
    seat: str | None = None
    agent_id: str | None = None


def hash_password(password: str) -> str:
    """The argon2id PHC string of ``password`` (slow: ~50 ms)."""
    return _HASHER.hash(password)


def verify_hash(password_hash: str, password: str) -> bool:
    """True when ``password`` matches the argon2 PHC string; a malformed hash is a mismatch, not a crash.

    Slow on purpose (argon2id, ~50 ms and 64 MiB): run it off the event loop.
    """
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_password(user: User, password: str) -> bool:
    """True when ``password`` matches ``user``'s hash (see :func:`verify_hash`)."""
    return verify_hash(user.password_hash, password)


@functools.cache
def dummy_hash() -> str:
    """An argon2id hash of a random password with the same parameters as real ones (made once, ~50 ms).

    Verified against when the user name is unknown, so an unknown name costs the same work as a known
    one (no user-name enumeration by timing). Call it off the event loop the first time.
    """
    return _HASHER.hash(secrets.token_urlsafe(24))


def parse_users(data: object, source: str = "<users>") -> dict[str, User]:
    """Validate the loaded YAML document.

    Raises:
        UsersFileError: every problem, as ``source: users.<name>.<key>: message``.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping) or not isinstance(data.get("users", {}), Mapping):
        raise UsersFileError([f"{source}: expected a mapping 'users: {{name: {{role, password_hash}}}}'"])
    problems: list[str] = []
    users: dict[str, User] = {}
    for name, rec in (data.get("users") or {}).items():
        where = f"{source}: users.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(f"{where}: a name is 1-64 of letters, digits and ._@-")
            continue
        if not isinstance(rec, Mapping):
            problems.append(f"{where}: expected a mapping")
            continue
        extra = set(rec) - {"role", "password_hash", "seat", "agent_id"}
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        try:
            role = Role(rec.get("role", ""))
        except ValueError:
            problems.append(f"{where}.role: one of {[r.value for r in Role]}, got {rec.get('role')!r}")
            continue
        ph = rec.get("password_hash")
        if not isinstance(ph, str) or not ph.startswith("$argon2"):
            problems.append(f"{where}.password_hash: an argon2 hash is required (use `hotline user add`)")
            continue
        seat, agent_id = rec.get("seat"), rec.get("agent_id")
        users[name] = User(name, role, ph, None if seat is None else str(seat),
                           None if agent_id is None else str(agent_id))
    if problems:
        raise UsersFileError(problems)
    return users


def load_users(path: Path) -> dict[str, User]:
    """Read the users file (blocking: call it from a thread on the event loop).

    Returns:
        name -> User; an empty dict when the file does not exist (nobody can log in yet).
    Raises:
        UsersFileError: unreadable file, bad YAML, or invalid entries (all listed).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsersFileError([f"{path}: cannot read: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsersFileError([f"{path}: not valid YAML: {exc}"]) from exc
    return parse_users(data, str(path))


def add_user(path: Path, name: str, role: Role | str, password: str, *, seat: str | None = None,
             agent_id: str | None = None) -> User:
    """Add or replace one user in the file (atomic rename; mode 0600; blocking).

    Raises:
        UsersFileError: bad name, unknown role, short password, or an invalid existing file.
    """
    problems = []
    if not _NAME.match(name):
        problems.append(f"{name!r}: a name is 1-64 of letters, digits and ._@-")
    try:
        role = Role(role)
    except ValueError:
        problems.append(f"role: one of {[r.value for r in Role]}, got {role!r}")
    if len(password) < 8:
        problems.append("password: at least 8 characters")
    if problems:
        raise UsersFileError(problems)
    users = load_users(path)
    user = User(name, Role(role), hash_password(password), seat, agent_id)
    users[name] = user
    doc = {"users": {u.name: {k: v for k, v in (("role", u.role.value), ("seat", u.seat), ("agent_id", u.agent_id),
                                                 ("password_hash", u.password_hash)) if v is not None}
                     for u in sorted(users.values(), key=lambda u: u.name)}}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(doc, fh, allow_unicode=True, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return user
