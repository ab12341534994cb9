"""The routing component as the service runs it: dispatcher + Redis store + agent commands.

``hotline/service.py`` builds it with :meth:`Routing.from_settings` and adds it to
``Service.components``; the IVR's hand-over is :meth:`Routing.enqueue`. The Redis clients it
creates are closed by :meth:`stop`.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from queues.config import load_agents_file
from queues.control import AgentControl
from queues.dispatch import Dispatcher
from queues.eventlog import RoutingEventLog
from queues.handover import QueueRequest
from queues.store import RoutingStore
from telephony.ami import AmiClient
from telephony.tracker import CallTracker

__all__ = ["Routing"]


class Routing:
    """Skill-based routing for the service (``start``/``stop``).

    Attributes:
        dispatcher: the routing component (agent API, live statistics: ``dispatcher.report()``).
        control: serves ``hotline agent ...`` commands from Redis.
    """

    def __init__(self, dispatcher: Dispatcher, control: AgentControl | None, redis: list[Redis]) -> None:
        self.dispatcher = dispatcher
        self.control = control
        self._redis = redis

    @classmethod
    def from_settings(cls, settings: Any, ami: AmiClient, tracker: CallTracker) -> Routing:
        """Build from the service settings (``settings.routing``, ``settings.redis``).

        Raises:
            ConfigError: the agents file is invalid (every problem listed).
            OSError: the routing event log cannot be opened.
        """
        cfg = settings.routing
        prefix = settings.redis.key_prefix
        queues, agents = load_agents_file(cfg.agents_file)
        store_redis = Redis.from_url(settings.redis.url)
        control_redis = Redis.from_url(settings.redis.url)
        dispatcher = Dispatcher(ami, tracker, queues, agents, settings=cfg,
                                store=RoutingStore(store_redis, prefix + cfg.redis_key),
                                event_log=RoutingEventLog(cfg.event_log))
        control = AgentControl(control_redis, prefix + cfg.command_key, dispatcher)
        return cls(dispatcher, control, [store_redis, control_redis])

    async def enqueue(self, request: QueueRequest) -> None:
        """The IVR's hand-over (:data:`queues.handover.HandOver`)."""
        await self.dispatcher.enqueue(request)

    def report(self, now: float | None = None) -> dict[str, object]:
        """Today's statistics and the live view, for the wallboard."""
        return self.dispatcher.report(now)

    async def start(self) -> None:
        await self.dispatcher.start()
        if self.control is not None:
            await self.control.start()

    async def stop(self) -> None:
        if self.control is not None:
            await self.control.stop()
        await self.dispatcher.stop()
        for r in self._redis:
            await r.aclose()
