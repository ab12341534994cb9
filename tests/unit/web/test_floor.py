"""The stand-alone floor: agent transitions, waiting calls, and a restart that keeps the day."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.queues.handover import QueueRequest
from hotline.queues.model import AgentStatus
from hotline.telephony.calls import LegEnded
from hotline.web.config import FloorConfig
from hotline.web.errors import Conflict, NotFound
from hotline.web.floor import StandaloneFloor, decode_event, encode_event

T0 = 1_767_232_800.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def _floor(tmp_path: Path, clock: Clock) -> StandaloneFloor:
    cfg = FloorConfig(first_agent=1271, last_agent=1280, events_log=tmp_path / "floor.jsonl")
    return StandaloneFloor(cfg, clock=clock)


async def test_given_logged_in_agent_when_paused_then_state_reason_and_since_change(tmp_path: Path) -> None:
    clock = Clock()
    floor = _floor(tmp_path, clock)
    await floor.agent_login("1272")
    clock.now += 5
    row = await floor.agent_pause("1272", "lunch")
    assert (row.status, row.reason, row.since_at) == (AgentStatus.NOT_READY, "lunch", T0 + 5)


async def test_given_logged_out_agent_when_paused_then_conflict_and_unknown_agent_not_found(tmp_path: Path) -> None:
    floor = _floor(tmp_path, Clock())
    with pytest.raises(Conflict):
        await floor.agent_pause("1272", "lunch")
    with pytest.raises(NotFound):
        await floor.agent_ready("999")


async def test_given_waiting_caller_when_leg_ends_then_abandoned_and_not_waiting(tmp_path: Path) -> None:
    clock = Clock()
    floor = _floor(tmp_path, clock)
    changes: list[int] = []
    floor.subscribe(lambda: changes.append(1))
    await floor.hand_over(QueueRequest("L1", "U1", "PJSIP/trunk-1", "13800138000", "commerce", at=T0))
    assert [w.linkedid for w in floor.waiting()] == ["L1"]
    floor.on_call_event(LegEnded(T0 + 30, "L1", "U1", 16, "Normal Clearing"))
    assert floor.waiting() == []
    day = floor.metrics.local_day(T0)
    c = floor.metrics.daily(day, "commerce")
    assert (c.offered, c.abandoned) == (1, 1)
    assert len(changes) == 2


async def test_given_day_logged_when_floor_restarts_then_counters_and_agent_states_are_replayed(tmp_path: Path) -> None:
    clock = Clock()
    floor = _floor(tmp_path, clock)
    await floor.start()
    await floor.agent_login("1273")
    await floor.agent_pause("1273", "training")
    await floor.agent_set_skills("1273", {"commerce": 5})
    await floor.hand_over(QueueRequest("L1", "U1", "c", "1", "commerce", at=T0))
    floor.answered("L1", "1272", T0 + 3)
    await floor.hand_over(QueueRequest("L2", "U2", "c", "1", "transport", at=T0 + 1))
    await floor.stop()

    again = _floor(tmp_path, clock)
    await again.start()
    row = next(a for a in again.agents() if a.agent_id == "1273")
    assert (row.status, row.reason, dict(row.skills)) == (AgentStatus.NOT_READY, "training", {"commerce": 5})
    day = again.metrics.local_day(T0)
    assert again.metrics.daily(day, "commerce").answered == 1
    assert [w.linkedid for w in again.waiting()] == ["L2"]
    assert again.reconcile(live_linkedids=[], at=T0 + 60) == 1
    assert again.waiting() == []
    await again.stop()


def test_given_logged_event_when_encoded_and_decoded_then_equal() -> None:
    from hotline.queues.events import AgentStateChanged, CallQueued

    for ev in (CallQueued("L", "U", "q", T0, frozenset({"a", "b"}), "zh", 2, True),
               AgentStateChanged("1272", AgentStatus.NOT_READY, T0, "lunch")):
        assert decode_event(encode_event(ev)) == ev
    assert decode_event({"type": "Nope"}) is None
