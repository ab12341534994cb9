"""Agent-first keep-my-place callbacks (pure): ``callbacks.callback_mode: agent_first``.

When a request reaches the front, the dialler does not ring the citizen. It originates a **Local
placeholder** that waits for an agent like a live caller, and dials the citizen only once an agent
took it, so the citizen never waits on hold for an agent:

1. ``Originate`` ``Local/wait@hotline-cb-agentfirst/n`` into ``hotline-hold,s,1`` with
   ``ChannelId`` / ``OtherChannelId`` fixing the uniqueids of both halves (:func:`originate_fields`).
   The ``;1`` half (:attr:`Placeholder.one`) holds on music on hold; the ``;2`` half
   (:attr:`Placeholder.two`) answers and waits in ``hotline-cb-agentfirst,wait``. ``/n``: the pair
   is never optimised away, so both uniqueids stay valid for the whole call.
2. ``OriginateResponse`` Reason 4 (the pair is up): the ``;1`` half is handed to routing as a
   :class:`hotline.queues.handover.QueueRequest` (priority + ``callback_priority_boost``; ``variables``
   ``callback_mode: agent_first``). Routing, the one owner of agent availability, rings an agent and
   bridges it to ``;1`` exactly as for a live caller (ring-no-answer re-offers it; the placeholder
   keeps its place).
3. Routing's ``CallAnswered`` for that call (:meth:`hotline.queues.dispatch.Dispatcher.subscribe_answered`):
   AMI ``Redirect`` of the ``;2`` half to ``hotline-cb-agentfirst,<number>,1``
   (:func:`redirect_fields`), which dials ``PJSIP/<number>@<trunk>`` with the attempt id as
   AccountCode.
4. The ``DialEnd`` whose ``Uniqueid`` is the ``;2`` half (:func:`citizen_outcome`): ``ANSWER`` ->
   the attempt is answered, the request DONE (agent and citizen talk through the pair); anything
   else -> the retry policy's outcome (busy, no answer, congestion, failed), the pair hangs up in
   the dialplan, and routing sees the agent's call end normally (``AnsweredCallEnded``: wrap-up, then ready;
   never "missed").

Restart / AMI loss (kept simple): an agent-first attempt found in flight at start or after a
reconnect is resolved from ``CoreShowChannels`` by :func:`resolve_lost`: if the citizen's leg (the
attempt's AccountCode, not one of the two placeholder halves) is up, the attempt was answered; else
the placeholder is hung up (when still there: the agent's call, if any, just ends) and the attempt
counts as failed, so the request is retried per the policy. A placeholder is never re-adopted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hotline.callbacks.model import Job, JobKind, Outcome
from hotline.callbacks.policy import DIAL_STATUS_OUTCOMES, HANGUP_CAUSE_OUTCOMES

#: dialplan context of the placeholder and of the citizen leg (asterisk_conf/extensions.conf)
CONTEXT = "hotline-cb-agentfirst"
AGENT_FIRST = "agent_first"
#: Originate ``Timeout`` (s) of the placeholder: its ;2 half answers at once
PLACEHOLDER_TIMEOUT_S = 10.0

#: ``Job.meta["stage"]`` values of an agent-first attempt
AGENT_WAIT = "agent_wait"  # the placeholder is queued in routing, no agent yet
DIALLING = "dialling"  # an agent answered; the ;2 half was redirected to dial the citizen


@dataclass(frozen=True, slots=True)
class Placeholder:
    """The two halves of one attempt's Local placeholder (their AMI ``Uniqueid``, set by hotline)."""

    one: str  # ;1: waits in hotline-hold, bridged to the agent by routing
    two: str  # ;2: waits, then dials the citizen


def is_agent_first(job: Job) -> bool:
    """A keep-my-place callback job run agent first (``meta["mode"]``, copied from the request)."""
    return job.kind is JobKind.CALLBACK and job.meta.get("mode") == AGENT_FIRST


def placeholder_of(job: Job) -> Placeholder | None:
    """The current attempt's placeholder (``meta["one"]`` / ``meta["two"]``), or None before the first Originate."""
    one, two = job.meta.get("one"), job.meta.get("two")
    return Placeholder(str(one), str(two)) if one and two else None


def with_placeholder(job: Job, token: str) -> Job:
    """The job with a new placeholder for its current attempt, stage :data:`AGENT_WAIT`.

    Args:
        token: unique per attempt (hex); the uniqueids are ``cbaf-<token>-1`` / ``cbaf-<token>-2``.
    """
    return replace(job, meta={**job.meta, "one": f"cbaf-{token}-1", "two": f"cbaf-{token}-2", "stage": AGENT_WAIT})


def with_stage(job: Job, stage: str) -> Job:
    return replace(job, meta={**job.meta, "stage": stage})


def originate_fields(job: Job, *, trunk: str, ring_timeout_s: float, caller_id: str) -> dict[str, Any]:
    """AMI ``Originate`` headers of the placeholder (``Async``: the outcome is ``OriginateResponse``).

    Raises:
        ValueError: the job has no placeholder (call :func:`with_placeholder` first).
    """
    ph = placeholder_of(job)
    if ph is None:
        raise ValueError(f"{job.job_id}: no placeholder uniqueids")
    return {
        "Channel": f"Local/wait@{CONTEXT}/n",
        "Context": "hotline-hold",
        "Exten": "s",
        "Priority": "1",
        "ChannelId": ph.one,
        "OtherChannelId": ph.two,
        "Timeout": str(round(PLACEHOLDER_TIMEOUT_S * 1000)),  # the ;2 half answers at once
        "CallerID": f'"{job.number}" <{job.number}>',  # shown on the agent's phone
        "Account": job.attempt_id,
        "Async": "true",
        "Variable": {"HL_ATTEMPT": job.attempt_id, "HL_TRUNK": trunk, "HL_RING_S": str(max(1, round(ring_timeout_s))),
                     "HL_CALLBACK_ID": str(job.meta.get("request_id", "")), "HL_CALLER_ID": caller_id},
    }


def redirect_fields(job: Job) -> dict[str, Any]:
    """AMI ``Redirect`` headers that send the ``;2`` half to dial the citizen (by uniqueid, never a name)."""
    ph = placeholder_of(job)
    if ph is None:
        raise ValueError(f"{job.job_id}: no placeholder uniqueids")
    return {"Channel": ph.two, "Context": CONTEXT, "Exten": job.number, "Priority": "1"}


def citizen_outcome(dial_status: str, hangup_cause: int | None = None) -> Outcome:
    """The attempt's outcome from the ``DialEnd`` of the ``;2`` half (``DialStatus``), refined by a
    ``Hangup`` ``Cause`` (Q.850) when the status says nothing more than a generic failure.

    ``ANSWER`` -> ANSWERED; ``BUSY`` / ``NOANSWER`` / ``CANCEL`` / ``CONGESTION`` / ``CHANUNAVAIL`` as
    for citizen first (:data:`hotline.callbacks.policy.DIAL_STATUS_OUTCOMES`); anything else -> the cause's
    outcome, else FAILED.
    """
    if dial_status == "ANSWER":
        return Outcome.ANSWERED
    outcome = DIAL_STATUS_OUTCOMES.get(dial_status, Outcome.FAILED)
    if outcome is Outcome.FAILED and hangup_cause is not None and hangup_cause in HANGUP_CAUSE_OUTCOMES:
        return HANGUP_CAUSE_OUTCOMES[hangup_cause]
    return outcome


def resolve_lost(job: Job, live: Mapping[str, tuple[str, bool]]) -> tuple[Outcome, str | None]:
    """An agent-first attempt whose events were missed (restart, AMI loss).

    Args:
        job: the in-flight (or UNKNOWN) job with its placeholder.
        live: ``CoreShowChannels``: uniqueid -> (AccountCode, up).
    Returns:
        ``(outcome, hang_up)``: ANSWERED when the citizen's leg is up (it talks to the agent), else
        FAILED and the ``;1`` uniqueid to hang up if the placeholder is still there (None if gone).
    """
    ph = placeholder_of(job)
    halves = (ph.one, ph.two) if ph is not None else ()
    citizen_up = any(acc == job.attempt_id and up and uid not in halves for uid, (acc, up) in live.items())
    if citizen_up and job.meta.get("stage") == DIALLING:
        return Outcome.ANSWERED, None
    alive = ph is not None and (ph.one in live or ph.two in live)
    return Outcome.FAILED, (ph.one if alive and ph is not None else None)
