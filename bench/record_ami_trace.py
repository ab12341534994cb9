"""Record a realistic AMI stream from the lab, for ``bench/ami_ingest.py`` and replay tests.

Places real calls through the lab Asterisk and writes every AMI frame it sends, raw, in
the event-log format (``telephony.eventlog``) to ``bench/data/ami_trace.amilog``:

* citizens calling the app_queue baseline (12301-12305): Newchannel, Newexten, VarSet,
  QueueCallerJoin, AgentCalled, DialBegin/End, AgentConnect, BridgeEnter/Leave,
  AgentComplete, Hangup ... answered by a SIPp phone farm registered as seats;
* citizens calling 12345 (AsyncAGI) and hanging up;
* Originates of Local channels (LocalBridge, OriginateResponse).

Needs the lab (``hotline lab up``). Loopback only, bounded: ``--calls`` calls at ``--rate``.
Usage: ``python bench/record_ami_trace.py [--calls 60] [--rate 10] [--out PATH]``
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline.app.config import Settings  # noqa: E402
from hotline.telephony.ami import AmiClient  # noqa: E402
from hotline.telephony.eventlog import EventLogWriter  # noqa: E402
from hotline_lab.sipp import register_seats, start_sipp  # noqa: E402

QUEUES = {"12301": "commerce", "12302": "labour_social", "12303": "housing_fund", "12304": "environment",
          "12305": "transport"}


async def record(out: Path, calls: int, rate: float) -> int:
    settings = Settings()
    elog = EventLogWriter(out)
    client = AmiClient(settings.ami, event_log=elog)
    await client.start()
    await client.wait_connected(timeout=15)
    work = Path(tempfile.mkdtemp(prefix="hotline-trace-"))
    seats = list(range(1101, 1121))
    phones = await start_sipp("answer", work, calls=calls * 2, duration_ms=200, timeout_s=300)
    await register_seats(seats, phones.port, work)
    for i, seat in enumerate(seats):
        queue = list(QUEUES.values())[i % len(QUEUES)]
        await client.action("QueueAdd", {"Queue": queue, "Interface": f"PJSIP/{seat}", "Penalty": i % 3}, check=True)
    runs = []
    per = max(1, calls // (len(QUEUES) + 1))
    for n, number in enumerate(QUEUES):
        runs.append(await start_sipp("caller", work, calls=per, rate=rate / 6, duration_ms=800,
                                     keys={"caller": f"1380013{n:04d}", "dial": number}, timeout_s=300))
    runs.append(await start_sipp("caller", work, calls=per, rate=rate / 6, duration_ms=500,
                                 keys={"caller": "13912345678", "dial": "12345"}, timeout_s=300))
    for i in range(per):
        await client.action("Originate", {"Channel": "Local/wait@hotline-test", "Application": "Wait", "Data": "1",
                                          "Variable": {"WAIT_S": "1"}, "Async": True,
                                          "CallerID": f"回访 <1380000{i:04d}>"}, check=True)
    for run in runs:
        await run.wait(300)
    await asyncio.sleep(3)  # let the last hangups arrive
    for i, seat in enumerate(seats):
        queue = list(QUEUES.values())[i % len(QUEUES)]
        await client.action("QueueRemove", {"Queue": queue, "Interface": f"PJSIP/{seat}"})
    await client.stop()
    await phones.stop()
    elog.close()
    print(f"recorded {elog.written} frames to {out}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=60)
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "data" / "ami_trace.amilog")
    args = p.parse_args()
    args.out.unlink(missing_ok=True)
    return asyncio.run(record(args.out, args.calls, args.rate))


if __name__ == "__main__":
    sys.exit(main())
