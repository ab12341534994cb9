"""A transcription worker whose outcomes go into the catalog (exactly once per job id).

The same :class:`hotline.speech.worker.TranscriptionWorker` as ``python -m speech.worker`` (Redis Stream
consumer group, XAUTOCLAIM of a dead worker's jobs, decoder process pool), with
:class:`hotline.recording.catalog.Catalog` as its :class:`hotline.speech.store.TranscriptSink` instead of the
interim Redis hash. Run as ``hotline speech worker`` or ``python -m recording.worker``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from hotline.kernel.stopsignal import stop_on_signals
from hotline.recording.catalog import Catalog
from hotline.speech.jobs import DEFAULT_GROUP, DEFAULT_STREAM, JobOutcome
from hotline.speech.store import RedisTranscriptSink, connect
from hotline.speech.worker import WorkerSettings, default_consumer_name, serve_into

log = logging.getLogger("hotline.recording.worker")


class CatalogAndAnnounce:
    """The catalog as the sink of record, and every outcome announced on the Redis transcripts
    stream (``speech.store.RedisTranscriptSink``) for the ticketing component (RT comments).

    The announcement is made even when the catalog already had the outcome (a redelivered job
    whose first worker died after the catalog write), and is itself idempotent by job id, so a
    transcript reaches RT once whatever fails in between.
    """

    def __init__(self, catalog: Catalog, announce: RedisTranscriptSink) -> None:
        self.catalog = catalog
        self.announce = announce

    async def put(self, outcome: JobOutcome) -> bool:
        stored = await self.catalog.put(outcome)
        await self.announce.put(outcome)
        return stored

    async def has(self, job_id: str) -> bool:
        return await self.catalog.has(job_id) and await self.announce.has(job_id)


async def serve(
    redis_url: str,
    catalog_url: str,
    model_path: str | Path,
    *,
    stream: str = DEFAULT_STREAM,
    group: str = DEFAULT_GROUP,
    processes: int = 1,
    settings: WorkerSettings | None = None,
    stop: asyncio.Event | None = None,
    upgrade: bool = True,
    announce_to: tuple[str, str] | None = None,
) -> int:
    """Serve jobs into the catalog until ``stop`` is set (or SIGTERM/SIGINT when none is given).

    Args:
        announce_to: ``(results_hash, events_stream)``: also announce each outcome there (what the
            ticketing component follows to put transcripts on work orders); None: catalog only.
    Returns:
        Jobs completed.
    Raises:
        ModelNotFound: the model folder is not a Vosk model.
        MigrationFailed / FullTextUnsupported: the catalog schema could not be brought up to date.
    """
    settings = settings or WorkerSettings(consumer=default_consumer_name())
    redis = connect(redis_url, block_ms=settings.block_ms)
    catalog = Catalog(catalog_url)
    try:
        with stop_on_signals(stop) as stopping:
            if upgrade:
                await catalog.upgrade()
            sink = (CatalogAndAnnounce(catalog, RedisTranscriptSink(redis, *announce_to)) if announce_to
                    else catalog)
            return await serve_into(sink, redis, stream, group, model_path, processes, settings, stopping,
                                    into=" -> catalog")
    finally:
        await catalog.close()
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    """``python -m recording.worker``: the catalog-backed worker (for tests and benches)."""
    p = argparse.ArgumentParser(prog="python -m recording.worker", description=__doc__.splitlines()[0])
    p.add_argument("--redis-url", required=True)
    p.add_argument("--catalog-url", required=True)
    p.add_argument("--model", required=True, help="Vosk model folder")
    p.add_argument("--stream", default=DEFAULT_STREAM)
    p.add_argument("--group", default=DEFAULT_GROUP)
    p.add_argument("--consumer", default=None)
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--visibility-timeout", type=float, default=60.0, help="seconds")
    p.add_argument("--reclaim-interval", type=float, default=10.0, help="seconds")
    p.add_argument("--block-ms", type=int, default=2000)
    p.add_argument("--log-level", default="INFO")
    a = p.parse_args(argv)
    logging.basicConfig(level=a.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = WorkerSettings(
        consumer=a.consumer or default_consumer_name(), visibility_timeout_s=a.visibility_timeout,
        reclaim_interval_s=a.reclaim_interval, block_ms=a.block_ms,
    )
    done = asyncio.run(serve(a.redis_url, a.catalog_url, a.model, stream=a.stream, group=a.group,
                             processes=a.processes, settings=settings))
    log.info("worker %s stopped after %d job(s)", settings.consumer, done)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
