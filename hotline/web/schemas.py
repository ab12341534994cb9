"""Request and response bodies of the HTTP API (pydantic v2); the OpenAPI document is generated from
these and from the route table in :mod:`hotline.web.api`, so the document and the handlers cannot drift.

Times are epoch seconds (``_at``), durations seconds (``_s``), ratios 0-1 (``_ratio``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hotline.queues.model import AgentStatus

Reason = Field(None, min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Out):
    """Every error: a stable ``error_id`` (``not-found``, ``conflict``, ``not-configured`` ...)."""

    error_id: str
    message: str
    details: dict[str, Any] = {}


class Health(_Out):
    status: Literal["ok"]
    ami_connected: bool


class Me(_Out):
    name: str
    role: str
    seat: str | None
    agent_id: str | None
    csrf_token: str | None = Field(description="send as X-CSRF-Token on unsafe requests with the session cookie")


class Agent(_Out):
    agent_id: str
    status: AgentStatus
    reason: str | None
    since_at: float
    time_in_state_s: float
    skills: dict[str, int]
    languages: list[str]
    calls_today: int
    linkedid: str | None
    queue: str | None


class AgentList(_Out):
    agents: list[Agent]


class AgentStateChange(_In):
    """``pause`` needs a reason (break, lunch, training, coaching ...); ``logout`` may give one."""

    action: Literal["login", "logout", "ready", "pause"]
    reason: str | None = Reason


class SkillsChange(_In):
    skills: dict[str, int] = Field(description="skill -> proficiency 1..5; replaces the agent's skills")


class ServiceLevels(_Out):
    SL1: float | None
    SL2: float | None
    SL3: float | None
    SL4: float | None


class QueueStats(_Out):
    name: str
    skills: list[str]
    service_level_s: float
    waiting: int
    longest_wait_s: float
    offered: int
    answered: int
    abandoned: int
    answered_within_t: int
    callbacks: int
    sl_ratio: float | None
    sl_below_target: bool
    service_levels: ServiceLevels
    asa_s: float | None
    aht_s: float | None
    abandon_ratio: float | None


class Tally(_Out):
    key: str = Field(description="an IVR node id, or a failure reason")
    calls: int


class CallOutcomes(_Out):
    """Today's calls and their one outcome each (``queues.metrics.CallOutcomes``; calls, not offers).

    ``reached_ivr = in_ivr + abandoned_ivr + self_served + failed + (offered_queue - direct)`` and
    ``offered_queue = answered + abandoned_queue + callbacks + transferred + voicemail + waiting``;
    ``offered_hotline = reached_ivr + direct``.
    """

    offered_hotline: int
    reached_ivr: int
    in_ivr: int
    abandoned_ivr: int
    abandoned_ivr_by_node: list[Tally]
    self_served: int
    failed: int
    failed_by_reason: list[Tally]
    offered_queue: int
    direct: int
    answered: int
    abandoned_queue: int
    abandoned_queue_short: int
    callbacks: int
    transferred: int
    voicemail: int
    waiting: int
    balanced: bool


class QueueList(_Out):
    sl_label: str
    queues: list[QueueStats]


class SkillCoverage(_Out):
    skill: str
    waiting: int
    ready: int
    logged_in: int


class SkillList(_Out):
    skills: list[SkillCoverage]


class Leg(_Out):
    uniqueid: str
    channel: str
    state: str
    caller_num: str
    created_at: float
    answered_at: float | None


class Call(_Out):
    linkedid: str
    started_at: float
    duration_s: float
    legs: list[Leg]


class CallList(_Out):
    calls: list[Call]


class SpyRequest(_In):
    """listen = ChanSpy ``q`` (quiet), whisper = ``w`` (agent hears the supervisor), barge = ``B``."""

    mode: Literal["listen", "whisper", "barge"]
    agent_id: str | None = Field(None, pattern=r"^[0-9]{1,10}$",
                                 description="which agent's leg; default: the only agent leg")


class SpyStarted(_Out):
    linkedid: str
    mode: str
    supervisor_seat: str
    agent_channel: str
    action_id: str


class Announcement(_Out):
    id: str
    prompt: str
    starts_at: float
    ends_at: float
    menus: list[str]
    languages: list[str]


class AnnouncementIn(_In):
    id: str = Field(min_length=1, max_length=128)
    prompt: str = Field(min_length=1, max_length=256)
    starts_at: float
    ends_at: float
    menus: list[str] = Field(min_length=1)
    languages: list[str] = []


class AnnouncementList(_Out):
    announcements: list[Announcement]


class Callback(_Out):
    id: str
    number: str
    queue: str
    due_at: float | None
    status: str
    attempts: int = 0


class CallbackIn(_In):
    number: str = Field(pattern=r"^\+?[0-9]{3,20}$")
    queue: str = Field(min_length=1, max_length=64)
    due_at: float | None = None


class CallbackList(_Out):
    callbacks: list[Callback]


class Reminder(_Out):
    id: str
    number: str
    prompt: str
    due_at: float
    status: str


class ReminderIn(_In):
    number: str = Field(pattern=r"^\+?[0-9]{3,20}$")
    prompt: str = Field(min_length=1, max_length=256)
    due_at: float


class ReminderList(_Out):
    reminders: list[Reminder]


class AuditItem(_Out):
    at: float
    user: str
    role: str
    action: str
    target: str
    details: dict[str, Any]
    outcome: str


class AuditList(_Out):
    entries: list[AuditItem]


class Wallboard(_Out):
    """The wallboard snapshot (see :func:`hotline.web.wallboard.build_board`); pushed on ``/ws/wallboard``."""

    model_config = ConfigDict(extra="allow")
    now: float
    day: str
    variant: str
    sl_label: str
    target_ratio: float
    totals: dict[str, Any]
    calls: CallOutcomes
    queues: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    agent_counts: dict[str, int]
    skills: list[dict[str, Any]]
    intervals: list[dict[str, Any]]
    sla: dict[str, Any]
