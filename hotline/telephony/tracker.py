"""Keeps the call model in step with Asterisk: the glue between the AMI pump and the pure model.

It subscribes to an :class:`~hotline.telephony.ami.AmiClient`, applies every domain event to a
:class:`~hotline.telephony.calls.CallModel` (in pump order), and on ``FullyBooted`` (after every
login, so after every reconnect and every Asterisk restart) asks ``CoreShowChannels`` so
the model is rebuilt and calls that ended while hotline was disconnected are closed, and
``QueueStatus`` so the app_queue baseline's members and waiting callers are known
(:class:`AppQueueView`).
Call events (``CallStarted``, ``CallEnded`` ...) go to its own subscribers, in order.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hotline.telephony import events as ev
from hotline.telephony.ami import AmiClient, AmiError
from hotline.telephony.calls import CallEvent, CallModel
from hotline.telephony.frames import AmiMessage

log = logging.getLogger("hotline.calls")

CallHandler = Callable[[CallEvent], Awaitable[None] | None]


@dataclass
class AppQueueView:
    """What Asterisk's own app_queue (the baseline) holds, from the last ``QueueStatus``.

    Attributes:
        params: queue -> its counters (AMI ``QueueParams``).
        members: queue -> member interface -> AMI ``QueueMember``.
        entries: queue -> callers waiting (AMI ``QueueEntry``), by position.
    """

    params: dict[str, ev.QueueParamsListed] = field(default_factory=dict)
    members: dict[str, dict[str, ev.QueueMemberListed]] = field(default_factory=dict)
    entries: dict[str, list[ev.QueueEntryListed]] = field(default_factory=dict)
    complete: bool = False


class CallTracker:
    """Owns the live :class:`CallModel`.

    Args:
        client: the AMI client whose pump feeds the model.
        resync_timeout_s: timeout of the ``CoreShowChannels`` action at resync.
        live: False when replaying a capture (no resync: there is no Asterisk to ask).
    """

    def __init__(self, client: AmiClient, resync_timeout_s: float = 10.0, live: bool = True) -> None:
        self.client = client
        self.live = live
        self.model = CallModel()
        self.resync_timeout_s = resync_timeout_s
        self.resyncs = 0
        self.app_queues = AppQueueView()
        self._next_queues = AppQueueView()
        self._handlers: list[CallHandler] = []
        #: subscriber calls that raised (each logged with the call; the other subscribers still ran)
        self.handler_errors = 0
        client.subscribe(self._on_message)

    def subscribe(self, handler: CallHandler) -> None:
        """Add a subscriber for call events (called in order, awaited if async).

        A subscriber gets every kind in :data:`hotline.telephony.calls.CallEvent` (``CallStarted``,
        ``LegAdded``, ``LegEnded``, ``CallMerged``, ``CallEnded``) and must ignore the kinds it
        does not use. One that raises is logged and counted (``handler_errors``); the other
        subscribers and the following events are still delivered.
        """
        self._handlers.append(handler)

    async def resync(self) -> None:
        """Ask Asterisk for every live channel; the listed events rebuild the model.

        Raises:
            AmiError: the action failed or timed out (the model is left as it was).
        """
        # FullyBooted can reach the pump before the login step has marked the client connected
        await self.client.wait_connected(timeout=self.resync_timeout_s)
        await self.client.action("CoreShowChannels", timeout=self.resync_timeout_s, check=True)
        await self.client.action("QueueStatus", timeout=self.resync_timeout_s, check=True)
        self.resyncs += 1

    def _on_message(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> Awaitable[None] | None:
        # synchronous on the hot path; a coroutine only when something must be awaited
        if event is None:
            return None
        if isinstance(event, _QUEUE_LIST):
            self._on_queue_list(event)
            return None
        call_events = self.model.apply(event)
        resync = isinstance(event, ev.AsteriskBooted) and self.live
        if not call_events and not resync:
            return None
        return self._after(call_events, resync)

    def _on_queue_list(self, event: ev.DomainEvent) -> None:
        nxt = self._next_queues
        if isinstance(event, ev.QueueParamsListed):
            nxt.params[event.queue] = event
        elif isinstance(event, ev.QueueMemberListed):
            nxt.members.setdefault(event.queue, {})[event.member] = event
        elif isinstance(event, ev.QueueEntryListed):
            nxt.entries.setdefault(event.queue, []).append(event)
        elif isinstance(event, ev.QueueStatusCompleted):
            nxt.complete = True
            self.app_queues, self._next_queues = nxt, AppQueueView()

    async def _after(self, call_events: list[CallEvent], resync: bool) -> None:
        for call_event in call_events:
            for handler in self._handlers:
                try:
                    result = handler(call_event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:  # one failing subscriber must not cost the others this event or the rest
                    self.handler_errors += 1
                    log.exception("call event subscriber %r failed on %s (linkedid=%s)", handler,
                                  type(call_event).__name__, _linkedid_of(call_event))
        if resync:
            try:
                await self.resync()
            except AmiError as exc:
                log.warning("resync after FullyBooted failed: %s", exc)


def _linkedid_of(event: CallEvent) -> str:
    return str(getattr(event, "linkedid", "") or getattr(event, "into_linkedid", ""))


_QUEUE_LIST = (ev.QueueParamsListed, ev.QueueMemberListed, ev.QueueEntryListed, ev.QueueStatusCompleted)
