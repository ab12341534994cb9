"""Plain-JSON codec for routing events, facts and snapshots (pure: no I/O).

Used by the routing event log (one JSON object per record, replayed into
:mod:`hotline.queues.metrics`) and by the Redis store (the :class:`~hotline.queues.routing.RoutingSnapshot`).

Shapes: an event is ``{"type": "<class name>", <field>: <value>, ...}``; frozensets become sorted
lists, enums their value, an :class:`~hotline.queues.model.Agent` a nested object. Decoding is the exact
inverse (``decode_event(encode_event(e)) == e``); a record of a type since renamed (``CallEnded``, now
``AnsweredCallEnded``) still decodes.

Errors: :class:`CodecError` (a ``ValueError``) for an unknown type or a malformed record.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hotline.queues import events as qe
from hotline.queues.exceptions import QueuesError
from hotline.queues.model import Agent, AgentState, AgentStatus, WaitingCall
from hotline.queues.routing import RoutingSnapshot

__all__ = ["CodecError", "decode_event", "encode_event", "snapshot_from_json", "snapshot_to_json"]

_EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        qe.AgentLoggedIn, qe.AgentLoggedOut, qe.AgentReady, qe.AgentPaused, qe.WrapUpEnded,
        qe.AgentSkillsChanged, qe.CallQueued, qe.CallAbandoned, qe.CallAnswered, qe.OfferFailed,
        qe.AnsweredCallEnded, qe.CallTransferred, qe.CallbackRequested, qe.AgentStateChanged,
        qe.CallOverflowed, qe.CallSentToVoicemail, qe.IvrEntered, qe.IvrEnded,
    )
}
#: names older logs and snapshots used for a type since renamed (read, never written)
_LEGACY_TYPES: dict[str, type] = {"CallEnded": qe.AnsweredCallEnded}


class CodecError(QueuesError, ValueError):
    """A record that is not a known event or snapshot."""


def _agent_to_dict(a: Agent) -> dict[str, Any]:
    return {"id": a.id, "skills": dict(a.skills), "languages": sorted(a.languages), "groups": sorted(a.groups)}


def _agent_from_dict(d: dict[str, Any]) -> Agent:
    return Agent(d["id"], d.get("skills", {}), frozenset(d.get("languages", ())), frozenset(d.get("groups", ())))


def _plain(value: Any) -> Any:
    if isinstance(value, Agent):
        return _agent_to_dict(value)
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, AgentStatus):
        return value.value
    return value


def encode_event(event: object) -> dict[str, Any]:
    """A routing event or fact -> a JSON-able dict.

    Raises:
        CodecError: not one of :data:`hotline.queues.events.Event` / :data:`hotline.queues.events.Fact`.
    """
    name = type(event).__name__
    if _EVENT_TYPES.get(name) is not type(event):
        raise CodecError(f"not a routing event: {event!r}")
    out: dict[str, Any] = {"type": name}
    for f in dataclasses.fields(event):  # type: ignore[arg-type]
        out[f.name] = _plain(getattr(event, f.name))
    return out


def decode_event(data: dict[str, Any]) -> object:
    """The inverse of :func:`encode_event`.

    Raises:
        CodecError: unknown ``type`` or missing / unexpected fields.
    """
    name = str(data.get("type"))
    cls = _EVENT_TYPES.get(name) or _LEGACY_TYPES.get(name)
    if cls is None:
        raise CodecError(f"unknown event type {data.get('type')!r}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        ann = str(f.type)
        if f.name == "agent":
            value = _agent_from_dict(value)
        elif ann.startswith("frozenset"):
            value = frozenset(value)
        elif ann.startswith("tuple"):
            value = tuple(value)
        elif ann == "AgentStatus":
            value = AgentStatus(value)
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise CodecError(f"bad {cls.__name__} record: {exc}") from exc


def _state_to_dict(st: AgentState) -> dict[str, Any]:
    d = dataclasses.asdict(st)
    d["status"] = st.status.value
    return d


def _call_to_dict(c: WaitingCall) -> dict[str, Any]:
    d = dataclasses.asdict(c)
    d["skills"] = sorted(c.skills)
    return d


def snapshot_to_json(snapshot: RoutingSnapshot, extra: dict[str, Any] | None = None) -> str:
    """Serialise a snapshot (plus the adapter's ``extra`` per-call data) to one JSON string."""
    return json.dumps({
        "version": 1,
        "agent_states": [_state_to_dict(s) for s in snapshot.agent_states],
        "calls": [[_call_to_dict(c), offered_to] for c, offered_to in snapshot.calls],
        "callback_offered": sorted(snapshot.callback_offered),
        "recent_handle_s": [[q, list(t)] for q, t in snapshot.recent_handle_s],
        "seq": snapshot.seq,
        "extra": extra or {},
    }, ensure_ascii=False, separators=(",", ":"))


def snapshot_from_json(text: str | bytes) -> tuple[RoutingSnapshot, dict[str, Any]]:
    """The inverse of :func:`snapshot_to_json`: ``(snapshot, extra)``.

    Raises:
        CodecError: not a version-1 snapshot.
    """
    try:
        d = json.loads(text)
        if d.get("version") != 1:
            raise CodecError(f"unknown snapshot version {d.get('version')!r}")
        states = tuple(AgentState(**{**s, "status": AgentStatus(s["status"])}) for s in d["agent_states"])
        calls = tuple((WaitingCall(**{**c, "skills": frozenset(c["skills"])}), offered) for c, offered in d["calls"])
        snap = RoutingSnapshot(
            agent_states=states,
            calls=calls,
            callback_offered=frozenset(d.get("callback_offered", ())),
            recent_handle_s=tuple((q, tuple(t)) for q, t in d.get("recent_handle_s", ())),
            seq=int(d.get("seq", 0)),
        )
    except CodecError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise CodecError(f"malformed routing snapshot: {exc}") from exc
    return snap, dict(d.get("extra") or {})
