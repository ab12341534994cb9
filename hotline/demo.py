"""``hotline demo``: the main job on the lab, end to end, with a summary at the end.

What it runs today (it grows as capabilities land):

1. the service (AMI client, ordered pump, call tracker, event log);
2. agent seats as a SIPp phone farm registered on the lab Asterisk (seats 1001..);
3. citizens as SIPp callers with real RTP signalling, Poisson-like arrivals at ``--rate``
   calls/s for ``--seconds``, spread over the busiest lines (commerce, labour & social
   security, housing fund, environment, transport) through the app_queue baseline
   (12301-12305) until hotline's own IVR and routing take over 12345;
4. a progress line, then the summary: calls offered, answered, abandoned, lost, average
   duration, and what the AMI pump handled.

Bounded in calls and time; loopback only.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hotline.config import Settings
from hotline.service import Service
from hotline.sipp import SippRun, register_seats, start_sipp
from telephony.calls import CallEnded, CallEvent

#: the busiest 12345 lines (reference hotline) and their app_queue baseline numbers, with traffic shares
LINES: dict[str, tuple[str, float]] = {
    "commerce": ("12301", 0.30),
    "labour_social": ("12302", 0.25),
    "housing_fund": ("12303", 0.20),
    "environment": ("12304", 0.15),
    "transport": ("12305", 0.10),
}


@dataclass
class DemoSummary:
    """The demo's closing numbers (calls are counted by the service's call tracker)."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    lost: int = 0
    talk_s: list[float] = field(default_factory=list)
    per_line: dict[str, int] = field(default_factory=dict)
    ami_messages: int = 0
    ami_events: int = 0
    pump_max_depth: int = 0

    def lines(self) -> list[str]:
        aht = sum(self.talk_s) / len(self.talk_s) if self.talk_s else 0.0
        out = [
            "hotline demo summary",
            f"  calls offered      {self.offered}",
            f"  answered by agents {self.answered}",
            f"  abandoned          {self.abandoned}",
            f"  closed as lost     {self.lost}",
            f"  average call       {aht:.1f} s",
            "  per line (calls placed): " + ", ".join(f"{k} {v}" for k, v in self.per_line.items()),
            f"  AMI: {self.ami_messages} messages, {self.ami_events} domain events, "
            f"pump max depth {self.pump_max_depth}",
        ]
        return out


async def run_demo(settings: Settings, seconds: float = 60.0, rate: float = 1.0, seats: int = 20,
                   talk_ms: int = 4000, progress: bool = True) -> DemoSummary:
    """Run the demo traffic against the lab and return the summary.

    Args:
        seconds: how long callers keep arriving (wall-clock seconds).
        rate: new calls per second, all lines together.
        seats: agent seats registered (from ``settings.lab.first_seat``).
        talk_ms: how long a caller stays once answered.
    Raises:
        AmiError: the lab's AMI is not reachable.
        RuntimeError: SIPp could not register the seats.
    """
    service = Service(settings)
    summary = DemoSummary()
    ended: list[CallEnded] = []

    def on_call(event: CallEvent) -> None:
        if isinstance(event, CallEnded):
            ended.append(event)

    service.calls.subscribe(on_call)
    await service.start()
    work = Path(tempfile.mkdtemp(prefix="hotline-demo-"))
    total_calls = max(1, int(seconds * rate))
    seat_ids = list(range(settings.lab.first_seat, settings.lab.first_seat + seats))
    phones = await start_sipp("answer", work, calls=total_calls * 2, duration_ms=800, timeout_s=int(seconds) + 120)
    runs: list[SippRun] = []
    try:
        await register_seats(seat_ids, phones.port, work)
        for i, seat in enumerate(seat_ids):
            queue = list(LINES)[i % len(LINES)]
            await service.ami.action("QueueAdd", {"Queue": queue, "Interface": f"PJSIP/{seat}",
                                                  "Penalty": i % 3}, check=True)
        for n, (line, (number, share)) in enumerate(LINES.items()):
            count = max(1, round(total_calls * share))
            summary.per_line[line] = count
            runs.append(await start_sipp(
                "caller", work, calls=count, rate=max(0.05, rate * share), duration_ms=talk_ms,
                keys={"caller": f"13{n}{int(time.time()) % 100000000:08d}", "dial": number},
                timeout_s=int(seconds) + 120))
        started = time.monotonic()
        while any(r.proc.returncode is None for r in runs):
            await asyncio.sleep(1.0)
            if progress:
                el = time.monotonic() - started
                print(f"\r  {el:5.0f}s  active calls {len(service.calls.model.active_calls()):3d}  "
                      f"ended {len(ended):4d}", end="", flush=True)
            if time.monotonic() - started > seconds + 120:
                break
        if progress:
            print()
        await asyncio.sleep(2.0)
    finally:
        for r in runs:
            await r.stop()
        await phones.stop()
        for i, seat in enumerate(seat_ids):
            await service.ami.action("QueueRemove", {"Queue": list(LINES)[i % len(LINES)],
                                                     "Interface": f"PJSIP/{seat}"})
    for call in service.calls.model.calls.values():
        trunk = [leg for leg in call.legs.values() if leg.channel.startswith("PJSIP/trunk")]
        agents = [leg for leg in call.legs.values()
                  if leg.channel.startswith("PJSIP/1") and leg.answered_at is not None]
        if not trunk:
            continue
        summary.offered += 1
        if call.end_reason == "lost":
            summary.lost += 1
        elif agents:
            summary.answered += 1
            end = call.ended_at or time.time()
            summary.talk_s.append(end - min(a.answered_at or end for a in agents))
        else:
            summary.abandoned += 1
    summary.ami_messages = service.ami.stats.messages
    summary.ami_events = service.ami.stats.events
    summary.pump_max_depth = service.ami.stats.pump_max_depth
    await service.stop()
    return summary
