"""The stand-alone floor: agent states and queue statistics while no routing dispatcher is wired.

It implements :class:`hotline.web.providers.Floor` with the pure cores of ``hotline/queues/``: agent transitions
are :mod:`hotline.queues.agents` (the one owner of availability), statistics are
:class:`hotline.queues.metrics.MetricsState`. It does **not** ring agents: callers handed over with
:meth:`StandaloneFloor.hand_over` wait until they hang up (counted abandoned) or until
:meth:`StandaloneFloor.answered` is called. When the routing dispatcher lands, the composition root
gives the web app the dispatcher's floor instead and this class is only used by the demo and tests.

Every event (queue events of :mod:`hotline.queues.events` plus the floor's own ``AgentSkillsSet``) is
appended to a JSON-lines log; :meth:`StandaloneFloor.start` replays it, so a restart keeps the day's
numbers, agent states and skills. Time: every event carries ``at`` (epoch s) from ``clock``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from hotline.queues import agents as sm
from hotline.queues.events import AgentStateChanged, AnsweredCallEnded, CallAbandoned, CallAnswered, CallQueued
from hotline.queues.exceptions import IllegalTransition
from hotline.queues.handover import QueueRequest
from hotline.queues.metrics import MetricsConfig, MetricsState
from hotline.queues.model import MAX_PROFICIENCY, MIN_PROFICIENCY, AgentState, AgentStatus
from hotline.telephony.calls import CallEvent, LegEnded
from hotline.web.config import LAB_QUEUES, FloorConfig
from hotline.web.errors import Conflict, InvalidRequest, NotFound
from hotline.web.jsonl import JsonlWriter, read_jsonl
from hotline.web.providers import AgentRow, QueueRow, WaitingRow

log = logging.getLogger("hotline.web.floor")

S = AgentStatus


@dataclass(frozen=True, slots=True)
class AgentSkillsSet:
    """A supervisor set an agent's skills (the floor's own log record)."""

    agent_id: str
    skills: Mapping[str, int]
    at: float


_TYPES: dict[str, type] = {c.__name__: c for c in (CallQueued, CallAbandoned, CallAnswered, AnsweredCallEnded,
                                                    AgentStateChanged, AgentSkillsSet)}
_TYPES["CallEnded"] = AnsweredCallEnded  # logs written before the rename


def encode_event(event: object) -> dict[str, Any]:
    """A logged event as a JSON-ready dict ``{"type": <class name>, <fields>...}``."""
    out: dict[str, Any] = {"type": type(event).__name__}
    for f in fields(event):  # type: ignore[arg-type]
        v = getattr(event, f.name)
        if isinstance(v, frozenset):
            v = sorted(v)
        elif isinstance(v, enum.Enum):
            v = v.value
        elif isinstance(v, Mapping):
            v = dict(v)
        out[f.name] = v
    return out


def decode_event(data: Mapping[str, Any]) -> object | None:
    """Inverse of :func:`encode_event`; None for an unknown or malformed record."""
    cls = _TYPES.get(str(data.get("type")))
    if cls is None:
        return None
    kwargs = {k: v for k, v in data.items() if k != "type"}
    if "skills" in kwargs and cls is CallQueued:
        kwargs["skills"] = frozenset(kwargs["skills"])
    if "status" in kwargs:
        kwargs["status"] = AgentStatus(kwargs["status"])
    try:
        return cls(**kwargs)
    except (TypeError, ValueError):
        return None


def lab_skills(agent_id: int) -> dict[str, int]:
    """Default skills of lab agent ``agent_id``: ``general`` and one queue skill, level 3."""
    return {"general": 3, LAB_QUEUES[agent_id % 5]: 3}


class StandaloneFloor:
    """Agents and queue statistics without a dispatcher (see the module docstring).

    Args:
        config: queues, agent range and the event log path.
        clock: epoch-seconds clock for the ``at`` of events the floor creates.
        persist: write and replay the event log (False: memory only).
    """

    def __init__(self, config: FloorConfig, *, clock: Callable[[], float] = time.time, persist: bool = True,
                 timezone: str = "Asia/Shanghai") -> None:
        self.config = config
        self.clock = clock
        self._queues = {q.name: q for q in config.queues}
        self.metrics = MetricsState(MetricsConfig(
            timezone=timezone,
            queue_service_level_s={q.name: q.service_level_s for q in config.queues},
            queue_skills={q.name: frozenset(q.skills) for q in config.queues},
        ))
        ids = range(config.first_agent, config.last_agent + 1)
        self._skills: dict[str, dict[str, int]] = {str(i): lab_skills(i) for i in ids}
        start = clock()
        self._states: dict[str, AgentState] = {str(i): sm.logged_out_state(str(i), start) for i in ids}
        self._waiting: dict[str, tuple[WaitingRow, str]] = {}  # linkedid -> (row, caller uniqueid)
        self._by_uniqueid: dict[str, str] = {}
        self._answered: set[str] = set()
        self._subscribers: list[Callable[[], None]] = []
        self._persist = persist
        self._writer: JsonlWriter | None = None
        self.replayed = 0

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Replay the event log (in a thread) and open it for appending.

        Raises:
            OSError: the log cannot be opened.
        """
        if not self._persist:
            return
        path = self.config.events_log
        records = await asyncio.to_thread(lambda: list(read_jsonl(path)))
        for rec in records:
            ev = decode_event(rec)
            if ev is not None:
                self._apply(ev, log_it=False)
                self.replayed += 1
        self.metrics.forget_before(self.metrics.local_day(self.clock()))
        self._writer = await asyncio.to_thread(JsonlWriter, path)
        log.info("floor: replayed %d events from %s", self.replayed, path)
        self._changed()

    async def stop(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
            self._writer = None

    # -- Floor protocol: reads -----------------------------------------------------------------

    def subscribe(self, on_change: Callable[[], None]) -> None:
        self._subscribers.append(on_change)

    def _row(self, agent_id: str) -> AgentRow:
        st = self._states[agent_id]
        return AgentRow(agent_id, st.status, st.reason, st.state_since_at, dict(self._skills[agent_id]),
                        ("zh",), st.calls_today, st.linkedid, st.queue)

    def agents(self) -> list[AgentRow]:
        return [self._row(a) for a in self._states]

    def queues(self) -> list[QueueRow]:
        return [QueueRow(q.name, tuple(q.skills), q.service_level_s) for q in self._queues.values()]

    def waiting(self) -> list[WaitingRow]:
        return [row for row, _uid in self._waiting.values()]

    def staffing(self) -> dict[float, float]:
        return self.metrics.staffing(self.clock())

    # -- Floor protocol: agent actions ---------------------------------------------------------

    def _state(self, agent_id: str) -> AgentState:
        st = self._states.get(agent_id)
        if st is None:
            raise NotFound(f"no agent {agent_id!r}", {"agent_id": agent_id})
        return st

    def _transition(self, agent_id: str, fn: Callable[[AgentState, float], AgentState]) -> AgentRow:
        st = self._state(agent_id)
        now = self.clock()
        try:
            new = fn(st, now)
        except IllegalTransition as exc:
            raise Conflict(f"agent {agent_id} is {st.status.value}: {exc}",
                           {"agent_id": agent_id, "status": st.status.value}) from None
        if new is not st:
            self._apply(AgentStateChanged(agent_id, new.status, now, new.reason, new.linkedid, new.queue))
        return self._row(agent_id)

    async def agent_login(self, agent_id: str) -> AgentRow:
        return self._transition(agent_id, sm.login)

    async def agent_logout(self, agent_id: str) -> AgentRow:
        return self._transition(agent_id, sm.logout)

    async def agent_ready(self, agent_id: str) -> AgentRow:
        return self._transition(agent_id, sm.ready)

    async def agent_pause(self, agent_id: str, reason: str) -> AgentRow:
        return self._transition(agent_id, lambda st, now: sm.pause(st, reason, now))

    async def agent_set_skills(self, agent_id: str, skills: Mapping[str, int]) -> AgentRow:
        self._state(agent_id)
        bad = {k: v for k, v in skills.items() if not (MIN_PROFICIENCY <= v <= MAX_PROFICIENCY) or not k}
        if bad:
            raise InvalidRequest(f"proficiency must be {MIN_PROFICIENCY}..{MAX_PROFICIENCY}", {"skills": bad})
        self._apply(AgentSkillsSet(agent_id, dict(skills), self.clock()))
        return self._row(agent_id)

    # -- calls -----------------------------------------------------------------------------------

    async def hand_over(self, req: QueueRequest) -> None:
        """The IVR's hand-over (:data:`hotline.queues.handover.HandOver`): the caller now waits in ``req.queue``.

        Raises:
            InvalidRequest: unknown queue.
        """
        if req.queue not in self._queues:
            raise InvalidRequest(f"unknown queue {req.queue!r}", {"queue": req.queue})
        at = req.at or self.clock()
        self._apply(CallQueued(req.linkedid, req.uniqueid, req.queue, at, frozenset(req.skills), req.language,
                               req.priority, req.follow_up))

    def answered(self, linkedid: str, agent_id: str, at: float | None = None) -> None:
        """A waiting caller was bridged to ``agent_id`` (by whoever dispatches)."""
        if linkedid in self._waiting:
            self._apply(CallAnswered(linkedid, agent_id, at if at is not None else self.clock()))

    def on_call_event(self, event: CallEvent) -> None:
        """CallTracker subscriber: the caller's leg ended while waiting -> ``CallAbandoned``; an
        answered call's leg ended -> ``AnsweredCallEnded``. (Source: AMI ``Hangup`` via the call model.)"""
        if not isinstance(event, LegEnded):
            return
        linkedid = self._by_uniqueid.get(event.uniqueid)
        if linkedid is None:
            return
        if linkedid in self._waiting:
            self._apply(CallAbandoned(linkedid, event.at))
        elif linkedid in self._answered:
            self._apply(AnsweredCallEnded(linkedid, event.at))

    def reconcile(self, live_linkedids: Iterable[str], at: float) -> int:
        """After a restart: callers replayed as waiting whose call is gone are abandoned.

        Args:
            live_linkedids: calls Asterisk still has (the call model after its first resync).
        Returns:
            How many waiting calls were closed.
        """
        live = set(live_linkedids)
        gone = [lid for lid in self._waiting if lid not in live]
        for lid in gone:
            self._apply(CallAbandoned(lid, at))
        return len(gone)

    # -- the one place state changes -----------------------------------------------------------

    def _apply(self, ev: object, *, log_it: bool = True) -> None:
        match ev:
            case CallQueued():
                if ev.linkedid in self._waiting:
                    return
                q = self._queues.get(ev.queue)
                skills = tuple(sorted(ev.skills)) or (tuple(q.skills) if q else ())
                self._waiting[ev.linkedid] = (WaitingRow(ev.linkedid, ev.queue, skills, ev.at), ev.uniqueid)
                self._by_uniqueid[ev.uniqueid] = ev.linkedid
            case CallAbandoned():
                self._forget(ev.linkedid)
            case CallAnswered():
                self._waiting.pop(ev.linkedid, None)
                self._answered.add(ev.linkedid)
            case AnsweredCallEnded():
                self._forget(ev.linkedid)
            case AgentStateChanged():
                if ev.agent_id not in self._states:
                    return
                old = self._states[ev.agent_id]
                self._states[ev.agent_id] = AgentState(
                    ev.agent_id, ev.status, ev.at,
                    ev.at if ev.status is S.READY or old.status is S.LOGGED_OUT else old.idle_since_at,
                    old.calls_today, ev.reason, ev.linkedid, ev.queue)
            case AgentSkillsSet():
                if ev.agent_id in self._skills:
                    self._skills[ev.agent_id] = dict(ev.skills)
            case _:
                return
        if not isinstance(ev, AgentSkillsSet):
            self.metrics.apply(ev)
        if log_it:
            if self._writer is not None:
                self._writer.append(encode_event(ev))
            self._changed()

    def _forget(self, linkedid: str) -> None:
        entry = self._waiting.pop(linkedid, None)
        self._answered.discard(linkedid)
        if entry is not None:
            self._by_uniqueid.pop(entry[1], None)
        else:
            for uid, lid in list(self._by_uniqueid.items()):
                if lid == linkedid:
                    del self._by_uniqueid[uid]

    def _changed(self) -> None:
        for cb in self._subscribers:
            try:
                cb()
            except Exception:  # a subscriber must not break the floor
                log.exception("floor subscriber %r failed", cb)


__all__ = ["AgentSkillsSet", "StandaloneFloor", "decode_event", "encode_event", "lab_skills"]
