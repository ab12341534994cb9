"""``python -m hotline.sim.worker``: the demo's transcription worker in its own process, at low CPU priority.

Why a process of its own: run inside the service's process, the worker's result handling competed with
the service's event loop (AMI reads stalled 2-6 s once transcription started, Redis calls timed out and the
AMI connection was dropped for an unanswered Ping); at ``--nice`` the decoder processes it spawns inherit the
low priority, so Asterisk, SIPp and the service keep the CPU they need and the decoders take the rest.

It serves :func:`hotline.recording.worker.serve` (catalog + the announcement the ticketing component follows) until
SIGTERM/SIGINT, then prints ONE JSON line on stdout: ``{"done": <jobs>, "errors_logged": <records at ERROR
or above>, "errors": [first five]}``. Its log goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.samples: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.samples) < 5:
            self.samples.append(f"{record.levelname} {record.name}: {record.getMessage()[:200]}")


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, lower the priority, serve until a signal; exit 0 (1 when serving failed)."""
    p = argparse.ArgumentParser(prog="python -m hotline.sim.worker", description=__doc__.splitlines()[0])
    p.add_argument("--redis-url", required=True)
    p.add_argument("--catalog-url", required=True)
    p.add_argument("--model", required=True, help="Vosk model folder")
    p.add_argument("--stream", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--announce-hash", required=True, help="ticketing.work_orders.transcripts_hash")
    p.add_argument("--announce-stream", required=True, help="ticketing.work_orders.transcripts_stream")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--nice", type=int, default=10, help="added to this process's niceness (decoders inherit it)")
    a = p.parse_args(argv)
    os.nice(a.nice)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    from hotline.recording.worker import serve

    done, rc = 0, 0
    try:
        done = asyncio.run(serve(a.redis_url, a.catalog_url, a.model, stream=a.stream, group=a.group,
                                 processes=a.processes, announce_to=(a.announce_hash, a.announce_stream)))
    except Exception:
        logging.getLogger("hotline_lab.sim.worker").exception("transcription worker failed")
        rc = 1
    print(json.dumps({"done": done, "errors_logged": errors.count, "errors": errors.samples}), flush=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
