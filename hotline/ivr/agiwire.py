"""AGI text on the wire: interpreter commands -> AGI command lines, AGI replies -> interpreter results.

Pure (no I/O); the AsyncAGI adapter (:mod:`hotline.ivr.agi`) sends the lines as the ``Command`` of an AMI
``AGI`` action and feeds back the ``Result`` of the matching ``AsyncAGIExec`` event (URL-decoded by
:mod:`hotline.telephony.translate`). Reply shapes, as Asterisk 22 sends them:

============================================ ================================================
reply                                         meaning
============================================ ================================================
``200 result=0``                             STREAM FILE / SAY DIGITS ended, no key
``200 result=49 endpos=12345``               STREAM FILE stopped by key ASCII 49 (``"1"``)
``200 result=123``                           GET DATA: the keys themselves (``"123"``)
``200 result= (timeout)``                    GET DATA: no key before the timeout
``200 result=``                              GET DATA: ``#`` alone, an empty entry (invalid
                                             input, not a timeout: the ``#`` was taken)
``200 result=12 (timeout)``                  GET DATA: keys, then the caller paused
``200 result=1 (张伟)``                      GET VARIABLE: set, the value in parentheses
``200 result=0``                             GET VARIABLE: not set
``200 result=-1 endpos=0``                   the channel hung up, or STREAM FILE of a missing
                                             file (Asterisk 22 then ends the AGI: the call
                                             hangs up, so the adapter never plays an unknown
                                             prompt)
``100 result=0 Trying...``                   provisional: wait for the final reply
``510 Invalid or unknown command``           command not known
``511 Command Not Permitted on a dead ...``  the channel is gone
``520 Invalid command syntax...``            bad arguments (may span lines: ``520-...``)
============================================ ================================================

(``ast_readstring_full`` returns 1 on a timeout, 0 on the ``#`` terminator or ``max_digits``
reached; ``res_agi.c`` adds `` (timeout)`` only for the former.) Which keys a reply says Asterisk
took is :func:`keys_taken`, for the type-ahead buffer (:mod:`hotline.ivr.typeahead`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hotline.ivr.interpreter import (
    CallerHungUp,
    Command,
    CommandFailed,
    DigitsReceived,
    GetDigits,
    Hangup,
    PlaybackFinished,
    PlayPrompt,
    Result,
    SayDigits,
    SetVariable,
    Timeout,
)

_REPLY = re.compile(r"^(?P<code>\d{3})[ -]?(?P<rest>.*)$", re.DOTALL)
_RESULT = re.compile(r"^result=(?P<value>\S*)\s*(?P<data>.*)$", re.DOTALL)
_SAFE_ARG = re.compile(r"^[A-Za-z0-9_/.:\-]+$")


@dataclass(frozen=True, slots=True)
class GetVariable:
    """``GET VARIABLE <name>``; result: :class:`VariableValue` (not an interpreter command: the
    adapter's own reads of channel variables)."""

    name: str


@dataclass(frozen=True, slots=True)
class VariableValue:
    """Answer to :class:`GetVariable`: ``value`` decoded (Chinese included), None when not set."""

    name: str
    value: str | None


class AgiArgumentError(ValueError):
    """A value cannot be passed as one AGI argument (it holds CR/LF)."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    """One parsed AGI reply.

    Attributes:
        code: the status (100, 200, 510, 511, 520), or 0 for text that is not an AGI reply.
        value: what follows ``result=`` (``"49"``, ``""``, ``"-1"``), None without ``result=``.
        data: the rest (``"endpos=123"``, ``"(timeout)"``, an error text).
    """

    code: int
    value: str | None
    data: str


def parse_reply(text: str) -> AgiReply:
    """Parse a decoded ``AsyncAGIExec`` ``Result`` (trailing newline allowed).

    Never raises: garbage gives ``AgiReply(0, None, text)``.
    """
    text = text.strip()
    m = _REPLY.match(text)
    if m is None:
        return AgiReply(0, None, text)
    rest = m.group("rest").strip()
    r = _RESULT.match(rest)
    if r is None:
        return AgiReply(int(m.group("code")), None, rest)
    return AgiReply(int(m.group("code")), r.group("value"), r.group("data").strip())


def quote_arg(value: str) -> str:
    """One AGI argument: bare when safe, else double-quoted with ``\\`` and ``"`` escaped.

    Raises:
        AgiArgumentError: CR or LF in ``value`` (would end the command line).
    """
    if "\r" in value or "\n" in value:
        raise AgiArgumentError(f"AGI argument holds CR/LF: {value!r}")
    if value and _SAFE_ARG.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_command(command: Command | GetVariable) -> str:
    """The AGI command line for an interpreter command.

    Returns:
        e.g. ``STREAM FILE hotline/zh/welcome "0123456789*#"``, ``GET DATA hotline/zh/main_menu 6000 1``,
        ``SAY DIGITS 20251001 ""``, ``SET VARIABLE HOTLINE_LANGUAGE yue``, ``EXEC Hangup 16``.
    Raises:
        TypeError: not an AGI command (work-order lookups and hand-overs are not AGI).
        AgiArgumentError: see :func:`quote_arg`.
    """
    if isinstance(command, PlayPrompt):
        return f'STREAM FILE {quote_arg(command.prompt)} {quote_arg(command.escape_digits)}'
    if isinstance(command, GetDigits):
        return f"GET DATA {quote_arg(command.prompt)} {int(command.timeout_ms)} {int(command.max_digits)}"
    if isinstance(command, SayDigits):
        digits = "".join(ch for ch in command.digits if ch.isascii() and ch.isdigit())
        return f"SAY DIGITS {digits or '0'} {quote_arg(command.escape_digits)}"
    if isinstance(command, SetVariable):
        return f"SET VARIABLE {quote_arg(command.name)} {quote_arg(command.value)}"
    if isinstance(command, GetVariable):
        return f"GET VARIABLE {quote_arg(command.name)}"
    if isinstance(command, Hangup):
        return f"EXEC Hangup {int(command.cause)}"
    raise TypeError(f"not an AGI command: {command!r}")


def timed_out(reply: AgiReply) -> bool:
    """True when a GET DATA reply ended on its timeout (`` (timeout)``), not on ``#``/max digits."""
    return reply.data.startswith("(timeout)")


def to_result(command: Command | GetVariable, reply: AgiReply) -> Result | VariableValue | None:
    """Map a reply to the interpreter's result for ``command`` (see the module table).

    GET DATA: ``result= (timeout)`` is :class:`Timeout`; ``result=`` (``#`` alone) is
    ``DigitsReceived("")``, an empty entry the interpreter treats as invalid input.

    Returns:
        The result, or None for a provisional ``100`` (keep waiting for the final reply).
    """
    if reply.code == 100:
        return None
    if reply.code != 200:
        return CommandFailed(reply.code, reply.data)
    value = reply.value
    if value == "-1":
        return CallerHungUp()
    if isinstance(command, GetVariable):
        if value != "1":
            return VariableValue(command.name, None)
        data = reply.data
        inner = data[1:-1] if data.startswith("(") and data.endswith(")") else data
        return VariableValue(command.name, inner)
    if isinstance(command, GetDigits):
        if value is None:
            return CommandFailed(200, f"unexpected reply {reply.data}".strip())
        return Timeout() if not value and timed_out(reply) else DigitsReceived(value)
    if isinstance(command, (PlayPrompt, SayDigits)):
        if value is None or not value.isdigit():
            return CommandFailed(200, f"unexpected reply {reply.value!r} {reply.data}".strip())
        code = int(value)
        return PlaybackFinished(chr(code) if 0 < code < 128 else None)
    return PlaybackFinished(None)  # SET VARIABLE (result=1), EXEC: success


def takes_keys(command: Command | GetVariable) -> str:
    """The keys a command stops on or collects (empty: it takes none; Asterisk drops keys then)."""
    if isinstance(command, GetDigits):
        return "0123456789*#ABCD"
    if isinstance(command, (PlayPrompt, SayDigits)):
        return command.escape_digits
    return ""


def keys_taken(command: Command | GetVariable, reply: AgiReply) -> str:
    """The keys Asterisk used for ``command``, in order, as its reply shows them.

    ``STREAM FILE``/``SAY DIGITS`` ``result=49``: ``"1"``. ``GET DATA`` ``result=123``: ``"123#"``
    when fewer than ``max_digits`` came without a timeout (the ``#`` ended it and was eaten),
    ``"123"`` otherwise; ``result=`` alone: ``"#"``. Anything else: ``""``.
    """
    if reply.code != 200 or reply.value is None or reply.value == "-1" or not takes_keys(command):
        return ""
    if isinstance(command, GetDigits):
        digits = reply.value
        ended_by_terminator = not timed_out(reply) and len(digits) < command.max_digits
        return digits + ("#" if ended_by_terminator else "")
    if reply.value.isdigit() and 0 < int(reply.value) < 128:
        return chr(int(reply.value))
    return ""
