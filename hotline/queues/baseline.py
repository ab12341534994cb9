"""The app_queue baseline: the same agents in Asterisk's own ``Queue()``, for side-by-side measurement.

``asterisk_conf/queues.conf`` defines the queues (dialled on 12300-12305); members are added at run
time with AMI ``QueueAdd``, one per agent holding every skill of the queue, with
``Penalty = 5 - proficiency`` (app_queue rings the lowest penalty first, so the best-skilled agents
go first, as in hotline's routing). :func:`baseline_members` is pure; :func:`add_members` and
:func:`remove_members` send the actions (each with a timeout).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hotline.queues.model import MAX_PROFICIENCY, Agent, QueueConfig
from hotline.telephony.ami import AmiClient

__all__ = ["APP_QUEUES", "Member", "add_members", "baseline_members", "remove_members"]

#: hotline queue -> app_queue queue (``queues.conf``; dialled on 12300-12305)
APP_QUEUES: Mapping[str, str] = {
    "general": "general_q",
    "commerce": "commerce",
    "labour_social": "labour_social",
    "housing_fund": "housing_fund",
    "environment": "environment",
    "transport": "transport",
}


@dataclass(frozen=True, slots=True)
class Member:
    """One ``QueueAdd``: ``queue`` (app_queue name), ``interface`` (``PJSIP/<agent>``), ``penalty`` 0..4."""

    queue: str
    interface: str
    penalty: int
    agent_id: str


def baseline_members(queues: Iterable[QueueConfig], agents: Iterable[Agent], endpoint: str = "PJSIP/{agent}",
                     app_queues: Mapping[str, str] = APP_QUEUES) -> list[Member]:
    """Members of the app_queue queues for these agents.

    An agent joins the app_queue counterpart of a hotline queue if they hold every skill of the queue,
    with penalty ``5 - (lowest proficiency over those skills)`` (expert 5 -> penalty 0). Queues with
    no counterpart are skipped. Language and timed expansion have no app_queue equivalent here.
    """
    agents = list(agents)
    out: list[Member] = []
    for q in queues:
        target = app_queues.get(q.name)
        if target is None or not q.skills:
            continue
        for a in agents:
            if all(s in a.skills for s in q.skills):
                level = min(a.skills[s] for s in q.skills)
                out.append(Member(target, endpoint.format(agent=a.id), MAX_PROFICIENCY - level, a.id))
    return out


async def add_members(ami: AmiClient, members: Iterable[Member], *, paused: bool = False,
                      timeout_s: float = 5.0) -> None:
    """``QueueAdd`` each member (``Paused`` as given).

    Raises:
        AmiActionError, AmiTimeout, AmiConnectionError: an action failed.
    """
    for m in members:
        await ami.action("QueueAdd", {"Queue": m.queue, "Interface": m.interface, "Penalty": m.penalty,
                                      "Paused": paused, "MemberName": m.agent_id}, timeout=timeout_s, check=True)


async def remove_members(ami: AmiClient, members: Iterable[Member], *, timeout_s: float = 5.0) -> None:
    """``QueueRemove`` each member (a member already gone is not an error)."""
    for m in members:
        await ami.action("QueueRemove", {"Queue": m.queue, "Interface": m.interface}, timeout=timeout_s)
