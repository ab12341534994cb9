"""The function API of callbacks and reminders: what the CLI runs and the web app mounts.

:class:`CallbacksApi` implements the web layer's ``CallbacksProvider`` and ``RemindersProvider``
protocols (``hotline/web/providers.py``: mount it at ``/api/callbacks`` and ``/api/reminders``) plus
cancel, reschedule, CSV import and satisfaction statistics. It works on the Redis store alone, so
the CLI can use it without a running service: the dialler picks new or moved jobs up from Redis
within ``tick_s``.

Everything that will reach an AMI header is checked here (:mod:`hotline.telephony.headers`): prompt
names (``[A-Za-z0-9_-]`` path segments, no ``..``, against ``known_prompts`` when given), ids, queue
names and ``say_digits``; a refusal is :class:`~hotline.telephony.headers.UnsafeHeaderValue`, an
``InvalidRequest`` (HTTP 400) naming the field.

Errors: an invalid number or CSV raises :class:`hotline.kernel.requests.InvalidRequest` (HTTP 400); an unknown id
:class:`~hotline.kernel.requests.NotFound` (404); a closed job :class:`~hotline.kernel.requests.Conflict`
(409); Redis down :class:`~hotline.kernel.requests.Unavailable` (503).
Each keeps the callbacks error as its ``__cause__``.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

from hotline.callbacks import policy as pol
from hotline.callbacks.dialler import cancel_job, reschedule_job
from hotline.callbacks.errors import InvalidNumber, JobClosed, StoreUnavailable, UnknownJob
from hotline.callbacks.importer import ImportResult, parse_reminders_csv
from hotline.callbacks.keepplace import CallbackRequest, RequestStatus, close
from hotline.callbacks.model import Job, JobKind, Message, job_to_dict
from hotline.callbacks.numbers import normalise_number
from hotline.callbacks.settings import CallbacksSettings
from hotline.callbacks.store import CallbackStore
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.kernel.requests import Conflict, InvalidRequest, NotFound, Unavailable
from hotline.telephony.headers import UnsafeHeaderValue, check_id, check_prompts


@contextlib.contextmanager
def _web_errors() -> Iterator[None]:
    try:
        yield
    except InvalidNumber as exc:
        raise InvalidRequest(str(exc), {"number": exc.raw, "reason": exc.reason}) from exc
    except UnknownJob as exc:
        raise NotFound(str(exc), {"id": exc.job_id}) from exc
    except JobClosed as exc:
        raise Conflict(str(exc), {"id": exc.job_id, "status": exc.status}) from exc
    except StoreUnavailable as exc:
        raise Unavailable(str(exc)) from exc


class CallbacksApi:
    """Create, list, cancel and import callbacks and reminders.

    Args:
        store: the Redis store.
        settings: the ``callbacks:`` section (policy, prompts, trunk).
        clock: epoch-seconds clock.
        known_prompts: prompt names a reminder may play (the prompt catalog's names plus the stock
            sounds the settings use); None: any well-formed name.
    """

    def __init__(self, store: CallbackStore, settings: CallbacksSettings, clock: Callable[[], float] = time.time,
                 calendar: WorkingCalendar = DEFAULT_CALENDAR, known_prompts: Collection[str] | None = None):
        self.store = store
        self.known_prompts = known_prompts
        self.settings = settings
        self.policy = settings.policy(calendar)
        self.clock = clock

    # ---------------------------------------------------------------- RemindersProvider
    async def list_reminders(self, include_closed: bool = True) -> Sequence[Mapping[str, Any]]:
        """Each: ``id, number, prompt, due_at, status`` (plus kind, attempts, last_outcome, rating)."""
        with _web_errors():
            jobs = await self.store.all_jobs()
        return [self._reminder_row(j) for j in jobs
                if j.kind is not JobKind.CALLBACK and (include_closed or j.status.open)]

    async def schedule_reminder(self, number: str, prompt: str, due_at: float, *, urgent: bool = False,
                                say_digits: str = "", job_id: str | None = None) -> Mapping[str, Any]:
        """A voice reminder playing ``prompt`` (sound files separated by ``&``) at ``due_at`` (epoch s) or
        the next allowed instant after it.

        Raises:
            UnsafeHeaderValue (an ``InvalidRequest``): a prompt that is not a plain sound name (or not
                in ``known_prompts``), a ``job_id`` outside ``[A-Za-z0-9_-]``, non-digit ``say_digits``.
        """
        now = self.clock()
        prompts = check_prompts(tuple(p for p in prompt.split("&") if p), "prompt", catalog=self.known_prompts)
        if job_id is not None:
            check_id(job_id, "job_id")
        if say_digits and not (say_digits.isascii() and say_digits.isdigit()):
            raise UnsafeHeaderValue("say_digits", say_digits, "must be digits 0-9")
        with _web_errors():
            message = Message(prompts=prompts, say_digits=say_digits,
                              closing=self.settings.prompts.goodbye)
            job = Job(job_id=job_id or f"rem-{uuid.uuid4().hex[:12]}", kind=JobKind.REMINDER,
                      number=normalise_number(number), created_at=now, not_before_at=float(due_at), urgent=urgent,
                      trunk=self.settings.trunk, message=message)
            stored, _created = await self.store.add_job(pol.schedule(job, self.policy, now))
        return self._reminder_row(stored)

    async def cancel_reminder(self, job_id: str) -> Mapping[str, Any]:
        with _web_errors():
            job = await cancel_job(self.store, job_id, self.clock(), "cancelled by operator")
        return self._reminder_row(job)

    async def reschedule_reminder(self, job_id: str, due_at: float) -> Mapping[str, Any]:
        with _web_errors():
            job = await reschedule_job(self.store, self.policy, job_id, due_at, self.clock())
        return self._reminder_row(job)

    async def import_reminders_csv(self, text: str, progress: Callable[[int, int], None] | None = None
                                   ) -> dict[str, Any]:
        """Import a CSV (see :mod:`hotline.callbacks.importer`).

        Returns:
            ``{"rows", "added", "already_there", "errors": [{"row", "reason"}]}``.
        """
        now = self.clock()
        result: ImportResult = parse_reminders_csv(text, now=now, tz=self.settings.tz,
                                                   default_prompts=self.settings.prompts.reminder_intro,
                                                   trunk=self.settings.trunk, known_prompts=self.known_prompts)
        added = existing = 0
        with _web_errors():
            for i, job in enumerate(result.jobs, start=1):
                _stored, created = await self.store.add_job(pol.schedule(job, self.policy, now))
                added += created
                existing += not created
                if progress is not None:
                    progress(i, len(result.jobs))
        return {"rows": result.rows, "added": added, "already_there": existing,
                "errors": [{"row": e.row, "reason": e.reason} for e in result.errors]}

    def _reminder_row(self, job: Job) -> dict[str, Any]:
        return {"id": job.job_id, "number": job.number, "prompt": "&".join(job.message.prompts),
                "due_at": job.next_at if job.next_at is not None else job.not_before_at, "status": job.status.value,
                "kind": job.kind.value, "attempts": job.attempts,
                "last_outcome": job.last_outcome.value if job.last_outcome else None, "rating": job.rating}

    async def job(self, job_id: str) -> dict[str, Any]:
        """The whole job record (history included)."""
        with _web_errors():
            return job_to_dict(await self.store.get_job(job_id))

    # ---------------------------------------------------------------- CallbacksProvider
    async def list_callbacks(self, include_closed: bool = True) -> Sequence[Mapping[str, Any]]:
        """Each: ``id, number, queue, due_at, status, attempts``."""
        with _web_errors():
            requests = await self.store.requests()
            jobs = {j.job_id: j for j in await self.store.get_jobs([r.job_id for r in requests if r.job_id])}
        rows = []
        for r in requests:
            if not include_closed and not r.status.pending:
                continue
            job = jobs.get(r.job_id)
            rows.append({"id": r.request_id, "number": r.number, "queue": r.queue,
                         "due_at": job.next_at if job is not None else None, "status": r.status.value,
                         "attempts": job.attempts if job is not None else 0, "enqueued_at": r.enqueued_at,
                         "requested_at": r.requested_at, "mode": r.mode})
        return rows

    async def schedule_callback(self, number: str, queue: str, due_at: float | None) -> Mapping[str, Any]:
        """An operator-made keep-my-place callback: it takes its place in ``queue`` as of ``due_at``
        (default now). A pending one for the same number and queue is returned instead (no duplicate).

        Raises:
            UnsafeHeaderValue (an ``InvalidRequest``): ``queue`` outside ``[A-Za-z0-9_-]``.
        """
        now = self.clock()
        check_id(queue, "queue")
        with _web_errors():
            request = CallbackRequest(request_id=f"cb-op-{uuid.uuid4().hex[:12]}", number=normalise_number(number),
                                      queue=queue, linkedid="", enqueued_at=due_at if due_at is not None else now,
                                      requested_at=now, mode=self.settings.callback_mode)
            stored, _created = await self.store.add_request(request)
        return {"id": stored.request_id, "number": stored.number, "queue": stored.queue, "due_at": None,
                "status": stored.status.value, "attempts": 0}

    async def cancel_callback(self, request_id: str) -> Mapping[str, Any]:
        """Cancel a pending callback (and its call job if it is being called)."""
        now = self.clock()
        with _web_errors():
            request = await self.store.get_request(request_id)
            if not request.status.pending:
                raise JobClosed(request_id, request.status.value)
            if request.job_id:
                with contextlib.suppress(JobClosed, UnknownJob):
                    await cancel_job(self.store, request.job_id, now, "callback cancelled")
            closed = close(request, RequestStatus.CANCELLED, now, "cancelled by operator")
            await self.store.save_request(closed)
        return {"id": closed.request_id, "number": closed.number, "queue": closed.queue, "due_at": None,
                "status": closed.status.value, "attempts": 0}

    # ---------------------------------------------------------------- statistics
    async def satisfaction(self) -> dict[str, dict[str, int]]:
        """department -> {satisfied, basically_satisfied, dissatisfied, no_answer: count}."""
        with _web_errors():
            return await self.store.satisfaction(await self.store.departments())
