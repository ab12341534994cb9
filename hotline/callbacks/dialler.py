"""The outbound dialler component: reminder, satisfaction, deadline and keep-my-place calls over AMI.

One task (``callbacks-dialler``) does everything, in order: it wakes at the earliest due job (or
every ``tick_s``, so jobs added by the CLI straight into Redis are seen), when an AMI event it
cares about arrives, or when :meth:`Dialler.wake` is called. It never sleeps per job. The AMI
pump handler only filters events into the task's inbox (no Redis or AMI awaits on the pump).

Per attempt (see :mod:`hotline.callbacks.model` for the id scheme):

* ``Originate`` ``Channel: PJSIP/<number>@<trunk>``, ``Context: hotline-reminder``, ``Exten: s``
  (``hotline-hold`` for a keep-my-place callback), ``Timeout`` = ring timeout,
  ``Account`` = attempt id, ``Async: true``, channel variables ``HL_*`` (prompts, Say items,
  survey), with a timeout on the action itself (``action_timeout_s``);
* ``OriginateResponse`` (correlated by ``ActionID``, never by its ``<null>`` Uniqueid): Reason 4
  -> IN_CALL, keyed by its uniqueid from then on; 0/1/3/5/8 -> the retry policy, a generic 0/1
  refined by the ``DialEnd`` / ``Hangup`` of the attempt's AccountCode (Asterisk 22 reports a SIP
  486 as Reason 0: :func:`hotline.callbacks.policy.outcome_for_response`). Those may arrive before *or
  after* the OriginateResponse (seen on the lab), so a generic 0/1 without evidence waits up to
  ``EVIDENCE_GRACE_S`` for it;
* ``UserEvent(HotlineReminder)`` from the dialplan, correlated by its ``Attempt`` header:
  ``rated`` (key 1-3) / ``no_rating`` (survey) / ``played`` (message done);
* ``Hangup`` of the answered uniqueid before that: a reminder counts as delivered (answered), a
  survey as NO_INPUT;
* AMI lost: DIALING / IN_CALL jobs become UNKNOWN; on reconnect ``CoreShowChannels`` is searched
  for the attempt's ``AccountCode`` (the unknown rule in :mod:`hotline.callbacks.policy`);
* no ``OriginateResponse`` by the attempt's deadline (Originate timeout + ``attempt_grace_s``, on
  the injected clock; the task wakes for it): ``CoreShowChannels`` again, and the attempt goes on
  (answered channel found) or ends as ``UNKNOWN`` (slot freed, retried per the policy):
  :mod:`hotline.callbacks.attempts`.

Results: a satisfaction rating (or ``no_answer`` after the last attempt) goes to the work order as
a ``work_order.updated`` outbox event (``event_id`` ``work_order.updated:satisfaction:<job id>``,
payload ``work_order_id``, ``satisfaction``, ``note``) through the injected ``publish`` callable,
and to the per-department counters in Redis. The job records ``meta.reported`` after the
publish succeeded; unreported results are re-published at start (the event id makes it
idempotent at the sink).

Keep-my-place callbacks: open requests that reached the front (``keepplace.due_requests`` against
the injected ``waiting_calls`` of the routing component) become ``cb-<request>`` jobs. When the
citizen answers (their channel is parked on MOH in ``hotline-hold``), the injected ``connect``
callable hands them to an agent (the routing component's ``enqueue`` with a top priority, or a
direct agent Originate: :func:`direct_agent_connect`). With ``callback_mode: agent_first`` (the
request's ``mode``) the attempt originates a Local placeholder that routing bridges to an agent
first; the citizen is dialled on routing's ``CallAnswered`` and the citizen's ``DialEnd`` decides the
attempt (:mod:`hotline.callbacks.agentfirst`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hotline.callbacks import agentfirst as af
from hotline.callbacks import attempts as att
from hotline.callbacks import policy as pol
from hotline.callbacks.errors import JobClosed, StoreUnavailable
from hotline.callbacks.keepplace import CallbackRequest, RequestStatus, due_requests, mark_calling
from hotline.callbacks.keepplace import close as close_request
from hotline.callbacks.model import NO_RATING, RATINGS, Job, JobKind, JobStatus, Message, Outcome
from hotline.callbacks.numbers import normalise_number
from hotline.callbacks.policy import SchedulePolicy
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.kernel.background import BackgroundTask
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.queues.model import WaitingCall
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiBadAction, AmiClient, AmiError
from hotline.telephony.frames import AmiMessage
from hotline.ticketing.connector import WORK_ORDER_UPDATED, OutboxEvent

log = logging.getLogger("hotline.callbacks")

Publish = Callable[[OutboxEvent], Awaitable[Any]]

#: seconds (real time) to wait for the DialEnd/Hangup of an attempt whose OriginateResponse came first
EVIDENCE_GRACE_S = 2.0


@dataclass(frozen=True, slots=True)
class Answered:
    """A callback's citizen answered: their channel (parked on MOH in ``hotline-hold``)."""

    job: Job
    request: CallbackRequest
    uniqueid: str
    channel: str  # for Bridge()/Redirect only, never a key


Connect = Callable[[Answered], Awaitable[None]]


class Dialler:
    """The outbound dialler (a service component: ``start`` / ``stop``).

    Args:
        ami: the service's AMI client (subscribed in the constructor).
        store: jobs and requests in Redis.
        settings: the ``callbacks:`` section.
        clock: epoch-seconds clock (tests inject a controllable one).
        publish: where work-order updates go (the ticketing outbox's enqueue); None: not reported.
        waiting_calls: the routing component's waiting calls (keep-my-place order); None: no routing.
        connect: hands an answered callback citizen to an agent; None: callbacks are not executed.
        calendar: the service's working calendar (holidays and make-up days of the calling windows).
    """

    def __init__(self, ami: AmiClient, store: CallbackStore, settings: CallbacksSettings, *,
                 clock: Callable[[], float] = time.time, publish: Publish | None = None,
                 waiting_calls: Callable[[], Sequence[WaitingCall]] | None = None,
                 connect: Connect | None = None, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> None:
        self.ami = ami
        self.store = store
        self.settings = settings
        self.policy: SchedulePolicy = settings.policy(calendar)  # holidays: the service's one calendar
        self.clock = clock
        self.publish = publish
        self.waiting_calls = waiting_calls
        self.connect = connect
        self.flight: dict[str, Job] = {}  # job_id -> in-flight job (DIALING, IN_CALL, UNKNOWN)
        self._by_action: dict[str, str] = {}
        self._by_attempt: dict[str, str] = {}
        self._by_uniqueid: dict[str, str] = {}
        self._by_two: dict[str, str] = {}  # agent first: the placeholder's ;2 uniqueid -> job_id
        self._evidence: dict[str, list[Any]] = {}  # attempt id -> [DialEnd DialStatus, Hangup Cause]
        self._undecided: dict[str, tuple[int, float]] = {}  # attempt id -> (Reason, monotonic deadline)
        self._inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._bg = BackgroundTask("callbacks-dialler")
        self._need_resolve = False
        self.originates = 0  # Originate actions sent (tests, metrics)
        ami.subscribe(self._on_ami)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Load in-flight jobs left by a previous run (they become UNKNOWN), re-publish unreported
        results, start the task."""
        if self._bg.started:
            return
        for job in await self.store.open_jobs():
            if job.status.in_flight:
                lost = pol.connection_lost(job)
                await self.store.save_job(lost)
                self._track(lost)
                self._need_resolve = True
        for job in await self.store.all_jobs():
            if job.kind is JobKind.SATISFACTION and job.status in (JobStatus.DONE, JobStatus.FAILED) \
                    and not job.meta.get("reported"):
                await self._report(job)
        self._bg.start(self._run)

    async def stop(self) -> None:
        await self._bg.stop(cancel_wait_s=5.0)

    def wake(self) -> None:
        """Run a tick now (new job, clock moved in a test)."""
        self._wake.set()

    # ------------------------------------------------------------------ API used by CLI / web / hooks
    async def add(self, job: Job) -> tuple[Job, bool]:
        """Schedule and store a job (idempotent on ``job_id``). Returns ``(stored, created)``."""
        job = pol.schedule(job, self.policy, self.clock())
        stored, created = await self.store.add_job(job)
        self.wake()
        return stored, created

    async def cancel(self, job_id: str, reason: str = "cancelled") -> Job:
        """Raises UnknownJob, JobClosed."""
        return await cancel_job(self.store, job_id, self.clock(), reason)

    async def reschedule(self, job_id: str, at: float) -> Job:
        """Raises UnknownJob, JobClosed."""
        job = await reschedule_job(self.store, self.policy, job_id, at, self.clock())
        self.wake()
        return job

    async def on_work_order_closed(self, work_order_id: str, caller_number: str, department: str,
                                   linkedid: str = "") -> tuple[Job, bool]:
        """A work order was closed: schedule the satisfaction follow-up call (idempotent per work order).

        Raises:
            callbacks.errors.InvalidNumber: the caller's number is not a callable mainland number.
        """
        now = self.clock()
        p = self.settings.prompts
        job = Job(job_id=f"sat-{work_order_id}", kind=JobKind.SATISFACTION, number=normalise_number(caller_number),
                  created_at=now, not_before_at=now, trunk=self.settings.trunk,
                  message=Message(prompts=p.satisfaction_intro, survey_prompt=p.satisfaction_question,
                                  closing=p.goodbye),
                  meta={"work_order_id": work_order_id, "department": department,
                        "linkedid": linkedid or work_order_id})
        return await self.add(job)

    async def on_sla_card(self, event: OutboxEvent) -> None:
        """Hook for the SLA monitor (``work_order.card`` events): call the department's contact.

        Yellow cards ring inside the calling windows; red cards are urgent (holidays too). A department
        without a contact in ``callbacks.department_contacts`` is logged and skipped.
        """
        data = event.payload
        card = str(data.get("card", ""))
        wo = str(data.get("work_order_id") or event.linkedid)
        dep = str(data.get("queue", ""))
        number = self.settings.department_contacts.get(dep)
        if card not in ("yellow", "red") or number is None:
            log.info("SLA card %s for %s (department %r): no reminder call", card, wo, dep)
            return
        now = self.clock()
        p = self.settings.prompts
        due_at = _iso_epoch(str(data.get("due", ""))) if data.get("due") else None
        digits = "".join(ch for ch in wo if ch.isdigit())[-8:]
        job = Job(job_id=f"due-{wo}-{card}", kind=JobKind.DEADLINE, number=number, created_at=now,
                  not_before_at=now, urgent=card == "red", trunk=self.settings.trunk,
                  message=Message(prompts=p.deadline_red if card == "red" else p.deadline_yellow,
                                  say_digits=digits, say_time_at=due_at, closing=p.goodbye),
                  meta={"work_order_id": wo, "department": dep, "card": card})
        await self.add(job)

    # ------------------------------------------------------------------ AMI side (pump: filter only)
    def _on_ami(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        if isinstance(event, ev.OriginateResponded):
            if event.action_id in self._by_action:
                self._post("originate", event)
        elif isinstance(event, ev.UserEventReceived):
            if event.name == "HotlineReminder" and event.headers.get("Attempt") in self._by_attempt:
                self._post("userevent", event)
        elif isinstance(event, ev.ChannelHungUp):
            if event.uniqueid in self._by_uniqueid:
                self._post("hangup", event)
            elif msg is not None and msg.text("AccountCode") in self._by_attempt:
                self._post("evidence", (msg.text("AccountCode"), "", event.cause))
        elif isinstance(event, ev.DialEnded):
            if event.uniqueid in self._by_two:
                self._post("citizen", event)
            elif msg is not None and msg.text("DestAccountCode") in self._by_attempt:
                self._post("evidence", (msg.text("DestAccountCode"), msg.text("DialStatus"), None))
        elif isinstance(event, ev.AmiConnectionChanged):
            self._post("connection", event)

    def _post(self, kind: str, item: Any) -> None:
        self._inbox.put_nowait((kind, item))
        self._wake.set()

    # ------------------------------------------------------------------ the one task
    async def _run(self) -> None:
        while not self._bg.stopping.is_set():
            try:
                while not self._inbox.empty():
                    kind, item = self._inbox.get_nowait()
                    await self._handle(kind, item)
                await self.tick()
            except StoreUnavailable as exc:
                log.warning("callbacks: Redis unavailable: %s", exc)
            except Exception:  # the task must survive one bad job
                log.exception("callbacks dialler tick failed")
            delay = self.settings.tick_s
            with contextlib.suppress(StoreUnavailable, Exception):
                nxt = await self.store.next_due_at()
                if nxt is not None:
                    delay = max(0.0, min(delay, nxt - self.clock()))
            attempt_due = att.next_deadline_at(self.flight.values(), self.settings.ring_timeout_s,
                                               self.settings.attempt_grace_s)
            if attempt_due is not None:
                delay = max(0.0, min(delay, attempt_due - self.clock()))
            if self._inbox.empty():
                # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancel that
                # races with the event being set, and stop() would then wait forever
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            self._wake.clear()

    async def tick(self) -> None:
        """One pass: resolve UNKNOWN attempts, start due callbacks, dial due jobs within the caps."""
        now = self.clock()
        await self._decide_overdue(now)
        if not self.ami.connected:
            return
        await self._settle_overdue_attempts(now)
        if self._need_resolve:
            await self._resolve_unknown(now)
        await self._start_due_callbacks(now)
        due = await self.store.get_jobs(await self.store.due_ids(now))
        plan = pol.plan_dials([*self.flight.values(), *due], self.policy, now)
        by_id = {j.job_id: j for j in due}
        for job_id, at in plan.move:
            job = by_id[job_id]
            await self.store.save_job(replace(job, next_at=at), expect=JobStatus.PENDING)
        for job in plan.dial:
            await self._dial(job, now)

    async def _dial(self, job: Job, now: float) -> None:
        action_id = self.ami.next_action_id("Originate")
        dialing = pol.start_attempt(job, now, action_id)
        if af.is_agent_first(dialing):
            dialing = af.with_placeholder(dialing, uuid.uuid4().hex[:16])
        if not await self.store.save_job(dialing, expect=JobStatus.PENDING):
            return  # cancelled or rescheduled meanwhile
        self._track(dialing)
        fields = self._originate_fields(dialing)
        self.originates += 1
        try:
            resp = await self.ami.action("Originate", fields, timeout=self.settings.action_timeout_s,
                                         action_id=action_id)
        except AmiBadAction as exc:
            # refused by the header guard before anything was written: a bad job, not a lost line
            log.error("Originate for %s not sent: %s", dialing.attempt_id, exc)
            await self._finish(dialing, Outcome.FAILED, now=self.clock())
            return
        except AmiError as exc:
            # sent or not, we cannot tell: the unknown rule, never a blind re-send
            log.warning("Originate for %s: %s", dialing.attempt_id, exc)
            await self._update(pol.connection_lost(dialing))
            self._need_resolve = True
            return
        if not resp.ok:
            log.warning("Originate for %s refused: %s", dialing.attempt_id, resp.message)
            await self._finish(dialing, Outcome.FAILED, now=self.clock())

    def _originate_fields(self, job: Job) -> dict[str, Any]:
        return originate_fields(job, self.settings)

    # ------------------------------------------------------------------ outcomes
    async def _handle(self, kind: str, item: Any) -> None:
        now = self.clock()
        job: Job | None
        if kind == "connection":
            if not item.connected:
                for job in list(self.flight.values()):
                    if job.status in (JobStatus.DIALING, JobStatus.IN_CALL):
                        await self._update(pol.connection_lost(job))
            else:
                self._need_resolve = any(j.status is JobStatus.UNKNOWN for j in self.flight.values())
            return
        if kind == "evidence":
            attempt, dial_status, cause = item
            if attempt not in self._by_attempt:
                return  # the attempt already ended (the Hangup follows the OriginateResponse)
            seen = self._evidence.setdefault(attempt, ["", None])
            seen[0] = dial_status or seen[0]
            seen[1] = cause if cause is not None else seen[1]
            if attempt in self._undecided:
                job = self.flight.get(self._by_attempt[attempt])
                if job is not None:
                    await self._decide_failure(job, self._undecided.pop(attempt)[0], now)
            return
        if kind == "originate":
            job = self.flight.get(self._by_action.get(item.action_id, ""))
            if job is None or job.status is not JobStatus.DIALING:
                return
            outcome = pol.outcome_for_reason(item.reason)
            if outcome is Outcome.ANSWERED:
                uniqueid = item.uniqueid if item.uniqueid not in (None, "<unknown>") else None
                ph = af.placeholder_of(job) if af.is_agent_first(job) else None
                if ph is not None:
                    uniqueid = ph.one  # the Originate's ChannelId: the half routing will bridge
                job = pol.answered(job, uniqueid, now)
                await self._update(job)
                if job.kind is JobKind.CALLBACK:
                    await self._callback_answered(job, uniqueid or "", item.channel)
            elif outcome in (Outcome.FAILED, Outcome.HUNG_UP) and job.attempt_id not in self._evidence:
                # Asterisk 22 may send the OriginateResponse before the DialEnd/Hangup that say why:
                # wait for that evidence a moment (EVIDENCE_GRACE_S, real time) before deciding
                self._undecided[job.attempt_id] = (item.reason, time.monotonic() + EVIDENCE_GRACE_S)
            else:
                await self._decide_failure(job, item.reason, now)
            return
        if kind == "userevent":
            job = self.flight.get(self._by_attempt.get(item.headers.get("Attempt", ""), ""))
            if job is None:
                return
            stage = item.headers.get("Stage", "")
            if job.status is JobStatus.DIALING and stage == "answered":
                job = pol.answered(job, item.uniqueid or None, now)  # UserEvent before OriginateResponse
                await self._update(job)
            if stage == "rated":
                rating = int(item.headers.get("Rating", "0") or 0)
                await self._finish(job, Outcome.ANSWERED, now, rating=rating if rating in RATINGS else None)
            elif stage == "no_rating":
                await self._finish(job, Outcome.NO_INPUT, now)
            elif stage == "played" and job.kind is not JobKind.SATISFACTION:
                await self._finish(job, Outcome.ANSWERED, now)
            return
        if kind == "agent":
            await self._agent_answered(item, now)
            return
        if kind == "citizen":
            job = self.flight.get(self._by_two.get(item.uniqueid, ""))
            if job is None or job.status is not JobStatus.IN_CALL:
                return
            outcome = af.citizen_outcome(item.status)
            await self._finish(job, outcome, now)
            if outcome is Outcome.ANSWERED:
                await self._close_request(job, RequestStatus.DONE, now)
            return
        if kind == "hangup":
            job = self.flight.get(self._by_uniqueid.get(item.uniqueid, ""))
            if job is None:
                return
            if job.status is JobStatus.IN_CALL and af.is_agent_first(job):
                # the placeholder ended before the citizen's DialEnd (hung up by someone else): retry
                log.info("callbacks: %s placeholder hung up (cause %s) at stage %s", job.attempt_id, item.cause,
                         job.meta.get("stage"))
                await self._finish(job, Outcome.FAILED, now)
            elif job.status is JobStatus.IN_CALL and job.kind is not JobKind.CALLBACK:
                await self._finish(job, Outcome.ANSWERED, now)  # hung up mid-message (a survey: NO_INPUT)
            elif job.status is JobStatus.DIALING and job.meta.get("reattached"):
                # re-attached after a restart: this session will never see its OriginateResponse
                outcome = pol.HANGUP_CAUSE_OUTCOMES.get(item.cause, Outcome.FAILED)
                await self._finish(replace(job, meta={k: v for k, v in job.meta.items() if k != "reattached"}),
                                   outcome, now)

    async def _decide_failure(self, job: Job, reason: int, now: float) -> None:
        dial_status, cause = self._evidence.pop(job.attempt_id, ["", None])
        outcome = pol.outcome_for_response(reason, dial_status, cause)
        log.debug("callbacks: %s OriginateResponse Reason %s, DialEnd %r, Hangup cause %r -> %s",
                  job.attempt_id, reason, dial_status, cause, outcome)
        await self._finish(job, outcome, now)

    async def _decide_overdue(self, now: float) -> None:
        """Attempts whose OriginateResponse said 0/1 and whose evidence did not come in time."""
        late = [a for a, (_r, deadline) in self._undecided.items() if deadline <= time.monotonic()]
        for attempt in late:
            reason, _deadline = self._undecided.pop(attempt)
            job = self.flight.get(self._by_attempt.get(attempt, ""))
            if job is not None:
                await self._decide_failure(job, reason, now)

    async def _settle_overdue_attempts(self, now: float) -> None:
        """DIALING attempts past their deadline (:mod:`hotline.callbacks.attempts`): settle them from
        ``CoreShowChannels`` so none holds a concurrency slot for good."""
        late = [j for j in att.overdue(self.flight.values(), self.settings.ring_timeout_s,
                                       self.settings.attempt_grace_s, now)
                if j.attempt_id not in self._undecided]  # those wait for their DialEnd/Hangup a moment
        if not late:
            return
        resp = await self.ami.action("CoreShowChannels", timeout=self.settings.action_timeout_s)
        live = {m.text("Uniqueid"): (m.text("AccountCode"), m.text("ChannelStateDesc") == "Up") for m in resp.events}
        names = {m.text("Uniqueid"): m.text("Channel") for m in resp.events}
        for job in late:
            if self.flight.get(job.job_id) != job:
                continue  # settled meanwhile
            settled = att.settle_overdue(job, live)
            log.warning("callbacks: %s got no OriginateResponse by its deadline -> %s", job.attempt_id,
                        "answered, followed" if settled.outcome is None else settled.outcome)
            if settled.hang_up is not None:
                await self._hangup(settled.hang_up)
            if settled.outcome is None:
                uniqueid = settled.answered_uniqueid or ""
                answered = pol.answered(job, uniqueid, now)
                await self._update(answered)
                if answered.kind is JobKind.CALLBACK:
                    await self._callback_answered(answered, uniqueid, names.get(uniqueid, ""))
            else:
                await self._finish(job, settled.outcome, now)

    async def _finish(self, job: Job, outcome: Outcome, now: float, rating: int | None = None) -> None:
        done = pol.record_outcome(job, outcome, self.policy, now, rating)
        saved = await self._update(done)
        log.info("callbacks: %s attempt %d -> %s (%s)", job.job_id, job.attempts, outcome, done.status)
        if not saved:
            return
        if done.kind is JobKind.SATISFACTION and done.status in (JobStatus.DONE, JobStatus.FAILED):
            await self._report(done)
        if done.kind is JobKind.CALLBACK and done.status is JobStatus.FAILED:
            await self._close_request(done, RequestStatus.FAILED, now)

    async def _update(self, job: Job) -> bool:
        """Save an in-flight job's new state (unless cancelled meanwhile) and keep the indexes."""
        old = self.flight.get(job.job_id)
        saved = await self.store.save_job(job, expect=old.status if old else None)
        if not saved:
            stored = await self.store.get_job(job.job_id)
            log.info("callbacks: %s changed meanwhile (%s): outcome ignored", job.job_id, stored.status)
            job = stored
        self._untrack(job.job_id)
        if job.status.in_flight:
            self._track(job)
        return saved

    def _track(self, job: Job) -> None:
        self.flight[job.job_id] = job
        ph = af.placeholder_of(job) if af.is_agent_first(job) else None
        if ph is not None:
            self._by_two[ph.two] = job.job_id
        if job.action_id:
            self._by_action[job.action_id] = job.job_id
        if job.attempt_id:
            self._by_attempt[job.attempt_id] = job.job_id
        if job.uniqueid:
            self._by_uniqueid[job.uniqueid] = job.job_id

    def _untrack(self, job_id: str) -> None:
        job = self.flight.pop(job_id, None)
        if job is None:
            return
        self._by_action.pop(job.action_id, None)
        self._by_attempt.pop(job.attempt_id, None)
        self._evidence.pop(job.attempt_id, None)
        self._undecided.pop(job.attempt_id, None)
        if job.uniqueid:
            self._by_uniqueid.pop(job.uniqueid, None)
        ph = af.placeholder_of(job)
        if ph is not None:
            self._by_two.pop(ph.two, None)

    async def _resolve_unknown(self, now: float) -> None:
        unknown = [j for j in self.flight.values() if j.status is JobStatus.UNKNOWN]
        if not unknown:
            self._need_resolve = False
            return
        resp = await self.ami.action("CoreShowChannels", timeout=self.settings.action_timeout_s)
        live = {m.text("AccountCode"): (m.text("Uniqueid"), m.text("ChannelStateDesc") == "Up")
                for m in resp.events if m.text("AccountCode")}
        channels = {m.text("Uniqueid"): (m.text("AccountCode"), m.text("ChannelStateDesc") == "Up")
                    for m in resp.events}
        for job in unknown:
            if af.is_agent_first(job):
                await self._resolve_agent_first(job, channels, now)
                continue
            uniqueid, up = live.get(job.attempt_id, (None, False))
            resolved = pol.resolve_unknown(job, uniqueid, self.policy, now, live_up=up)
            if resolved.status is JobStatus.DIALING:
                resolved = replace(resolved, meta={**resolved.meta, "reattached": True})
            log.info("callbacks: %s unknown after AMI loss -> %s", job.attempt_id, resolved.status)
            if resolved.status.in_flight:
                await self._update(resolved)
            else:
                await self._finish_resolved(job, resolved)
        self._need_resolve = False

    async def _resolve_agent_first(self, job: Job, channels: dict[str, tuple[str, bool]], now: float) -> None:
        """An agent-first attempt whose events were missed: :func:`hotline.callbacks.agentfirst.resolve_lost`."""
        outcome, hang_up = af.resolve_lost(job, channels)
        log.info("callbacks: %s (agent first) unknown after restart/AMI loss -> %s%s", job.attempt_id, outcome,
                 " (placeholder hung up)" if hang_up else "")
        if hang_up is not None:
            await self._hangup(hang_up)
        await self._finish(job, outcome, now)
        if outcome is Outcome.ANSWERED:
            await self._close_request(job, RequestStatus.DONE, now)

    async def _hangup(self, uniqueid: str) -> None:
        try:
            await self.ami.action("Hangup", {"Channel": uniqueid, "Cause": 16}, timeout=self.settings.action_timeout_s)
        except AmiError as exc:
            log.info("callbacks: hangup of %s: %s", uniqueid, exc)

    async def _finish_resolved(self, job: Job, resolved: Job) -> None:
        saved = await self._update(resolved)
        if saved and resolved.kind is JobKind.SATISFACTION and resolved.status in (JobStatus.DONE, JobStatus.FAILED):
            await self._report(resolved)

    # ------------------------------------------------------------------ satisfaction results
    async def _report(self, job: Job) -> None:
        label = RATINGS.get(job.rating or 0, NO_RATING) if job.status is JobStatus.DONE else NO_RATING
        wo = str(job.meta.get("work_order_id", job.job_id))
        dep = str(job.meta.get("department", "unknown"))
        if not job.meta.get("counted"):
            await self.store.count_rating(dep, label)
            job = replace(job, meta={**job.meta, "counted": True})
            await self.store.save_job(job)
        if self.publish is None:
            return
        event = OutboxEvent(
            event_id=f"{WORK_ORDER_UPDATED}:satisfaction:{job.job_id}", kind=WORK_ORDER_UPDATED,
            linkedid=str(job.meta.get("linkedid", wo)),
            payload={"work_order_id": wo, **({"satisfaction": label} if label != NO_RATING else {}),
                     "note": f"satisfaction follow-up: {label} after {job.attempts} call(s)"},
            created_at=self.clock())
        try:
            await self.publish(event)
        except Exception as exc:  # the outbox is down: reported at the next start
            log.warning("callbacks: satisfaction of %s not reported yet: %s", wo, exc)
            return
        await self.store.save_job(replace(job, meta={**job.meta, "reported": True}))

    # ------------------------------------------------------------------ keep-my-place
    async def request_callback(self, request: CallbackRequest) -> tuple[CallbackRequest, bool]:
        """Store a keep-my-place request (one pending per number+queue). Returns ``(stored, created)``."""
        stored, created = await self.store.add_request(request)
        self.wake()
        return stored, created

    async def _start_due_callbacks(self, now: float) -> None:
        if self.connect is None:
            return
        requests = await self.store.requests()
        if not any(r.status is RequestStatus.OPEN for r in requests):
            return
        waiting = list(self.waiting_calls()) if self.waiting_calls is not None else []
        for r in due_requests(requests, waiting, max_active_per_queue=self.settings.callback_max_active_per_queue):
            job = Job(job_id=f"cb-{r.request_id}", kind=JobKind.CALLBACK, number=r.number, created_at=now,
                      not_before_at=now, urgent=True, trunk=self.settings.trunk,
                      meta={"request_id": r.request_id, "queue": r.queue, "mode": r.mode})
            await self.store.add_job(pol.schedule(job, self.policy, now))
            await self.store.save_request(mark_calling(r, job.job_id))

    async def _callback_answered(self, job: Job, uniqueid: str, channel: str) -> None:
        request = await self.store.get_request(str(job.meta.get("request_id")))
        now = self.clock()
        ph = af.placeholder_of(job) if af.is_agent_first(job) else None
        if ph is not None:
            # agent first: the placeholder's ;1 half waits in hotline-hold; routing rings an agent for it
            try:
                if self.connect is None:
                    raise RuntimeError("no routing to connect to")
                await self.connect(Answered(job, request, ph.one, channel))
            except Exception:
                log.exception("callbacks: queueing agent-first callback %s failed", request.request_id)
                await self._hangup(ph.one)
                await self._finish(job, Outcome.FAILED, now)
            return
        if self.connect is not None:
            try:
                await self.connect(Answered(job, request, uniqueid, channel))
            except Exception:
                log.exception("callbacks: connecting callback %s failed", request.request_id)
        await self._finish(job, Outcome.ANSWERED, now)
        await self._close_request(job, RequestStatus.DONE, now)

    def on_agent_answered(self, event: Any) -> None:
        """Subscriber of routing's answered calls (:meth:`hotline.queues.dispatch.Dispatcher.subscribe_answered`,
        called on its worker: must not block): an agent answered ``event.linkedid``. For an agent-first placeholder the
        dialler then redirects its ;2 half to dial the citizen."""
        if event.linkedid in self._by_uniqueid:
            self._post("agent", event.linkedid)

    async def _agent_answered(self, linkedid: str, now: float) -> None:
        job = self.flight.get(self._by_uniqueid.get(linkedid, ""))
        if job is None or job.status is not JobStatus.IN_CALL or not af.is_agent_first(job) \
                or job.meta.get("stage") != af.AGENT_WAIT:
            return
        job = af.with_stage(job, af.DIALLING)
        if not await self._update(job):  # cancelled meanwhile: do not leave the agent on a silent placeholder
            ph = af.placeholder_of(job)
            if ph is not None:
                await self._hangup(ph.one)
            return
        try:
            await self.ami.action("Redirect", af.redirect_fields(job), timeout=self.settings.action_timeout_s,
                                  check=True)
        except AmiError as exc:
            log.warning("callbacks: %s could not dial the citizen after the agent answered: %s", job.attempt_id, exc)
            ph = af.placeholder_of(job)
            if ph is not None:
                await self._hangup(ph.one)
            await self._finish(job, Outcome.FAILED, now)

    async def _close_request(self, job: Job, status: RequestStatus, now: float) -> None:
        rid = str(job.meta.get("request_id", ""))
        if not rid:
            return
        request = await self.store.get_request(rid)
        await self.store.save_request(close_request(request, status, now, reason=str(job.last_outcome or "")))


# ---------------------------------------------------------------------- shared by CLI, API and component
async def cancel_job(store: CallbackStore, job_id: str, now: float, reason: str = "cancelled") -> Job:
    """Cancel a job (and its keep-my-place request). Raises UnknownJob, JobClosed."""
    for _ in range(5):
        job = await store.get_job(job_id)
        cancelled = pol.cancel(job, now, reason)
        if await store.save_job(cancelled, expect=job.status):
            return cancelled
    raise JobClosed(job_id, "busy (changed five times while cancelling)")


async def reschedule_job(store: CallbackStore, policy: SchedulePolicy, job_id: str, at: float, now: float) -> Job:
    """Move a job to ``at`` (next allowed instant). Raises UnknownJob, JobClosed."""
    for _ in range(5):
        job = await store.get_job(job_id)
        moved = pol.reschedule(job, at, policy, now)
        if await store.save_job(moved, expect=job.status):
            return moved
    raise JobClosed(job_id, "busy (changed five times while rescheduling)")


def _iso_epoch(text: str) -> float | None:
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def originate_fields(job: Job, s: CallbacksSettings) -> dict[str, Any]:
    """AMI ``Originate`` headers of one attempt (pure): an agent-first placeholder, or the citizen
    rung into ``hotline-hold`` (callbacks) or ``hotline-reminder`` (reminders, whose message goes in
    ``HL_*`` channel variables, see ``asterisk_conf/extensions.conf``).

    The values come from the job (validated where it entered: :mod:`hotline.telephony.headers`) and
    the settings; :func:`hotline.telephony.ami.encode_action` guards them again.
    """
    if af.is_agent_first(job):
        return af.originate_fields(job, trunk=job.trunk, ring_timeout_s=s.ring_timeout_s, caller_id=s.caller_id)
    m = job.message
    variables = {
        "HL_ATTEMPT": job.attempt_id,
        "HL_PROMPTS": "&".join(m.prompts),
        "HL_SAY_DIGITS": m.say_digits,
        "HL_SAY_NUMBER": "" if m.say_number is None else str(m.say_number),
        "HL_SAY_TIME": "" if m.say_time_at is None else str(int(m.say_time_at)),
        "HL_TZ": s.tz,
        "HL_SURVEY": m.survey_prompt,
        "HL_SURVEY_TRIES": "2",
        "HL_SURVEY_TIMEOUT_S": "6",
        "HL_CLOSING": "&".join(m.closing),
    }
    context, exten = ("hotline-hold", "s") if job.kind is JobKind.CALLBACK else ("hotline-reminder", "s")
    return {
        "Channel": f"PJSIP/{job.number}@{job.trunk}",
        "Context": context,
        "Exten": exten,
        "Priority": "1",
        "Timeout": str(int(s.ring_timeout_s * 1000)),
        "CallerID": f'"{s.caller_id}" <{s.caller_id}>',
        "Account": job.attempt_id,
        "Async": "true",
        "Variable": variables,
    }


def direct_agent_connect(ami: AmiClient, agent_seat: Callable[[CallbackRequest], str | None], *,
                         ring_timeout_s: float = 20.0, action_timeout_s: float = 5.0) -> Connect:
    """A ``connect`` that rings an agent seat and bridges it to the parked citizen (no routing).

    ``Originate`` ``Channel: PJSIP/<seat>``, ``Application: Bridge``, ``Data: <citizen channel>``;
    the seat comes from ``agent_seat(request)`` (None: nobody to connect, logged). With the routing
    component wired, use its ``enqueue`` instead (see ``hotline/app/service.py``).
    """

    async def connect(answered: Answered) -> None:
        seat = agent_seat(answered.request)
        if seat is None:
            log.warning("callback %s answered but no agent seat to connect", answered.request.request_id)
            return
        await ami.action("Originate", {
            "Channel": f"PJSIP/{seat}", "Application": "Bridge", "Data": answered.channel,
            "Timeout": str(int(ring_timeout_s * 1000)), "CallerID": f"<{answered.request.number}>",
            "Account": answered.job.attempt_id, "Async": "true",
            "Variable": {"HL_CALLBACK": answered.request.request_id, "HL_QUEUE": answered.request.queue},
        }, timeout=action_timeout_s, check=True)

    return connect
