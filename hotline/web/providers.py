"""What the web layer reads and drives, as small protocols (so it never waits on other components).

* :class:`Floor` -- agents, queues, waiting calls and the day's statistics. Implemented by
  :class:`hotline.web.floor.StandaloneFloor` (the pure routing state machine + metrics, no dispatching)
  until the routing dispatcher provides one.
* :class:`CallbacksProvider`, :class:`RemindersProvider`, :class:`AnnouncementsProvider`,
  :class:`WorkOrderSlaProvider` -- optional; the API answers 503 ``not-configured`` without one.
* :class:`OpsGauges` -- numbers other components expose to ``/metrics`` (outbox depth,
  transcription backlog, worker count).

Errors: a Floor raises :class:`hotline.web.errors.NotFound` (unknown agent) and
:class:`hotline.web.errors.Conflict` (transition not allowed now); providers raise
:class:`hotline.web.errors.InvalidRequest` for bad input and :class:`hotline.web.errors.Unavailable` when their
backend is down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from hotline.queues.metrics import MetricsState
from hotline.queues.model import AgentStatus


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent as the web layer shows it (plain data).

    Attributes:
        since_at: epoch s the current status (and reason) began.
        skills: skill -> proficiency 1..5.
    """

    agent_id: str
    status: AgentStatus
    reason: str | None
    since_at: float
    skills: Mapping[str, int]
    languages: tuple[str, ...] = ()
    calls_today: int = 0
    linkedid: str | None = None
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A queue's static definition: ``service_level_s`` is the T of its service level."""

    name: str
    skills: tuple[str, ...]
    service_level_s: float


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """A caller waiting now: ``first_queued_at`` epoch s of the first entry into any queue."""

    linkedid: str
    queue: str
    skills: tuple[str, ...]
    first_queued_at: float


@dataclass(frozen=True, slots=True)
class StaffingSample:
    """Agent-seconds logged in (not LOGGED_OUT) during one interval starting at ``interval_at``."""

    interval_at: float
    logged_in_s: float


@runtime_checkable
class Floor(Protocol):
    """Agents, queues and statistics (see the module docstring)."""

    @property
    def metrics(self) -> MetricsState: ...  # read-only (an attribute or a property)

    def agents(self) -> list[AgentRow]: ...

    def queues(self) -> list[QueueRow]: ...

    def waiting(self) -> list[WaitingRow]: ...

    def staffing(self) -> Mapping[float, float]:
        """interval_at -> agent-seconds logged in during that interval (today)."""
        ...

    def subscribe(self, on_change: Callable[[], None]) -> None:
        """``on_change()`` is called (synchronously, cheaply) after every change."""
        ...

    async def agent_login(self, agent_id: str) -> AgentRow: ...

    async def agent_logout(self, agent_id: str) -> AgentRow: ...

    async def agent_ready(self, agent_id: str) -> AgentRow: ...

    async def agent_pause(self, agent_id: str, reason: str) -> AgentRow: ...

    async def agent_set_skills(self, agent_id: str, skills: Mapping[str, int]) -> AgentRow: ...


class CallbacksProvider(Protocol):
    """Scheduled callbacks to citizens (the callbacks component)."""

    async def list_callbacks(self) -> Sequence[Mapping[str, Any]]:
        """Each: ``id, number, queue, due_at (epoch s), status, attempts``."""
        ...

    async def schedule_callback(self, number: str, queue: str, due_at: float | None) -> Mapping[str, Any]: ...


class RemindersProvider(Protocol):
    """Voice reminders (outbound calls playing a prompt)."""

    async def list_reminders(self) -> Sequence[Mapping[str, Any]]:
        """Each: ``id, number, prompt, due_at (epoch s), status``."""
        ...

    async def schedule_reminder(self, number: str, prompt: str, due_at: float) -> Mapping[str, Any]: ...


class AnnouncementsProvider(Protocol):
    """Hot-topic announcements (:class:`hotline.ivr.announcements.Announcement` as dicts)."""

    async def list_announcements(self) -> Sequence[Mapping[str, Any]]: ...

    async def put_announcement(self, data: Mapping[str, Any]) -> Mapping[str, Any]: ...

    async def remove_announcement(self, announcement_id: str) -> None:
        """Raises ``web.errors.NotFound`` for an unknown id."""


@dataclass(frozen=True, slots=True)
class SlaCard:
    """A work order on the SLA panel: ``level`` is ``yellow`` (due soon) or ``red`` (overdue)."""

    ticket: str
    title: str
    queue: str
    due_at: float
    level: str


class WorkOrderSlaProvider(Protocol):
    """Work orders close to or past their due time (the ticketing outbox)."""

    async def sla_cards(self, now: float) -> Sequence[SlaCard]: ...


class OpsGauges(Protocol):
    """Numbers for ``/metrics``: name -> value; names are ``outbox_depth``,
    ``transcription_backlog``, ``workers``. Must be cheap and non-blocking."""

    def gauges(self) -> Mapping[str, float]: ...
