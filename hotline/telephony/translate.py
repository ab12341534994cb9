"""AMI message -> domain event. Pure: one table of small functions, no I/O.

Header names are those of Asterisk 12+ (checked against Asterisk 22's AMI). Unknown
events translate to ``None``; the raw message still reaches subscribers and the event log.
A malformed value (``Cause: abc``) becomes a default, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from hotline.telephony import events as ev
from hotline.telephony.frames import AmiMessage

#: ActionIDs hotline sends end with ``.<ActionName>``, so a response can be recognised in
#: a replayed log without the action that asked for it.
CORE_SHOW_CHANNELS_SUFFIX = ".CoreShowChannels"


def event_time(msg: AmiMessage) -> float:
    """Epoch seconds of a message: its ``Timestamp`` header, else when it was received."""
    ts = msg.headers.get("Timestamp")
    if ts is not None and not isinstance(ts, list):
        try:
            return float(ts)
        except ValueError:
            pass
    return msg.received_at


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _float(value: str, default: float = 0.0) -> float:
    try:
        return float(value)
    except ValueError:
        return default


def duration_s(value: str) -> float:
    """``Duration`` of CoreShowChannel, ``HH:MM:SS`` (Asterisk 12+) or plain seconds, -> seconds."""
    if ":" in value:
        total = 0.0
        for part in value.split(":"):
            total = total * 60 + _float(part)
        return total
    return _float(value)


def _leg(msg: AmiMessage) -> tuple[float, str, str, str]:
    t = msg.text
    uid = t("Uniqueid")
    return event_time(msg), uid, t("Linkedid") or uid, t("Channel")


def _newchannel(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.ChannelCreated(*_leg(m), caller_num=t("CallerIDNum"), caller_name=t("CallerIDName"),
                             context=t("Context"), exten=t("Exten"), state=t("ChannelStateDesc"))


def _newstate(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.ChannelStateChanged(*_leg(m), state=t("ChannelStateDesc"), caller_num=t("CallerIDNum"),
                                  caller_name=t("CallerIDName"))


def _newcallerid(m: AmiMessage) -> ev.DomainEvent:
    return ev.CallerIdChanged(*_leg(m), caller_num=m.text("CallerIDNum"), caller_name=m.text("CallerIDName"))


def _newexten(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.DialplanEntered(*_leg(m), context=t("Context"), exten=t("Exten"), priority=_int(t("Priority")),
                              application=t("Application"), app_data=t("AppData"))


def _varset(m: AmiMessage) -> ev.DomainEvent:
    return ev.VariableSet(*_leg(m), variable=m.text("Variable"), value=m.text("Value"))


def _rename(m: AmiMessage) -> ev.DomainEvent:
    return ev.ChannelRenamed(*_leg(m), new_channel=m.text("Newname"))


def _dest(m: AmiMessage) -> tuple[str, str]:
    return m.text("DestUniqueid"), m.text("DestChannel")


def _dialbegin(m: AmiMessage) -> ev.DomainEvent:
    at, uid, lid, chan = _leg(m)
    dest_uid, dest_chan = _dest(m)
    if not uid:  # Originate: no caller side; the call is the destination's
        lid = m.text("DestLinkedid") or dest_uid
    return ev.DialStarted(at, uid, lid, chan, dest_uniqueid=dest_uid, dest_channel=dest_chan,
                          dial_string=m.text("DialString"))


def _dialend(m: AmiMessage) -> ev.DomainEvent:
    at, uid, lid, chan = _leg(m)
    dest_uid, dest_chan = _dest(m)
    if not uid:
        lid = m.text("DestLinkedid") or dest_uid
    return ev.DialEnded(at, uid, lid, chan, dest_uniqueid=dest_uid, dest_channel=dest_chan,
                        status=m.text("DialStatus"))


def _bridgeenter(m: AmiMessage) -> ev.DomainEvent:
    return ev.BridgeEntered(*_leg(m), bridge_id=m.text("BridgeUniqueid"), bridge_type=m.text("BridgeType"),
                            num_channels=_int(m.text("BridgeNumChannels")))


def _bridgeleave(m: AmiMessage) -> ev.DomainEvent:
    return ev.BridgeLeft(*_leg(m), bridge_id=m.text("BridgeUniqueid"),
                         num_channels=_int(m.text("BridgeNumChannels")))


def _hold(m: AmiMessage) -> ev.DomainEvent:
    return ev.HoldStarted(*_leg(m))


def _unhold(m: AmiMessage) -> ev.DomainEvent:
    return ev.HoldEnded(*_leg(m))


def _dtmfend(m: AmiMessage) -> ev.DomainEvent:
    return ev.DtmfReceived(*_leg(m), digit=m.text("Digit"), direction=m.text("Direction"),
                           duration_ms=_int(m.text("DurationMs")))


def _hangup(m: AmiMessage) -> ev.DomainEvent:
    return ev.ChannelHungUp(*_leg(m), cause=_int(m.text("Cause")), cause_text=m.text("Cause-txt"))


def _localbridge(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.LocalChannelsBridged(event_time(m), t("LocalOneUniqueid"), t("LocalTwoUniqueid"),
                                   t("LocalOneLinkedid"), t("LocalTwoLinkedid"), t("Context"), t("Exten"))


def parse_agi_env(encoded: str) -> dict[str, str]:
    """Decode the URL-encoded ``Env`` of AsyncAGIStart into ``{"agi_channel": ..., ...}``."""
    env: dict[str, str] = {}
    for line in unquote(encoded).splitlines():
        key, sep, value = line.partition(": ")
        if sep:
            env[key.strip()] = value.strip()
    return env


def _agistart(m: AmiMessage) -> ev.DomainEvent:
    return ev.AsyncAgiStarted(*_leg(m), env=parse_agi_env(m.text("Env")))


def _agiexec(m: AmiMessage) -> ev.DomainEvent:
    return ev.AsyncAgiExecuted(*_leg(m), command_id=m.text("CommandID"), result=unquote(m.text("Result")).strip())


def _agiend(m: AmiMessage) -> ev.DomainEvent:
    return ev.AsyncAgiEnded(*_leg(m))


def _originate(m: AmiMessage) -> ev.DomainEvent:
    uid = m.text("Uniqueid")
    return ev.OriginateResponded(event_time(m), m.text("ActionID"), m.text("Response"),
                                 _int(m.text("Reason"), -1), None if uid in ("", "<null>") else uid,
                                 m.text("Channel"))


def _queue_join(m: AmiMessage) -> ev.DomainEvent:
    return ev.QueueCallerJoined(*_leg(m), queue=m.text("Queue"), position=_int(m.text("Position")))


def _queue_leave(m: AmiMessage) -> ev.DomainEvent:
    return ev.QueueCallerLeft(*_leg(m), queue=m.text("Queue"))


def _queue_abandon(m: AmiMessage) -> ev.DomainEvent:
    return ev.QueueCallerAbandoned(*_leg(m), queue=m.text("Queue"), hold_s=_int(m.text("HoldTime")))


def _agent(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.QueueAgentEvent(*_leg(m), kind=t("Event"), queue=t("Queue"), member=t("Interface"),
                              hold_s=_int(t("HoldTime")), talk_s=_int(t("TalkTime")),
                              ring_s=_int(t("RingTime")))


def _member(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.QueueMemberChanged(event_time(m), t("Event"), t("Queue"), t("Interface"),
                                 status=_int(t("Status")), paused=t("Paused") == "1",
                                 reason=t("PausedReason") or t("Reason"))


def _mixmonitor_start(m: AmiMessage) -> ev.DomainEvent:
    return ev.MixMonitorChanged(*_leg(m), started=True)


def _mixmonitor_stop(m: AmiMessage) -> ev.DomainEvent:
    return ev.MixMonitorChanged(*_leg(m), started=False)


_USER_SKIP = frozenset({"Event", "Privilege", "UserEvent", "Uniqueid", "Linkedid", "Timestamp"})


def _userevent(m: AmiMessage) -> ev.DomainEvent:
    extra = {k: (v[-1] if isinstance(v, list) else v) for k, v in m.headers.items() if k not in _USER_SKIP}
    return ev.UserEventReceived(event_time(m), m.text("UserEvent"), m.text("Uniqueid"), m.text("Linkedid"), extra)


def _booted(m: AmiMessage) -> ev.DomainEvent:
    return ev.AsteriskBooted(event_time(m))


def _shutdown(m: AmiMessage) -> ev.DomainEvent:
    return ev.AsteriskShutDown(event_time(m), restart=m.text("Restart").lower() in ("true", "yes", "1"))


def _coreshowchannel(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.ChannelListed(*_leg(m), state=t("ChannelStateDesc"), caller_num=t("CallerIDNum"),
                            caller_name=t("CallerIDName"), duration_s=duration_s(t("Duration")),
                            bridge_id=t("BridgeId"), application=t("Application"))


def _coreshowchannels_complete(m: AmiMessage) -> ev.DomainEvent:
    return ev.ChannelListCompleted(event_time(m), m.text("ActionID"), _int(m.text("ListItems")))


def _queueparams(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.QueueParamsListed(event_time(m), t("Queue"), calls=_int(t("Calls")), completed=_int(t("Completed")),
                                abandoned=_int(t("Abandoned")), holdtime_s=_int(t("Holdtime")),
                                talktime_s=_int(t("TalkTime")))


def _queuemember(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.QueueMemberListed(event_time(m), t("Queue"), t("StateInterface") or t("Location"), name=t("Name"),
                                status=_int(t("Status")), paused=t("Paused") == "1", in_call=t("InCall") == "1",
                                penalty=_int(t("Penalty")), calls_taken=_int(t("CallsTaken")))


def _queueentry(m: AmiMessage) -> ev.DomainEvent:
    t = m.text
    return ev.QueueEntryListed(*_leg(m), queue=t("Queue"), position=_int(t("Position")), wait_s=_int(t("Wait")))


def _queuestatus_complete(m: AmiMessage) -> ev.DomainEvent:
    return ev.QueueStatusCompleted(event_time(m), m.text("ActionID"))


TRANSLATORS: dict[str, Callable[[AmiMessage], ev.DomainEvent]] = {
    "QueueParams": _queueparams,
    "QueueMember": _queuemember,
    "QueueEntry": _queueentry,
    "QueueStatusComplete": _queuestatus_complete,
    "Newchannel": _newchannel,
    "Newstate": _newstate,
    "NewCallerid": _newcallerid,
    "Newexten": _newexten,
    "VarSet": _varset,
    "Rename": _rename,
    "DialBegin": _dialbegin,
    "DialEnd": _dialend,
    "BridgeEnter": _bridgeenter,
    "BridgeLeave": _bridgeleave,
    "Hold": _hold,
    "Unhold": _unhold,
    "DTMFEnd": _dtmfend,
    "Hangup": _hangup,
    "LocalBridge": _localbridge,
    "AsyncAGIStart": _agistart,
    "AsyncAGIExec": _agiexec,
    "AsyncAGIEnd": _agiend,
    "OriginateResponse": _originate,
    "QueueCallerJoin": _queue_join,
    "QueueCallerLeave": _queue_leave,
    "QueueCallerAbandon": _queue_abandon,
    "AgentCalled": _agent,
    "AgentConnect": _agent,
    "AgentComplete": _agent,
    "AgentRingNoAnswer": _agent,
    "QueueMemberStatus": _member,
    "QueueMemberPause": _member,
    "QueueMemberAdded": _member,
    "QueueMemberRemoved": _member,
    "MixMonitorStart": _mixmonitor_start,
    "MixMonitorStop": _mixmonitor_stop,
    "UserEvent": _userevent,
    "FullyBooted": _booted,
    "Shutdown": _shutdown,
    "CoreShowChannel": _coreshowchannel,
    "CoreShowChannelsComplete": _coreshowchannels_complete,
}


#: every AMI event hotline can translate
ALL_EVENTS: frozenset[str] = frozenset(TRANSLATORS)
#: what the service translates by default: everything its components consume. VarSet and
#: Newexten (half of a busy PBX's AMI traffic) are still framed, logged and delivered raw,
#: but not parsed unless a subscriber reads them; pass ``ALL_EVENTS`` to translate them too.
DEFAULT_EVENTS: frozenset[str] = ALL_EVENTS - {"VarSet", "Newexten"}


def translate(msg: AmiMessage, names: frozenset[str] = DEFAULT_EVENTS) -> ev.DomainEvent | None:
    """The domain event for an AMI message, or None if hotline does not model it.

    Args:
        names: the AMI event names to translate (default :data:`DEFAULT_EVENTS`).

    Responses translate only where they mark something in the event stream: the
    ``EventList: start`` response to a hotline ``CoreShowChannels`` (resync begins).
    """
    kind = msg.kind
    if kind == "event":
        name = msg.name
        if name not in names:
            return None
        fn = TRANSLATORS.get(name)
        return fn(msg) if fn is not None else None
    if kind == "response":
        headers = msg.headers
        if headers.get("EventList") == "start" and str(headers.get("ActionID", "")).endswith(
            CORE_SHOW_CHANNELS_SUFFIX
        ):
            return ev.ChannelListStarted(event_time(msg), msg.action_id)
    return None
