"""AMI ingest throughput: panoramisk's own protocol + Manager dispatch vs hotline's pipeline.

Both sides get the same bytes: a real AMI stream recorded from the lab Asterisk
(``bench/data/ami_trace.amilog``, made by ``bench/record_ami_trace.py``: Newchannel,
Newexten, VarSet, DialBegin, BridgeEnter, Hangup, Queue*/Agent* events ...), cut into
the same 4 KiB reads, repeated until each side has handled ``--events`` events.

* panoramisk 1.4: ``AMIProtocol.data_received`` (its framing and ``Message``
  parsing) -> ``Manager.dispatch`` to one synchronous callback per event (the
  cheapest subscriber panoramisk allows).
* hotline: ``AmiClient.ingest`` -> byte framing -> event log off -> the ordered pump
  task -> ``translate`` -> ``CallTracker`` -> ``CallModel.apply`` (a fresh model per
  pass of the trace), i.e. the live path, asyncio queue included. Frames are parsed
  lazily and the default service translates ``DEFAULT_EVENTS`` (all but VarSet and
  Newexten, which are delivered raw); ``hotline-all`` translates every known event,
  reported as ``hotline_all_events_eps`` / ``ratio_all_events``.

Runs alternate (panoramisk, hotline, panoramisk, ...) ``--repeat`` times; the best
run of each counts. The last line is one JSON object:
``{"panoramisk_eps": ..., "hotline_eps": ..., "ratio": ...}`` (events per second on one core).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline.app.config import AmiConfig  # noqa: E402
from hotline.telephony.ami import AmiClient  # noqa: E402
from hotline.telephony.eventlog import iter_records  # noqa: E402
from hotline.telephony.tracker import CallTracker  # noqa: E402
from hotline.telephony.translate import ALL_EVENTS, DEFAULT_EVENTS  # noqa: E402

CHUNK = 4096


def load_stream(path: Path) -> tuple[bytes, int]:
    """The trace as one AMI byte stream (frames + blank lines) and its number of events."""
    frames = [raw for _, raw in iter_records(path.read_bytes()) if not raw.startswith(b"Asterisk Call Manager/")]
    stream = b"".join(raw + b"\r\n\r\n" for raw in frames)
    events = sum(1 for raw in frames if raw.startswith(b"Event:"))
    return stream, events


def chunks(stream: bytes) -> list[bytes]:
    return [stream[i:i + CHUNK] for i in range(0, len(stream), CHUNK)]


class _NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


async def run_panoramisk(parts: list[bytes], passes: int) -> tuple[int, float]:
    from panoramisk.ami_protocol import AMIProtocol
    from panoramisk.manager import Manager

    manager = Manager(loop=asyncio.get_running_loop())
    manager.callbacks.clear()
    manager.patterns.clear()
    seen = 0

    def on_event(_manager: object, _event: object) -> None:
        nonlocal seen
        seen += 1

    manager.register_event("*", on_event)
    t0 = time.perf_counter()
    for _ in range(passes):
        proto = AMIProtocol()
        proto.connection_made(_NullTransport())
        proto.factory = manager
        proto.encoding = "utf8"
        for part in parts:
            proto.data_received(part)
    elapsed = time.perf_counter() - t0
    return seen, elapsed


async def run_hotline(parts: list[bytes], passes: int, events: frozenset[str] = DEFAULT_EVENTS) -> tuple[int, float]:
    seen = 0
    client = AmiClient(AmiConfig(), events=events)
    tracker = CallTracker(client, live=False)

    def on_event(_msg: object, event: object) -> None:
        nonlocal seen
        if _msg is not None and getattr(_msg, "kind", "") == "event":
            seen += 1

    client.subscribe(on_event)
    await client.start(connect=False)
    t0 = time.perf_counter()
    for _ in range(passes):
        tracker.model = type(tracker.model)()
        client._framer.reset(expect_greeting=False)
        for part in parts:
            client.ingest(part)
            await asyncio.sleep(0)  # let the pump run, as it would between socket reads
        await client.drain(timeout=600)
    elapsed = time.perf_counter() - t0
    await client.stop(drain_timeout=1)
    return seen, elapsed


def main() -> int:
    p = argparse.ArgumentParser(description="AMI ingest: panoramisk vs hotline")
    p.add_argument("--trace", type=Path, default=ROOT / "bench" / "data" / "ami_trace.amilog")
    p.add_argument("--events", type=int, default=200_000, help="events per side per run")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    logging.disable(logging.WARNING)
    stream, per_pass = load_stream(args.trace)
    parts = chunks(stream)
    passes = max(1, args.events // per_pass)
    best: dict[str, float] = {"panoramisk": 0.0, "hotline": 0.0, "hotline-all": 0.0}
    runs = (("panoramisk", run_panoramisk, ()), ("hotline", run_hotline, ()),
            ("hotline-all", run_hotline, (ALL_EVENTS,)))
    for i in range(args.repeat):
        for name, fn, extra in runs:
            n, secs = asyncio.run(fn(parts, passes, *extra))
            eps = n / secs
            best[name] = max(best[name], eps)
            print(f"run {i + 1} {name:10} {n:8d} events in {secs:6.3f}s = {eps:10.0f} events/s", flush=True)
    result = {
        "panoramisk_eps": round(best["panoramisk"]),
        "hotline_eps": round(best["hotline"]),
        "ratio": round(best["hotline"] / best["panoramisk"], 3),
        "hotline_all_events_eps": round(best["hotline-all"]),
        "ratio_all_events": round(best["hotline-all"] / best["panoramisk"], 3),
        "events_per_run": passes * per_pass,
        "trace_bytes": len(stream),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
