"""Type-ahead: the caller's keys as Asterisk reports them on AMI, each used exactly once.

Pure (no I/O, no asyncio, no clock: event times are passed in). The AsyncAGI adapter
(:mod:`hotline.ivr.agi`) keeps one :class:`KeyBuffer` per caller leg and feeds it:

* every AMI ``DTMFEnd`` with ``Direction: Received`` of the leg (by ``Uniqueid``) ->
  :meth:`KeyBuffer.pressed`. This is the source of truth: Asterisk emits it for every key the
  channel reads, also while a non-interruptible ``STREAM FILE`` plays and between two AGI
  commands, where Asterisk itself drops the key;
* before sending an AGI command that takes keys -> :meth:`KeyBuffer.mark` (the key count so far);
* when that command's reply says Asterisk used keys (``STREAM FILE`` stopped by escape key
  ``"1"``, ``GET DATA`` returned ``"123"`` and so ate the ``#`` too: :func:`hotline.ivr.agiwire.keys_taken`)
  -> :meth:`KeyBuffer.taken_by_asterisk`, so the ``DTMFEnd`` events of those same keys are not
  used a second time.

De-duplication by sequence: each valid key gets the next number of its leg. Asterisk hands a
channel's keys over in the order they were pressed, and a command takes a contiguous run of them,
all pressed after the command was sent (the adapter sends a key-taking command only when the
buffer holds no key it could take: it answers from the buffer instead). So the keys a reply names
are found as the earliest contiguous run, numbered after the mark, spelling them:

* the usual order (``DTMFEnd`` before the ``AsyncAGIExec`` that reports the key): the run is in
  the buffer and is removed;
* the opposite order (the reply first; Asterisk publishes both through different internal
  topics): the part not seen yet is *owed*, and the next ``DTMFEnd`` events spelling it are
  swallowed as they arrive. An owed key not seen within ``owed_ttl_s`` (event time) is forgotten;
* keys numbered after the mark but before the run, which the command would have taken, were
  pressed in the instant before Asterisk started the command (it dropped them): stale, dropped.
  Keys the command would not take (``1`` during an announcement that only ``#`` skips) stay;
* keys after the run were pressed after the command ended: type-ahead for the next input.

Garbage is bounded: only ``0-9 * # A-D`` are kept (others counted in ``invalid``), and at most
``max_keys`` wait in the buffer (later keys counted in ``overflow``: the first keys typed are the
caller's intent; a stuck key or a fax tone must not grow memory).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: The keys a phone can send (RFC 4733 events 0-15), as Asterisk names them in ``DTMFEnd``.
DTMF_KEYS = frozenset("0123456789*#ABCD")
MAX_KEYS = 32
OWED_TTL_S = 2.0


@dataclass(frozen=True, slots=True)
class Entry:
    """Keys taken from the buffer for one input (see :meth:`KeyBuffer.take_entry`).

    Attributes:
        digits: the keys, without the terminator.
        complete: the terminator was pressed (and taken) or ``max_digits`` were reached; False
            means the caller may still be typing.
    """

    digits: str
    complete: bool


@dataclass
class KeyBuffer:
    """One caller leg's keys (see the module docstring for the protocol).

    Args:
        max_keys: at most this many keys wait in the buffer.
        owed_ttl_s: how long (event seconds) a key reported by a reply waits for its ``DTMFEnd``.

    Counters (for the session record and metrics): ``received`` valid ``DTMFEnd`` keys,
    ``by_asterisk`` keys an AGI reply reported, ``from_buffer`` keys handed out by
    :meth:`take_one`/:meth:`take_entry`, ``invalid`` / ``overflow`` / ``stale`` dropped keys,
    ``owed_expired`` reported keys whose ``DTMFEnd`` never came.
    """

    max_keys: int = MAX_KEYS
    owed_ttl_s: float = OWED_TTL_S
    received: int = 0
    by_asterisk: int = 0
    from_buffer: int = 0
    invalid: int = 0
    overflow: int = 0
    stale: int = 0
    owed_expired: int = 0
    _keys: deque[tuple[int, str]] = field(default_factory=deque)
    _owed: deque[tuple[str, float]] = field(default_factory=deque)

    # ------------------------------------------------------------------ events in
    def pressed(self, key: str, at: float) -> bool:
        """A ``DTMFEnd`` (``Direction: Received``) of the leg: key ``Digit`` at ``at`` (epoch s).

        Returns:
            True if the key was buffered; False if it was invalid, owed to a reply (already
            used), or over ``max_keys``.
        """
        key = key.strip().upper()
        if len(key) != 1 or key not in DTMF_KEYS:
            self.invalid += 1
            return False
        self.received += 1
        self._expire(at)
        if self._owed and self._owed[0][0] == key:
            self._owed.popleft()
            return False
        if len(self._keys) >= self.max_keys:
            self.overflow += 1
            return False
        self._keys.append((self.received, key))
        return True

    def mark(self) -> int:
        """The sequence number of the last key seen: call it before sending a key-taking command."""
        return self.received

    def taken_by_asterisk(self, keys: str, *, since: int, takes: str, at: float) -> None:
        """An AGI reply says Asterisk used ``keys`` (in order) during a command sent at mark ``since``.

        Args:
            keys: e.g. ``"1"`` (STREAM FILE escape key), ``"123#"`` (GET DATA, terminator included).
            since: :meth:`mark` when the command was sent.
            takes: the keys that command stops on or collects (escape digits; all keys for GET DATA).
            at: event time of the reply (epoch s), starts the owed keys' time to live.
        """
        keys = "".join(k for k in keys.upper() if k in DTMF_KEYS)
        if not keys:
            return
        self.by_asterisk += len(keys)
        after = [(i, seq, k) for i, (seq, k) in enumerate(self._keys) if seq > since]
        spelled = "".join(k for _, _, k in after)
        start, length = _find_run(spelled, keys)
        drop = {i for i, _, k in after[:start] if k in takes}
        self.stale += len(drop)
        drop |= {i for i, _, _ in after[start:start + length]}
        self._keys = deque(item for i, item in enumerate(self._keys) if i not in drop)
        for k in keys[length:]:
            self._owed.append((k, at))

    # ------------------------------------------------------------------ keys out
    def take_one(self, allowed: str) -> str | None:
        """The first buffered key, if it is in ``allowed`` (a prompt's escape digits); else None."""
        if self._keys and self._keys[0][1] in allowed:
            self.from_buffer += 1
            return self._keys.popleft()[1]
        return None

    def take_entry(self, max_digits: int, terminator: str = "#") -> Entry:
        """Keys for a ``GET DATA``-like input: up to ``max_digits``, ending at ``terminator``.

        The terminator is taken but not returned (``"#"`` alone: empty entry, complete).
        """
        digits = ""
        while self._keys and len(digits) < max_digits:
            key = self._keys.popleft()[1]
            self.from_buffer += 1
            if key in terminator:
                return Entry(digits, True)
            digits += key
        return Entry(digits, len(digits) >= max_digits)

    # ------------------------------------------------------------------ inspection
    @property
    def keys(self) -> str:
        """The buffered keys, oldest first."""
        return "".join(k for _, k in self._keys)

    @property
    def owed(self) -> str:
        """Keys a reply reported whose ``DTMFEnd`` has not arrived yet."""
        return "".join(k for k, _ in self._owed)

    def __len__(self) -> int:
        return len(self._keys)

    def _expire(self, now: float) -> None:
        while self._owed and now - self._owed[0][1] > self.owed_ttl_s:
            self._owed.popleft()
            self.owed_expired += 1


def _find_run(spelled: str, keys: str) -> tuple[int, int]:
    """Earliest ``(start, length)`` where ``spelled[start:]`` begins with ``keys``, or, at the end of
    ``spelled``, with a prefix of ``keys`` (its other keys not seen yet); ``(len(spelled), 0)`` if none."""
    for start in range(len(spelled)):
        tail = spelled[start:start + len(keys)]
        if keys.startswith(tail) and (len(tail) == len(keys) or start + len(tail) == len(spelled)):
            return start, len(tail)
    return len(spelled), 0


__all__ = ["DTMF_KEYS", "Entry", "KeyBuffer"]
