"""Load test on the real lab: 300 agent seats, offered load stepped up towards 300 concurrent calls.

Agents: seats ``--first-seat`` .. ``+--seats`` registered to SIPp ``agent`` farms (answer, talk
``--talk-s``, hang up), logged in and ready in hotline's routing component (one ``commerce``
queue, every agent skilled). Callers: one SIPp UAC per step dialling 12399 (answered, parked on
MOH in ``hotline-hold``) at ``concurrency / (talk + SETUP_S)`` calls/s for ``--step-s`` seconds (a caller leg
lasts the talk plus ``SETUP_S``, so the step holds ``concurrency`` caller legs once it is ramped up); each
parked caller leg is handed to routing (``Dispatcher.enqueue``, the IVR's hand-over) at once;
a caller not bridged within its ``--patience-s`` hangs up by itself (SIPp ``-d``).

Measured per step and overall:

* concurrency: caller legs up at once (``peak_concurrent``), and the lowest count sampled once the
  step's first calls could have ended (``sustained_min_concurrent`` over ``sustained_s`` seconds);
* calls completed (routing ``handled``), offered, answered, abandoned, service level
  (answered within the queue's 20 s / offered in the step: a caller still waiting counts against it);
* routing latency: ``QueueRequest`` handed over -> ``Originate`` sent (ms, this process's
  clock, the AMI action timed where the routing component calls it);
* dispatch latency: ``Originate`` sent -> the agent's leg created in Asterisk (AMI ``Newchannel``
  ``Timestamp``), ms;
* hotline CPU per call: this process's user+system CPU seconds (``resource.getrusage``) / calls
  completed (the bench process is the hotline process: AMI pump, call model, routing);
* Asterisk CPU: ``/proc/<pid>/stat`` utime+stime of the lab's asterisk (pid from
  ``/var/lib/hotline/run/asterisk.pid``) over wall time, in cores;
* events lost: a second, independent AMI connection counts the ``Newchannel`` and ``Hangup``
  events of this run's caller numbers; the service's connection counts the same; they must match,
  and every caller leg the model saw must have ended.

Bounded: steps x ``--step-s`` plus a drain of at most ``--patience-s + --talk-s + 30`` s; loopback
only. Uses every seat 1001-1300 by default: run it only when no other test uses the lab.
Last line: one JSON object.

Measured on the lab (2 shared cores, other sessions' work running, Asterisk 22, talk 20 s, 1 s
wrap-up, 60 s steps ``--steps 100,200,300 --step-s 60``): 1755 calls completed, 0 abandoned, events
lost 0, legs left 0; at 300 the lab held 297-310 concurrent caller legs (plus their agent legs) for
40 s, 97.2% answered within 20 s of offered; routing p50 1 ms / p95 4 ms up to 200, at 300 p50 0.8 s
(the 300 agents are ~100% occupied with 1 s wrap-up, so callers queue for a free one); dispatch
(Originate -> agent leg) p50 2.9 ms / p95 6.8 ms; hotline 12 ms CPU per call (0.1 core); Asterisk
0.12 / 0.21 / 0.37 core at 100 / 200 / 300. ``--steps 300 --step-s 90``: 298-320 concurrent caller
legs for 70 s, 1317 calls completed, 97.2% within 20 s, Asterisk 0.46 core, events lost 0; the slowest
PJSIP distributor task 14 ms over 13,470 (``core reset taskprocessors`` before the run), queue depth <= 3.

The knee this bench used to find near 200 (PJSIP distributor tasks of 5 s each while Asterisk idled,
callers stuck in ``Answer``) was DNS: Asterisk resolves its own host name for every RTP leg
(``ast_find_ourip`` when RTCP starts, on the PJSIP thread handling the INVITE); the chroot had no
``/etc/hosts``, the sandbox's DNS server drops queries under a burst and each lookup waited out the
resolver's 5 s timeout. ``hotline lab up`` now writes the chroot's ``/etc/hosts`` (``hotline.lab``).

    .venv/bin/python bench/load_300.py --steps 100,200,300 --step-s 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from hotline.app.config import Settings
from hotline.queues.config import RoutingSettings
from hotline.queues.dispatch import Dispatcher
from hotline.queues.handover import QueueRequest
from hotline.queues.model import Agent, QueueConfig
from hotline.telephony import events as ev
from hotline.telephony.ami import AmiClient
from hotline.telephony.frames import AmiMessage
from hotline.telephony.tracker import CallTracker
from hotline_lab.sipp import SippRun, register_seats, start_sipp

SL_TARGET = 0.8
#: a caller leg's life beyond the talk: the agent phone rings 0.3 s (lab/sipp/agent.xml) plus signalling, s
SETUP_S = 0.5


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))], 1)


def asterisk_cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (``/proc/<pid>/stat`` fields 14, 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class EventCounter:
    """Counts ``Newchannel``/``Hangup`` events of the run's caller numbers seen on one AMI connection."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.counts = {"Newchannel": 0, "Hangup": 0}

    def __call__(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        if msg is None:
            return
        name = msg.headers.get("Event")
        if name in self.counts and str(msg.headers.get("CallerIDNum", "")).startswith(self.prefix) \
                and str(msg.headers.get("Channel", "")).startswith("PJSIP/trunk"):
            self.counts[name] += 1


class Timing:
    """Enqueue time per caller linkedid, Originate time per agent leg, agent Newchannel times."""

    def __init__(self) -> None:
        self.enqueued: dict[str, float] = {}
        self.originated: dict[str, tuple[float, str]] = {}  # agent uniqueid -> (sent at, caller linkedid)
        self.route_ms: list[float] = []
        self.dispatch_ms: list[float] = []

    def on_ami(self, msg: AmiMessage | None, event: ev.DomainEvent | None) -> None:
        if isinstance(event, ev.ChannelCreated) and event.uniqueid in self.originated:
            sent, _ = self.originated.pop(event.uniqueid)
            self.dispatch_ms.append((event.at - sent) * 1000)


def timed_actions(client: AmiClient, timing: Timing) -> None:
    """Wrap ``client.action`` to time each ``Originate`` the routing component sends (bench only)."""
    inner = client.action

    async def action(name: str, fields: Any = None, **kw: Any) -> Any:
        if name == "Originate" and fields:
            now = time.time()
            linkedid = str(fields.get("Variable", {}).get("HOTLINE_LINKEDID", ""))
            if linkedid in timing.enqueued:
                timing.route_ms.append((now - timing.enqueued[linkedid]) * 1000)
            timing.originated[str(fields.get("ChannelId"))] = (now, linkedid)
        return await inner(name, fields, **kw)

    client.action = action  # type: ignore[method-assign]


async def bench(steps: list[int], step_s: float, seats: list[int], talk_s: float, patience_s: float) -> dict[str, Any]:
    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="hotline-bench-load-"))
    prefix = f"136{int(time.time()) % 10000:04d}"
    client = AmiClient(settings.ami)
    tracker = CallTracker(client)
    timing = Timing()
    ours = EventCounter(prefix)
    client.subscribe(ours)
    client.subscribe(timing.on_ami)
    timed_actions(client, timing)
    observer = AmiClient(settings.ami)  # the independent second connection
    theirs = EventCounter(prefix)
    observer.subscribe(theirs)
    for c in (client, observer):
        await c.start()
        await c.wait_connected(timeout=15)
    queue = QueueConfig("commerce", frozenset({"commerce"}), wrap_up_s=1.0, ring_timeout_s=10)
    agents = [Agent(str(s), {"commerce": 3}, frozenset({"zh"})) for s in seats]
    d = Dispatcher(client, tracker, [queue], agents, settings=RoutingSettings(action_timeout_s=10.0))
    farms: list[SippRun] = []
    callers: list[SippRun] = []
    total_calls = int(sum(c / (talk_s + SETUP_S) * step_s for c in steps)) + 50
    bound = int(len(steps) * step_s + patience_s + talk_s + 300)
    for i in range(3):
        group = seats[i::3]
        farm = await start_sipp("agent", work, calls=total_calls, duration_ms=int(talk_s * 1000), timeout_s=bound)
        farms.append(farm)
        await register_seats(group, farm.port, work, timeout=60)
    await d.start()
    for s in seats:
        await d.login(str(s))
        await d.ready(str(s))

    handed: set[str] = set()
    stop_feed = asyncio.Event()

    async def feed() -> None:
        while not stop_feed.is_set():
            for leg in list(tracker.model.legs.values()):
                if (leg.uniqueid not in handed and leg.caller_num.startswith(prefix) and leg.state == "Up"
                        and leg.ended_at is None and leg.channel.startswith("PJSIP/trunk")):
                    handed.add(leg.uniqueid)
                    timing.enqueued[leg.linkedid] = time.time()
                    await d.enqueue(QueueRequest(leg.linkedid, leg.uniqueid, leg.channel, leg.caller_num, "commerce"))
            await asyncio.sleep(0.05)

    feeder = asyncio.create_task(feed())
    results: list[dict[str, Any]] = []
    t_start = time.time()
    pid_file = settings.lab.root / "run" / "asterisk.pid"
    cpu0, ast_pid = own_cpu_s(), int((await asyncio.to_thread(pid_file.read_text)).strip())
    ast0 = asterisk_cpu_s(ast_pid)

    def counters() -> dict[str, float]:
        rep = d.report()
        out = {"offered": 0.0, "answered": 0.0, "answered_within_t": 0.0, "abandoned": 0.0, "handled": 0.0}
        for c in rep["by_queue"].values():  # type: ignore[union-attr]
            for k in out:
                out[k] += getattr(c, k)
        return out

    try:
        for n, concurrency in enumerate(steps):
            before, t0, a0, r0 = counters(), time.time(), asterisk_cpu_s(ast_pid), len(timing.route_ms)
            rate = concurrency / (talk_s + SETUP_S)
            calls = max(1, int(rate * step_s))
            callers.append(await start_sipp("caller", work, calls=calls, rate=rate,
                                            duration_ms=int((patience_s + talk_s + 5) * 1000),
                                            keys={"caller": f"{prefix}{n:04d}", "dial": "12399"},
                                            timeout_s=int(step_s + patience_s + talk_s + 60),
                                            extra=["-l", str(concurrency + 20)]))
            peak, ramped = 0, []  # ramped: concurrent caller legs sampled once a first call could have ended
            while time.time() - t0 < step_s:
                await asyncio.sleep(1.0)
                now_up = sum(1 for lg in tracker.model.legs.values() if lg.ended_at is None
                             and lg.caller_num.startswith(prefix) and lg.channel.startswith("PJSIP/trunk"))
                peak = max(peak, now_up)
                if time.time() - t0 >= talk_s + SETUP_S:
                    ramped.append(now_up)
            after = counters()
            delta = {k: after[k] - before[k] for k in after}
            # answered within T / offered: calls still waiting or lost count against it (SL1 would hide them)
            sl = delta["answered_within_t"] / delta["offered"] if delta["offered"] else None
            results.append({"target_concurrency": concurrency, "rate_per_s": round(rate, 2), "peak_concurrent": peak,
                            "sustained_min_concurrent": min(ramped) if ramped else None,
                            "sustained_s": len(ramped),
                            **{k: int(v) for k, v in delta.items()},
                            "sl_within_t_of_offered": None if sl is None else round(sl, 3),
                            "route_p50_ms": pct(timing.route_ms[r0:], 0.5),
                            "route_p95_ms": pct(timing.route_ms[r0:], 0.95),
                            "asterisk_cores": round((asterisk_cpu_s(ast_pid) - a0) / (time.time() - t0), 2)})
            print(json.dumps(results[-1]), flush=True)
        drain_s = patience_s + talk_s + 30
        try:  # every caller SIPp exits once its calls ended (bounded)
            await asyncio.wait_for(asyncio.gather(*(r.proc.wait() for r in callers)), drain_s)
        except TimeoutError:
            pass
        await asyncio.sleep(3.0)  # the last Hangup events reach both connections
    finally:
        stop_feed.set()
        await feeder
        for r in callers + farms:
            await r.stop()
    wall = time.time() - t_start
    totals = counters()
    cpu = own_cpu_s() - cpu0
    ast_cpu = asterisk_cpu_s(ast_pid) - ast0
    left = [lg for lg in tracker.model.legs.values() if lg.caller_num.startswith(prefix) and lg.ended_at is None]
    open_legs = len(left)
    for lg in left:  # leave the shared lab clean: hang up what a killed SIPp left behind
        try:
            await client.action("Hangup", {"Channel": lg.channel, "Cause": 16}, timeout=5.0, check=False)
        except Exception as exc:
            print(json.dumps({"cleanup_failed": lg.uniqueid, "error": repr(exc)}), flush=True)
    await d.stop()
    await client.stop()
    await observer.stop()
    ok = [r["target_concurrency"] for r in results
          if r["sl_within_t_of_offered"] is not None and r["sl_within_t_of_offered"] >= SL_TARGET]
    return {
        "bench": "load_300", "machine": "2 shared cores", "seats": len(seats), "talk_s": talk_s,
        "steps": results, "calls_offered": int(totals["offered"]), "calls_completed": int(totals["handled"]),
        "answered": int(totals["answered"]), "abandoned": int(totals["abandoned"]),
        "route_p50_ms": pct(timing.route_ms, 0.5), "route_p95_ms": pct(timing.route_ms, 0.95),
        "route_p99_ms": pct(timing.route_ms, 0.99),
        "dispatch_p50_ms": pct(timing.dispatch_ms, 0.5), "dispatch_p95_ms": pct(timing.dispatch_ms, 0.95),
        "hotline_cpu_ms_per_call": round(cpu * 1000 / totals["handled"], 2) if totals["handled"] else None,
        "hotline_cores": round(cpu / wall, 2), "asterisk_cores": round(ast_cpu / wall, 2),
        "events_hotline": ours.counts, "events_observer": theirs.counts,
        "events_lost": sum(abs(theirs.counts[k] - ours.counts[k]) for k in ours.counts), "legs_not_ended": open_legs,
        "largest_concurrency_sl_above_target": max(ok) if ok else None, "sl_target": SL_TARGET,
        "mean_route_ms": round(statistics.fmean(timing.route_ms), 1) if timing.route_ms else None,
        "wall_s": round(wall, 1),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", default="50,100,200,300", help="target concurrent calls per step")
    p.add_argument("--step-s", type=float, default=40.0)
    p.add_argument("--first-seat", type=int, default=1001)
    p.add_argument("--seats", type=int, default=300)
    p.add_argument("--talk-s", type=float, default=20.0)
    p.add_argument("--patience-s", type=float, default=40.0)
    a = p.parse_args()
    steps = [int(x) for x in a.steps.split(",")]
    seats = list(range(a.first_seat, a.first_seat + a.seats))
    print(json.dumps(asyncio.run(bench(steps, a.step_s, seats, a.talk_s, a.patience_s))))


if __name__ == "__main__":
    main()
