"""Backlog numbers from Redis XINFO replies, and SLA cards for the wallboard panel."""

from __future__ import annotations

import pytest

from hotline.app.ops_feed import SlaPanel, active_consumers, backlog_of_group


def test_backlog_is_lag_plus_pending_of_the_named_group() -> None:
    groups = [{"name": b"rt", "lag": 3, "pending": 2}, {"name": "mqtt", "lag": None, "pending": 4}]
    assert backlog_of_group(groups, "rt") == 5
    assert backlog_of_group(groups, "mqtt") == 4  # no lag known: pending only
    assert backlog_of_group(groups, "webhook") == 0


@pytest.mark.parametrize(
    ("consumers", "expected"),
    [
        ([{"inactive": 500}, {"inactive": 120_000}, {"idle": 30_000}], 2),
        ([{"inactive": -1}], 0),  # never attempted a read
        ([], 0),
    ],
)
def test_workers_are_consumers_active_in_the_last_minute(consumers, expected) -> None:
    assert active_consumers(consumers, active_s=60) == expected


class _Cards:
    def __init__(self, cards: list[dict]) -> None:
        self._cards = cards

    async def cards(self) -> list[dict]:
        return self._cards


async def test_sla_cards_carry_level_queue_and_due_time() -> None:
    panel = SlaPanel(_Cards([{"work_order_id": "L7", "card": "red", "queue": "housing_fund",
                              "call_type": "request", "due": "2025-10-14T10:00:00+08:00", "overdue_s": 60}]))
    (card,) = await panel.sla_cards(now=0)
    assert (card.ticket, card.level, card.queue) == ("L7", "red", "housing_fund")
    assert card.due_at == 1760407200.0 and "request" in card.title
