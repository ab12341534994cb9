"""The AMI adapter: one connection to Asterisk, one ordered event pump, actions with timeouts.

This owns what panoramisk (the project's AMI baseline, ``bench/ami_ingest.py``) leaves
open:

* framing on bytes (:mod:`hotline.telephony.frames`), never per-chunk decoded text;
* ONE pump task delivers every message to the subscribers in arrival order, awaiting
  async handlers one after the other (no ``ensure_future`` per event: order and
  exceptions are kept); a handler that raises is logged with the linkedid and the pump
  carries on;
* every action has a timeout (:class:`AmiTimeout`) and is correlated by ``ActionID``;
  list actions (``EventList: start`` ... ``Complete``) collect their events; responses
  are resolved by the reader, so a pump handler may await an action without deadlock;
* login failure raises :class:`AmiAuthError` and reconnects back off exponentially up to
  ``reconnect_max_s`` (no endless 2 s loop);
* a ``Ping`` every ``ping_interval_s`` whose reply is checked: a silently dropped TCP
  connection (no byte at all since the Ping went out) is detected within two intervals and the
  client reconnects; a late reply on a connection that is still carrying data (Asterisk or this
  process briefly starved of CPU) is counted (``AmiStats.late_pings``) and logged, not a reason to
  drop a working connection and every AsyncAGI call with it;
* every frame is appended to the event log (raw bytes + receive time) before dispatch.

Subscribers are called as ``handler(msg, event)`` where ``msg`` is the
:class:`~hotline.telephony.frames.AmiMessage` (None for hotline's own connection events) and
``event`` the translated :class:`~hotline.telephony.events.DomainEvent` or None.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from hotline.kernel.errors import HotlineError
from hotline.telephony import events as ev
from hotline.telephony.eventlog import EventLogWriter
from hotline.telephony.frames import AmiFramer, AmiMessage
from hotline.telephony.headers import UnsafeHeaderValue, check_action
from hotline.telephony.settings import AmiConfig
from hotline.telephony.translate import DEFAULT_EVENTS, translate

log = logging.getLogger("hotline.ami")

Handler = Callable[[AmiMessage | None, ev.DomainEvent | None], Awaitable[None] | None]
FieldValue = str | int | float | bool | Sequence[str] | Mapping[str, str]


class AmiError(HotlineError):
    """Base class of AMI failures."""


class AmiConnectionError(AmiError, ConnectionError):
    """Not connected, or the connection was lost while an action was pending."""


class AmiNotConnected(AmiConnectionError):
    """The action was not sent: no AMI connection at that moment (reconnecting). Safe to retry as is."""


class AmiAuthError(AmiError, PermissionError):
    """Asterisk refused the login (wrong username/secret, or not permitted from this host)."""


class AmiTimeout(AmiError, TimeoutError):
    """An action got no (complete) response in time. ``action`` and ``action_id`` say which."""

    def __init__(self, action: str, action_id: str, timeout_s: float) -> None:
        self.action = action
        self.action_id = action_id
        super().__init__(f"AMI action {action} ({action_id}) got no response within {timeout_s:.1f}s")


class AmiActionError(AmiError):
    """Asterisk answered ``Response: Error``. ``response`` is the message."""

    def __init__(self, action: str, response: AmiMessage) -> None:
        self.action = action
        self.response = response
        super().__init__(f"AMI action {action} failed: {response.text('Message') or response.headers}")


class AmiBadAction(AmiError, ValueError):
    """An action was refused before sending: a header name or value holds CR/LF, or it breaks a rule
    of :func:`hotline.telephony.headers.check_action` (``${``, ``SHELL(``, an Originate of
    ``System``/``Exec``, a comma in a ``Variable`` value ...; that error is the ``__cause__``).
    Nothing was written to Asterisk."""


@dataclass
class AmiResponse:
    """A complete response: the ``Response`` message and, for list actions, its events
    (without the final ``...Complete`` event, which is in ``complete``)."""

    response: AmiMessage
    events: list[AmiMessage] = field(default_factory=list)
    complete: AmiMessage | None = None

    @property
    def ok(self) -> bool:
        return self.response.text("Response") in ("Success", "Follows", "Goodbye")

    @property
    def message(self) -> str:
        return self.response.text("Message")


def _check(text: str, what: str) -> str:
    if "\r" in text or "\n" in text:
        raise AmiBadAction(f"AMI {what} must not contain CR or LF: {text!r}")
    return text


def encode_action(name: str, action_id: str, fields: Mapping[str, FieldValue] | None = None) -> bytes:
    """Serialise one action. A sequence value repeats the header; a mapping becomes
    repeated ``key=value`` (e.g. ``Variable``).

    Raises:
        AmiBadAction: CR or LF in a header name or value (header injection), or the action breaks
            a rule of :func:`hotline.telephony.headers.check_action` (the last-line guard).
    """
    try:
        check_action(name, fields)
    except UnsafeHeaderValue as exc:
        raise AmiBadAction(f"AMI action {name} refused: {exc}") from exc
    lines = [f"Action: {_check(name, 'action name')}", f"ActionID: {_check(action_id, 'ActionID')}"]
    for key, value in (fields or {}).items():
        _check(key, "header name")
        if isinstance(value, Mapping):
            lines += [f"{key}: {_check(str(k), 'value')}={_check(str(v), 'value')}" for k, v in value.items()]
        elif isinstance(value, (list, tuple)):
            lines += [f"{key}: {_check(str(v), 'value')}" for v in value]
        elif isinstance(value, bool):
            lines.append(f"{key}: {'true' if value else 'false'}")
        else:
            lines.append(f"{key}: {_check(str(value), 'value')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


class _Pending:
    __slots__ = ("events", "future", "is_list", "name", "response")

    def __init__(self, name: str, future: asyncio.Future[AmiResponse]) -> None:
        self.name = name
        self.future = future
        self.response: AmiMessage | None = None
        self.events: list[AmiMessage] = []
        self.is_list = False


class _Protocol(asyncio.Protocol):
    def __init__(self, client: AmiClient) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.client._on_data(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client._on_connection_lost(self, exc)


@dataclass
class AmiStats:
    """Counters for operations (Prometheus later): all since the client was created."""

    messages: int = 0
    events: int = 0
    bytes: int = 0
    connects: int = 0
    disconnects: int = 0
    handler_errors: int = 0
    pump_max_depth: int = 0
    late_pings: int = 0  # Pings unanswered in time on a connection still carrying data
    last_error: str = ""


class AmiClient:
    """A resilient AMI connection with an ordered event pump.

    Args:
        config: host, port, credentials, timeouts, backoff, fallback encoding.
        event_log: where every received frame is appended (optional).
        clock: epoch-seconds clock for ``received_at`` (tests may pass their own).
        events: AMI event names to translate into domain events (default
            :data:`hotline.telephony.translate.DEFAULT_EVENTS`; ``ALL_EVENTS`` for every one).

    Use::

        client = AmiClient(settings.ami)
        client.subscribe(handler)
        await client.start()
        await client.wait_connected(timeout=10)
        resp = await client.action("CoreSettings")
        ...
        await client.stop()
    """

    def __init__(self, config: AmiConfig, *, event_log: EventLogWriter | None = None,
                 clock: Callable[[], float] = time.time, events: frozenset[str] = DEFAULT_EVENTS) -> None:
        self.config = config
        self.events = events
        self.event_log = event_log
        self.clock = clock
        self.stats = AmiStats()
        self._handlers: list[Handler] = []
        self._queue: asyncio.Queue[list[AmiMessage] | ev.DomainEvent] = asyncio.Queue()
        self._queued = 0  # messages in the queue (items are batches)
        self._pending: dict[str, _Pending] = {}
        self._framer = AmiFramer(config.fallback_encoding)
        self._protocol: _Protocol | None = None
        self._lost: asyncio.Future[str] | None = None
        self._last_rx = 0.0  # loop time of the last bytes read (liveness of the socket)
        self._greeting: asyncio.Future[AmiMessage] | None = None
        self._connected = asyncio.Event()
        self._attempt_failed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._seq = 0
        self._prefix = f"hl{os.getpid()}x{random.randrange(16**4):04x}"
        self.version = ""
        self.last_auth_error: AmiAuthError | None = None

    # ------------------------------------------------------------------ public API
    def subscribe(self, handler: Handler) -> None:
        """Add a subscriber; called in order for every message, in arrival order."""
        self._handlers.append(handler)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def pump_depth(self) -> int:
        """Messages received but not yet delivered to the subscribers."""
        return self._queued

    async def start(self, connect: bool = True) -> None:
        """Start the event pump and (unless ``connect`` is False: replay, benchmarks)
        connecting in the background, with reconnects."""
        if self._tasks:
            return
        self._stopping.clear()
        self._tasks = [asyncio.create_task(self._pump(), name="ami-pump")]
        if connect:
            self._tasks.append(asyncio.create_task(self._run(), name="ami-connection"))

    def ingest(self, data: bytes) -> None:
        """Feed bytes as if read from the AMI socket (replay of a capture, benchmarks).

        The bytes go through the same framing, event log and pump as live traffic.
        """
        self._on_data(None, data)

    async def drain(self, timeout: float) -> None:
        """Wait until every message received so far has been delivered to the subscribers.

        Raises:
            TimeoutError: still busy after ``timeout`` seconds.
        """
        await asyncio.wait_for(self._queue.join(), timeout)

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Log off, close the connection, deliver what was received (at most
        ``drain_timeout`` seconds), then stop the pump."""
        self._stopping.set()
        if self.connected:
            with contextlib.suppress(AmiError, OSError):
                await self.action("Logoff", timeout=1.0)
        if self._lost is not None and not self._lost.done():
            self._lost.set_result("stopped")
        conn_task = self._tasks[1] if len(self._tasks) > 1 else None
        if conn_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(conn_task, 5.0)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_timeout)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    async def wait_connected(self, timeout: float, fail_fast: bool = False) -> None:
        """Wait until logged in.

        Args:
            timeout: seconds.
            fail_fast: give up after the first failed attempt instead of waiting for a
                reconnect (for one-shot tools like ``hotline ami watch``).
        Raises:
            AmiAuthError: the last login attempt was refused.
            AmiConnectionError: not connected within ``timeout`` seconds.
        """
        if fail_fast:
            self._attempt_failed.clear()
        waits = [asyncio.ensure_future(self._connected.wait())]
        if fail_fast:
            waits.append(asyncio.ensure_future(self._attempt_failed.wait()))
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
        if not self._connected.is_set():
            if self.last_auth_error is not None:
                raise self.last_auth_error
            raise AmiConnectionError(
                f"AMI {self.config.host}:{self.config.port} not connected within {timeout:.1f}s"
                + (f": {self.stats.last_error}" if self.stats.last_error else "")
            )

    def next_action_id(self, name: str) -> str:
        """A fresh ActionID ``<prefix>.<n>.<ActionName>`` (the suffix lets a replayed log
        tell which action a response answered)."""
        self._seq += 1
        return f"{self._prefix}.{self._seq}.{name}"

    async def action(self, name: str, fields: Mapping[str, FieldValue] | None = None, *,
                     timeout: float | None = None, action_id: str | None = None,
                     check: bool = False) -> AmiResponse:
        """Send an action and wait for its complete response.

        Args:
            name: the AMI action (``Originate``, ``CoreShowChannels`` ...).
            fields: headers; sequences repeat a header, mappings become ``k=v`` repeats.
            timeout: seconds (default ``config.action_timeout_s``).
            action_id: use this ActionID instead of a fresh one.
            check: raise :class:`AmiActionError` if the response is not a success.
        Returns:
            The response, with the events of a list action.
        Raises:
            AmiNotConnected: not connected (nothing was sent; an :class:`AmiConnectionError`).
            AmiConnectionError: the connection dropped while waiting for the response.
            AmiTimeout: no complete response within ``timeout``.
            AmiBadAction: a value contains CR/LF or breaks the header guard (nothing sent).
            AmiActionError: with ``check=True``, an error response.
        """
        timeout = self.config.action_timeout_s if timeout is None else timeout
        protocol = self._protocol
        if protocol is None or protocol.transport is None or (not self.connected and name != "Login"):
            raise AmiNotConnected(f"AMI not connected: cannot send {name}")
        aid = action_id or self.next_action_id(name)
        data = encode_action(name, aid, fields)
        future: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        self._pending[aid] = _Pending(name, future)
        try:
            protocol.transport.write(data)
            resp = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AmiTimeout(name, aid, timeout) from None
        finally:
            self._pending.pop(aid, None)
        if check and not resp.ok:
            raise AmiActionError(name, resp.response)
        return resp

    # ------------------------------------------------------------------ reader side
    def _on_data(self, protocol: _Protocol | None, data: bytes) -> None:
        if protocol is not self._protocol:
            return
        at = self.clock()
        self._last_rx = asyncio.get_running_loop().time()
        self.stats.bytes += len(data)
        elog = self.event_log
        batch = self._framer.feed(data, at)
        if not batch:
            return
        self.stats.messages += len(batch)
        route = self._route
        for msg in batch:
            if elog is not None:
                elog.append(at, msg.raw)
            route(msg)
        # one queue item per read, not per message: the pump walks the batch in order
        self._queue.put_nowait(batch)
        self._queued += len(batch)
        if self._queued > self.stats.pump_max_depth:
            self.stats.pump_max_depth = self._queued

    def _route(self, msg: AmiMessage) -> None:
        if msg._headers is None and not msg.has_action_id:
            return  # an unsolicited event: nothing to correlate, no need to parse it here
        headers = msg.headers
        if "Greeting" in headers:
            self.version = str(headers.get("Version", ""))
            if self._greeting is not None and not self._greeting.done():
                self._greeting.set_result(msg)
        aid = headers.get("ActionID")
        pending = self._pending.get(aid) if isinstance(aid, str) else None
        if pending is not None and not pending.future.done():
            if "Response" in headers:
                pending.response = msg
                if headers.get("EventList") == "start" and headers.get("Response") == "Success":
                    pending.is_list = True
                else:
                    pending.future.set_result(AmiResponse(msg))
            elif pending.response is not None:
                if headers.get("EventList") == "Complete":
                    pending.future.set_result(AmiResponse(pending.response, pending.events, msg))
                else:
                    pending.events.append(msg)

    def _on_connection_lost(self, protocol: _Protocol, exc: Exception | None) -> None:
        if protocol is self._protocol and self._lost is not None and not self._lost.done():
            self._lost.set_result(f"connection closed: {exc}" if exc else "connection closed by Asterisk")

    # ------------------------------------------------------------------ the pump
    async def _pump(self) -> None:
        queue = self._queue
        while True:
            item = await queue.get()
            try:
                if isinstance(item, list):
                    for msg in item:
                        self._queued -= 1
                        try:
                            event = translate(msg, self.events)
                        except Exception:  # a translator bug must not stop the pump
                            log.exception("cannot translate AMI message %r (linkedid=%s)", msg.headers,
                                          msg.text("Linkedid"))
                            event = None
                        await self._deliver(msg, event)
                else:
                    await self._deliver(None, item)
            finally:
                queue.task_done()

    async def _deliver(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        if event is not None:
            self.stats.events += 1
        for handler in self._handlers:
            try:
                result = handler(msg, event)
                if result is not None and inspect.isawaitable(result):
                    await result
            except Exception:  # the only broad except: log with the call and carry on
                self.stats.handler_errors += 1
                linkedid = getattr(event, "linkedid", "") or (msg.text("Linkedid") if msg else "")
                log.exception("AMI handler %r failed (linkedid=%s)", handler, linkedid)

    # ------------------------------------------------------------------ connection
    async def _run(self) -> None:
        cfg = self.config
        backoff = cfg.reconnect_min_s
        while not self._stopping.is_set():
            logged_in = False
            try:
                logged_in = await self._connect_once()
            except AmiAuthError as exc:
                self.last_auth_error = exc
                self.stats.last_error = str(exc)
                log.error("%s", exc)
            except (TimeoutError, OSError, AmiError) as exc:
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("AMI %s:%s: %s", cfg.host, cfg.port, self.stats.last_error)
            if self._stopping.is_set():
                break
            if not logged_in:
                self._attempt_failed.set()
            if logged_in:
                backoff = cfg.reconnect_min_s
            delay = backoff * random.uniform(0.8, 1.2)
            backoff = min(backoff * 2, cfg.reconnect_max_s)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _connect_once(self) -> bool:
        cfg = self.config
        loop = asyncio.get_running_loop()
        self._framer.reset()
        self._lost = loop.create_future()
        self._greeting = loop.create_future()
        protocol = _Protocol(self)
        self._protocol = protocol
        logged_in = False
        try:
            await asyncio.wait_for(loop.create_connection(lambda: protocol, cfg.host, cfg.port),
                                   cfg.connect_timeout_s)
            await asyncio.wait_for(asyncio.shield(self._greeting), cfg.connect_timeout_s)
            resp = await self.action("Login", {"Username": cfg.username, "Secret": cfg.secret, "Events": "on"},
                                     timeout=cfg.connect_timeout_s)
            if not resp.ok:
                raise AmiAuthError(f"AMI login refused for user '{cfg.username}' at {cfg.host}:{cfg.port}: "
                                   f"{resp.message or 'no reason given'} (check the secret and manager.conf)")
            logged_in = True
            self.last_auth_error = None
            self.stats.connects += 1
            self._connected.set()
            self._queue.put_nowait(ev.AmiConnectionChanged(self.clock(), True, f"Asterisk {self.version}"))
            pinger = asyncio.create_task(self._ping_loop(), name="ami-ping")
            try:
                reason = await self._lost
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            if not self._stopping.is_set():
                log.warning("AMI connection lost: %s", reason)
                self.stats.last_error = reason
            return True
        finally:
            self._connected.clear()
            if protocol.transport is not None:
                protocol.transport.abort()
            self._protocol = None
            for aid, pending in list(self._pending.items()):
                if not pending.future.done():
                    pending.future.set_exception(AmiConnectionError(f"AMI connection lost during {pending.name}"))
                self._pending.pop(aid, None)
            if logged_in:
                self.stats.disconnects += 1
                self._queue.put_nowait(ev.AmiConnectionChanged(self.clock(), False, self.stats.last_error))

    async def _ping_loop(self) -> None:
        """Ping every interval; the connection is lost when a Ping gets no reply AND nothing at all was
        read since it went out (a silent socket). Data arriving while the Pong is late means the peer
        (or this process) is overloaded, not gone: counted and logged, the connection kept."""
        interval = self.config.ping_interval_s
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            sent_at = loop.time()
            try:
                resp = await self.action("Ping", timeout=interval)
                if not resp.ok:
                    raise AmiConnectionError(f"unexpected Ping reply: {resp.response.headers}")
            except AmiTimeout as exc:
                if self._last_rx > sent_at:
                    self.stats.late_pings += 1
                    log.warning("AMI Ping unanswered within %.1fs but the connection is carrying data "
                                "(Asterisk or hotline starved of CPU): kept", interval)
                    continue
                if self._lost is not None and not self._lost.done():
                    self._lost.set_result(f"no answer to Ping and nothing read for {interval:.1f}s: {exc}")
                return
            except AmiConnectionError as exc:
                if self._lost is not None and not self._lost.done():
                    self._lost.set_result(f"no answer to Ping: {exc}")
                return

