"""The IVR over AsyncAGI: AMI events in, the pure interpreter in the middle, AMI actions out.

Flow per call (Asterisk 22, dialplan ``AGI(agi:async)`` on 12345, ``asterisk_conf/extensions.conf``):

1. ``AsyncAGIStart`` (:class:`hotline.telephony.events.AsyncAgiStarted`, env decoded) opens a session keyed
   by the caller's ``Uniqueid``. The pump handler only files events into the session's inbox and
   spawns one task per session: it never awaits anything slow, and each channel's events stay in
   arrival order (one inbox per session, one pump).
2. The session takes the current menu once (a reload never changes a running call), reads the
   facts (active announcements from Redis, the caller's open work orders), then runs
   :func:`hotline.ivr.interpreter.start`/``step``.
3. Each AGI-shaped command goes out as an AMI ``AGI`` action (``Channel``, ``Command``,
   ``CommandID`` = ``<uniqueid>/<n>``, unique per command) with ``action_timeout_s``; its result is
   the ``AsyncAGIExec`` with that ``CommandId`` (provisional ``100`` ignored, stale ids skipped),
   mapped by :mod:`hotline.ivr.agiwire`. Waiting is bounded by ``command_timeout_s`` (+ the input timeout).
   panoramisk's ``send_agi_command`` is not used: it never returns on Asterisk 12+.
4. ``AsyncAGIEnd`` / ``Hangup`` for the leg, ``200 result=-1``, ``511``, or an ``AGI`` action
   answered "Channel ... does not exist" end the session as ``caller_hung_up``: no more commands
   are sent (no error storm), and the :class:`SessionRecord` keeps where the caller left.
5. ``HandOverToQueue``: the call's facts are set as channel variables (AMI ``Setvar``:
   ``HOTLINE_QUEUE``, ``HOTLINE_SKILLS``, ``HOTLINE_PRIORITY``, ``HOTLINE_LANGUAGE``,
   ``HOTLINE_IVR_PATH``, ``HOTLINE_FOLLOW_UP``, ``HOTLINE_VAR_<name>``), the caller is sent with AMI
   ``Redirect`` to ``hold_context,s,1`` (music on hold; Asterisk ends the AGI, ``AsyncAGIEnd``), and
   only then the injected ``HandOver`` callable receives a :class:`hotline.queues.handover.QueueRequest`.
   Choice: Redirect rather than MOH inside AGI, so a hotline restart does not strand a waiting
   caller (the dialplan holds them) and the dispatcher can ``Bridge`` from a plain channel.
6. ``Hangup`` commands go out as ``EXEC Hangup <cause>``.
7. Type-ahead (:mod:`hotline.ivr.typeahead`): every ``DTMFEnd`` with ``Direction: Received`` of the leg
   (:class:`hotline.telephony.events.DtmfReceived`) goes into the session's :class:`KeyBuffer` in the pump
   handler. A command that takes keys (``GET DATA``; ``STREAM FILE`` with escape digits) is not sent
   while the buffer holds a key it would take: the keys are its result at once (``PlaybackFinished``
   / ``DigitsReceived``; a ``GET DATA`` still short of ``max_digits`` without ``#`` waits for more
   ``DTMFEnd`` keys, up to the inter-digit timeout, with no AGI command running). When a reply shows
   Asterisk took keys (:func:`hotline.ivr.agiwire.keys_taken`), the buffer drops their ``DTMFEnd`` events
   (sequence-matched after the command's mark, whichever arrived first), so no key counts twice. So
   keys pressed during a non-interruptible prompt or between two commands (which Asterisk drops) are
   kept for the next input node, and a caller who typed everything early goes straight through.
8. A ``510``/``520`` (or unparseable) reply is logged (WARNING, linkedid and command) and counted in
   :attr:`IvrComponent.agi_errors` by code.

A prompt that does not exist makes Asterisk 22 end the whole AGI (``STREAM FILE`` answers
``200 result=-1 endpos=0`` and the call hangs up), so announcements whose prompt file is missing
are dropped (and logged) before the call starts; menu prompts are checked at (re)load.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from hotline.ivr.agiwire import (
    AgiReply,
    GetVariable,
    VariableValue,
    format_command,
    keys_taken,
    parse_reply,
    takes_keys,
    to_result,
)
from hotline.ivr.announcement_store import AnnouncementStore
from hotline.ivr.announcements import Announcement
from hotline.ivr.interpreter import (
    CallerHungUp,
    CallFacts,
    Command,
    CommandFailed,
    DigitsReceived,
    GetDigits,
    HandOverToQueue,
    LookupResult,
    LookupWorkOrder,
    PlaybackFinished,
    Result,
    SessionState,
    SetVariable,
    Timeout,
    start,
    step,
)
from hotline.ivr.menu_watch import MenuWatcher
from hotline.ivr.menus import Menu
from hotline.ivr.settings import IvrConfig
from hotline.ivr.typeahead import KeyBuffer
from hotline.ivr.workorders import WorkOrderLookup
from hotline.queues.handover import HandOver, QueueRequest, SessionListener, SessionRecord, SessionStarted
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiClient, AmiError, AmiNotConnected, AmiResponse
from hotline.telephony.frames import AmiMessage

log = logging.getLogger("hotline.ivr")

Accept = Callable[[ev.AsyncAgiStarted], bool]
_END = (ev.AsyncAgiEnded, ev.ChannelHungUp)




@dataclass
class _Session:
    uniqueid: str
    linkedid: str
    channel: str
    caller_num: str
    started_at: float
    inbox: asyncio.Queue[ev.DomainEvent] = field(default_factory=asyncio.Queue)
    seq: int = 0
    gone: bool = False
    task: asyncio.Task[None] | None = None
    warnings: list[str] = field(default_factory=list)
    request: QueueRequest | None = None
    keys: KeyBuffer = field(default_factory=KeyBuffer)


class RecordingHandOver:
    """A stand-in ``HandOver`` until the routing component exists: logs and keeps each request."""

    def __init__(self, keep: int = 1000) -> None:
        self.requests: deque[QueueRequest] = deque(maxlen=keep)

    async def __call__(self, request: QueueRequest) -> None:
        self.requests.append(request)
        log.info("hand-over (no routing component yet): linkedid=%s queue=%s skills=%s language=%s path=%s",
                 request.linkedid, request.queue, ",".join(request.skills), request.language,
                 "/".join(request.ivr_path))


class IvrComponent:
    """The AsyncAGI IVR: a service component (``start``/``stop``) subscribed to the AMI pump.

    Args:
        ami: the AMI client (subscribed to in the constructor).
        menus: the menu source (``current`` is taken once per call).
        hand_over: called with the :class:`QueueRequest` once the caller is on hold.
        work_orders: self-service status and repeat-caller lookups.
        announcements: the Redis store, or None (no hot topics).
        config: timeouts, hold context, prompt folder, caller filter.
        accept: extra filter on ``AsyncAGIStart`` (default: ``config.caller_prefixes``).
        clock: epoch seconds (the interpreter's ``now``).
        listeners: called with each :class:`SessionStarted` and each finished :class:`SessionRecord`
            (statistics, call facts); synchronous, on the event loop.

    Counters (for /metrics): ``agi_errors`` AGI replies other than 100/200/511 by code (510, 520;
    0 for text that is no AGI reply); ``keys`` type-ahead keys of finished sessions by fate
    (``from_buffer``, ``by_asterisk``, ``invalid``, ``overflow``, ``stale``, ``owed_expired``).
    """

    def __init__(self, ami: AmiClient, menus: MenuWatcher, hand_over: HandOver, *,
                 work_orders: WorkOrderLookup, announcements: AnnouncementStore | None,
                 config: IvrConfig, accept: Accept | None = None,
                 clock: Callable[[], float] = time.time,
                 on_close: Callable[[], Awaitable[None]] | None = None,
                 listeners: Sequence[SessionListener] = ()) -> None:
        self.ami = ami
        self.menus = menus
        self.hand_over = hand_over
        self.work_orders = work_orders
        self.announcements = announcements
        self.config = config
        self.clock = clock
        self._accept = accept or self._accept_by_prefix
        self._on_close = on_close
        self.listeners: list[SessionListener] = list(listeners)
        self.sessions: dict[str, _Session] = {}
        self.finished: deque[SessionRecord] = deque(maxlen=1000)
        self._finished_event = asyncio.Event()
        self.agi_errors: Counter[int] = Counter()
        #: actions that waited for AMI to come back (sent after a reconnect; see :meth:`_action`)
        self.ami_waits = 0
        self.keys: Counter[str] = Counter()
        ami.subscribe(self._on_ami)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Load the menu (a bad menu raises MenuError: the service refuses to start) and watch it."""
        await self.menus.start()

    async def stop(self) -> None:
        """Stop watching and end running sessions (recorded as ``stopped``; channels are left as they are)."""
        await self.menus.stop()
        tasks = [s.task for s in self.sessions.values() if s.task is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._on_close is not None:
            await self._on_close()

    async def wait_finished(self, uniqueid: str, timeout: float) -> SessionRecord:
        """The record of a session once it ended (for tests and tools).

        Raises:
            TimeoutError: not ended within ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while True:
                for rec in self.finished:
                    if rec.uniqueid == uniqueid:
                        return rec
                self._finished_event.clear()
                await self._finished_event.wait()

    # ------------------------------------------------------------------ the pump handler (never blocks)
    def _accept_by_prefix(self, event: ev.AsyncAgiStarted) -> bool:
        prefixes = self.config.caller_prefixes
        caller = event.env.get("agi_callerid", "")
        return not prefixes or any(caller.startswith(p) for p in prefixes)

    def _on_ami(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        if event is None:
            return
        s: _Session | None
        if isinstance(event, ev.AsyncAgiStarted):
            if event.uniqueid in self.sessions or not self._accept(event):
                return
            env = event.env
            s = _Session(event.uniqueid, event.linkedid, env.get("agi_channel") or event.channel,
                         env.get("agi_callerid", ""), self.clock(),
                         keys=KeyBuffer(max_keys=self.config.typeahead_max_keys))
            self.sessions[s.uniqueid] = s
            self._tell(SessionStarted(s.uniqueid, s.linkedid, s.started_at))
            s.task = asyncio.create_task(self._run(s), name=f"ivr-{s.uniqueid}")
            return
        if isinstance(event, ev.AmiConnectionChanged):
            if not event.connected:
                for s in self.sessions.values():
                    s.inbox.put_nowait(event)
            return
        uid = getattr(event, "uniqueid", None)
        s = self.sessions.get(uid) if uid else None
        if s is None:
            return
        if isinstance(event, ev.AsyncAgiExecuted):
            s.inbox.put_nowait(event)
        elif isinstance(event, ev.DtmfReceived):
            if event.direction == "Received" and s.keys.pressed(event.digit, event.at):
                s.inbox.put_nowait(event)  # wakes a wait for more typed-ahead keys
        elif isinstance(event, _END):
            s.gone = True
            s.inbox.put_nowait(event)
        elif isinstance(event, ev.ChannelRenamed):
            s.channel = event.new_channel  # AGI/Redirect need the name of now; we key on uniqueid

    # ------------------------------------------------------------------ one session
    async def _run(self, s: _Session) -> None:
        menu = self.menus.current  # this call keeps this menu, whatever reloads happen
        state: SessionState | None = None
        outcome = ""
        reason = ""
        try:
            facts = await self._facts(s, menu)
            state, commands = start(menu, facts, self.clock())
            while True:
                result = await self._execute(s, state, commands)
                if state.done:
                    break
                state, commands = step(menu, state, result, self.clock())
            outcome = state.outcome or ""
            reason = state.reason
            if outcome == "queued" and s.request is None:
                outcome = "caller_hung_up" if s.gone else "handover_failed"
        except asyncio.CancelledError:
            outcome, reason = "stopped", "service stopping"
            raise
        except Exception as exc:  # a bug must not leave the session unrecorded
            log.exception("IVR session failed (linkedid=%s uniqueid=%s)", s.linkedid, s.uniqueid)
            outcome, reason = "error", f"{type(exc).__name__}: {exc}"
        finally:
            self._record(s, menu, state, outcome, reason)

    def _record(self, s: _Session, menu: Menu, state: SessionState | None, outcome: str, reason: str) -> None:
        self.sessions.pop(s.uniqueid, None)
        path = state.path if state else ()
        rec = SessionRecord(
            uniqueid=s.uniqueid, linkedid=s.linkedid, caller_num=s.caller_num, menu_id=menu.id, path=path,
            node=state.node if state else menu.start, outcome=outcome, reason=reason,
            language=state.language if state else menu.default_language, commands=s.seq,
            started_at=s.started_at, ended_at=self.clock(), request=s.request,
            warnings=(*s.warnings, *(state.warnings if state else ())),
            keys_buffered=s.keys.from_buffer, keys_dropped=s.keys.invalid + s.keys.overflow + s.keys.stale,
            keys_received=s.keys.received,
        )
        self._count_keys(s.keys)
        self.finished.append(rec)
        self._finished_event.set()
        self._tell(rec)
        log.info("IVR session ended: linkedid=%s outcome=%s reason=%s left at %s path=%s",
                 rec.linkedid, rec.outcome, rec.reason, rec.node, "/".join(rec.path))

    def gauges(self) -> dict[str, float]:
        """For ``/metrics`` (:class:`hotline.web.providers.OpsGauges`): AGI error replies (510/520/garbage) and
        type-ahead keys dropped (invalid, over the cap, stale), and actions that waited for AMI to reconnect,
        since start. Cheap, non-blocking."""
        dropped = self.keys["invalid"] + self.keys["overflow"] + self.keys["stale"]
        return {"ivr_agi_errors": float(sum(self.agi_errors.values())), "ivr_keys_dropped": float(dropped),
                "ivr_ami_waits": float(self.ami_waits)}

    def _count_keys(self, keys: KeyBuffer) -> None:
        self.keys.update({"from_buffer": keys.from_buffer, "by_asterisk": keys.by_asterisk,
                          "invalid": keys.invalid, "overflow": keys.overflow, "stale": keys.stale,
                          "owed_expired": keys.owed_expired})

    def _tell(self, item: SessionStarted | SessionRecord) -> None:
        for listener in self.listeners:
            try:
                listener(item)
            except Exception:  # a listener must never break a call
                log.exception("IVR session listener %r failed (linkedid=%s)", listener, item.linkedid)

    async def _facts(self, s: _Session, menu: Menu) -> CallFacts:
        """Announcements and open work orders; a source that fails or is slow gives none (logged)."""
        timeout = self.config.lookup_timeout_s

        async def announcements() -> tuple[Announcement, ...]:
            if self.announcements is None:
                return ()
            try:
                found = await asyncio.wait_for(self.announcements.all(), timeout)
            except Exception as exc:
                s.warnings.append(f"announcements unavailable: {exc}")
                log.warning("IVR: no announcements for linkedid=%s: %s", s.linkedid, exc)
                return ()
            return await self._playable(s, menu, found)

        async def open_orders() -> tuple[str, ...]:
            if not s.caller_num:
                return ()
            try:
                return tuple(await asyncio.wait_for(self.work_orders.open_for_caller(s.caller_num), timeout))
            except Exception as exc:
                s.warnings.append(f"repeat-caller lookup unavailable: {exc}")
                log.warning("IVR: repeat-caller lookup failed for linkedid=%s: %s", s.linkedid, exc)
                return ()

        found, orders = await asyncio.gather(announcements(), open_orders())
        return CallFacts(caller=s.caller_num, open_work_orders=orders, announcements=found)

    async def _playable(self, s: _Session, menu: Menu, found: Collection[Announcement]) -> tuple[Announcement, ...]:
        """Drop announcements whose prompt file is missing in a language they play in."""
        prompt_dir = self.config.prompt_dir
        if prompt_dir is None or not found:
            return tuple(found)

        def exists(name: str) -> bool:
            folder = (prompt_dir / name).parent
            stem = Path(name).name
            return folder.is_dir() and any(p.stem == stem for p in folder.glob(f"{stem}.*"))

        keep = []
        for a in found:
            names = [a.prompt_for(lang) for lang in menu.languages if a.plays_in(lang)]
            missing = [n for n in names if not await asyncio.to_thread(exists, n)]
            if missing:
                s.warnings.append(f"announcement {a.id!r} skipped: missing prompt(s) {', '.join(missing)}")
                log.warning("IVR: announcement %r skipped, missing prompt file(s): %s", a.id, ", ".join(missing))
            else:
                keep.append(a)
        return tuple(keep)

    async def _execute(self, s: _Session, state: SessionState, commands: tuple[Command, ...]) -> Result:
        """Run a command tuple (interpreter contract); the result of the last one, or the first failure."""
        result: Result = PlaybackFinished(None)
        for i, cmd in enumerate(commands):
            if isinstance(cmd, HandOverToQueue):
                await self._hand_over(s, cmd)
                return result
            if isinstance(cmd, LookupWorkOrder):
                result = await self._lookup(s, cmd)
            else:
                result = await self._agi(s, cmd)
            if isinstance(cmd, SetVariable) and i < len(commands) - 1 and isinstance(
                    result, (CommandFailed, CallerHungUp)):
                return result
        return result

    async def _lookup(self, s: _Session, cmd: LookupWorkOrder) -> Result:
        try:
            status = await asyncio.wait_for(self.work_orders.status(cmd.number), self.config.lookup_timeout_s)
        except Exception as exc:
            s.warnings.append(f"work-order lookup failed: {exc}")
            log.warning("IVR: work-order lookup failed for linkedid=%s: %s", s.linkedid, exc)
            return CommandFailed(0, str(exc))
        return LookupResult(cmd.number, status is not None, status)

    async def _action(self, name: str, fields: dict[str, str], *, timeout: float | None = None,
                      check: bool = False) -> AmiResponse:
        """An AMI action of a live session that rides out a short AMI outage.

        When the action could not be sent because AMI is reconnecting (:class:`AmiNotConnected`:
        nothing reached Asterisk), it waits up to ``ami_wait_s`` for the connection and sends it
        once then: the AsyncAGI session lives on in Asterisk, so a blip delays the caller instead
        of failing the call. Counted in ``ami_waits``.

        Raises:
            AmiError: as :meth:`AmiClient.action`; :class:`AmiConnectionError` when AMI is not back
                within ``ami_wait_s``.
        """
        timeout = self.config.action_timeout_s if timeout is None else timeout
        try:
            return await self.ami.action(name, fields, timeout=timeout, check=check)
        except AmiNotConnected:
            if self.config.ami_wait_s <= 0:
                raise
        self.ami_waits += 1
        await self.ami.wait_connected(timeout=self.config.ami_wait_s)
        return await self.ami.action(name, fields, timeout=timeout, check=check)

    @overload
    async def _agi(self, s: _Session, cmd: Command) -> Result: ...
    @overload
    async def _agi(self, s: _Session, cmd: GetVariable) -> Result | VariableValue: ...

    async def _agi(self, s: _Session, cmd: Command | GetVariable) -> Result | VariableValue:
        """One AGI command: send, then wait for its ``AsyncAGIExec`` (bounded).

        A key-taking command is answered from the type-ahead buffer when it holds a key the command
        would take (nothing is sent); its reply's keys are removed from the buffer.
        """
        if s.gone:
            return CallerHungUp()
        takes = takes_keys(cmd)
        if takes and len(s.keys):
            if isinstance(cmd, GetDigits):
                return await self._entry_from_buffer(s, cmd)
            key = s.keys.take_one(takes)
            if key is not None:
                return PlaybackFinished(key)
        s.seq += 1
        command_id = f"{s.uniqueid}/{s.seq}"
        mark = s.keys.mark()
        try:
            resp = await self._action("AGI", {"Channel": s.channel, "Command": format_command(cmd),
                                              "CommandID": command_id})
        except AmiError as exc:
            return CommandFailed(0, f"AGI action failed: {exc}")
        if not resp.ok:
            if "does not exist" in resp.message or s.gone:  # hung up before the command was queued
                s.gone = True
                return CallerHungUp()
            return CommandFailed(0, f"AGI action refused: {resp.message}")
        wait_s = self.config.command_timeout_s
        if isinstance(cmd, GetDigits):
            wait_s += cmd.timeout_ms / 1000 * max(1, cmd.max_digits)
        try:
            async with asyncio.timeout(wait_s):
                while True:
                    item = await s.inbox.get()
                    if isinstance(item, ev.AsyncAgiExecuted):
                        if item.command_id != command_id:
                            continue  # a late reply to a command we stopped waiting for
                        reply = parse_reply(item.result)
                        result = to_result(cmd, reply)
                        if result is None:
                            continue  # provisional 100
                        if reply.code not in (200, 511):
                            self._agi_error(s, cmd, reply)
                        if takes:
                            s.keys.taken_by_asterisk(keys_taken(cmd, reply), since=mark, takes=takes, at=item.at)
                        if isinstance(result, CallerHungUp) or (
                                isinstance(result, CommandFailed) and result.code == 511):
                            s.gone = True
                        elif isinstance(result, Timeout) and isinstance(cmd, GetDigits) and len(s.keys):
                            # keys pressed in the instant before GET DATA started: Asterisk lost them
                            return await self._entry_from_buffer(s, cmd)
                        return result
                    if isinstance(item, _END):
                        return CallerHungUp()
                    if isinstance(item, ev.AmiConnectionChanged):
                        return CommandFailed(0, "AMI connection lost")
        except TimeoutError:
            s.warnings.append(f"no AsyncAGIExec for {command_id} within {wait_s:.0f}s")
            return CommandFailed(0, f"no reply within {wait_s:.0f}s")

    def _agi_error(self, s: _Session, cmd: Command | GetVariable, reply: AgiReply) -> None:
        self.agi_errors[reply.code] += 1
        first_line = reply.data.splitlines()[0] if reply.data else ""
        s.warnings.append(f"AGI {reply.code} for {type(cmd).__name__}: {first_line}")
        log.warning("IVR: AGI command refused (linkedid=%s): %r -> %d %s", s.linkedid, format_command(cmd),
                    reply.code, first_line)

    async def _entry_from_buffer(self, s: _Session, cmd: GetDigits) -> Result:
        """A GET DATA answered from typed-ahead keys; short of ``max_digits`` and without ``#``, wait
        for more ``DTMFEnd`` keys (no AGI command runs: the caller hears silence, as after a prompt)."""
        entry = s.keys.take_entry(cmd.max_digits)
        digits = entry.digits
        wait_s = (cmd.inter_digit_timeout_ms or cmd.timeout_ms) / 1000
        while not entry.complete:
            try:
                async with asyncio.timeout(wait_s):
                    while not len(s.keys):
                        item = await s.inbox.get()
                        if isinstance(item, _END):
                            return CallerHungUp()
                        if isinstance(item, ev.AmiConnectionChanged):
                            return DigitsReceived(digits)
            except TimeoutError:
                break  # as GET DATA's "(timeout)" after some keys
            entry = s.keys.take_entry(cmd.max_digits - len(digits))
            digits += entry.digits
        return DigitsReceived(digits)

    async def _hand_over(self, s: _Session, cmd: HandOverToQueue) -> None:
        """Channel variables, Redirect to music on hold, then the injected hand-over."""
        if s.gone:
            return
        variables = {
            "HOTLINE_QUEUE": cmd.queue,
            "HOTLINE_SKILLS": ",".join(cmd.skills),
            "HOTLINE_PRIORITY": str(cmd.priority),
            "HOTLINE_LANGUAGE": cmd.language,
            "HOTLINE_IVR_PATH": "/".join(cmd.ivr_path),
            "HOTLINE_FOLLOW_UP": "1" if cmd.follow_up else "0",
            **{f"HOTLINE_VAR_{k.upper()}": v for k, v in cmd.variables},
        }
        timeout = self.config.action_timeout_s
        try:
            for name, value in variables.items():
                await self._action("Setvar", {"Channel": s.channel, "Variable": name, "Value": value},
                                   timeout=timeout, check=True)
            await self._action("Redirect", {"Channel": s.channel, "Context": self.config.hold_context,
                                            "Exten": "s", "Priority": "1"}, timeout=timeout, check=True)
        except AmiError as exc:
            if s.gone or "does not exist" in str(exc) or "No such channel" in str(exc):
                s.gone = True
                return
            s.warnings.append(f"hand-over to hold failed: {exc}")
            log.warning("IVR: cannot put linkedid=%s on hold: %s", s.linkedid, exc)
            return
        request = QueueRequest(
            linkedid=s.linkedid, uniqueid=s.uniqueid, channel=s.channel, caller_num=s.caller_num,
            queue=cmd.queue, skills=cmd.skills, language=cmd.language, priority=cmd.priority,
            follow_up=cmd.follow_up, ivr_path=cmd.ivr_path, at=self.clock(), variables=dict(cmd.variables),
        )
        s.request = request
        try:
            await asyncio.wait_for(self.hand_over(request), self.config.handover_timeout_s)
        except Exception as exc:  # the caller is on hold either way; routing must resync from the channel
            s.warnings.append(f"hand-over callable failed: {exc!r}")
            log.error("IVR: hand-over of linkedid=%s to %s failed: %r", s.linkedid, cmd.queue, exc)


__all__ = ["IvrComponent", "RecordingHandOver", "SessionListener", "SessionRecord", "SessionStarted"]
