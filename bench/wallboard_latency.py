"""Wallboard latency: AMI event received -> WebSocket frame at each connected client.

Pipeline measured (all real code, one process): bytes handed to ``AmiClient.ingest`` (as if read from
the AMI socket: framing, the ordered pump, translation) -> ``CallTracker`` (call model: ``LegEnded``)
-> ``StandaloneFloor`` (``CallAbandoned`` into the metrics core) -> ``WallboardHub`` (board built,
JSON once) -> the aiohttp WebSocket of each of ``--clients`` clients (aiohttp clients in the same
process, so the figure includes their receive work too). Each round a waiting caller hangs up; the
latency of a client is the time from ``ingest`` of the ``Hangup`` to the client receiving the first
frame showing the lower waiting count. Rounds are ``--gap`` seconds apart, so the push coalescing
interval (``push_min_interval_s``, 50 ms) does not delay them.

Prints one JSON object on the last line: ``p50_ms``, ``p95_ms``, ``max_ms``, ``clients``, ``rounds``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.app.config import AmiConfig
from hotline.queues.handover import QueueRequest
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline.web.component import WebComponent
from hotline.web.config import FloorConfig, WebConfig
from hotline.web.users import add_user


def frame(event: str, uid: str, lid: str, extra: str = "") -> bytes:
    return (f"Event: {event}\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-{uid[-8:]}\r\nChannelStateDesc: Up\r\n"
            f"CallerIDNum: 13800138000\r\nUniqueid: {uid}\r\nLinkedid: {lid}\r\n{extra}\r\n").encode()


async def run(clients: int, rounds: int, gap_s: float) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="wallboard-bench-"))
    users = tmp / "users.yaml"
    add_user(users, "bench", "supervisor", "bench-password")
    cfg = WebConfig(users_file=users, secret_file=tmp / "key", audit_log=tmp / "audit.jsonl",
                    floor=FloorConfig(events_log=tmp / "floor.jsonl"))
    ami = AmiClient(AmiConfig())
    tracker = CallTracker(ami, live=False)
    comp = WebComponent(cfg, ami=ami, tracker=tracker, port=0)
    await ami.start(connect=False)
    await comp.start()
    floor = comp.floor
    url = f"http://127.0.0.1:{comp.port}/ws/wallboard"
    auth = {"Authorization": "Basic " + base64.b64encode(b"bench:bench-password").decode()}
    http = aiohttp.ClientSession(headers=auth)
    sockets = [await http.ws_connect(url) for _ in range(clients)]
    for ws in sockets:
        await ws.receive()  # the initial snapshot
    latencies: list[float] = []
    t0 = 0.0
    want = -1
    seen: list[asyncio.Event] = [asyncio.Event() for _ in sockets]

    async def reader(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            waiting = json.loads(msg.data)["totals"]["waiting"]
            if waiting == want and not seen[i].is_set():
                latencies.append(time.perf_counter() - t0)
                seen[i].set()

    readers = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(sockets)]
    for n in range(rounds):
        lid, uid = f"1767225600.{n}", f"1767225600.{n}"
        ami.ingest(frame("Newchannel", uid, lid))
        await ami.drain(5)
        await floor.hand_over(QueueRequest(lid, uid, "", "13800138000", "commerce"))
        await asyncio.sleep(gap_s)  # let the "waiting = 1" frame go out
        for e in seen:
            e.clear()
        want = 0
        t0 = time.perf_counter()
        ami.ingest(frame("Hangup", uid, lid, "Cause: 16\r\nCause-txt: Normal Clearing\r\n"))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in seen)), 10)
        want = -1
        await asyncio.sleep(gap_s)
    for t in readers:
        t.cancel()
    for ws in sockets:
        await ws.close()
    await http.close()
    await comp.stop()
    await ami.stop(drain_timeout=1)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "benchmark": "wallboard_latency",
        "clients": clients,
        "rounds": rounds,
        "samples": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "max_ms": round(ms[-1], 2),
        "target_p95_ms": 200,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--gap", type=float, default=0.12, help="seconds between rounds")
    args = p.parse_args()
    result = asyncio.run(run(args.clients, args.rounds, args.gap))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
