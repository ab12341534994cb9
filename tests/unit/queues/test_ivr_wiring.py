"""The routing component's IVR listener: session start/end -> logged, counted, replayable."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hotline.ivr.agi import SessionRecord, SessionStarted
from hotline.queues.component import Routing, ivr_event
from hotline.queues.dispatch import Dispatcher, RoutingChanged
from hotline.queues.events import IvrEnded, IvrEntered
from hotline.queues.metrics import replay
from hotline.telephony.ami import AmiClient
from hotline.telephony.settings import AmiConfig
from hotline.telephony.tracker import CallTracker

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=TZ).timestamp()


def record(lid: str, outcome: str, reason: str, node: str = "main") -> SessionRecord:
    return SessionRecord(uniqueid="u" + lid, linkedid=lid, caller_num="13800138000", menu_id="m",
                         path=("language", node), node=node, outcome=outcome, reason=reason, language="zh",
                         commands=4, started_at=T0, ended_at=T0 + 12)


class _Log:
    def __init__(self) -> None:
        self.events: list[object] = []

    def append(self, event: object) -> None:
        self.events.append(event)


def _dispatcher() -> Dispatcher:
    """A real dispatcher, not started (no AMI connection, no Redis), with an in-memory event log."""
    ami = AmiClient(AmiConfig())
    return Dispatcher(ami, CallTracker(ami, live=False), [], [], event_log=_Log())  # type: ignore[arg-type]


def test_session_start_and_end_become_statistics_events() -> None:
    assert ivr_event(SessionStarted("u1", "L1", T0)) == IvrEntered("L1", "u1", T0)
    ev = ivr_event(record("L1", "error", "RuntimeError: boom"))
    assert ev == IvrEnded("L1", "uL1", "failed", "main", ("language", "main"), "error", T0 + 12,
                          "RuntimeError: boom")
    bye = ivr_event(record("L2", "caller_hung_up", "caller_hung_up", node="bye"), lambda m, n: "hangup")
    assert isinstance(bye, IvrEnded) and bye.outcome == "self_served"


def test_given_an_ivr_abandon_then_it_is_logged_counted_and_replayed_alike() -> None:
    d = _dispatcher()
    changes: list[RoutingChanged] = []
    d.subscribe_changed(changes.append)
    routing = Routing(d, None, [])
    routing.ivr_session(SessionStarted("uL1", "L1", T0))
    assert d.metrics.calls(d.metrics.local_day(T0)).in_ivr == 1
    routing.ivr_session(record("L1", "caller_hung_up", "caller_hung_up"))
    day = d.metrics.local_day(T0)
    co = d.metrics.calls(day)
    assert (co.reached_ivr, co.abandoned_ivr, co.abandoned_ivr_by_node, co.in_ivr) == (1, 1, {"main": 1}, 0)
    assert replay(d.event_log.events).report(T0 + 60) == d.metrics.report(T0 + 60)  # type: ignore[union-attr]
    assert [c.events_applied for c in changes] == [1, 2]  # one change notification per session start / end
