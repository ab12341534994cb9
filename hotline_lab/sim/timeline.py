"""When a simulated caller presses each key: from the menu and the real prompt durations of the lab.

Pure (durations are injected; :func:`read_prompt_durations` is the one blocking reader, run it in a
thread). Times are seconds (``*_s``) or milliseconds (``*_ms``) from the answer of the call, which is
when SIPp starts the caller's RTP (``lab/sipp/caller_dtmf.xml``: the pcap plays after the ACK).

How the IVR spends a caller's time (``hotline/ivr/interpreter.py``, AsyncAGI): an input node (``language``,
``menu``) plays its prompts with barge-in (``STREAM FILE`` with escape digits, the last one as
``GET DATA``) and then waits ``timeout_ms`` for the key; a ``play`` node and a ``queue`` node's prompt
play WITHOUT barge-in, and a key pressed then is lost (before the IVR's type-ahead); ``schedule`` and
``goto`` play nothing; ``announcements`` play only active hot topics (none in the demo's fresh Redis
namespace: counted as 0 s). Each AGI command costs an AMI round trip (``command_s``), and the first
one also waits for the session's facts (announcements, the caller's open work orders).

A key therefore reaches its node when it is pressed inside the window
``[node prompt start, node prompt end + timeout]``. Since a key ends the prompt (barge-in), each key
is timed from the previous key, so estimation errors do not add up along the path.
"""

from __future__ import annotations

import random
import wave
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from hotline.ivr.menus import LanguageNode, Menu, MenuNode

#: sound formats Asterisk plays, and their bytes per second when raw (no header)
RAW_BYTES_PER_S = {"sln": 16000, "sln16": 32000, "ulaw": 8000, "alaw": 8000, "ul": 8000, "al": 8000,
                   "g722": 8000, "gsm": 1650}
#: two keys at least this far apart (a key press and its RFC 4733 end packets: hotline.rtpcap.schedule)
MIN_GAP_MS = 300


@dataclass(frozen=True, slots=True)
class KeyStep:
    """One key of a route and the audio around it.

    Attributes:
        node: the input node that takes the key (``language``, ``main``, ...).
        key: the DTMF key.
        lead_s: audio without barge-in between the previous key (or the answer) and this node's
            prompt (``play`` nodes such as ``welcome``): a key pressed then is lost.
        prompt_s: this node's own prompts (barge-in: a key ends them).
        commands: AGI commands from the previous key (or the answer) to this node's prompt.
        timeout_s: how long the node waits for a key after its prompt ends.
    """

    node: str
    key: str
    lead_s: float
    prompt_s: float
    commands: int
    timeout_s: float


@dataclass(frozen=True, slots=True)
class RouteTiming:
    """A route's keys and what follows the last key until the hand-over to the queue.

    Attributes:
        steps: one per key, in order.
        queue_node: the queue node reached.
        tail_s: audio after the last key up to the hand-over (the queue node's prompt, plus any
            ``play`` node on the way).
        tail_commands: AGI/AMI commands after the last key up to the hand-over (prompts, Setvar,
            Redirect).
    """

    steps: tuple[KeyStep, ...]
    queue_node: str
    tail_s: float
    tail_commands: int


@dataclass(frozen=True, slots=True)
class KeyTiming:
    """How callers time their keys, and the lab's overheads.

    Attributes:
        answer_s: answer -> first prompt (dialplan ``Answer``/``AGI``, AsyncAGIStart, the session's
            facts lookups), seconds.
        command_s: one AGI command's AMI round trip, seconds (an underestimate is harmless: the key
            then lands earlier inside a barge-in prompt).
        type_ahead_ratio: share of keys pressed while the node's prompt plays (the rest after it).
        type_ahead_at: (low, high) fraction of the prompt at which a type-ahead key is pressed.
        type_ahead_min_s: a type-ahead key is pressed at least this long into the prompt (a key
            before the prompt has started is lost).
        after_s: (low, high) seconds after the prompt's end for the others; ``high`` is kept at
            least ``margin_s`` below the node's timeout.
        margin_s: safety margin before the node's timeout, seconds.
        handover_s: after the queue prompt, the hand-over (Setvar, Redirect, routing), seconds.
    """

    answer_s: float = 1.0
    command_s: float = 0.15
    type_ahead_ratio: float = 0.25
    type_ahead_at: tuple[float, float] = (0.4, 0.9)
    type_ahead_min_s: float = 2.5
    after_s: tuple[float, float] = (0.4, 2.5)
    margin_s: float = 2.0
    handover_s: float = 0.5


#: the default caller behaviour and lab overheads
DEFAULT_KEY_TIMING = KeyTiming()


class RouteError(ValueError):
    """The keys do not walk the menu to a queue node (unknown key, a node that is not handled)."""


def route_prompts(menu: Menu, keys: str) -> set[str]:
    """Every full prompt name (``hotline/zh/main_menu``) a caller pressing ``keys`` hears before the hand-over.

    Raises:
        RouteError: see :func:`walk_route`.
    """
    names: set[str] = set()
    walk_route(menu, keys, _Recorder(names))
    return names


class _Recorder(dict):  # a durations mapping that notes every name asked for and answers 0
    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names

    def get(self, key: str, default: float | None = None) -> float:  # type: ignore[override]
        self.names.add(key)
        return 0.0


def walk_route(menu: Menu, keys: str, durations: Mapping[str, float]) -> RouteTiming:
    """Walk ``keys`` from ``menu.start`` the way the interpreter does, summing prompt durations.

    Args:
        menu: a validated menu.
        keys: the route's keys (:class:`hotline_lab.sim.plan.DtmfRoute.keys`), language key first.
        durations: full prompt name -> seconds (:func:`read_prompt_durations`); a missing name counts 0.
    Returns:
        The :class:`RouteTiming`.
    Raises:
        RouteError: a key is not an option of its node, or the walk meets a node the simulator does not
            press through (``collect``, ``lookup``, ``hangup``), or loops.
    """
    language = menu.default_language
    node_id = menu.start
    steps: list[KeyStep] = []
    lead_s = 0.0
    commands = 0
    pending = list(keys)
    for _ in range(len(menu.nodes) * (len(keys) + 1) + 1):
        node = menu.nodes[node_id]
        if isinstance(node, (LanguageNode, MenuNode)):
            if not pending:
                raise RouteError(f"keys {keys!r} end at input node {node_id!r}")
            key = pending.pop(0)
            names = list(node.prompt)
            if isinstance(node, MenuNode):
                names += [o.prompt for o in node.options.values() if o.when == "always" and o.prompt]
            prompt_s = sum(durations.get(menu.prompt(n, language), 0.0) for n in names)
            steps.append(KeyStep(node_id, key, round(lead_s, 3), round(prompt_s, 3), commands + len(names),
                                 menu.timeout_ms(node) / 1000))
            lead_s, commands = 0.0, 0
            if isinstance(node, LanguageNode):
                if key not in node.options:
                    raise RouteError(f"key {key!r} is not an option of {node_id!r}")
                language = node.options[key]
                commands += 1  # SET VARIABLE HOTLINE_LANGUAGE
                node_id = node.next
            else:
                option = node.options.get(key)
                if option is None or option.when != "always":
                    raise RouteError(f"key {key!r} is not an option of {node_id!r}")
                node_id = option.next
        elif node.kind == "play":
            lead_s += sum(durations.get(menu.prompt(n, language), 0.0) for n in node.prompt)
            commands += len(node.prompt)
            node_id = node.next
        elif node.kind == "announcements":
            node_id = node.next  # no active hot topics in the demo's namespace
        elif node.kind == "goto":
            node_id = node.target
        elif node.kind == "schedule":
            node_id = node.open
        elif node.kind == "queue":
            if pending:
                raise RouteError(f"keys {keys!r}: {''.join(pending)!r} left at queue node {node_id!r}")
            tail = lead_s + sum(durations.get(menu.prompt(n, language), 0.0) for n in node.prompt)
            return RouteTiming(tuple(steps), node_id, round(tail, 3), commands + len(node.prompt) + 2)
        else:
            raise RouteError(f"the simulator does not press through {node.kind} node {node_id!r}")
    raise RouteError(f"keys {keys!r} loop in the menu")


def press_times_ms(timing: RouteTiming, rng: random.Random, cfg: KeyTiming = DEFAULT_KEY_TIMING) -> list[int]:
    """When each key is pressed, milliseconds from the answer (ascending).

    Each key: the node's prompt starts ``lead_s + commands * command_s`` after the previous key (the
    first: after ``answer_s``); with probability ``type_ahead_ratio`` the key is pressed inside the
    prompt (a fraction drawn from ``type_ahead_at``, at least ``type_ahead_min_s`` in, never past its
    end), else after it (``after_s``, kept ``margin_s`` inside the node's timeout).
    """
    out: list[int] = []
    prev_s = 0.0
    for i, step in enumerate(timing.steps):
        start_s = prev_s + step.lead_s + step.commands * cfg.command_s + (cfg.answer_s if i == 0 else 0.0)
        if step.prompt_s > cfg.type_ahead_min_s and rng.random() < cfg.type_ahead_ratio:
            into = max(cfg.type_ahead_min_s, rng.uniform(*cfg.type_ahead_at) * step.prompt_s)
            at_s = start_s + min(into, step.prompt_s)
        else:
            low, high = cfg.after_s
            high = max(low, min(high, step.timeout_s - cfg.margin_s))
            at_s = start_s + step.prompt_s + rng.uniform(low, high)
        at_ms = round(at_s * 1000)
        if out and at_ms - out[-1] < MIN_GAP_MS:
            at_ms = out[-1] + MIN_GAP_MS
        out.append(at_ms)
        prev_s = at_ms / 1000
    return out


def ivr_time_s(timing: RouteTiming, press_ms: list[int], cfg: KeyTiming = DEFAULT_KEY_TIMING) -> float:
    """Seconds from the answer to the hand-over to the queue: the last key, then the queue prompt."""
    last_s = press_ms[-1] / 1000 if press_ms else cfg.answer_s
    return round(last_s + timing.tail_s + timing.tail_commands * cfg.command_s + cfg.handover_s, 3)


def read_prompt_durations(prompt_dir: Path, names: Iterable[str]) -> dict[str, float]:
    """Seconds of each prompt (full name, e.g. ``hotline/zh/main_menu``) in the Asterisk sounds folder.

    Reads ``<prompt_dir>/<name>.wav`` with :mod:`wave` (frames / rate), else a raw format of
    :data:`RAW_BYTES_PER_S` by its size. Blocking file I/O: call it in a thread.

    Returns:
        name -> seconds, for the names found (a missing prompt is left out: the IVR skips it).
    """
    out: dict[str, float] = {}
    for name in names:
        wav = prompt_dir / f"{name}.wav"
        if wav.is_file():
            with wave.open(str(wav), "rb") as w:
                out[name] = w.getnframes() / float(w.getframerate())
            continue
        for ext, rate in RAW_BYTES_PER_S.items():
            raw = prompt_dir / f"{name}.{ext}"
            if raw.is_file():
                out[name] = raw.stat().st_size / rate
                break
    return out
