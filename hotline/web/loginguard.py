"""Login hardening, pure: same-site ``next`` targets and the failed-login throttle (no I/O, clock injected).

* :func:`safe_next` keeps only same-site relative paths for the post-login redirect.
* :class:`LoginThrottle` counts failed logins per user name and per client address; after
  ``free`` failures each further failure doubles a waiting window (``base_s``, ``2*base_s`` ...
  capped at ``max_s``) during which that key is refused without checking any password.
  Callers record the failure *before* checking (so a burst of parallel guesses is counted as it
  starts, not after the slow hash) and take it back with :meth:`succeeded`, which clears the
  user's count (the address keeps its earlier ones, so spraying many names from one address still
  slows down). Entries are forgotten ``forget_s`` after their last failure and the
  table is bounded (``max_keys``, oldest dropped first) so an attacker cannot grow memory.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def safe_next(target: str | None) -> str:
    """The post-login redirect ``target`` if it is a same-site relative path, else ``"/"``.

    Accepted: a path starting with exactly one ``/``. Refused (answer ``"/"``): empty, ``//host``,
    any backslash, a scheme (``https:``, ``javascript:``), or any control character or whitespace —
    checked on the raw value and after percent-decoding (repeatedly, so ``%2509`` does not slip
    through), because browsers drop ``\\t\\r\\n`` inside URLs (``/%09/evil.example`` -> ``//evil.example``).

    Args:
        target: the ``next`` query or form value (untrusted).
    """
    if not target or len(target) > 2048:
        return "/"
    value, seen = target, set()
    while value not in seen:  # decode to a fixed point (bounded: each step shortens or repeats)
        seen.add(value)
        if not _plain_path(value):
            return "/"
        value = unquote(value)
    return target


def _plain_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if _SCHEME.match(value):
        return False
    return not any(ord(ch) < 0x21 or ord(ch) == 0x7F or ch.isspace() for ch in value)


@dataclass(slots=True)
class _Failures:
    count: int
    last_at: float
    blocked_until: float


class LoginThrottle:
    """Failed-login counter per user name and per client address, with growing waiting windows.

    Args:
        clock: monotonic seconds (``time.monotonic``; tests pass a fake).
        free: failures allowed per user name before waiting starts.
        address_free: failures allowed per client address before waiting starts: higher, because a
            contact centre's 300 seats often reach the server from one NAT or proxy address, and a
            few agents mistyping must not lock the whole floor out.
        base_s: the first waiting window in seconds; each further failure doubles it.
        max_s: the longest window (the bound: a locked user waits at most this long).
        forget_s: a key is forgotten this long after its last failure.
        max_keys: at most this many keys are remembered (oldest dropped).
    """

    def __init__(self, clock: Callable[[], float], *, free: int = 3, address_free: int = 20, base_s: float = 1.0,
                 max_s: float = 60.0, forget_s: float = 900.0, max_keys: int = 10_000) -> None:
        self.clock = clock
        self.free, self.base_s, self.max_s, self.forget_s, self.max_keys = free, base_s, max_s, forget_s, max_keys
        self.address_free = address_free
        self._keys: OrderedDict[str, _Failures] = OrderedDict()

    @staticmethod
    def keys(user: str, address: str | None) -> list[str]:
        """The throttle keys of one attempt: ``user:<name>`` (case-folded) and ``addr:<ip>`` when known."""
        out = [f"user:{user.casefold()}"]
        if address:
            out.append(f"addr:{address}")
        return out

    def _get(self, key: str, now: float) -> _Failures | None:
        f = self._keys.get(key)
        if f is not None and now - f.last_at > self.forget_s:
            del self._keys[key]
            return None
        return f

    def wait_s(self, user: str, address: str | None) -> float:
        """Seconds this attempt must still wait (0.0 = may try now); the longest of its keys."""
        now = self.clock()
        waits = [f.blocked_until - now for k in self.keys(user, address) if (f := self._get(k, now)) is not None]
        return max([0.0, *waits])

    def delay_for(self, count: int, free: int | None = None) -> float:
        """The waiting window after ``count`` failures: 0 up to ``free`` (default: the per-user ``free``), then
        doubling, capped at ``max_s``."""
        free = self.free if free is None else free
        if count <= free:
            return 0.0
        return min(self.max_s, self.base_s * 2.0 ** min(count - free - 1, 62))

    def failed(self, user: str, address: str | None) -> float:
        """Record one failure; returns the new waiting window in seconds (the longest of its keys)."""
        now = self.clock()
        longest = 0.0
        for key in self.keys(user, address):
            f = self._get(key, now)
            if f is None:
                f = self._keys[key] = _Failures(0, now, now)
            f.count += 1
            f.last_at = now
            delay = self.delay_for(f.count, self.address_free if key.startswith("addr:") else self.free)
            f.blocked_until = now + delay
            longest = max(longest, delay)
            self._keys.move_to_end(key)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return longest

    def succeeded(self, user: str, address: str | None = None) -> None:
        """A correct password after :meth:`failed` was recorded for it up front: forget the user's failures
        and take that one failure back from the address (the address keeps its earlier ones)."""
        self._keys.pop(f"user:{user.casefold()}", None)
        f = self._keys.get(f"addr:{address}") if address else None
        if f is not None:
            f.count = max(0, f.count - 1)
            f.blocked_until = f.last_at + self.delay_for(f.count, self.address_free)

    def __len__(self) -> int:
        return len(self._keys)
