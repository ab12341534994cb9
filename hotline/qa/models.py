"""Plain data the QA core works on: the facts of one call, and what a sample is made of.

A :class:`CallRecord` is built from the recording catalog (the call row, its recording and its
transcript) by the adapter in :mod:`hotline.qa.store`; the pure core never reads anything itself.
Where each field comes from, for calls seen by the AMI core (Asterisk 22):

* ``linkedid``: the ``Linkedid`` header of the call's channels (the whole call).
* ``started_at`` / ``duration_s``: the call model's ``CallStarted``/``CallEnded`` (epoch s / s).
* ``wait_s``: queue wait, ``QueueCallerLeave``/``AgentConnect`` ``HoldTime`` (s).
* ``agent``: the agent id (= PJSIP seat) of the ``AgentConnect`` member.
* ``queue``/``skill``/``district``/``call_type``: the routing request and the work order.
* ``caller``: the caller number (the trunk's ``From`` user, ``CallerIDNum``).
* ``flags``: the transcript's keyword flags (:attr:`hotline.speech.transcript.Transcript.flags`).
* ``satisfaction``: the follow-up rating, 1 (very dissatisfied) .. 5 (very satisfied), None if not rated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CallRecord:
    """The facts of one recorded call, as QA sees them.

    Attributes:
        linkedid: the call (Asterisk ``Linkedid``).
        started_at: epoch seconds.
        duration_s: whole call, seconds.
        agent: agent id who answered, None if nobody did.
        queue / skill / district / call_type: strata values; None when unknown.
        caller: caller number (masked before any reviewer sees it).
        wait_s: queue wait, seconds.
        flags: transcript keyword flags (``complaint``, ``threat``, ...).
        satisfaction: follow-up rating 1-5, None when not rated.
        recording: the recording's path relative to the storage root, None when not recorded.
        ivr_path: IVR nodes visited, in order.
        work_order: ticket id, None when none was opened.
    """

    linkedid: str
    started_at: float
    duration_s: float
    agent: str | None = None
    queue: str | None = None
    skill: str | None = None
    district: str | None = None
    call_type: str | None = None
    caller: str | None = None
    wait_s: float = 0.0
    flags: tuple[str, ...] = ()
    satisfaction: int | None = None
    recording: str | None = None
    ivr_path: tuple[str, ...] = ()
    work_order: str | None = None

    def stratum_value(self, key: str) -> str:
        """The value of a strata key (``queue``, ``skill``, ``district``, ``call_type``, ``agent``); ``-`` if None."""
        value = getattr(self, key)
        return "-" if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "linkedid": self.linkedid, "started_at": self.started_at, "duration_s": self.duration_s,
            "agent": self.agent, "queue": self.queue, "skill": self.skill, "district": self.district,
            "call_type": self.call_type, "caller": self.caller, "wait_s": self.wait_s,
            "flags": list(self.flags), "satisfaction": self.satisfaction, "recording": self.recording,
            "ivr_path": list(self.ivr_path), "work_order": self.work_order,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CallRecord:
        return cls(
            linkedid=str(d["linkedid"]), started_at=float(d["started_at"]), duration_s=float(d["duration_s"]),
            agent=d.get("agent"), queue=d.get("queue"), skill=d.get("skill"), district=d.get("district"),
            call_type=d.get("call_type"), caller=d.get("caller"), wait_s=float(d.get("wait_s") or 0.0),
            flags=tuple(d.get("flags") or ()), satisfaction=d.get("satisfaction"), recording=d.get("recording"),
            ivr_path=tuple(d.get("ivr_path") or ()), work_order=d.get("work_order"),
        )


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a call is in a sample.

    Attributes:
        rule: ``random``, ``stratified``, ``agent_minimum``, ``keyword``, ``long_call``, ``long_wait``,
            ``repeat_caller`` or ``dissatisfied``.
        detail: human-readable, with the numbers (``waited 185 s > 120 s``).
    """

    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.detail}"


@dataclass(frozen=True, slots=True)
class SampledCall:
    """One call of a sample, with every reason it is there (never empty)."""

    linkedid: str
    agent: str | None
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"linkedid": self.linkedid, "agent": self.agent,
                "reasons": [{"rule": r.rule, "detail": r.detail} for r in self.reasons]}


@dataclass(frozen=True, slots=True)
class Sample:
    """A drawn sample, with what is needed to redraw it and check it (audit).

    Attributes:
        plan_name: the plan's name.
        plan: the plan as a JSON-able dict (exactly what was applied).
        day: the local day sampled, ``YYYY-MM-DD`` in the plan's time zone.
        seed: the seed; the same seed, plan and calls give the same sample.
        population: calls of the day before exclusions.
        eligible: calls of the day left after exclusions.
        excluded: exclusion rule -> number of calls it removed.
        strata: stratum label -> (eligible calls, calls drawn at random) when stratified.
        calls: the sampled calls, ordered by linkedid.
    """

    plan_name: str
    plan: dict[str, Any]
    day: str
    seed: int
    population: int
    eligible: int
    excluded: dict[str, int]
    strata: dict[str, tuple[int, int]]
    calls: tuple[SampledCall, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_name": self.plan_name, "plan": self.plan, "day": self.day, "seed": self.seed,
            "population": self.population, "eligible": self.eligible, "excluded": dict(self.excluded),
            "strata": {k: list(v) for k, v in self.strata.items()},
            "calls": [c.to_dict() for c in self.calls],
        }
