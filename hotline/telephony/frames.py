"""AMI framing on bytes: TCP reads in, whole messages out. Pure: no asyncio, no sockets.

Asterisk's manager protocol is lines of ``Key: Value`` ended by CRLF; a blank line ends a
message. What this module guarantees, where a per-chunk text decoder would not:

* a message split anywhere across reads (inside a UTF-8 Chinese caller name too) comes out
  whole, because bytes are buffered and only whole messages are decoded;
* a message that is not valid UTF-8 is decoded with a fallback encoding (default GB18030,
  for caller names from older PBXs and gateways) and, failing that, with U+FFFD
  replacements: a header is never silently emptied, and ``AmiMessage.encoding`` says which
  decoding was used;
* ``\\r\\n\\n``, bare ``\\n\\n`` and runs of extra blank lines end one message and never merge
  or drop the next;
* repeated keys (``ChanVariable``, ``Output``, ``Variable``) are kept, in order, as lists;
* the Asterisk 14+ ``Output:`` command form and the legacy ``Response: Follows`` body
  (ended by ``--END COMMAND--``, blank lines allowed inside) both give ``.output``;
* a line with no ``:`` is kept in ``.garbage``, and a message with nothing but garbage is
  still delivered (``kind == "garbage"``), so nothing is lost without a trace.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import cast

GREETING_PREFIX = b"Asterisk Call Manager/"
_END = re.compile(rb"\r?\n\r?\n")
_FOLLOWS = b"Response: Follows"
_END_COMMAND = b"--END COMMAND--"
_SEP = itertools.repeat(": ")
_ONE = itertools.repeat(1)
_FOLLOWS_HEADERS = frozenset({"Response", "Privilege", "ActionID", "Message"})

Value = str | list[str]


class AmiMessage:
    """One AMI message: an event, a response to an action, the greeting, or garbage.

    Messages made by the framer are parsed lazily: ``raw`` is kept, and the headers are
    parsed the first time anything reads them. ``kind`` and ``name`` of an ordinary
    ``Event:``/``Response:`` frame are read off its first line without parsing, so an
    event nobody looks into costs no parsing at all (it is still framed, logged and
    delivered in order).

    Attributes:
        headers: header name (as sent) -> value; a repeated header is a list of values
            in the order received.
        raw: the message's bytes exactly as received, without the terminating blank line.
        received_at: epoch seconds when the bytes were read (0.0 if not known).
        encoding: ``"utf-8"``, the fallback encoding's name, or ``"utf-8-replace"``.
        garbage: lines that were not ``Key: Value`` headers.
        body: legacy ``Response: Follows`` output lines (Asterisk < 14).
    """

    __slots__ = ("_body", "_encoding", "_fallback", "_garbage", "_headers", "_lower", "raw", "received_at")

    def __init__(self, headers: dict[str, Value] | None, raw: bytes = b"", received_at: float = 0.0,
                 encoding: str = "utf-8", garbage: list[str] | None = None,
                 body: list[str] | None = None, fallback_encoding: str = "gb18030") -> None:
        self._headers = headers
        self.raw = raw
        self.received_at = received_at
        self._encoding = encoding
        self._garbage = garbage or []
        self._body = body
        self._fallback = fallback_encoding
        self._lower: dict[str, str] | None = None

    def _parse(self) -> dict[str, Value]:
        headers, self._encoding, garbage, self._body = _parse_raw(self.raw, self._fallback)
        self._garbage = garbage or []
        self._headers = headers
        return headers

    @property
    def headers(self) -> dict[str, Value]:
        headers = self._headers
        return headers if headers is not None else self._parse()

    @property
    def encoding(self) -> str:
        if self._headers is None:
            self._parse()
        return self._encoding

    @property
    def garbage(self) -> list[str]:
        if self._headers is None:
            self._parse()
        return self._garbage

    @property
    def body(self) -> list[str] | None:
        if self._headers is None:
            self._parse()
        return self._body

    def _first_line(self, prefix: bytes) -> str | None:
        """The value of the first line if it is ``<prefix>: value`` (no parsing), else None."""
        raw = self.raw
        if not raw.startswith(prefix):
            return None
        end = raw.find(b"\n")
        line = raw[len(prefix):end if end >= 0 else None].rstrip(b"\r")
        try:
            return line.decode("ascii")
        except UnicodeDecodeError:
            return None

    @property
    def has_action_id(self) -> bool:
        """True if the frame carries an ``ActionID`` header (checked on the bytes)."""
        if self._headers is not None:
            return "ActionID" in self._headers or self.get("ActionID") is not None
        raw = self.raw
        return b"ActionID:" in raw or b"actionid:" in raw.lower()

    # -- header access (exact name first, then case-insensitive: Asterisk spells
    #    "Uniqueid" and "UniqueID" in different events)
    def get(self, key: str, default: Value | None = None) -> Value | None:
        """The header's value (a list if repeated), looked up case-insensitively."""
        headers = self.headers
        if key in headers:
            return headers[key]
        lower = self._lower
        if lower is None:
            lower = self._lower = {k.lower(): k for k in headers}
        real = lower.get(key.lower())
        return headers[real] if real is not None else default

    def text(self, key: str, default: str = "") -> str:
        """The header as one string: the last value if repeated, ``default`` if absent."""
        value = self.headers.get(key)
        if value.__class__ is str:
            return value
        if value is None:
            value = self.get(key)
        if value is None:
            return default
        if isinstance(value, list):
            return value[-1] if value else default
        return value

    def values(self, key: str) -> list[str]:
        """The header as a list (empty if absent, one element if sent once)."""
        value = self.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def __getitem__(self, key: str) -> Value:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def pairs(self, key: str) -> dict[str, str]:
        """A repeated ``name=value`` header (``ChanVariable``, ``Variable``) as a dict."""
        out: dict[str, str] = {}
        for item in self.values(key):
            name, _, val = item.partition("=")
            out[name] = val
        return out

    @property
    def kind(self) -> str:
        """``"event"``, ``"response"``, ``"greeting"`` or ``"garbage"``."""
        if self._headers is None:
            if self.raw.startswith(b"Event: "):
                return "event"
            if self.raw.startswith(b"Response: "):
                return "response"
        headers = self.headers
        if "Event" in headers:
            return "event"
        if "Response" in headers:
            return "response"
        if "Greeting" in headers:
            return "greeting"
        if self.get("event") is not None:
            return "event"
        if self.get("response") is not None:
            return "response"
        return "garbage"

    @property
    def name(self) -> str:
        """The event name (``Newchannel``) or the response status (``Success``)."""
        if self._headers is None:
            name = self._first_line(b"Event: ") or self._first_line(b"Response: ")
            if name:
                return name
        return self.text("Event") or self.text("Response") or self.text("Greeting")

    @property
    def action_id(self) -> str:
        return self.text("ActionID")

    @property
    def output(self) -> list[str]:
        """Command output lines: ``Output:`` headers (Asterisk 14+) or the legacy body."""
        if self.body is not None:
            return self.body
        return self.values("Output")

    def to_dict(self) -> dict[str, Value]:
        """Headers as a plain dict (a copy), for JSON output."""
        return dict(self.headers)

    def __repr__(self) -> str:
        return f"AmiMessage({self.headers!r})"


def _decode(raw: bytes, fallback: str) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode(fallback), fallback
    except (UnicodeDecodeError, LookupError):
        return raw.decode("utf-8", "replace"), "utf-8-replace"


def parse_message(raw: bytes, received_at: float = 0.0, fallback_encoding: str = "gb18030") -> AmiMessage:
    """Parse the bytes of one message (no terminating blank line) into an :class:`AmiMessage`.

    Never raises on content: bad bytes are decoded by the fallback, lines without ``:``
    go to ``.garbage``.
    """
    headers, encoding, garbage, body = _parse_raw(raw, fallback_encoding)
    return AmiMessage(headers, raw, received_at, encoding, garbage, body, fallback_encoding)


def _parse_raw(raw: bytes, fallback_encoding: str) -> tuple[dict[str, Value], str, list[str] | None,
                                                            list[str] | None]:
    text, encoding = _decode(raw, fallback_encoding)
    follows = raw.startswith(_FOLLOWS)
    if not follows and text.count("\n") == text.count("\r\n"):
        # fast path (nearly every frame): CRLF lines, all "Key: Value", no repeated key;
        # the split runs in C (map over str.split), no Python loop per header
        lines = text.split("\r\n")
        try:
            fast = cast("dict[str, Value]", dict(map(str.split, lines, _SEP, _ONE)))
        except ValueError:  # a line without ": "
            pass
        else:
            if len(fast) == len(lines) and "" not in fast:
                return fast, encoding, None, None
    headers: dict[str, Value] = {}
    garbage: list[str] | None = None
    body: list[str] | None = None
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.endswith("\r"):
            line = line[:-1]
        key, sep, value = line.partition(": ")
        if not sep:
            key, sep, value = line.partition(":")
        if follows and key not in _FOLLOWS_HEADERS:
            # legacy Response: Follows: the rest is command output up to --END COMMAND--
            body = [ln.rstrip("\r") for ln in lines[i:]]
            if body and body[-1] == "--END COMMAND--":
                body.pop()
            break
        if not sep or not key:
            if line:
                if garbage is None:
                    garbage = []
                garbage.append(line)
            continue
        old = headers.get(key)
        if old is None:
            headers[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            headers[key] = [old, value]
    return headers, encoding, garbage, body


class AmiFramer:
    """Incremental framer: ``feed(bytes)`` yields every message completed by those bytes.

    Args:
        fallback_encoding: used for a message that is not valid UTF-8 (default GB18030).
        expect_greeting: the first line of a fresh connection is the one-line
            ``Asterisk Call Manager/x.y.z`` greeting, which has no blank line after it.
        max_message_bytes: a "message" growing beyond this without a blank line is cut and
            delivered as garbage (protects memory against a broken peer); 1 MiB default.
    """

    __slots__ = ("_buf", "_greeting", "fallback_encoding", "max_message_bytes")

    def __init__(self, fallback_encoding: str = "gb18030", expect_greeting: bool = True,
                 max_message_bytes: int = 1 << 20) -> None:
        self._buf = b""
        self._greeting = expect_greeting
        self.fallback_encoding = fallback_encoding
        self.max_message_bytes = max_message_bytes

    def reset(self, expect_greeting: bool = True) -> None:
        """Forget partial data (a new connection)."""
        self._buf = b""
        self._greeting = expect_greeting

    @property
    def pending_bytes(self) -> int:
        """Bytes buffered that do not yet form a whole message."""
        return len(self._buf)

    def feed(self, data: bytes, received_at: float = 0.0) -> list[AmiMessage]:
        """Add bytes from one read; return the messages they complete, in order."""
        return list(self._iter(data, received_at))

    def _iter(self, data: bytes, received_at: float) -> Iterator[AmiMessage]:
        buf = self._buf + data if self._buf else data
        pos = 0
        size = len(buf)
        fallback = self.fallback_encoding
        if self._greeting:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) >= len(GREETING_PREFIX) and not buf.startswith(GREETING_PREFIX):
                    self._greeting = False
                else:
                    self._buf = buf
                    return
            else:
                self._greeting = False
                if buf.startswith(GREETING_PREFIX):
                    line = buf[:nl].rstrip(b"\r")
                    version = line[len(GREETING_PREFIX):].decode("ascii", "replace")
                    yield AmiMessage({"Greeting": "Asterisk Call Manager", "Version": version},
                                     line, received_at)
                    pos = nl + 1
        # next "\n\r\n" and "\n\n" at or after pos; found once per buffer scan, not per message
        crlf = nl2 = -2
        find = buf.find
        while pos < size:
            # skip blank lines between messages
            c = buf[pos]
            if c == 10:  # \n
                pos += 1
                continue
            if c == 13 and pos + 1 < size and buf[pos + 1] == 10:  # \r\n
                pos += 2
                continue
            if c == 13 and pos + 1 == size:
                break  # a lone \r at the end: wait for more
            if crlf != -1 and crlf < pos:
                crlf = find(b"\n\r\n", pos)
            if nl2 != -1 and nl2 < pos:
                nl2 = find(b"\n\n", pos)
            if crlf < 0 and nl2 < 0:
                break
            if nl2 < 0 or 0 <= crlf < nl2:
                start, end = crlf, crlf + 3
            else:
                start, end = nl2, nl2 + 2
            if buf.startswith(_FOLLOWS, pos):
                # legacy command output may contain blank lines: end at --END COMMAND--
                stop = find(_END_COMMAND, pos)
                if stop < 0:
                    break
                m2 = _END.search(buf, stop)
                if m2 is None:
                    break
                start, end = m2.start(), m2.end()
            elif start > pos and buf[start - 1] == 13:
                start -= 1  # drop the \r of the last line's CRLF
            yield AmiMessage(None, buf[pos:start], received_at, fallback_encoding=fallback)
            pos = end
        rest = buf[pos:] if pos else buf
        if len(rest) > self.max_message_bytes:
            yield AmiMessage({}, rest, received_at, "utf-8-replace",
                             [f"oversized frame of {len(rest)} bytes without a blank line: cut"])
            rest = b""
        self._buf = rest
