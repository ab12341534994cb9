"""/metrics backlog numbers polled from a real Redis: outbox depth, transcription backlog, workers."""

from __future__ import annotations

from hotline.app.ops_feed import BacklogGauges
from hotline.kernel.redisutil import connect
from tests.support.servers import ServerProcess


async def test_given_streams_with_unread_and_pending_entries_when_polled_then_the_gauges_count_them(
        redis_server: ServerProcess) -> None:
    redis = connect(redis_server.url)
    gauges = BacklogGauges(redis_server.url, [("g:outbox:rt", "rt")], "g:speech:jobs", "workers")
    try:
        for i in range(5):
            await redis.xadd("g:outbox:rt", {"n": i})
            await redis.xadd("g:speech:jobs", {"n": i})
        await redis.xgroup_create("g:outbox:rt", "rt", id="0")
        await redis.xgroup_create("g:speech:jobs", "workers", id="0")
        await redis.xreadgroup("rt", "c1", {"g:outbox:rt": ">"}, count=2)  # 2 pending, 3 unread
        await redis.xreadgroup("workers", "w1", {"g:speech:jobs": ">"}, count=1)
        got = await gauges.poll()
        assert got == {"outbox_depth": 5.0, "transcription_backlog": 5.0, "workers": 1.0}
        assert gauges.gauges() == got
        ids = [e[0] for _, entries in await redis.xreadgroup("rt", "c1", {"g:outbox:rt": "0"}) for e in entries]
        await redis.xack("g:outbox:rt", "rt", *ids)  # the 2 delivered: acknowledged
        assert (await gauges.poll())["outbox_depth"] == 3.0
    finally:
        await gauges.stop()
        await redis.aclose()
