"""The routing component as the service runs it: dispatcher + Redis store + agent commands.

``hotline/app/service.py`` builds it with :func:`hotline.queues.plugin.build_routing` and adds it to
``Service.components``; the IVR's hand-over is :meth:`Routing.enqueue`, and its session listener
(:data:`hotline.ivr.agi.SessionListener`) is :meth:`Routing.ivr_session`, which logs ``IvrEntered`` /
``IvrEnded`` in the routing event log and applies them to the live statistics (hotline-level call
outcomes, :class:`hotline.queues.metrics.CallOutcomes`). The Redis clients it creates are closed by :meth:`stop`.
"""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from hotline.kernel.subscribers import connect_once
from hotline.queues.control import AgentControl
from hotline.queues.dispatch import Dispatcher
from hotline.queues.events import IvrEnded, IvrEntered
from hotline.queues.handover import QueueRequest, SessionRecord, SessionStarted
from hotline.queues.metrics import classify_ivr_end

__all__ = ["NodeKind", "Routing", "ivr_event"]

#: ``(menu_id, node_id) -> node kind`` (``hangup``, ``menu`` ...) or None when unknown
NodeKind = Callable[[str, str], "str | None"]


def ivr_event(item: SessionStarted | SessionRecord, node_kind: NodeKind | None = None) -> IvrEntered | IvrEnded:
    """The statistics event of an IVR session start or end (pure).

    ``SessionRecord.outcome``/``reason`` are mapped by :func:`hotline.queues.metrics.classify_ivr_end`; for a
    failure, ``detail`` keeps the IVR's own reason text (an exception message for ``error``).
    """
    if isinstance(item, SessionStarted):
        return IvrEntered(item.linkedid, item.uniqueid, item.started_at)
    kind = node_kind(item.menu_id, item.node) if node_kind is not None else None
    outcome, reason = classify_ivr_end(item.outcome, item.reason, kind)
    detail = item.reason if reason != item.reason else ""
    return IvrEnded(item.linkedid, item.uniqueid, outcome.value, item.node, tuple(item.path), reason,
                    item.ended_at, detail)


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
        self._stopped = False
        self._node_kind: NodeKind | None = None

    def connect_node_kind(self, node_kind: NodeKind) -> None:
        """Late binding, once (the IVR is built after routing, which it hands callers to): the kind of an
        IVR node, so a caller leaving at a goodbye is counted self-served. Made by
        :func:`hotline.app.wiring.wire`.

        Raises:
            AlreadyConnected: called a second time.
        """
        connect_once(self._node_kind, "routing node kind")
        self._node_kind = node_kind

    @property
    def node_kind(self) -> NodeKind | None:
        """The connected node-kind lookup, or None (not connected: IVR disabled)."""
        return self._node_kind

    async def enqueue(self, request: QueueRequest) -> None:
        """The IVR's hand-over (:data:`hotline.queues.handover.HandOver`)."""
        await self.dispatcher.enqueue(request)

    def ivr_session(self, item: SessionStarted | SessionRecord) -> None:
        """The IVR's session listener: log and count the call's IVR start or end (see :meth:`record_ivr`)."""
        self.record_ivr(ivr_event(item, self._node_kind))

    def record_ivr(self, event: IvrEntered | IvrEnded) -> None:
        """Append ``event`` to the routing event log (the dispatcher's writer, so a restart replays
        it) and apply it to the live statistics. Synchronous, on the event loop (the log write is
        queued to the writer thread); after :meth:`stop` it is only counted."""
        self.dispatcher.record_ivr(event, log_it=not self._stopped)

    def report(self, now: float | None = None) -> dict[str, object]:
        """Today's statistics and the live view, for the wallboard."""
        return self.dispatcher.report(now)

    async def start(self) -> None:
        await self.dispatcher.start()
        if self.control is not None:
            await self.control.start()

    async def stop(self) -> None:
        self._stopped = True
        if self.control is not None:
            await self.control.stop()
        await self.dispatcher.stop()
        for r in self._redis:
            await r.aclose()
