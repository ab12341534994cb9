"""Attempt deadlines (pure): no dial attempt stays in flight because its ``OriginateResponse`` never came.

An attempt is DIALING from its ``Originate`` until the ``OriginateResponse`` (or the dialplan's
``UserEvent``) says what happened. If that never arrives (a lost event, an Asterisk that dropped
the originate, a re-attached ringing channel whose ``Hangup`` was missed) the attempt would hold a
concurrency slot for good. So every DIALING attempt has a deadline::

    deadline_at = attempt_started_at + originate timeout + grace_s

(the originate timeout is ``ring_timeout_s``, or :data:`hotline.callbacks.agentfirst.PLACEHOLDER_TIMEOUT_S`
for an agent-first placeholder). Past it, the dialler lists the channels (``CoreShowChannels``) and
settles the attempt with :func:`settle_overdue`: a live answered channel with the attempt's
``AccountCode`` means the call goes on (IN_CALL, followed by its uniqueid); anything else ends the
attempt as ``UNKNOWN`` (the unknown rule: retried after ``retry_gaps_s[unknown]``, never at once;
a channel still ringing past its own timeout is hung up first). An agent-first attempt is settled
as after an AMI loss (:func:`hotline.callbacks.agentfirst.resolve_lost`).

The dialler's one task runs it on its existing timer (it wakes at :func:`next_deadline_at`); the
times are the dialler's injected clock (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.callbacks import agentfirst as af
from hotline.callbacks.model import Job, JobStatus, Outcome

__all__ = ["Settlement", "deadline_at", "next_deadline_at", "overdue", "settle_overdue"]


@dataclass(frozen=True, slots=True)
class Settlement:
    """How an overdue attempt ends.

    Attributes:
        outcome: the attempt's outcome for the retry policy, or None when the call is live and
            answered (then ``answered_uniqueid`` is set: the job becomes IN_CALL).
        answered_uniqueid: the answered channel (its ``Hangup`` / ``UserEvent`` end the attempt).
        hang_up: a uniqueid to hang up first (a channel ringing past its timeout, a placeholder).
    """

    outcome: Outcome | None
    answered_uniqueid: str | None = None
    hang_up: str | None = None


def deadline_at(job: Job, ring_timeout_s: float, grace_s: float) -> float | None:
    """Epoch seconds by which a DIALING attempt must be settled; None for any other job."""
    if job.status is not JobStatus.DIALING or job.attempt_started_at is None:
        return None
    timeout_s = af.PLACEHOLDER_TIMEOUT_S if af.is_agent_first(job) else ring_timeout_s
    return job.attempt_started_at + timeout_s + grace_s


def next_deadline_at(jobs: Iterable[Job], ring_timeout_s: float, grace_s: float) -> float | None:
    """The earliest attempt deadline among ``jobs`` (the in-flight ones), or None."""
    due = [d for j in jobs if (d := deadline_at(j, ring_timeout_s, grace_s)) is not None]
    return min(due) if due else None


def overdue(jobs: Iterable[Job], ring_timeout_s: float, grace_s: float, now: float) -> list[Job]:
    """DIALING attempts past their deadline at ``now``, by job id."""
    late = [j for j in jobs if (d := deadline_at(j, ring_timeout_s, grace_s)) is not None and d <= now]
    return sorted(late, key=lambda j: j.job_id)


def settle_overdue(job: Job, live: Mapping[str, tuple[str, bool]]) -> Settlement:
    """Settle an overdue attempt from the live channels.

    Args:
        job: a DIALING job past :func:`deadline_at`.
        live: ``CoreShowChannels``: uniqueid -> (``AccountCode``, up i.e. ``ChannelStateDesc: Up``).
    Returns:
        The :class:`Settlement` (see the module docstring).
    """
    if af.is_agent_first(job):
        outcome, hang_up = af.resolve_lost(job, live)
        return Settlement(outcome, hang_up=hang_up)
    mine = sorted((uid, up) for uid, (account, up) in live.items() if account == job.attempt_id)
    answered = [uid for uid, up in mine if up]
    if answered:
        return Settlement(None, answered_uniqueid=answered[0])
    return Settlement(Outcome.UNKNOWN, hang_up=mine[0][0] if mine else None)
