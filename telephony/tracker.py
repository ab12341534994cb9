"""Keeps the call model in step with Asterisk: the glue between the AMI pump and the pure model.

It subscribes to an :class:`~telephony.ami.AmiClient`, applies every domain event to a
:class:`~telephony.calls.CallModel` (in pump order), and on ``FullyBooted`` (after every
login, so after every reconnect and every Asterisk restart) asks ``CoreShowChannels`` so
the model is rebuilt and calls that ended while hotline was disconnected are closed.
Call events (``CallStarted``, ``CallEnded`` ...) go to its own subscribers, in order.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from telephony import events as ev
from telephony.ami import AmiClient, AmiError
from telephony.calls import CallEvent, CallModel
from telephony.frames import AmiMessage

log = logging.getLogger("hotline.calls")

CallHandler = Callable[[CallEvent], Awaitable[None] | None]


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
        self._handlers: list[CallHandler] = []
        client.subscribe(self._on_message)

    def subscribe(self, handler: CallHandler) -> None:
        """Add a subscriber for call events (called in order, awaited if async)."""
        self._handlers.append(handler)

    async def resync(self) -> None:
        """Ask Asterisk for every live channel; the listed events rebuild the model.

        Raises:
            AmiError: the action failed or timed out (the model is left as it was).
        """
        # FullyBooted can reach the pump before the login step has marked the client connected
        await self.client.wait_connected(timeout=self.resync_timeout_s)
        await self.client.action("CoreShowChannels", timeout=self.resync_timeout_s, check=True)
        self.resyncs += 1

    def _on_message(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> Awaitable[None] | None:
        # synchronous on the hot path; a coroutine only when something must be awaited
        if event is None:
            return None
        call_events = self.model.apply(event)
        resync = isinstance(event, ev.AsteriskBooted) and self.live
        if not call_events and not resync:
            return None
        return self._after(call_events, resync)

    async def _after(self, call_events: list[CallEvent], resync: bool) -> None:
        for call_event in call_events:
            for handler in self._handlers:
                result = handler(call_event)
                if inspect.isawaitable(result):
                    await result
        if resync:
            try:
                await self.resync()
            except AmiError as exc:
                log.warning("resync after FullyBooted failed: %s", exc)
