"""The dispatch adapter's translation rules (pure: plain data in, plain data out).

What :mod:`hotline.queues.dispatch` does with Asterisk, stated as functions it calls and the tests check
without I/O:

* IVR hand-over (:class:`~hotline.queues.handover.QueueRequest`) -> :class:`~hotline.queues.events.CallQueued`;
* :class:`~hotline.queues.routing.OfferCall` -> the AMI ``Originate`` headers that ring the agent and, on
  answer, run ``Bridge(<caller uniqueid>,<options>)`` on the agent leg (Asterisk 22's Bridge()
  accepts a uniqueid, so no channel name is ever needed; ``ChannelId`` fixes the agent leg's
  uniqueid before it exists, so a hangup racing the originate is still recognised);
* AMI ``OriginateResponse`` ``Reason`` -> answered or an :class:`~hotline.queues.events.OfferFailed` reason;
* a caller leg's hangup -> :class:`~hotline.queues.events.CallAbandoned` (before answer) or
  :class:`~hotline.queues.events.AnsweredCallEnded` (after);
* a ringing offer's agent leg as ``CoreShowChannels`` lists it after a restart or a reconnect ->
  answered, ``lost`` or still ringing (:func:`ringing_offer_verdict`).
"""

from __future__ import annotations

from dataclasses import dataclass

from hotline.queues.events import AnsweredCallEnded, CallAbandoned, CallQueued
from hotline.queues.handover import QueueRequest
from hotline.queues.routing import LOST, OfferCall
from hotline.telephony.calls import Leg
from hotline.telephony.headers import caller_num_for_header

__all__ = [
    "ANSWERED",
    "RINGING",
    "CallerLeg",
    "call_queued",
    "caller_left",
    "originate_fields",
    "originate_outcome",
    "ringing_offer_verdict",
]

#: :func:`ringing_offer_verdict` for an agent leg still ringing: wait for its OriginateResponse
RINGING = "ringing"

#: :func:`originate_outcome` for AMI OriginateResponse ``Reason: 4``
ANSWERED = "answered"

#: OriginateResponse ``Reason`` (Asterisk's ``enum ast_control_frame_type`` subset it reports)
_REASONS = {
    4: ANSWERED,  # AST_CONTROL_ANSWER
    3: "no_answer",  # AST_CONTROL_RINGING: rang until the Originate Timeout
    5: "busy",  # AST_CONTROL_BUSY (SIP 486)
    1: "rejected",  # AST_CONTROL_HANGUP: the phone declined (e.g. 603) before answering
    8: "unreachable",  # AST_CONTROL_CONGESTION
    0: "unreachable",  # no channel at all: endpoint unknown / not registered
}


@dataclass(slots=True)
class CallerLeg:
    """What the adapter keeps per routed call, next to the core's state (persisted with the snapshot).

    Attributes:
        linkedid: the call (AMI ``Linkedid``).
        uniqueid: the caller's leg (AMI ``Uniqueid``), the target of ``Bridge()``.
        channel: the caller's channel name at hand-over (logs only).
        caller_num: the citizen's number, shown on the agent's phone (Originate ``CallerID``).
        agent_id: the agent being rung or talking, else None.
        agent_uniqueid: the agent leg's uniqueid (Originate ``ChannelId``), else None.
        action_id: ActionID of the pending Originate (its ``OriginateResponse`` carries it).
        connected: the agent answered (the call is ON_CALL in the core).
    """

    linkedid: str
    uniqueid: str
    channel: str = ""
    caller_num: str = ""
    agent_id: str | None = None
    agent_uniqueid: str | None = None
    action_id: str | None = None
    connected: bool = False


def call_queued(request: QueueRequest, now: float) -> CallQueued:
    """The routing core's input for an IVR hand-over.

    Args:
        request: from the IVR adapter; ``request.at`` (epoch s) is used when set, else ``now``.
        now: epoch seconds.
    Returns:
        ``CallQueued`` with the skills (empty = the queue's own), language, priority and follow-up flag.
    """
    return CallQueued(
        linkedid=request.linkedid,
        uniqueid=request.uniqueid,
        queue=request.queue,
        at=request.at or now,
        skills=frozenset(request.skills),
        language=request.language or None,
        priority=request.priority,
        follow_up=request.follow_up,
    )


def originate_fields(offer: OfferCall, caller: CallerLeg, agent_uniqueid: str, *, endpoint: str = "PJSIP/{agent}",
                     bridge_options: str = "x") -> dict[str, str | int | bool | dict[str, str]]:
    """AMI ``Originate`` headers that ring ``offer.agent_id`` for the caller of ``caller``.

    Args:
        offer: the core's command (``ring_timeout_s`` becomes ``Timeout`` in ms).
        caller: the call's adapter record (caller uniqueid and number).
        agent_uniqueid: the uniqueid to give the agent leg (``ChannelId``).
        endpoint: dial string pattern (``{agent}`` replaced by the agent id).
        bridge_options: ``Bridge()`` options (``x``: hang the caller up when the agent leaves).
    Returns:
        Header mapping for :meth:`hotline.telephony.ami.AmiClient.action` (``Async: true``: the outcome
        arrives as ``OriginateResponse``).
    """
    data = caller.uniqueid + (f",{bridge_options}" if bridge_options else "")
    shown = caller_num_for_header(caller.caller_num)  # from the trunk: never a header the guard refuses
    return {
        "Channel": endpoint.format(agent=offer.agent_id),
        "Application": "Bridge",
        "Data": data,
        "Timeout": round(offer.ring_timeout_s * 1000),
        "CallerID": f'"{shown}" <{shown}>' if shown else "hotline",
        "Async": True,
        "ChannelId": agent_uniqueid,
        "Variable": {
            "HOTLINE_LINKEDID": offer.linkedid,
            "HOTLINE_QUEUE": offer.queue,
            "HOTLINE_AGENT": offer.agent_id,
        },
    }


def originate_outcome(reason: int) -> str:
    """``OriginateResponse`` ``Reason`` -> :data:`ANSWERED` or an ``OfferFailed.reason``.

    ``4`` answered; ``3`` ``no_answer`` (rang out: the agent goes not-ready "missed"); ``5`` ``busy``;
    ``1`` ``rejected``; ``0``, ``8`` and anything unknown ``unreachable``.
    """
    return _REASONS.get(reason, "unreachable")


def caller_left(connected: bool, linkedid: str, at: float) -> CallAbandoned | AnsweredCallEnded:
    """The caller's leg hung up (AMI ``Hangup``, or found gone at a ``CoreShowChannels`` resync).

    Returns:
        ``AnsweredCallEnded`` once an agent answered, else ``CallAbandoned`` (waiting or ringing).
    """
    return AnsweredCallEnded(linkedid, at) if connected else CallAbandoned(linkedid, at)


def ringing_offer_verdict(agent_leg: Leg | None) -> str:
    """What a ringing offer became, from its agent leg in the call model after a resync.

    Args:
        agent_leg: the leg whose uniqueid is the Originate's ``ChannelId`` (listed by
            ``CoreShowChannels`` or followed since), or None if Asterisk never showed it.
    Returns:
        :data:`ANSWERED` (up: the agent answered and ``Bridge()`` runs), ``lost`` (gone or never
        seen: the ``OriginateResponse`` was missed; not the agent's fault) or :data:`RINGING`
        (still ringing: its ``OriginateResponse`` will come, else the offer's deadline settles it).
    """
    if agent_leg is None or agent_leg.ended_at is not None:
        return LOST
    return ANSWERED if agent_leg.state == "Up" else RINGING
