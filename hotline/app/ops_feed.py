"""Feeds for the web layer from the other components: backlog gauges and the SLA panel.

* :class:`BacklogGauges` polls Redis every ``interval_s`` (in its own task, bounded calls)
  and caches ``outbox_depth`` (entries not yet delivered, all sinks: lag + pending),
  ``transcription_backlog`` (speech jobs not yet read + read and not acknowledged) and
  ``workers`` (consumers of the speech group seen active in the last ``active_s``), so
  ``/metrics`` reads numbers without any I/O (``web.providers.OpsGauges``).
* :class:`SlaPanel` serves the wallboard's work-order panel from the SLA monitor's cards
  (``ticketing.monitor.WorkOrderIndex.cards``; ``web.providers.WorkOrderSlaProvider``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hotline.kernel import redisutil
from hotline.kernel.background import BackgroundTask, periodically
from hotline.kernel.errors import HotlineError

log = logging.getLogger("hotline.ops")


class FeedUnavailable(HotlineError, ConnectionError):
    """A Redis call of a feed failed or timed out."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(f"ops feed: redis {operation} failed: {reason}")


def backlog_of_group(groups: Sequence[Mapping[str, Any]], group: str) -> int:
    """Entries of a stream not done by ``group``: never read (``lag``) plus read and not acknowledged
    (``pending``), from ``XINFO GROUPS``. A group Redis cannot give a lag for counts its pending only."""
    for g in groups:
        name = g.get("name")
        if (name.decode() if isinstance(name, bytes) else str(name)) == group:
            return int(g.get("lag") or 0) + int(g.get("pending") or 0)
    return 0


def active_consumers(consumers: Sequence[Mapping[str, Any]], active_s: float) -> int:
    """Consumers whose last attempt was within ``active_s`` seconds (``XINFO CONSUMERS`` ``inactive``
    or, before Redis 7.2, ``idle``, both in milliseconds)."""
    count = 0
    for c in consumers:
        ms = c.get("inactive", c.get("idle"))
        if ms is not None and 0 <= int(ms) <= active_s * 1000:
            count += 1
    return count


class BacklogGauges:
    """Cached backlog numbers for ``/metrics``.

    Args:
        redis_url: the service's Redis.
        outbox_streams: ``(stream key, group)`` of each outbox sink.
        speech_stream / speech_group: the transcription job stream and its worker group.
        interval_s: seconds between polls. active_s: a worker is counted if active this recently.
    """

    def __init__(self, redis_url: str, outbox_streams: Sequence[tuple[str, str]], speech_stream: str,
                 speech_group: str, interval_s: float = 5.0, active_s: float = 60.0,
                 call_timeout_s: float = 2.0) -> None:
        self.redis = redisutil.connect(redis_url, call_timeout_s)
        self.outbox_streams = tuple(outbox_streams)
        self.speech_stream, self.speech_group = speech_stream, speech_group
        self.interval_s, self.active_s, self.call_timeout_s = interval_s, active_s, call_timeout_s
        self.values: dict[str, float] = {}
        self._bg = BackgroundTask("ops-gauges")

    def gauges(self) -> Mapping[str, float]:
        return dict(self.values)

    async def _groups(self, stream: str) -> list[dict[str, Any]]:
        if not await redisutil.bounded("EXISTS", self.redis.exists(stream), self.call_timeout_s, FeedUnavailable):
            return []
        return await redisutil.bounded("XINFO GROUPS", self.redis.xinfo_groups(stream), self.call_timeout_s,
                                       FeedUnavailable)

    async def poll(self) -> dict[str, float]:
        """One poll; updates and returns the cached numbers. Raises FeedUnavailable."""
        depth = 0
        for stream, group in self.outbox_streams:
            depth += backlog_of_group(await self._groups(stream), group)
        backlog = backlog_of_group(await self._groups(self.speech_stream), self.speech_group)
        workers = 0
        if backlog or await self._groups(self.speech_stream):
            with contextlib.suppress(FeedUnavailable):
                consumers = await redisutil.bounded(
                    "XINFO CONSUMERS", self.redis.xinfo_consumers(self.speech_stream, self.speech_group),
                    self.call_timeout_s, FeedUnavailable)
                workers = active_consumers(consumers, self.active_s)
        self.values = {"outbox_depth": float(depth), "transcription_backlog": float(backlog),
                       "workers": float(workers)}
        return self.values

    async def _run(self) -> None:
        await periodically(self.poll, self.interval_s, self._bg.stopping, what="ops gauges",
                           expected=(FeedUnavailable,), warning="%s", logger=log)

    async def start(self) -> None:
        self._bg.start(self._run)

    async def stop(self) -> None:
        await self._bg.stop()
        await self.redis.aclose()


class SlaPanel:
    """The wallboard's work-order SLA panel from the SLA monitor's cards.

    Args:
        index: ``ticketing.monitor.WorkOrderIndex`` (its ``cards()`` are ``work_order.card`` payloads).
    """

    def __init__(self, index: Any) -> None:
        self.index = index

    async def sla_cards(self, now: float) -> list[Any]:
        from hotline.web.providers import SlaCard

        out = []
        for card in await self.index.cards():
            due = dt.datetime.fromisoformat(str(card["due"])).timestamp()
            out.append(SlaCard(ticket=str(card["work_order_id"]),
                               title=f"{card.get('call_type') or 'work order'} {card['work_order_id']}",
                               queue=str(card.get("queue") or ""), due_at=due, level=str(card["card"])))
        return out
