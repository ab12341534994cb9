"""The :class:`hotline.web.providers.Floor` of the running routing component (``queues.dispatch.Dispatcher``).

Agent actions go through the dispatcher's API (its worker owns availability); reads come from its
routing state and its :class:`hotline.queues.metrics.MetricsState` (which the dispatcher rebuilds from its
event log at start, so a restart keeps the day). Changes are pushed: the floor subscribes to the
dispatcher's change notification (:meth:`hotline.queues.dispatch.Dispatcher.subscribe_changed`, published
once per applied change) and passes it on to its own subscribers (the wallboard hub, which
coalesces the frames); there is no polling timer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace

from hotline.kernel.subscribers import Subscribers
from hotline.queues.dispatch import Dispatcher, RoutingChanged
from hotline.queues.exceptions import IllegalTransition, InvalidQueueConfig, QueuesError, UnknownAgent
from hotline.queues.metrics import MetricsState
from hotline.web.errors import Conflict, InvalidRequest, NotFound, Unavailable
from hotline.web.providers import AgentRow, QueueRow, WaitingRow


class RoutingFloor:
    """Adapter: the dispatcher seen as a Floor.

    Args:
        dispatcher: the routing dispatcher (``Service.routing.dispatcher``); subscribed for its changes.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher
        self._subscribers: Subscribers[RoutingChanged] = Subscribers("floor changed")
        dispatcher.subscribe_changed(self._subscribers.publish)

    @property
    def metrics(self) -> MetricsState:
        return self.d.metrics

    def subscribe(self, on_change: Callable[[], None]) -> None:
        """``on_change()`` after each change of the routing state or statistics (on the routing worker or
        the IVR's session listener: must not block)."""
        self._subscribers.subscribe(lambda _change: on_change())

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
        """Logged-in agent-seconds per interval today (:meth:`hotline.queues.metrics.MetricsState.staffing`)."""
        return self.d.metrics.staffing(self.d.clock())

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
        # the dispatcher's inbox is the one writer of routing state: submit the change through it
        return await self._call(agent_id, lambda: self.d.change_skills(new))
