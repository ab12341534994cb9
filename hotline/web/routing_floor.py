"""The :class:`hotline.web.providers.Floor` of the running routing component (``queues.dispatch.Dispatcher``).

Agent actions go through the dispatcher's API (its worker owns availability); reads come from its
routing state and its :class:`hotline.queues.metrics.MetricsState` (which the dispatcher rebuilds from its
event log at start, so a restart keeps the day). The dispatcher has no change callback, so a
watcher task compares its event counters every ``poll_s`` (default 50 ms) and notifies
subscribers when they moved -- pushes stay well under a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from hotline.queues.events import AgentSkillsChanged, AgentStateChanged
from hotline.queues.exceptions import IllegalTransition, InvalidQueueConfig, QueuesError, UnknownAgent
from hotline.queues.metrics import MetricsState
from hotline.web.errors import Conflict, InvalidRequest, NotFound, Unavailable
from hotline.web.floor import StaffingTally
from hotline.web.providers import AgentRow, QueueRow, WaitingRow

log = logging.getLogger("hotline.web.floor")


class RoutingFloor:
    """Adapter: the dispatcher seen as a Floor.

    Args:
        dispatcher: a ``queues.dispatch.Dispatcher`` (``Service.routing.dispatcher``).
        poll_s: how often the change watcher looks at the dispatcher's counters.
    """

    def __init__(self, dispatcher: Any, poll_s: float = 0.05) -> None:
        self.d = dispatcher
        self.poll_s = poll_s
        self._subscribers: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._tally: StaffingTally | None = None
        self._seen: tuple[int, int] = (-1, -1)

    @property
    def metrics(self) -> MetricsState:
        return self.d.metrics

    def subscribe(self, on_change: Callable[[], None]) -> None:
        self._subscribers.append(on_change)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="routing-floor-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while True:
            seen = (self.d.metrics.events_applied, self.d.stats.events)
            if seen != self._seen:
                self._seen = seen
                for cb in self._subscribers:
                    try:
                        cb()
                    except Exception:
                        log.exception("floor subscriber %r failed", cb)
            await asyncio.sleep(self.poll_s)

    def agents(self) -> list[AgentRow]:
        state = self.d.state
        out = []
        for aid, st in state.agent_states.items():
            a = state.agents[aid]
            out.append(AgentRow(aid, st.status, st.reason, st.state_since_at, dict(a.skills),
                                tuple(sorted(a.languages)), st.calls_today, st.linkedid, st.queue))
        return out

    def queues(self) -> list[QueueRow]:
        return [QueueRow(q.name, tuple(sorted(q.skills)), q.service_level_s) for q in self.d.queues]

    def waiting(self) -> list[WaitingRow]:
        state = self.d.state
        return [WaitingRow(c.linkedid, c.queue, tuple(sorted(state.required_skills(c))), c.enqueued_at)
                for c in self.d.waiting()]

    def staffing(self) -> Mapping[float, float]:
        """Logged-in agent-seconds per interval, from the agent spans the metrics hold (today so far)."""
        m = self.d.metrics
        tally = StaffingTally(m.interval_start_at, m.config.interval_s)
        now = self.d.clock()
        for view in m.live(now).agents:
            tally.apply(AgentStateChanged(view.agent_id, view.status, now - view.time_in_state_s))
        return tally.snapshot(now)

    async def _call(self, agent_id: str, fn: Callable[[], Awaitable[None]]) -> AgentRow:
        if agent_id not in self.d.state.agent_states:
            raise NotFound(f"no agent {agent_id!r}", {"agent_id": agent_id})
        try:
            await fn()
        except UnknownAgent:
            raise NotFound(f"no agent {agent_id!r}", {"agent_id": agent_id}) from None
        except IllegalTransition as exc:
            raise Conflict(str(exc), {"agent_id": agent_id}) from None
        except TimeoutError as exc:  # RoutingUnavailable
            raise Unavailable(str(exc)) from None
        except QueuesError as exc:
            raise Conflict(str(exc), {"agent_id": agent_id}) from None
        return next(a for a in self.agents() if a.agent_id == agent_id)

    async def agent_login(self, agent_id: str) -> AgentRow:
        return await self._call(agent_id, lambda: self.d.login(agent_id))

    async def agent_logout(self, agent_id: str) -> AgentRow:
        return await self._call(agent_id, lambda: self.d.logout(agent_id))

    async def agent_ready(self, agent_id: str) -> AgentRow:
        return await self._call(agent_id, lambda: self.d.ready(agent_id))

    async def agent_pause(self, agent_id: str, reason: str) -> AgentRow:
        return await self._call(agent_id, lambda: self.d.pause(agent_id, reason))

    async def agent_set_skills(self, agent_id: str, skills: Mapping[str, int]) -> AgentRow:
        agent = self.d.state.agents.get(agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id!r}", {"agent_id": agent_id})
        try:
            new = replace(agent, skills=dict(skills))
        except InvalidQueueConfig as exc:
            raise InvalidRequest(str(exc), {"agent_id": agent_id}) from None
        # the dispatcher's inbox is the one writer of routing state: submit the event through it
        return await self._call(agent_id, lambda: self.d._command(AgentSkillsChanged(new, self.d.clock())))
