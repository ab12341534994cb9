"""What may reach an AMI header (pure): ids, prompt names and variable values from outside.

Asterisk reads more into a header value than its text:

* ``Variable: A=1,B=2`` sets two channel variables (``manager.c`` splits ``Variable`` on commas), so a
  comma in a value from a form or a CSV sets variables of the attacker's choosing;
* a prompt reaches ``Playback(${HL_PROMPTS})`` and ``STREAM FILE``: a comma adds ``Playback`` options,
  ``..`` or a leading ``/`` plays any file Asterisk can read (other citizens' recordings included);
* ``${...}`` and ``$[...]`` are expressions wherever the dialplan evaluates a value, and the
  ``SHELL()`` function, the ``System``/``TrySystem`` applications and ``Exec`` run commands;
* CR or LF ends the header and starts another (the AMI client refuses those itself).

So every value from a caller, a form or a CSV goes through one of these checks at its entry point
(callbacks/reminders API, CSV import, supervisor forms, announcements) and
:func:`check_action` is the last-line guard of the AMI encoder
(:func:`hotline.telephony.ami.encode_action`).

Every refusal is an :class:`UnsafeHeaderValue`, a :class:`~hotline.kernel.requests.InvalidRequest`
(HTTP 400) whose message names the field and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from hotline.kernel.requests import InvalidRequest

#: longest id (job, request, announcement, seat) accepted
MAX_ID_LEN = 64
#: longest prompt name (``hotline/yue/reminder_intro``)
MAX_PROMPT_LEN = 128
#: longest variable value from outside
MAX_VALUE_LEN = 256

_ID = re.compile(r"[A-Za-z0-9_-]+")
#: a sound file relative to Asterisk's sounds directory: path segments of ``[A-Za-z0-9_-]``
_PROMPT = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
_PROMPT_LANG = re.compile(r"(?:[A-Za-z0-9_-]|\{lang\})+(?:/(?:[A-Za-z0-9_-]|\{lang\})+)*")
_ACCOUNT = re.compile(r"[A-Za-z0-9_.#-]*")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: applications an Originate (or an AGI ``EXEC``) may never run: they start processes
FORBIDDEN_APPLICATIONS = frozenset({"system", "trysystem", "exec", "execif", "execiftime"})
_SHELL = re.compile(r"\bSHELL\s*\(", re.IGNORECASE)
_AGI_EXEC = re.compile(r"^\s*EXEC\s+(\S+)", re.IGNORECASE)


class UnsafeHeaderValue(InvalidRequest):
    """A value that must not reach an AMI header. ``field`` names it, ``reason`` says why.

    ``details`` (the HTTP body): ``{"field", "reason", "value"}`` (the value ``repr``-ed, cut to 80
    characters).
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.reason = reason
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        super().__init__(f"{field} {shown}: {reason}", {"field": field, "reason": reason, "value": shown})


def _common(value: object, field: str, max_len: int) -> str:
    """The checks every value gets: a non-empty str, bounded, no control characters, expressions or commas."""
    if not isinstance(value, str):
        raise UnsafeHeaderValue(field, value, f"must be text, not {type(value).__name__}")
    if not value:
        raise UnsafeHeaderValue(field, value, "must not be empty")
    if len(value) > max_len:
        raise UnsafeHeaderValue(field, value, f"longer than {max_len} characters ({len(value)})")
    if "\r" in value or "\n" in value:
        raise UnsafeHeaderValue(field, value, "must not contain CR or LF (AMI header injection)")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UnsafeHeaderValue(field, value, "must not contain control characters (NUL ...)")
    if "${" in value or "$[" in value:
        raise UnsafeHeaderValue(field, value, "must not contain ${ or $[ (Asterisk expressions)")
    if "," in value:
        raise UnsafeHeaderValue(field, value, "must not contain a comma (Asterisk splits arguments and"
                                " Variable values on it)")
    return value


def check_id(value: object, field: str = "id", *, max_len: int = MAX_ID_LEN) -> str:
    """An id (job, request, announcement, seat, queue): 1..``max_len`` of ``[A-Za-z0-9_-]``.

    Returns:
        ``value`` unchanged.
    Raises:
        UnsafeHeaderValue: anything else (commas, dots, spaces, non-ASCII look-alikes ...).
    """
    text = _common(value, field, max_len)
    if not _ID.fullmatch(text):
        raise UnsafeHeaderValue(field, text, "may hold only letters A-Z a-z, digits, '_' and '-'")
    return text


def check_prompt(value: object, field: str = "prompt", *, catalog: Collection[str] | None = None,
                 allow_lang: bool = False) -> str:
    """A sound file name as Asterisk plays it (no extension): ``hello``, ``hotline/yue/main_menu``.

    Args:
        value: the name.
        catalog: the known prompt names (e.g. ``PromptCatalog.names()`` plus the stock sounds the
            settings use); given, a name outside it is refused.
        allow_lang: accept the ``{lang}`` placeholder (announcements) in a path segment.
    Returns:
        ``value`` unchanged.
    Raises:
        UnsafeHeaderValue: ``..``, an absolute path, a comma, ``&``, a space, anything outside
            ``[A-Za-z0-9_-]`` path segments, or not in ``catalog``.
    """
    text = _common(value, field, MAX_PROMPT_LEN)
    if ".." in text:
        raise UnsafeHeaderValue(field, text, "must not contain '..' (a path outside the sounds directory)")
    if text.startswith("/"):
        raise UnsafeHeaderValue(field, text, "must be relative to the sounds directory, not an absolute path")
    if not (_PROMPT_LANG if allow_lang else _PROMPT).fullmatch(text):
        raise UnsafeHeaderValue(field, text, "a prompt name is '/'-separated segments of A-Z a-z 0-9 '_' '-'")
    if catalog is not None and text not in catalog:
        raise UnsafeHeaderValue(field, text, "is not in the prompt catalog")
    return text


def check_prompts(values: Collection[object], field: str = "prompts", *,
                  catalog: Collection[str] | None = None) -> tuple[str, ...]:
    """:func:`check_prompt` of each; the tuple of names. Raises UnsafeHeaderValue (the first bad one)."""
    return tuple(check_prompt(v, f"{field}[{i}]", catalog=catalog) for i, v in enumerate(values))


def check_value(value: object, field: str = "value", *, max_len: int = MAX_VALUE_LEN) -> str:
    """A channel variable value from outside (``Variable: NAME=value`` of an Originate).

    Returns:
        ``value`` unchanged (the empty string is allowed: an unset variable).
    Raises:
        UnsafeHeaderValue: a comma (Asterisk splits ``Variable`` on it), CR/LF, a control character,
            ``${``/``$[``, ``SHELL(``, or longer than ``max_len``.
    """
    if value == "":
        return ""
    text = _common(value, field, max_len)
    if _SHELL.search(text):
        raise UnsafeHeaderValue(field, text, "must not call SHELL()")
    return text


_NOT_CALLER_NUM = re.compile(r"[^0-9A-Za-z+*#._-]")


def caller_num_for_header(number: str, max_len: int = 32) -> str:
    """A caller number Asterisk reported (``CallerIDNum``: from the trunk, so from outside) made fit
    for a ``CallerID: "<num>" <<num>>`` header: characters outside ``[0-9A-Za-z+*#._-]`` dropped, cut
    to ``max_len``. A PSTN number is unchanged; a hostile SIP ``From`` cannot make the
    :func:`check_action` guard refuse the agent's Originate (the call would never be offered)."""
    return _NOT_CALLER_NUM.sub("", number)[:max_len]


# ----------------------------------------------------------------- last-line guard of the encoder


def _guard_text(action: str, key: str, text: str) -> None:
    if "${" in text or "$[" in text:
        raise UnsafeHeaderValue(f"{action} {key}", text, "must not contain ${ or $[ (Asterisk expressions)")
    if _SHELL.search(text):
        raise UnsafeHeaderValue(f"{action} {key}", text, "must not call SHELL()")
    if "\x00" in text:
        raise UnsafeHeaderValue(f"{action} {key}", text, "must not contain NUL")


def check_action(name: str, fields: Mapping[str, Any] | None) -> None:
    """Refuse an AMI action that could run a command or smuggle headers; valid actions pass untouched.

    Rules (every action): no ``${``/``$[``, ``SHELL(`` or NUL in any header value. ``Originate``:
    ``Application`` not ``System``/``TrySystem``/``Exec``/``ExecIf``/``ExecIfTime``; ``Variable``
    names plain and values without a comma; ``Account`` an attempt id (``[A-Za-z0-9_.#-]``).
    ``Setvar``: ``Variable`` a plain name (never a function such as ``FILE()``; ``Getvar`` may read
    ``CHANNEL(...)``). ``AGI``: no ``EXEC`` of a forbidden application.

    Raises:
        UnsafeHeaderValue: the first rule broken (field = ``"<action> <header>"``).
    """
    action = name.lower()
    for key, value in (fields or {}).items():
        if isinstance(value, Mapping):
            for k, v in value.items():
                _guard_text(name, f"{key} {k}", f"{k}={v}")
                if action == "originate" and key.lower() == "variable" and "," in str(v):
                    raise UnsafeHeaderValue(f"{name} {key} {k}", str(v),
                                            "must not contain a comma (Asterisk splits Variable values on it)")
                if action == "originate" and key.lower() == "variable" and not _VAR_NAME.fullmatch(str(k)):
                    raise UnsafeHeaderValue(f"{name} {key}", str(k), "a variable name is [A-Za-z_][A-Za-z0-9_]*")
        elif isinstance(value, (list, tuple)):
            for v in value:
                _guard_text(name, key, str(v))
        elif not isinstance(value, bool):
            _guard_text(name, key, str(value))
    lowered = {k.lower(): v for k, v in (fields or {}).items()}
    if action == "originate":
        app = str(lowered.get("application", "")).strip().lower()
        if app in FORBIDDEN_APPLICATIONS:
            raise UnsafeHeaderValue(f"{name} Application", lowered["application"],
                                    "an Originate never runs System, TrySystem or Exec")
        account = lowered.get("account")
        if account is not None and not _ACCOUNT.fullmatch(str(account)):
            raise UnsafeHeaderValue(f"{name} Account", account,
                                    "an account code is [A-Za-z0-9_.#-]* (an attempt id like job#1)")
    elif action == "setvar":
        variable = str(lowered.get("variable", ""))
        if not _VAR_NAME.fullmatch(variable):
            raise UnsafeHeaderValue(f"{name} Variable", variable,
                                    "Setvar sets a plain variable ([A-Za-z_][A-Za-z0-9_]*), never a function")
    elif action == "agi":
        m = _AGI_EXEC.match(str(lowered.get("command", "")))
        if m and m.group(1).lower() in FORBIDDEN_APPLICATIONS:
            raise UnsafeHeaderValue(f"{name} Command", lowered["command"], "AGI never EXECs System, TrySystem or Exec")
