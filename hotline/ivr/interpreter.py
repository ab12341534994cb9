"""The IVR as a pure state machine: results in, commands out.

No I/O, no asyncio, no clock: ``now`` (epoch seconds) is passed in. The AsyncAGI adapter drives it::

    state, commands = start(menu, facts, now)
    while not state.done:
        result = await execute(commands)        # adapter: AGI commands with timeouts
        state, commands = step(menu, state, result, now)
    await execute(commands)                     # the final HandOverToQueue or Hangup

Adapter contract for a ``commands`` tuple:

* Execute in order. Every command but the last is a :class:`SetVariable`; its result is not fed
  back unless it fails: then feed that failure (:class:`CommandFailed`, :class:`CallerHungUp`)
  and skip the rest.
* Feed the result of the last command to :func:`step`, mapping AGI replies to results:

  ================================== =============================================================
  AGI reply (``AsyncAGIExec``)        result
  ================================== =============================================================
  STREAM FILE ``200 result=0``        ``PlaybackFinished(None)``
  STREAM FILE ``200 result=49``       ``PlaybackFinished("1")`` (ASCII code of the escape digit)
  SAY DIGITS ``200 result=0``         ``PlaybackFinished(None)``
  GET DATA ``200 result=123``         ``DigitsReceived("123")`` (also with ``(timeout)`` after
                                      some digits: the caller typed and then paused)
  GET DATA ``200 result= (timeout)``  ``Timeout()``: no key
  GET DATA ``200 result=``            ``DigitsReceived("")``: ``#`` alone, an empty entry, which
                                      is invalid input (the invalid prompt), not a timeout
  keys typed ahead (buffered)         ``PlaybackFinished(key)`` / ``DigitsReceived(keys)``, as
                                      if Asterisk had taken them (:mod:`hotline.ivr.typeahead`)
  ``200 result=-1``, ``AsyncAGIEnd``  ``CallerHungUp()``
  ``511`` (dead channel)              ``CommandFailed(511, ...)`` or ``CallerHungUp()``
  ``510``, ``520``, adapter timeout   ``CommandFailed(code, text)`` (use 0 for a timeout)
  work-order lookup                   ``LookupResult(...)`` or ``CommandFailed``
  ================================== =============================================================

* When the tuple ends with :class:`HandOverToQueue` or :class:`Hangup`, ``state.done`` is True:
  execute it and stop calling :func:`step` (if called, it returns the state unchanged, no
  commands).

Guarantees (property-tested): :func:`step` never raises for any result sequence, and every
session ends with a hand-over or a hang-up within ``menu.defaults.max_steps`` results.
``state.path`` lists the nodes visited in order, so ``state.node`` is where the caller left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hotline.ivr.announcements import Announcement, active_for
from hotline.ivr.menus import (
    DTMF_DIGITS,
    CollectNode,
    LanguageNode,
    LookupNode,
    Menu,
    MenuNode,
    QueueNode,
    ScheduleNode,
)
from hotline.kernel.calendar import status_at

# --------------------------------------------------------------------------------------------
# Commands (imperative; executed by the adapter as AGI commands)


@dataclass(frozen=True, slots=True)
class PlayPrompt:
    """``STREAM FILE <prompt> <escape_digits>``; result: ``PlaybackFinished(digit or None)``."""

    prompt: str
    escape_digits: str = ""


@dataclass(frozen=True, slots=True)
class GetDigits:
    """``GET DATA <prompt> <timeout_ms> <max_digits>``; result: ``DigitsReceived`` or ``Timeout``.

    Attributes:
        prompt: full prompt name played first (barge-in: any key stops it).
        timeout_ms: wait for the first key, milliseconds.
        max_digits: stop after this many keys (``#`` always ends early).
        inter_digit_timeout_ms: wait between keys. AGI GET DATA has one timeout for both, so an
            adapter using GET DATA passes ``timeout_ms``; one reading keys singly honours this.
    """

    prompt: str
    timeout_ms: int
    max_digits: int
    inter_digit_timeout_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SayDigits:
    """``SAY DIGITS <digits> <escape_digits>``; result: ``PlaybackFinished``."""

    digits: str
    escape_digits: str = ""


@dataclass(frozen=True, slots=True)
class SetVariable:
    """``SET VARIABLE <name> <value>``; only its failure is fed back."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class LookupWorkOrder:
    """Ask the ticketing connector for a work order; result: ``LookupResult`` or ``CommandFailed``."""

    number: str


@dataclass(frozen=True, slots=True)
class HandOverToQueue:
    """End the IVR and queue the call (terminal).

    Attributes:
        queue: queue / routing id, e.g. ``commerce``.
        skills: skills the agent needs.
        priority: 0..10, higher is served first.
        language: ``zh``/``yue``/``en``, the caller's choice.
        ivr_path: node ids visited, in order.
        follow_up: the caller chose the follow-up option for an open work order.
        variables: session variables collected (e.g. ``work_order_number``), as pairs.
    """

    queue: str
    skills: tuple[str, ...]
    priority: int
    language: str
    ivr_path: tuple[str, ...]
    follow_up: bool = False
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Hangup:
    """``HANGUP``, with a Q.850 cause (16 normal clearing) (terminal)."""

    cause: int = 16


Command = PlayPrompt | GetDigits | SayDigits | SetVariable | LookupWorkOrder | HandOverToQueue | Hangup

# --------------------------------------------------------------------------------------------
# Results (past tense; fed back by the adapter)


@dataclass(frozen=True, slots=True)
class DigitsReceived:
    """Keys from GET DATA, without the ``#`` terminator (may contain ``*``, or garbage)."""

    digits: str


@dataclass(frozen=True, slots=True)
class Timeout:
    """No key within the timeout."""


@dataclass(frozen=True, slots=True)
class PlaybackFinished:
    """A prompt ended; ``digit`` is the escape key that interrupted it, or None."""

    digit: str | None = None


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller hung up (or the channel is gone)."""


@dataclass(frozen=True, slots=True)
class CommandFailed:
    """The AGI command failed: ``code`` is the AGI status (510, 511, 520) or 0 for a timeout."""

    code: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class LookupResult:
    """Answer to :class:`LookupWorkOrder`.

    Attributes:
        number: the number looked up.
        found: whether a work order has that number.
        status: its status id (``received``, ``in_progress``, ``replied``, ``closed``) if found.
    """

    number: str
    found: bool
    status: str | None = None


Result = DigitsReceived | Timeout | PlaybackFinished | CallerHungUp | CommandFailed | LookupResult

# --------------------------------------------------------------------------------------------
# Facts and state


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What is known about the call when the IVR starts.

    Attributes:
        caller: caller number (``CallerIDNum``), for reports only.
        open_work_orders: numbers of the caller's open work orders (repeat caller).
        announcements: known announcements; the interpreter keeps those active for this menu
            at the ``announcements`` node's ``now``.
        language: initial language (e.g. from the dialled number), else the menu default.
    """

    caller: str = ""
    open_work_orders: tuple[str, ...] = ()
    announcements: tuple[Announcement, ...] = ()
    language: str | None = None


Phase = Literal["prompting", "playing", "lookup", "done"]
Outcome = Literal["queued", "hung_up", "caller_hung_up"]
HANGUP_CODES = frozenset({511})  # AGI: command not permitted on a dead channel
MAX_CONSECUTIVE_FAILURES = 3


@dataclass(frozen=True, slots=True)
class SessionState:
    """One caller's IVR session (plain, immutable; safe to snapshot).

    Attributes:
        menu_id: the menu it runs.
        facts: the call facts given to :func:`start`.
        language: current language code.
        node: current node id (where the caller is, or left).
        path: node ids entered, in order (re-prompts of a node are not repeated).
        phase: ``prompting`` (input node: playing prompts / waiting keys), ``playing``
            (non-input prompts), ``lookup`` (waiting for the connector) or ``done``.
        pending: commands still to play in this phase (the last prompt of an input node is
            sent as GetDigits).
        then: after ``playing``: node id to enter, or the terminal command to send.
        attempts: failed attempts at the current input node.
        steps: results fed so far.
        failures: consecutive CommandFailed results.
        variables: collected values, e.g. ``(("work_order_number", "20251001"),)``.
        follow_up: the caller chose a follow-up option.
        outcome: how it ended (None while running).
        reason: why it ended, for reports (``option``, ``retries_exhausted``, ``max_steps``...).
        started_at: epoch seconds of :func:`start`.
        ended_at: epoch seconds of the result that ended it.
        warnings: non-fatal issues, e.g. a calendar year the library does not know.
    """

    menu_id: str
    facts: CallFacts
    language: str
    node: str
    path: tuple[str, ...] = ()
    phase: Phase = "prompting"
    pending: tuple[Command, ...] = ()
    then: str | Command | None = None
    attempts: int = 0
    steps: int = 0
    failures: int = 0
    variables: tuple[tuple[str, str], ...] = ()
    follow_up: bool = False
    outcome: Outcome | None = None
    reason: str = ""
    started_at: float = 0.0
    ended_at: float | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def done(self) -> bool:
        """True once a hand-over or hang-up was decided, or the caller hung up."""
        return self.outcome is not None

    def variable(self, name: str) -> str | None:
        """A collected variable, or None."""
        return dict(self.variables).get(name)


Step = tuple[SessionState, tuple[Command, ...]]

# --------------------------------------------------------------------------------------------
# Public API


def start(menu: Menu, facts: CallFacts, now: float) -> Step:
    """Open a session at ``menu.start``.

    Args:
        menu: a validated menu.
        facts: what is known about the call.
        now: epoch seconds.
    Returns:
        The new state and the first commands.
    """
    language = facts.language if facts.language in menu.languages else menu.default_language
    state = SessionState(menu_id=menu.id, facts=facts, language=language, node=menu.start, started_at=now)
    return _enter(menu, state, menu.start, now, ())


def step(menu: Menu, state: SessionState, result: Result, now: float) -> Step:
    """Advance a session with the result of its last command.

    Args:
        menu: the menu the session runs: the same object given to :func:`start` (keep it per
            call; a reloaded menu applies to new calls).
        state: the state returned last time.
        result: what the adapter observed (see the module docstring for the mapping).
        now: epoch seconds.
    Returns:
        The next state and the commands to execute (empty when the caller hung up).
    """
    if state.done:
        return state, ()
    state = replace(state, steps=state.steps + 1)
    if isinstance(result, CallerHungUp) or (isinstance(result, CommandFailed) and result.code in HANGUP_CODES):
        return _end(state, "caller_hung_up", "caller_hung_up", now), ()
    if state.menu_id != menu.id or state.node not in menu.nodes:
        # A reloaded menu must not be swapped under a running session: keep the Menu per call.
        state = replace(state, warnings=(*state.warnings, f"menu changed under the session at {state.node!r}"))
        return _give_up(menu, state, "menu_changed", now)
    if state.steps >= menu.defaults.max_steps:
        return _give_up(menu, state, "max_steps", now)
    if isinstance(result, CommandFailed):
        state = replace(state, failures=state.failures + 1)
        if state.failures >= MAX_CONSECUTIVE_FAILURES:
            return _give_up(menu, state, "command_failures", now)
    else:
        state = replace(state, failures=0)
    if state.phase == "playing":
        return _on_playing(menu, state, result, now)
    if state.phase == "lookup":
        return _on_lookup(menu, state, result, now)
    return _on_prompting(menu, state, result, now)


# --------------------------------------------------------------------------------------------
# Transitions


def _end(state: SessionState, outcome: Outcome, reason: str, now: float) -> SessionState:
    return replace(state, phase="done", pending=(), then=None, outcome=outcome, reason=reason, ended_at=now)


def _terminal(state: SessionState, command: Command, reason: str, now: float) -> Step:
    outcome: Outcome = "queued" if isinstance(command, HandOverToQueue) else "hung_up"
    return _end(state, outcome, reason, now), (command,)


def _hand_over(menu: Menu, state: SessionState, node: QueueNode) -> HandOverToQueue:
    return HandOverToQueue(
        queue=node.queue,
        skills=tuple(node.skills),
        priority=node.priority,
        language=state.language,
        ivr_path=state.path,
        follow_up=state.follow_up,
        variables=state.variables,
    )


def _give_up(menu: Menu, state: SessionState, reason: str, now: float) -> Step:
    """End now, without more input: the fallback queue directly, else hang up."""
    fallback = menu.fallback
    fb = menu.nodes.get(fallback) if fallback else None
    if fallback is not None and fb is not None and fb.kind == "queue":
        state = replace(state, node=fallback, path=(*state.path, fallback))
        return _terminal(state, _hand_over(menu, state, fb), reason, now)
    cause = fb.cause if fb is not None and fb.kind == "hangup" else 16
    return _terminal(state, Hangup(cause), reason, now)


def _polite_hangup(menu: Menu, state: SessionState, reason: str, now: float) -> Step:
    goodbye = menu.defaults.goodbye_prompt
    if goodbye:
        pending = (PlayPrompt(menu.prompt(goodbye, state.language)),)
        return _play(menu, replace(state, phase="playing", pending=pending, then=Hangup(16), reason=reason), now)
    return _terminal(state, Hangup(16), reason, now)


def _fail(menu: Menu, state: SessionState, node: Any, now: float) -> Step:
    """Retries exhausted at an input node."""
    if node.on_failure:
        return _enter(menu, state, node.on_failure, now, ())
    if node.kind == "language":
        return _enter(menu, state, node.next, now, ())
    if menu.fallback:
        return _enter(menu, state, menu.fallback, now, ())
    return _polite_hangup(menu, state, "retries_exhausted", now)


def _enter(menu: Menu, state: SessionState, node_id: str, now: float, hops: tuple[str, ...]) -> Step:
    """Enter a node; non-input nodes that play nothing are followed at once (``hops``)."""
    node = menu.nodes.get(node_id)
    if node is None or len(hops) > len(menu.nodes):
        # Only a menu built without the loader can get here (unknown node, input-free loop).
        state = replace(state, warnings=(*state.warnings, f"cannot continue at {node_id!r}"))
        return _give_up(menu, state, "menu_error", now)
    state = replace(
        state, node=node_id, path=(*state.path, node_id), attempts=0, pending=(), then=None, phase="prompting"
    )
    hops = (*hops, node_id)
    lang = state.language
    if isinstance(node, (MenuNode, LanguageNode, CollectNode)):
        return _prompt(menu, state, node, ())
    if node.kind == "play":
        pending = tuple(PlayPrompt(menu.prompt(p, lang)) for p in node.prompt)
        return _play(menu, replace(state, phase="playing", pending=pending, then=node.next), now, hops)
    if node.kind == "announcements":
        active = [a for a in active_for(state.facts.announcements, menu.id, now) if a.plays_in(lang)]
        if not active:
            return _enter(menu, state, node.next, now, hops)
        intro = (PlayPrompt(menu.prompt(node.intro, lang), node.skip_digits),) if node.intro else ()
        pending = intro + tuple(PlayPrompt(a.prompt_for(lang), node.skip_digits) for a in active)
        return _play(menu, replace(state, phase="playing", pending=pending, then=node.next), now, hops)
    if node.kind == "goto":
        return _enter(menu, state, node.target, now, hops)
    if node.kind == "schedule":
        status, warning = _status(menu, node, now)
        if warning:
            state = replace(state, warnings=(*state.warnings, warning))
        target = {"open": node.open, "closed": node.closed, "holiday": node.holiday or node.closed}[status]
        return _enter(menu, state, target, now, hops)
    if node.kind == "queue":
        pending = tuple(PlayPrompt(menu.prompt(p, lang)) for p in node.prompt)
        command = _hand_over(menu, state, node)
        return _play(menu, replace(state, phase="playing", pending=pending, then=command), now, hops)
    if node.kind == "hangup":
        pending = tuple(PlayPrompt(menu.prompt(p, lang)) for p in node.prompt)
        return _play(menu, replace(state, phase="playing", pending=pending, then=Hangup(node.cause)), now, hops)
    # lookup
    number = state.variable(node.number_from) or ""
    if not number:
        pending = (PlayPrompt(menu.prompt(node.not_found_prompt, lang)),)
        then = node.on_not_found or node.next
        return _play(menu, replace(state, phase="playing", pending=pending, then=then), now, hops)
    return replace(state, phase="lookup"), (LookupWorkOrder(number),)


def _status(menu: Menu, node: ScheduleNode, now: float) -> tuple[str, str | None]:
    """Schedule status; in a year without official holiday data, the provisional tier plus a warning."""
    hours = menu.hours[node.hours]
    status = status_at(hours, now, menu.calendar)
    day = menu.calendar.day(dt.datetime.fromtimestamp(now, hours.zone).date())
    if day.provisional:
        return status, (f"no official holiday data for {day.day.year}: schedule {node.hours!r} "
                        f"used {day.source} (provisional)")
    return status, None


def _play(menu: Menu, state: SessionState, now: float, hops: tuple[str, ...] = ()) -> Step:
    """Send the next pending command of a ``playing`` phase, or continue to ``then``."""
    if state.pending:
        return replace(state, pending=state.pending[1:]), (state.pending[0],)
    then = state.then
    if isinstance(then, str):
        return _enter(menu, state, then, now, hops)
    if then is None:
        return _give_up(menu, state, "menu_error", now)
    reason = state.reason or ("queue_node" if isinstance(then, HandOverToQueue) else "hangup_node")
    return _terminal(state, then, reason, now)


def _on_playing(menu: Menu, state: SessionState, result: Result, now: float) -> Step:
    if isinstance(result, PlaybackFinished) and result.digit:
        # A skip key: drop the remaining skippable prompts (announcements).
        state = replace(state, pending=tuple(c for c in state.pending if not getattr(c, "escape_digits", "")))
    # A failed prompt is skipped (a missing recording must not strand the caller).
    return _play(menu, state, now)


def _on_lookup(menu: Menu, state: SessionState, result: Result, now: float) -> Step:
    node = menu.nodes[state.node]
    assert isinstance(node, LookupNode)  # only _enter's lookup branch sets phase="lookup"
    lang = state.language
    if isinstance(result, LookupResult) and result.found:
        status = node.status_prompts.get(result.status or "", node.unknown_status_prompt)
        intro = (PlayPrompt(menu.prompt(node.intro_prompt, lang)),) if node.intro_prompt else ()
        number = "".join(ch for ch in result.number if ch.isdigit()) or state.variable(node.number_from) or ""
        pending = (*intro, SayDigits(number), PlayPrompt(menu.prompt(status, lang)))
        return _play(menu, replace(state, phase="playing", pending=pending, then=node.next), now)
    if isinstance(result, LookupResult):
        pending = (PlayPrompt(menu.prompt(node.not_found_prompt, lang)),)
        then = node.on_not_found or node.next
    else:
        pending = (PlayPrompt(menu.prompt(node.unavailable_prompt, lang)),)
        then = node.on_failure or node.next
    return _play(menu, replace(state, phase="playing", pending=pending, then=then), now)


def _prompt(menu: Menu, state: SessionState, node: Any, before: tuple[str, ...]) -> Step:
    """Start (or restart) an input node: ``before`` prompts, the node prompts, then wait."""
    names = [*before, *node.prompt]
    if node.kind == "menu":
        names += [opt.prompt for opt in _offered(node, state.facts).values() if opt.prompt]
    full = [menu.prompt(n, state.language) for n in names]
    escape = "" if node.kind == "collect" else DTMF_DIGITS
    pending: tuple[Command, ...] = (
        *(PlayPrompt(p, escape) for p in full[:-1]),
        _get_digits(menu, node, full[-1]),
    )
    state = replace(state, phase="prompting", pending=pending[1:])
    return state, (pending[0],)


def _get_digits(menu: Menu, node: Any, prompt: str) -> GetDigits:
    if node.kind == "collect":
        return GetDigits(prompt, menu.timeout_ms(node), node.max_digits, menu.inter_digit_timeout_ms(node))
    return GetDigits(prompt, menu.timeout_ms(node), 1)


def _offered(node: Any, facts: CallFacts) -> dict[str, Any]:
    return {k: o for k, o in node.options.items() if o.when == "always" or facts.open_work_orders}


def _on_prompting(menu: Menu, state: SessionState, result: Result, now: float) -> Step:
    node = menu.nodes[state.node]
    if isinstance(result, PlaybackFinished) and not result.digit:
        if state.pending:  # a preface prompt ended: next prompt
            return replace(state, pending=state.pending[1:]), (state.pending[0],)
        return _retry(menu, state, node, "timeout", now)  # adapter reported GET DATA as playback
    if isinstance(result, PlaybackFinished):
        return _on_keys(menu, state, node, result.digit or "", now)
    if isinstance(result, DigitsReceived):
        return _on_keys(menu, state, node, result.digits, now)
    if isinstance(result, CommandFailed) and state.pending:
        return replace(state, pending=state.pending[1:]), (state.pending[0],)  # skip a broken prompt
    if isinstance(result, CommandFailed):
        return _retry(menu, state, node, "invalid", now)
    return _retry(menu, state, node, "timeout", now)  # Timeout, or a result that makes no sense here


def _retry(menu: Menu, state: SessionState, node: Any, why: Literal["timeout", "invalid"], now: float) -> Step:
    attempts = state.attempts + 1
    state = replace(state, attempts=attempts)
    if attempts > menu.retries(node):
        return _fail(menu, state, node, now)
    extra = menu.timeout_prompt(node) if why == "timeout" else menu.invalid_prompt(node)
    return _prompt(menu, state, node, (extra,) if extra else ())


def _on_keys(menu: Menu, state: SessionState, node: Any, keys: str, now: float) -> Step:
    if node.kind == "collect":
        return _on_collect(menu, state, node, keys, now)
    keys = keys.strip()
    if node.kind == "menu":
        option = _offered(node, state.facts).get(keys) if len(keys) == 1 else None
        if option is None:  # a wrong key, or "#" alone (an empty entry)
            return _retry(menu, state, node, "invalid", now)
        if option.when == "open_work_order":
            state = replace(state, follow_up=True)
        return _enter(menu, state, option.next, now, ())
    # language
    language = node.options.get(keys) if len(keys) == 1 else None
    if language is None:
        return _retry(menu, state, node, "invalid", now)
    state, commands = _enter(menu, replace(state, language=language), node.next, now, ())
    return state, (SetVariable("HOTLINE_LANGUAGE", language), *commands)


def _on_collect(menu: Menu, state: SessionState, node: Any, keys: str, now: float) -> Step:
    digits = keys.strip().split(node.terminator, 1)[0]
    if "*" in digits:
        digits = digits.rsplit("*", 1)[1]
        if not digits:  # "*" = start over: replay the prompt, no retry used
            return _prompt(menu, replace(state, pending=()), node, ())
    if not digits:  # "#" alone: an empty entry
        return _retry(menu, state, node, "invalid", now)
    if not (digits.isascii() and digits.isdigit()) or not node.min_digits <= len(digits) <= node.max_digits:
        return _retry(menu, state, node, "invalid", now)
    variables = (*((k, v) for k, v in state.variables if k != node.store_as), (node.store_as, digits))
    return _enter(menu, replace(state, variables=variables), node.next, now, ())
