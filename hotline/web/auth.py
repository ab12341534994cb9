"""Who is calling and what they may do: sessions, roles, CSRF (aiohttp adapter).

* **Sessions**: aiohttp-session's ``EncryptedCookieStorage`` (Fernet: AES-128-CBC + HMAC-SHA256) in
  the ``hotline_session`` cookie (HttpOnly, SameSite=Strict). The session holds ``user``, ``role``,
  ``login_at`` and ``csrf``; it expires ``session_max_age_s`` after login, checked on the server
  (the cookie's own Max-Age is only a hint to the browser).
* **Basic auth** (``Authorization: Basic``) for scripts and Prometheus: the same users file; a
  verified header is cached for 60 s, because argon2 is slow on purpose. Wrong headers go through
  the same failed-login throttle as the login form.
* **Password checks** (form and Basic): throttled per user name and per client address
  (:class:`hotline.web.loginguard.LoginThrottle`, 429 ``too-many-attempts`` while waiting), argon2 on a
  small executor of their own, and an unknown name verified against a dummy hash (same work).
* **Roles**: each handler declares the roles it admits with :func:`requires`; a handler without
  a declaration is refused (deny by default). ``/healthz`` and the login page are :func:`public`.
* **CSRF**: an unsafe request (POST/PUT/PATCH/DELETE) authenticated by the session cookie must
  carry the session's token, as form field ``csrf_token`` or header ``X-CSRF-Token``
  (synchroniser token; compared in constant time). Basic-auth requests are exempt: a browser does
  not attach them by itself because the app never sends a ``WWW-Authenticate`` challenge.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp_session import get_session

from hotline.web.errors import CsrfRejected, Forbidden, NotAuthenticated, TooManyAttempts
from hotline.web.loginguard import LoginThrottle
from hotline.web.users import Role, User, dummy_hash, verify_hash

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALL = frozenset(Role)
FLOOR = frozenset({Role.SUPERVISOR, Role.ADMIN})
WALL = frozenset({Role.SUPERVISOR, Role.QA_LEAD, Role.ADMIN})
QA = frozenset({Role.QA_REVIEWER, Role.QA_LEAD, Role.SUPERVISOR, Role.ADMIN})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BASIC_CACHE_S = 60.0


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request. ``via`` is ``session`` or ``basic``."""

    name: str
    role: Role
    seat: str | None
    agent_id: str | None
    via: str
    csrf: str | None = None


def requires(*roles: Role | Iterable[Role]) -> Callable[[Handler], Handler]:
    """Declare the roles a handler admits (``@requires(FLOOR)`` or ``@requires(Role.ADMIN)``)."""
    allowed: set[Role] = set()
    for r in roles:
        allowed |= {r} if isinstance(r, Role) else set(r)

    def mark(handler: Handler) -> Handler:
        handler.hotline_roles = frozenset(allowed)  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: Handler) -> Handler:
    """Mark a handler as needing no login (``/healthz``, the login page)."""
    handler.hotline_public = True  # type: ignore[attr-defined]
    return handler


class Authenticator:
    """Checks credentials against the current users (see the module docstring).

    Every password check (login form and HTTP Basic) goes through :class:`LoginThrottle` (per user name
    and per client address) and runs argon2 on ``executor`` (a small pool of its own, not the loop's
    default one); an unknown user name is verified against :func:`dummy_hash`, so it costs the same work.

    Args:
        users: a callable returning name -> User (reloaded by the caller when the file changes).
        session_max_age_s: server-side session lifetime in seconds.
        clock: epoch-seconds clock.
        executor: where argon2 runs (the web component owns a 2-thread pool and shuts it down);
            None = the loop's default executor (tests).
        throttle: the failed-login throttle (default: one on ``time.monotonic``).
        verify: ``(password_hash, password) -> bool`` (tests pass a counting fake).
        dummy: the hash verified for unknown names (default :func:`dummy_hash`, made on first use).
        max_pending: password checks queued or running at once; more are refused (429) at once.
    """

    def __init__(self, users: Callable[[], dict[str, User]], session_max_age_s: int,
                 clock: Callable[[], float] = time.time, *, executor: Executor | None = None,
                 throttle: LoginThrottle | None = None, verify: Callable[[str, str], bool] = verify_hash,
                 dummy: Callable[[], str] = dummy_hash, max_pending: int = 16) -> None:
        self.users = users
        self.session_max_age_s = session_max_age_s
        self.clock = clock
        self.executor = executor
        self.throttle = throttle if throttle is not None else LoginThrottle(time.monotonic)
        self.verify = verify
        self.dummy = dummy
        self.max_pending = max_pending
        self._pending = 0
        self._basic: dict[str, tuple[User, float]] = {}

    def _verify(self, user: User | None, password: str) -> bool:
        return self.verify(user.password_hash if user is not None else self.dummy(), password) and user is not None

    async def check_password(self, name: str, password: str, address: str | None = None) -> User | None:
        """The user if ``password`` is right, else None (argon2 runs on :attr:`executor`).

        Args:
            name: the login name typed (untrusted).
            password: the password typed.
            address: the client address (``request.remote``); None = throttled per user only.
        Raises:
            TooManyAttempts: this user name or address is in a waiting window after failures, or too many
                checks are already queued (no password is checked then).
        """
        wait = self.throttle.wait_s(name, address)
        if wait > 0:
            raise TooManyAttempts("too many failed logins: wait and try again",
                                  {"retry_after_s": math.ceil(wait)})
        if self._pending >= self.max_pending:
            raise TooManyAttempts("too many logins in progress: try again", {"retry_after_s": 1})
        user = self.users().get(name)
        self.throttle.failed(name, address)  # counted up front: parallel guesses cannot outrun the hash
        self._pending += 1
        try:
            ok = await asyncio.get_running_loop().run_in_executor(self.executor, self._verify, user, password)
        finally:
            self._pending -= 1
        if not ok or user is None:
            return None
        self.throttle.succeeded(name, address)
        return user

    async def _from_basic(self, header: str, address: str | None = None) -> Principal:
        digest = hashlib.sha256(header.encode()).hexdigest()
        now = self.clock()
        hit = self._basic.get(digest)
        if hit is not None and hit[1] > now and hit[0].name in self.users():
            user = hit[0]
        else:
            try:
                name, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise NotAuthenticated("malformed Basic credentials") from None
            found = await self.check_password(name, password, address)
            if found is None:
                raise NotAuthenticated("wrong user name or password")
            user = found
            if len(self._basic) > 1000:
                self._basic.clear()
            self._basic[digest] = (user, now + BASIC_CACHE_S)
        return Principal(user.name, user.role, user.seat, user.agent_id, "basic")

    async def principal(self, request: web.Request) -> Principal | None:
        """Who is calling, or None (no session, expired session, user removed).

        Raises:
            NotAuthenticated: Basic credentials were sent and are wrong.
            TooManyAttempts: Basic credentials were sent while their user or address is throttled.
        """
        header = request.headers.get("Authorization", "")
        if header[:6].lower() == "basic ":
            return await self._from_basic(header, request.remote)
        session = await get_session(request)
        name = session.get("user")
        if not name:
            return None
        if self.clock() - float(session.get("login_at", 0)) > self.session_max_age_s:
            session.invalidate()
            return None
        user = self.users().get(name)
        if user is None:
            session.invalidate()
            return None
        return Principal(user.name, user.role, user.seat, user.agent_id, "session", session.get("csrf"))


async def start_session(request: web.Request, user: User, now: float) -> str:
    """Log ``user`` in on this request's session (a fresh session: no fixation); returns the CSRF token."""
    session = await get_session(request)
    session.invalidate()
    session = await get_session(request)
    token = secrets.token_urlsafe(32)
    session.update({"user": user.name, "role": user.role.value, "login_at": now, "csrf": token})
    return token


async def anonymous_csrf(request: web.Request) -> str:
    """The CSRF token of an anonymous session (the login form), created if missing."""
    session = await get_session(request)
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


async def check_csrf(request: web.Request, expected: str | None) -> None:
    """Raise :class:`CsrfRejected` unless the request carries ``expected`` (header or form field)."""
    sent = request.headers.get("X-CSRF-Token")
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise CsrfRejected("missing or wrong CSRF token: reload the page and try again")


def handler_roles(request: web.Request) -> tuple[bool, frozenset[Role] | None]:
    """(is_public, roles) declared by the matched handler; roles None = undeclared (refused)."""
    handler: Any = request.match_info.handler
    target = getattr(handler, "__func__", handler)
    if getattr(target, "hotline_public", False):
        return True, None
    return False, getattr(target, "hotline_roles", None)


def authorise(principal: Principal, roles: frozenset[Role] | None) -> None:
    """Raise :class:`Forbidden` unless ``principal.role`` is in ``roles``."""
    if roles is None or principal.role not in roles:
        raise Forbidden(f"role {principal.role.value} may not do this",
                        {"role": principal.role.value, "allowed": sorted(r.value for r in roles or ())})
