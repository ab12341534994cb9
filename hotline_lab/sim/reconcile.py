"""One outcome per simulated call, from two sources, and the check that the numbers add up.

Pure: plain data in, plain data out.

Source 1, per call (:func:`classify`): the simulator's view (:class:`hotline_lab.sim.runner.CallOutcome`:
SIPp started, the caller's trunk leg seen in the call model, bridged to an agent, hung up by the
simulator when patience ran out) joined with the IVR's session record of the caller's leg
(:class:`hotline.ivr.agi.SessionRecord`: ``outcome``, the ``node`` where the caller left, the ``path``).

Source 2, totals: the hotline's own counters (routing metrics, ``service.routing.report()``), mapped
in ONE place, :func:`from_routing`, which reads the per-day call outcome counters
(``report["calls"]``, see ``/work/notes/contract-outcomes.md``) when they exist, and the per-queue
counters (``report["by_queue"]``) always.

Outcomes (exactly one per placed call):

================ ===============================================================================
answered         handed to a queue, bridged to an agent
abandoned_queue  handed to a queue, the caller left before an agent answered (patience)
voicemail        the queue sent the caller to voicemail (routing's count; part of "left the queue")
callback         the caller accepted a callback (routing's count; part of "left the queue")
transferred      answered and transferred out (routing's count)
abandoned_ivr    the caller hung up inside the IVR (``caller_hung_up``), with the node
self_served      the IVR ended the call by design: a ``hangup`` node (after the work-order status, or
                 outside agent hours), or any hang-up after a self-service (``lookup``) node
failed           anything else, with a reason: never reached the service (SIPp exit code), the IVR
                 hung up, hand-over failed, an IVR error
================ ===============================================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

OUTCOMES = ("answered", "abandoned_queue", "voicemail", "callback", "transferred", "abandoned_ivr",
            "self_served", "failed")


class _Record(Protocol):  # ivr.agi.SessionRecord
    uniqueid: str
    linkedid: str
    node: str
    outcome: str
    reason: str
    path: tuple[str, ...]


class _Sim(Protocol):  # hotline.sim.runner.CallOutcome
    started_at: float
    uniqueid: str
    linkedid: str
    bridged_at: float | None
    abandoned_by_sim: bool
    exit_code: int | None


@dataclass(frozen=True, slots=True)
class CallResult:
    """One call's outcome.

    Attributes:
        outcome: one of :data:`OUTCOMES` (``voicemail``/``callback``/``transferred`` come only from
            routing's totals; per call they show as ``abandoned_queue``/``answered``).
        detail: the node (``abandoned_ivr``), the failure reason (``failed``), else "".
        aimed: the queue node the caller's keys aim at; ``reached``: the queue node the IVR handed
            the call to ("" when none).
        in_ivr: the IVR had a session for the call.
    """

    outcome: str
    detail: str
    aimed: str
    reached: str
    in_ivr: bool = True


def classify(sim: _Sim, record: _Record | None, aimed: str, self_service_nodes: Collection[str] = ()) -> CallResult:
    """The outcome of one placed call from the simulator's view and the IVR's record of its leg.

    Args:
        sim: the simulator's view of the call (``started_at`` > 0: SIPp was started).
        record: the IVR session record of the caller's leg, or None (the IVR never saw it).
        aimed: the queue node id the caller's keys aim at.
        self_service_nodes: node ids whose visit makes any IVR hang-up a self-service (``lookup`` nodes).
    """
    reached = ""
    if record is not None and record.outcome == "queued":
        reached = record.path[-1] if record.path else record.node
        if sim.bridged_at is not None:
            return CallResult("answered", "", aimed, reached)
        return CallResult("abandoned_queue", "", aimed, reached)
    if sim.bridged_at is not None:  # bridged without an IVR record: not this IVR's call
        return CallResult("failed", "bridged without an IVR session", aimed, reached, record is not None)
    if record is None:
        if not sim.uniqueid:
            code = "running" if sim.exit_code is None else str(sim.exit_code)
            return CallResult("failed", f"never reached the service (SIPp exit {code})", aimed, reached, False)
        return CallResult("failed", "reached Asterisk, no IVR session", aimed, reached, False)
    if record.outcome == "caller_hung_up":
        return CallResult("abandoned_ivr", record.node, aimed, reached)
    if record.outcome == "hung_up" and (record.reason == "hangup_node"
                                        or any(n in self_service_nodes for n in record.path)):
        return CallResult("self_served", record.node, aimed, reached)
    return CallResult("failed", f"IVR {record.outcome}: {record.reason} at {record.node}", aimed, reached)


@dataclass(slots=True)
class Outcomes:
    """Call outcome totals (the same fields whichever source filled them; see the module docstring)."""

    placed: int = 0
    reached_ivr: int = 0
    offered_queue: int = 0
    answered: int = 0
    abandoned_queue: int = 0
    voicemail: int = 0
    callbacks: int = 0
    transferred: int = 0
    abandoned_ivr: int = 0
    abandoned_ivr_by_node: dict[str, int] = field(default_factory=dict)
    self_served: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)

    def ended(self) -> int:
        """Sum of the outcomes (must equal ``placed``)."""
        return (self.answered + self.abandoned_queue + self.voicemail + self.callbacks + self.transferred
                + self.abandoned_ivr + self.self_served + self.failed)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tally(results: Iterable[CallResult], placed: int) -> Outcomes:
    """Totals of per-call results (the simulator + IVR source)."""
    o = Outcomes(placed=placed)
    by_node: Counter[str] = Counter()
    by_reason: Counter[str] = Counter()
    for r in results:
        if r.outcome == "answered":
            o.answered += 1
        elif r.outcome == "abandoned_queue":
            o.abandoned_queue += 1
        elif r.outcome == "abandoned_ivr":
            o.abandoned_ivr += 1
            by_node[r.detail] += 1
        elif r.outcome == "self_served":
            o.self_served += 1
        else:
            o.failed += 1
            by_reason[r.detail] += 1
        o.offered_queue += bool(r.reached)
        o.reached_ivr += r.in_ivr
    o.abandoned_ivr_by_node = dict(sorted(by_node.items()))
    o.failed_by_reason = dict(sorted(by_reason.items()))
    return o


def split_left_queue(o: Outcomes, routing: Outcomes | None) -> Outcomes:
    """Move routing's voicemail / callback counts out of the per-call ``abandoned_queue`` (the simulator
    cannot tell them apart: the caller leaves the queue either way). Returns a new :class:`Outcomes`."""
    out = Outcomes(**{**o.as_dict()})
    if routing is None:
        return out
    moved = min(out.abandoned_queue, routing.voicemail + routing.callbacks)
    vm = min(routing.voicemail, moved)
    out.voicemail, out.callbacks = vm, moved - vm
    out.abandoned_queue -= moved
    return out


def _get(obj: Any, name: str, default: Any = 0) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


_MISSING = object()


def _need(obj: Any, name: str) -> int:
    value = _get(obj, name, _MISSING)
    if value is _MISSING:
        raise KeyError(name)
    return int(value)


def from_routing(report: Mapping[str, Any]) -> tuple[Outcomes | None, Outcomes]:
    """THE one place that reads the routing report into outcome totals.

    Args:
        report: :meth:`hotline.queues.component.Routing.report`: ``by_queue`` {(day, queue): Counters} always;
            ``calls`` {day: CallOutcomes} once the hotline-level outcome counters exist (fields
            ``reached_ivr, in_ivr, abandoned_ivr, abandoned_ivr_by_node, self_served, failed,
            failed_by_reason, offered_queue, answered, abandoned_queue, abandoned_queue_short,
            callbacks, transferred, voicemail, waiting``, and ``direct``: offers that did not come through
            the IVR). Read defensively: any shape problem gives None.
    Returns:
        (hotline-level outcomes summed over days, or None when absent, with ``offered_queue`` = offers that
        came through the IVR (``offered_queue - direct``) and ``failed`` = the IVR's technical failures only;
        per-queue totals from ``by_queue``: offered_queue, answered, abandoned_queue, callbacks, voicemail,
        transferred; an overflowed call counts in each queue it entered).
    """
    queues = Outcomes()
    for counters in dict(report.get("by_queue") or {}).values():
        queues.offered_queue += int(_get(counters, "offered"))
        queues.answered += int(_get(counters, "answered"))
        queues.abandoned_queue += int(_get(counters, "abandoned"))
        queues.callbacks += int(_get(counters, "callbacks"))
        queues.voicemail += int(_get(counters, "voicemails"))
        queues.transferred += int(_get(counters, "transferred"))
    calls = report.get("calls")
    if not isinstance(calls, Mapping) or not calls:
        return None, queues
    try:
        total = Outcomes()
        by_node: Counter[str] = Counter()
        by_reason: Counter[str] = Counter()
        for day in calls.values():
            for name in ("reached_ivr", "offered_queue", "answered", "abandoned_queue", "callbacks", "transferred",
                         "voicemail", "abandoned_ivr", "self_served", "failed"):
                setattr(total, name, getattr(total, name) + _need(day, name))
            total.offered_queue -= int(_get(day, "direct", 0) or 0)
            by_node.update({str(k): int(v) for k, v in dict(_get(day, "abandoned_ivr_by_node", {}) or {}).items()})
            by_reason.update({str(k): int(v) for k, v in dict(_get(day, "failed_by_reason", {}) or {}).items()})
        total.abandoned_ivr_by_node = dict(sorted(by_node.items()))
        total.failed_by_reason = dict(sorted(by_reason.items()))
        return total, queues
    except (TypeError, ValueError, AttributeError, KeyError):
        return None, queues


def mismatches(calls: Outcomes, queues: Outcomes, hotline: Outcomes | None, *, recordings: int,
               transcripts: int, work_orders: int, work_orders_with_transcript: int, expected_work_orders: int,
               errors_logged: int, sinks: Mapping[str, Mapping[str, int]],
               expected_with_transcript: int | None = None, waits_missed: Iterable[str] = ()) -> list[str]:
    """Everything that does not add up, in words (empty: reconciled).

    Checks: placed = sum of outcomes; the IVR's hand-overs = routing's offers; answered, and calls that left
    the queue unanswered, agree between the simulator and routing; the hotline's own outcome counters (when
    present) equal the per-call ones for every outcome field; recordings = answered; transcripts =
    recordings (a transcript outcome, skipped included); one work order per call that should have one, each
    call transcribed with its transcript comment (``expected_with_transcript``); no ERROR logged; every sink
    reconciles (:func:`sink_mismatches`); no wait ran out of time.
    """
    out: list[str] = []

    def check(name: str, a: int, b: int) -> None:
        if a != b:
            out.append(f"{name}: {a} != {b}")

    check("placed = sum of outcomes", calls.placed, calls.ended())
    check("IVR hand-overs = routing offers", calls.offered_queue, queues.offered_queue)
    check("answered (simulator) = answered (routing)", calls.answered, queues.answered)
    check("left the queue unanswered (simulator) = routing abandoned+callbacks+voicemail",
          calls.abandoned_queue + calls.callbacks + calls.voicemail,
          queues.abandoned_queue + queues.callbacks + queues.voicemail)
    if hotline is not None:
        for name in ("reached_ivr", "offered_queue", "answered", "abandoned_queue", "abandoned_ivr", "self_served",
                     "callbacks", "transferred", "voicemail"):
            check(f"{name} (per call) = {name} (hotline counters)", getattr(calls, name), getattr(hotline, name))
        if calls.abandoned_ivr_by_node != hotline.abandoned_ivr_by_node:
            out.append(f"abandoned_ivr_by_node: {calls.abandoned_ivr_by_node} != {hotline.abandoned_ivr_by_node}")
    check("recordings = answered", recordings, calls.answered)
    check("transcripts = recordings", transcripts, recordings)
    check("work orders = calls that should have one", work_orders, expected_work_orders)
    check("work orders with transcript = calls transcribed", work_orders_with_transcript,
          expected_work_orders if expected_with_transcript is None else expected_with_transcript)
    check("errors logged", errors_logged, 0)
    out += sink_mismatches(sinks)
    out += [f"wait ran out: {w}" for w in waits_missed]
    return out


def sink_mismatches(sinks: Mapping[str, Mapping[str, int]]) -> list[str]:
    """What does not add up per outbox sink, in words (empty: every sink reconciles). Pure.

    ``sinks``: per sink name, the outbox's ``delivered`` / ``pending`` / ``dead`` (:func:`hotline.sim.sinks.
    outbox_counts`) and, for a sink the demo watches, its checker's ``received`` (valid events, duplicates
    included) and ``bad`` (refused: bad signature, schema). Mismatch: anything pending, dead or bad, or fewer
    events received than the outbox delivered (more is fine: at-least-once redelivers).
    """
    out: list[str] = []
    for sink, row in sorted(sinks.items()):
        for key in ("pending", "dead", "bad"):
            if row.get(key, 0):
                out.append(f"{sink} {key}: {row[key]}")
        if "received" in row and row["received"] < row.get("delivered", 0):
            out.append(f"{sink}: received {row['received']} < delivered {row.get('delivered', 0)}")
    return out
