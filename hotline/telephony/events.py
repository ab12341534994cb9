"""Normalised, typed domain events (past tense), made from AMI messages by ``translate``.

Every event carries ``at`` (epoch seconds: the AMI ``Timestamp`` header that
``timestampevents = yes`` adds, else the receive time). Channel events carry
``uniqueid`` (the leg) and ``linkedid`` (the call); channel *names* are informational
only (Asterisk renames channels), never keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Base of all domain events. ``at``: epoch seconds."""

    at: float


@dataclass(frozen=True, slots=True)
class LegEvent(DomainEvent):
    """An event about one channel (leg) of a call."""

    uniqueid: str
    linkedid: str
    channel: str


@dataclass(frozen=True, slots=True)
class ChannelCreated(LegEvent):
    """AMI ``Newchannel``: a leg exists. ``state``: ChannelStateDesc (``Down``, ``Ring`` ...)."""

    caller_num: str = ""
    caller_name: str = ""
    context: str = ""
    exten: str = ""
    state: str = ""


@dataclass(frozen=True, slots=True)
class ChannelStateChanged(LegEvent):
    """AMI ``Newstate``: ``state`` is ChannelStateDesc (``Ringing``, ``Up`` ...)."""

    state: str = ""
    caller_num: str = ""
    caller_name: str = ""


@dataclass(frozen=True, slots=True)
class CallerIdChanged(LegEvent):
    """AMI ``NewCallerid``."""

    caller_num: str = ""
    caller_name: str = ""


@dataclass(frozen=True, slots=True)
class DialplanEntered(LegEvent):
    """AMI ``Newexten``: the leg runs ``application(app_data)`` at context/exten/priority."""

    context: str = ""
    exten: str = ""
    priority: int = 0
    application: str = ""
    app_data: str = ""


@dataclass(frozen=True, slots=True)
class VariableSet(LegEvent):
    """AMI ``VarSet``: channel variable ``variable`` = ``value``."""

    variable: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class ChannelRenamed(LegEvent):
    """AMI ``Rename``: ``channel`` is the old name, ``new_channel`` the new one."""

    new_channel: str = ""


@dataclass(frozen=True, slots=True)
class DialStarted(LegEvent):
    """AMI ``DialBegin``: the leg (caller side, may be empty for Originate) dials ``dest_uniqueid``."""

    dest_uniqueid: str = ""
    dest_channel: str = ""
    dial_string: str = ""


@dataclass(frozen=True, slots=True)
class DialEnded(LegEvent):
    """AMI ``DialEnd``: ``status`` is ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL ..."""

    dest_uniqueid: str = ""
    dest_channel: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True)
class BridgeEntered(LegEvent):
    """AMI ``BridgeEnter``."""

    bridge_id: str = ""
    bridge_type: str = ""
    num_channels: int = 0


@dataclass(frozen=True, slots=True)
class BridgeLeft(LegEvent):
    """AMI ``BridgeLeave``."""

    bridge_id: str = ""
    num_channels: int = 0


@dataclass(frozen=True, slots=True)
class HoldStarted(LegEvent):
    """AMI ``Hold``."""


@dataclass(frozen=True, slots=True)
class HoldEnded(LegEvent):
    """AMI ``Unhold``."""


@dataclass(frozen=True, slots=True)
class DtmfReceived(LegEvent):
    """AMI ``DTMFEnd``: one digit; ``duration_ms`` as reported; ``direction`` Received/Sent."""

    digit: str = ""
    direction: str = ""
    duration_ms: int = 0


@dataclass(frozen=True, slots=True)
class ChannelHungUp(LegEvent):
    """AMI ``Hangup``: Q.850 ``cause`` (16 normal clearing, 17 busy, 19 no answer ...)."""

    cause: int = 0
    cause_text: str = ""


@dataclass(frozen=True, slots=True)
class LocalChannelsBridged(DomainEvent):
    """AMI ``LocalBridge``: the two halves (``;1`` and ``;2``) of one Local channel."""

    one_uniqueid: str
    two_uniqueid: str
    one_linkedid: str = ""
    two_linkedid: str = ""
    context: str = ""
    exten: str = ""


@dataclass(frozen=True, slots=True)
class AsyncAgiStarted(LegEvent):
    """AMI ``AsyncAGIStart``: ``env`` is the decoded AGI environment (agi_* -> value)."""

    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AsyncAgiExecuted(LegEvent):
    """AMI ``AsyncAGIExec``: the URL-decoded ``result`` of the command ``command_id``."""

    command_id: str = ""
    result: str = ""


@dataclass(frozen=True, slots=True)
class AsyncAgiEnded(LegEvent):
    """AMI ``AsyncAGIEnd``."""


@dataclass(frozen=True, slots=True)
class OriginateResponded(DomainEvent):
    """AMI ``OriginateResponse``.

    ``reason``: 0 failed, 1 hung up, 3 ringing timed out (no answer), 4 answered, 5 busy,
    8 congestion. ``uniqueid`` is None when Asterisk sends ``<null>`` (the call never had
    a channel): never key on it.
    """

    action_id: str
    response: str
    reason: int
    uniqueid: str | None
    channel: str = ""


@dataclass(frozen=True, slots=True)
class QueueCallerJoined(LegEvent):
    """AMI ``QueueCallerJoin`` (app_queue baseline)."""

    queue: str = ""
    position: int = 0


@dataclass(frozen=True, slots=True)
class QueueCallerLeft(LegEvent):
    """AMI ``QueueCallerLeave`` (app_queue baseline)."""

    queue: str = ""


@dataclass(frozen=True, slots=True)
class QueueCallerAbandoned(LegEvent):
    """AMI ``QueueCallerAbandon``: ``hold_s`` seconds waited before hanging up."""

    queue: str = ""
    hold_s: int = 0


@dataclass(frozen=True, slots=True)
class QueueAgentEvent(LegEvent):
    """AMI ``AgentCalled`` / ``AgentConnect`` / ``AgentComplete`` / ``AgentRingNoAnswer``.

    ``kind`` is the AMI event name; ``member`` the member's interface; ``hold_s``,
    ``talk_s``, ``ring_s`` as reported (0 when absent).
    """

    kind: str = ""
    queue: str = ""
    member: str = ""
    hold_s: int = 0
    talk_s: int = 0
    ring_s: int = 0


@dataclass(frozen=True, slots=True)
class QueueMemberChanged(DomainEvent):
    """AMI ``QueueMemberStatus`` / ``QueueMemberPause`` / ``QueueMemberAdded`` / ``...Removed``."""

    kind: str
    queue: str
    member: str
    status: int = 0
    paused: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class QueueParamsListed(DomainEvent):
    """AMI ``QueueParams`` (list item of QueueStatus): one app_queue queue's counters."""

    queue: str
    calls: int = 0
    completed: int = 0
    abandoned: int = 0
    holdtime_s: int = 0
    talktime_s: int = 0


@dataclass(frozen=True, slots=True)
class QueueMemberListed(DomainEvent):
    """AMI ``QueueMember`` (list item of QueueStatus). ``status``: AST_DEVICE_* code."""

    queue: str
    member: str
    name: str = ""
    status: int = 0
    paused: bool = False
    in_call: bool = False
    penalty: int = 0
    calls_taken: int = 0


@dataclass(frozen=True, slots=True)
class QueueEntryListed(LegEvent):
    """AMI ``QueueEntry`` (list item of QueueStatus): a caller waiting; ``wait_s`` so far."""

    queue: str = ""
    position: int = 0
    wait_s: int = 0


@dataclass(frozen=True, slots=True)
class QueueStatusCompleted(DomainEvent):
    """AMI ``QueueStatusComplete``: the QueueStatus snapshot is whole."""

    action_id: str


@dataclass(frozen=True, slots=True)
class MixMonitorChanged(LegEvent):
    """AMI ``MixMonitorStart`` / ``MixMonitorStop``."""

    started: bool = True


@dataclass(frozen=True, slots=True)
class UserEventReceived(DomainEvent):
    """AMI ``UserEvent``: ``name`` and its extra headers."""

    name: str
    uniqueid: str = ""
    linkedid: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AsteriskBooted(DomainEvent):
    """AMI ``FullyBooted``: sent after login once Asterisk is up (also after a restart)."""


@dataclass(frozen=True, slots=True)
class AsteriskShutDown(DomainEvent):
    """AMI ``Shutdown``: ``restart`` True when Asterisk said it will come back."""

    restart: bool = False


@dataclass(frozen=True, slots=True)
class ChannelListed(LegEvent):
    """AMI ``CoreShowChannel`` (list item of CoreShowChannels): a live leg at resync.

    ``duration_s``: seconds the channel has existed; ``state`` ChannelStateDesc.
    """

    state: str = ""
    caller_num: str = ""
    caller_name: str = ""
    duration_s: float = 0.0
    bridge_id: str = ""
    application: str = ""


@dataclass(frozen=True, slots=True)
class ChannelListStarted(DomainEvent):
    """The ``Success``/``EventList: start`` response to a CoreShowChannels action (resync begins)."""

    action_id: str


@dataclass(frozen=True, slots=True)
class ChannelListCompleted(DomainEvent):
    """AMI ``CoreShowChannelsComplete``: the resync snapshot is whole."""

    action_id: str
    count: int = 0


@dataclass(frozen=True, slots=True)
class AmiConnectionChanged(DomainEvent):
    """Not from Asterisk: hotline's AMI connection came up (``connected``) or was lost."""

    connected: bool
    reason: str = ""
