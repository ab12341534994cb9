"""The call model: calls keyed by ``linkedid``, legs by ``uniqueid``. Pure: no I/O, no clock.

``CallModel.apply(event)`` takes one domain event (from ``telephony.translate``) and
returns the call-level events it caused (``CallStarted``, ``LegAdded``, ``LegEnded``,
``CallEnded``). It is idempotent where Asterisk or a resync can repeat itself: a second
``Newchannel`` for a known leg, a ``Hangup`` for an ended one, a listed channel that is
already known: none produce a duplicate call event.

Resync: after a reconnect hotline sends ``CoreShowChannels``. The model sees
``ChannelListStarted`` (the action's response), ``ChannelListed`` per live leg and
``ChannelListCompleted``; at completion every leg that was open *before the list
started* and is not listed is closed with cause ``lost`` (it ended while hotline was
disconnected), and listed legs hotline did not know are added. Legs created after the
list started are left alone (the snapshot may predate them).

Local channels: the ``;1`` and ``;2`` halves are two legs; ``LocalBridge`` links them
(``Leg.local_peer``). Renames update ``Leg.channel`` only: keys never change.

Re-linking: Asterisk 12+ gives every channel entering a bridge the oldest linkedid, so an
agent leg originated on its own (its own linkedid) joins the citizen's call when bridged
to it. The first event of a leg carrying another ``Linkedid`` moves the leg to that call
(:class:`CallMerged`; an emptied call disappears without a ``CallEnded``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.telephony import events as ev

#: Leg cause for a leg found gone at resync (it ended while AMI was disconnected).
CAUSE_LOST = -1


@dataclass(slots=True)
class Leg:
    """One channel of a call. Times are epoch seconds."""

    uniqueid: str
    linkedid: str
    channel: str
    created_at: float
    caller_num: str = ""
    caller_name: str = ""
    state: str = ""
    answered_at: float | None = None
    ended_at: float | None = None
    cause: int | None = None
    cause_text: str = ""
    bridge_id: str = ""
    local_peer: str | None = None
    seq: int = 0  # model sequence number at creation (resync bookkeeping)

    @property
    def is_local(self) -> bool:
        return self.channel.startswith("Local/")


@dataclass(slots=True)
class Call:
    """One call: every leg sharing a ``linkedid``. ``ended_at`` set when the last leg ends."""

    linkedid: str
    started_at: float
    legs: dict[str, Leg] = field(default_factory=dict)
    ended_at: float | None = None
    end_reason: str = ""  # "hangup" or "lost"

    @property
    def active_legs(self) -> list[Leg]:
        return [leg for leg in self.legs.values() if leg.ended_at is None]


@dataclass(frozen=True, slots=True)
class CallStarted:
    """First leg of a new ``linkedid`` seen."""

    at: float
    linkedid: str
    uniqueid: str
    caller_num: str


@dataclass(frozen=True, slots=True)
class LegAdded:
    at: float
    linkedid: str
    uniqueid: str
    channel: str


@dataclass(frozen=True, slots=True)
class LegEnded:
    at: float
    linkedid: str
    uniqueid: str
    cause: int
    cause_text: str


@dataclass(frozen=True, slots=True)
class CallMerged:
    """A leg moved to another call: Asterisk re-linked it (``Linkedid`` changed, e.g. when an
    originated agent leg is bridged to the waiting caller; Asterisk 12+ gives every channel
    in a bridge the oldest linkedid). ``from_linkedid`` no longer exists when
    ``emptied`` is True: count it as part of ``into_linkedid``, not as a call of its own.
    """

    at: float
    from_linkedid: str
    into_linkedid: str
    uniqueid: str
    emptied: bool


@dataclass(frozen=True, slots=True)
class CallEnded:
    """Last leg of the call ended; ``reason`` is ``hangup`` or ``lost`` (closed at resync)."""

    at: float
    linkedid: str
    reason: str
    duration_s: float


CallEvent = CallStarted | LegAdded | LegEnded | CallMerged | CallEnded


class CallModel:
    """All calls hotline knows of, live and recently ended.

    Attributes:
        calls: linkedid -> :class:`Call` (ended calls are kept until :meth:`forget_ended`).
        legs: uniqueid -> :class:`Leg`.
    """

    __slots__ = ("_listed", "_resync_seq", "_seq", "calls", "legs")

    def __init__(self) -> None:
        self.calls: dict[str, Call] = {}
        self.legs: dict[str, Leg] = {}
        self._seq = 0
        self._resync_seq: int | None = None
        self._listed: set[str] = set()

    # ------------------------------------------------------------------ queries
    def active_calls(self) -> list[Call]:
        return [c for c in self.calls.values() if c.ended_at is None]

    def call_of(self, uniqueid: str) -> Call | None:
        leg = self.legs.get(uniqueid)
        return self.calls.get(leg.linkedid) if leg else None

    # ------------------------------------------------------------------ updates
    def apply(self, event: ev.DomainEvent) -> list[CallEvent]:
        """Update the model with one domain event; return the call events it caused."""
        handler = _HANDLERS.get(type(event))
        relinked: list[CallEvent] = []
        if isinstance(event, ev.LegEvent) and event.linkedid:
            leg = self.legs.get(event.uniqueid)
            if leg is not None and leg.linkedid != event.linkedid and leg.ended_at is None:
                relinked = self._relink(leg, event.linkedid, event.at)
        if handler is None:
            return relinked
        return relinked + handler(self, event) if relinked else handler(self, event)

    def _relink(self, leg: Leg, linkedid: str, at: float) -> list[CallEvent]:
        old = self.calls.get(leg.linkedid)
        new = self.calls.get(linkedid)
        out: list[CallEvent] = []
        if new is None or new.ended_at is not None:
            new = Call(linkedid, at)
            self.calls[linkedid] = new
            out.append(CallStarted(at, linkedid, leg.uniqueid, leg.caller_num))
        from_linkedid = leg.linkedid
        leg.linkedid = linkedid
        new.legs[leg.uniqueid] = leg
        new.started_at = min(new.started_at, leg.created_at)
        emptied = False
        if old is not None:
            old.legs.pop(leg.uniqueid, None)
            if not old.legs:
                del self.calls[from_linkedid]
                emptied = True
        out.append(CallMerged(at, from_linkedid, linkedid, leg.uniqueid, emptied))
        return out

    def forget_ended(self, before: float) -> int:
        """Drop calls that ended before ``before`` (epoch s); returns how many were dropped."""
        gone = [lid for lid, c in self.calls.items() if c.ended_at is not None and c.ended_at < before]
        for lid in gone:
            for uid in self.calls.pop(lid).legs:
                self.legs.pop(uid, None)
        return len(gone)

    def _add_leg(self, at: float, uniqueid: str, linkedid: str, channel: str, caller_num: str = "",
                 caller_name: str = "", state: str = "") -> list[CallEvent]:
        if uniqueid in self.legs or not uniqueid:
            return []
        self._seq += 1
        leg = Leg(uniqueid, linkedid, channel, at, caller_num, caller_name, state, seq=self._seq)
        if state == "Up":
            leg.answered_at = at
        self.legs[uniqueid] = leg
        out: list[CallEvent] = []
        call = self.calls.get(linkedid)
        if call is None or call.ended_at is not None:
            call = Call(linkedid, at)
            self.calls[linkedid] = call
            out.append(CallStarted(at, linkedid, uniqueid, caller_num))
        call.legs[uniqueid] = leg
        out.append(LegAdded(at, linkedid, uniqueid, channel))
        return out

    def _end_leg(self, leg: Leg, at: float, cause: int, cause_text: str, reason: str) -> list[CallEvent]:
        if leg.ended_at is not None:
            return []
        leg.ended_at = at
        leg.cause = cause
        leg.cause_text = cause_text
        out: list[CallEvent] = [LegEnded(at, leg.linkedid, leg.uniqueid, cause, cause_text)]
        call = self.calls.get(leg.linkedid)
        if call is not None and call.ended_at is None and not call.active_legs:
            call.ended_at = at
            call.end_reason = reason
            out.append(CallEnded(at, call.linkedid, reason, max(0.0, at - call.started_at)))
        return out

    # -- handlers
    def _on_created(self, e: ev.ChannelCreated) -> list[CallEvent]:
        return self._add_leg(e.at, e.uniqueid, e.linkedid, e.channel, e.caller_num, e.caller_name, e.state)

    def _on_state(self, e: ev.ChannelStateChanged) -> list[CallEvent]:
        leg = self.legs.get(e.uniqueid)
        if leg is None:  # first sight of a leg we missed (connected mid-call)
            return self._add_leg(e.at, e.uniqueid, e.linkedid, e.channel, e.caller_num, e.caller_name, e.state)
        leg.state = e.state
        if e.state == "Up" and leg.answered_at is None:
            leg.answered_at = e.at
        return []

    def _on_callerid(self, e: ev.CallerIdChanged) -> list[CallEvent]:
        leg = self.legs.get(e.uniqueid)
        if leg is not None:
            leg.caller_num, leg.caller_name = e.caller_num, e.caller_name
        return []

    def _on_rename(self, e: ev.ChannelRenamed) -> list[CallEvent]:
        leg = self.legs.get(e.uniqueid)
        if leg is not None:
            leg.channel = e.new_channel
        return []

    def _on_bridge(self, e: ev.BridgeEntered) -> list[CallEvent]:
        leg = self.legs.get(e.uniqueid)
        if leg is not None:
            leg.bridge_id = e.bridge_id
        return []

    def _on_unbridge(self, e: ev.BridgeLeft) -> list[CallEvent]:
        leg = self.legs.get(e.uniqueid)
        if leg is not None and leg.bridge_id == e.bridge_id:
            leg.bridge_id = ""
        return []

    def _on_local(self, e: ev.LocalChannelsBridged) -> list[CallEvent]:
        one, two = self.legs.get(e.one_uniqueid), self.legs.get(e.two_uniqueid)
        if one is not None:
            one.local_peer = e.two_uniqueid
        if two is not None:
            two.local_peer = e.one_uniqueid
        return []

    def _on_hangup(self, e: ev.ChannelHungUp) -> list[CallEvent]:
        leg = self.legs.get(e.uniqueid)
        if leg is None:
            return []
        return self._end_leg(leg, e.at, e.cause, e.cause_text, "hangup")

    def _on_list_started(self, e: ev.ChannelListStarted) -> list[CallEvent]:
        self._resync_seq = self._seq
        self._listed = set()
        return []

    def _on_listed(self, e: ev.ChannelListed) -> list[CallEvent]:
        self._listed.add(e.uniqueid)
        leg = self.legs.get(e.uniqueid)
        if leg is not None:
            if leg.ended_at is None:
                leg.state = e.state or leg.state
                leg.channel = e.channel or leg.channel
                leg.bridge_id = e.bridge_id
            return []
        if self._resync_seq is None:  # a list we did not start: still learn the leg
            self._resync_seq = self._seq
        return self._add_leg(e.at - e.duration_s, e.uniqueid, e.linkedid, e.channel, e.caller_num,
                             e.caller_name, e.state)

    def _on_list_completed(self, e: ev.ChannelListCompleted) -> list[CallEvent]:
        cutoff = self._resync_seq if self._resync_seq is not None else self._seq
        out: list[CallEvent] = []
        for leg in list(self.legs.values()):
            if leg.ended_at is None and leg.seq <= cutoff and leg.uniqueid not in self._listed:
                out += self._end_leg(leg, e.at, CAUSE_LOST, "ended while AMI was disconnected", "lost")
        self._resync_seq = None
        self._listed = set()
        return out


# event class -> its handler (each takes that class of event)
_HANDLERS: dict[type[ev.DomainEvent], Callable[[CallModel, Any], list[CallEvent]]] = {
    ev.ChannelCreated: CallModel._on_created,
    ev.ChannelStateChanged: CallModel._on_state,
    ev.CallerIdChanged: CallModel._on_callerid,
    ev.ChannelRenamed: CallModel._on_rename,
    ev.BridgeEntered: CallModel._on_bridge,
    ev.BridgeLeft: CallModel._on_unbridge,
    ev.LocalChannelsBridged: CallModel._on_local,
    ev.ChannelHungUp: CallModel._on_hangup,
    ev.ChannelListStarted: CallModel._on_list_started,
    ev.ChannelListed: CallModel._on_listed,
    ev.ChannelListCompleted: CallModel._on_list_completed,
}
