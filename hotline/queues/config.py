"""Routing configuration: the ``routing`` settings section and the agents/queues YAML file.

Two layers, both pydantic v2 with ``extra="forbid"``:

* :class:`RoutingSettings` is the one field ``Settings.routing`` of the service tree (where the
  agents file is, how agents are rung, Redis keys, the routing event log).
* :class:`AgentsFile` is the operator's file (``hotline/queues/examples/agents.yaml`` for the lab demo):
  queues with their rules, and agents with skills (proficiency 1-5), languages and groups. A
  block of seats that share a profile is written once (``seats: 1001-1040``).

:func:`load_agents_file` reports every problem at once (file, dotted key path, message),
including the cross-field ones: an agent defined twice, a skill a queue needs that no agent
holds, an overflow target that does not exist.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.kernel.errors import ConfigError
from hotline.kernel.yamlmodel import load_model
from hotline.queues.exceptions import InvalidQueueConfig
from hotline.queues.model import Agent, AgentOrder, ExpansionStep, MaxWaitAction, QueueConfig

__all__ = ["EXAMPLE_AGENTS", "AgentSpec", "AgentsFile", "QueueSpec", "RoutingSettings", "load_agents_file"]

EXAMPLE_AGENTS = Path(__file__).resolve().parent / "examples" / "agents.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoutingSettings(_Strict):
    """``Settings.routing``: how the routing component reaches agents, Redis and its event log.

    Attributes:
        enabled: build the routing component in ``hotline run`` (the IVR then hands callers to it).
        agents_file: the agents/queues YAML file (:class:`AgentsFile`).
        endpoint: how an agent id becomes the dialled channel (``{agent}`` is replaced).
        bridge_options: options of the ``Bridge()`` the answered agent leg runs; ``x`` hangs the
            caller up when the agent leaves (instead of returning them to music on hold).
        action_timeout_s: timeout of every AMI action the component sends.
        redis_key: Redis key of the routing snapshot (a JSON string), under ``Settings.redis.key_prefix``.
        command_key: Redis list the CLI pushes agent commands to (``hotline agent ...``), same prefix.
        voicemail: ``context,exten,priority`` a caller is redirected to on ``SendToVoicemail``;
            None hangs the caller up (logged) rather than leave them on hold untracked.
        event_log: the routing event log (replayed into the statistics at start).
        order: tie-break between equally proficient agents.
        offer_grace_s: seconds after an offer's ring timeout before an offer that got neither an
            ``OriginateResponse`` nor an answer fails as ``lost`` (agent READY again, caller back at
            the front: :mod:`hotline.queues.routing`, *Offer deadline*).
    """

    enabled: bool = True
    agents_file: Path = EXAMPLE_AGENTS
    endpoint: str = "PJSIP/{agent}"
    bridge_options: str = "x"
    action_timeout_s: float = Field(5.0, gt=0)
    redis_key: str = "routing:snapshot"
    command_key: str = "routing:commands"
    voicemail: str | None = None
    event_log: Path = Path(os.environ.get("HOTLINE_ROUTING_LOG", "/var/lib/hotline/events/routing.log"))
    order: AgentOrder = AgentOrder.LONGEST_IDLE
    offer_grace_s: float = Field(5.0, gt=0)

    @field_validator("endpoint")
    @classmethod
    def _has_agent(cls, v: str) -> str:
        if "{agent}" not in v:
            raise ValueError("must contain {agent}, e.g. PJSIP/{agent}")
        return v


class StepSpec(_Strict):
    after_s: float = Field(ge=0)
    min_proficiency: int | None = Field(None, ge=1, le=5)
    any_in_group: bool = False


class QueueSpec(_Strict):
    """One queue; fields as :class:`hotline.queues.model.QueueConfig`."""

    name: str
    skills: list[str] = []
    wrap_up_s: float = Field(15.0, ge=0)
    ring_timeout_s: float = Field(15.0, gt=0)
    min_proficiency: int = Field(1, ge=1, le=5)
    expansion: list[StepSpec] = []
    group: str | None = None
    ageing_per_s: float = Field(0.0, ge=0)
    overflow_queue: str | None = None
    overflow_after_s: float | None = Field(None, ge=0)
    max_wait_s: float | None = Field(None, gt=0)
    max_wait_action: MaxWaitAction = MaxWaitAction.CALLBACK
    service_level_s: float = Field(20.0, gt=0)
    short_abandon_s: float = Field(5.0, ge=0)
    default_aht_s: float = Field(180.0, gt=0)

    def to_config(self) -> QueueConfig:
        data = self.model_dump()
        data["skills"] = frozenset(self.skills)
        data["expansion"] = tuple(ExpansionStep(**s.model_dump()) for s in self.expansion)
        return QueueConfig(**data)


class AgentSpec(_Strict):
    """One agent (``id``) or a block of seats with one profile (``seats: 1001-1040``)."""

    id: str | None = None
    seats: str | None = Field(None, pattern=r"^\d+-\d+$")
    skills: dict[str, int] = {}
    languages: list[str] = ["zh"]
    groups: list[str] = []

    @field_validator("skills")
    @classmethod
    def _levels(cls, v: dict[str, int]) -> dict[str, int]:
        bad = {k: lv for k, lv in v.items() if not 1 <= lv <= 5}
        if bad:
            raise ValueError(f"proficiency must be 1..5: {bad}")
        return v

    def ids(self) -> list[str]:
        if self.seats is not None:
            first, last = (int(x) for x in self.seats.split("-"))
            return [str(n) for n in range(first, last + 1)]
        return [self.id] if self.id else []


class AgentsFile(_Strict):
    """The operator's agents/queues file."""

    queues: list[QueueSpec]
    agents: list[AgentSpec]

    def build(self) -> tuple[list[QueueConfig], list[Agent], list[str]]:
        """Plain core objects, plus the cross-field problems found (empty when valid)."""
        problems: list[str] = []
        queues: list[QueueConfig] = []
        for i, q in enumerate(self.queues):
            try:
                queues.append(q.to_config())
            except InvalidQueueConfig as exc:
                problems.append(f"queues.{i}: {exc}")
        names = {q.name for q in self.queues}
        for i, q in enumerate(self.queues):
            if q.overflow_queue is not None and q.overflow_queue not in names:
                problems.append(f"queues.{i}.overflow_queue: {q.overflow_queue!r} is not a queue")
        agents: dict[str, Agent] = {}
        for i, spec in enumerate(self.agents):
            ids = spec.ids()
            if not ids:
                problems.append(f"agents.{i}: give either id or seats")
            if spec.id is not None and spec.seats is not None:
                problems.append(f"agents.{i}: give id or seats, not both")
            for aid in ids:
                if aid in agents:
                    problems.append(f"agents.{i}: agent {aid} defined twice")
                agents[aid] = Agent(aid, spec.skills, frozenset(spec.languages), frozenset(spec.groups))
        held = {s for a in agents.values() for s in a.skills}
        for i, q in enumerate(self.queues):
            for skill in sorted(set(q.skills) - held):
                problems.append(f"queues.{i}.skills: no agent holds skill {skill!r}")
        return queues, list(agents.values()), problems


def load_agents_file(path: str | os.PathLike[str]) -> tuple[list[QueueConfig], list[Agent]]:
    """Read and validate an agents/queues file.

    Returns:
        ``(queues, agents)`` for :meth:`hotline.queues.routing.RoutingState.create`.
    Raises:
        ConfigError: unreadable file, bad YAML, or every invalid key as ``file: dotted.path: message``.
    """
    src = Path(path)
    spec = load_model(src, AgentsFile, ConfigError)
    queues, agents, problems = spec.build()
    if problems:
        raise ConfigError([f"{src}: {p}" for p in problems])
    return queues, agents
