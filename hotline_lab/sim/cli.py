"""``hotline sim`` and ``hotline demo`` command lines (``hotline/app/cli.py`` calls :func:`add_parser`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
from pathlib import Path
from typing import Any


def seats_for(count: int, first: int = 1001, last: int = 1300) -> list[int]:
    """``count`` seats spread evenly over ``first..last`` (so every skill block of the agents file has some)."""
    count = max(1, min(count, last - first + 1))
    step = (last - first + 1) / count
    return [first + int(i * step) for i in range(count)]


def _cmd_sim(args: argparse.Namespace, settings: Any) -> int:
    from hotline.ivr.menus import load_menu
    from hotline.telephony.ami import AmiClient
    from hotline.telephony.tracker import CallTracker
    from hotline_lab.sim.plan import TrafficConfig, dtmf_routes, plan_calls
    from hotline_lab.sim.runner import SimSettings, Simulator, find_speech_clip
    from hotline_lab.sim.timeline import read_prompt_durations, route_prompts

    traffic = TrafficConfig(seed=args.seed, rate_per_s=args.rate, duration_s=args.seconds,
                            max_calls=args.max_calls, talk_median_s=args.talk_s, patience_mean_s=args.patience_s)
    menu = load_menu(settings.ivr.menu_path)
    plan = plan_calls(traffic, dtmf_routes(menu))
    names = set().union(*(route_prompts(menu, k) for k in {p.route.keys for p in plan})) if plan else set()
    durations = read_prompt_durations(settings.ivr.prompt_dir, names) if settings.ivr.prompt_dir else {}

    async def main() -> dict[str, int]:
        ami = AmiClient(settings.ami)
        tracker = CallTracker(ami)
        await ami.start()
        await ami.wait_connected(timeout=15)
        workdir = Path(tempfile.mkdtemp(prefix="hotline-sim-"))
        sim = Simulator(ami, tracker, plan, traffic, SimSettings(tuple(seats_for(args.seats)), workdir,
                                                                 max_wall_s=args.seconds + 240,
                                                                 audio_clip=find_speech_clip(),
                                                                 caller_clip=find_speech_clip(1)),
                        menu, durations)
        try:
            await sim.start_phones()
            report = await sim.run(lambda d, t: print(f"\r  calls finished {d}/{t}", end="", flush=True))
            print()
            return report.as_dict()
        finally:
            await sim.stop()
            await ami.stop()

    print(json.dumps(asyncio.run(main())))
    return 0


def _cmd_demo(args: argparse.Namespace, settings: Any) -> int:
    """Exit 0 only when the summary reconciles (which includes: no ERROR logged) and a call was answered."""
    from hotline_lab.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    seats = seats_for(args.seats, DEMO_SEATS[0], DEMO_SEATS[1])
    print(f"hotline demo: {args.seconds:.0f} s of calls at {args.rate} calls/s, {len(seats)} agent seats "
          f"({seats[0]}-{seats[-1]})", flush=True)
    summary, _ = asyncio.run(run_demo(settings, seconds=args.seconds, rate=args.rate, seats=seats, seed=args.seed,
                                      web_port=args.web_port, talk_median_s=args.talk_s,
                                      patience_mean_s=args.patience_s, progress=not args.json,
                                      processes=args.processes))
    print("\n".join(summary.lines()), flush=True)
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, default=str))
    return 0 if not summary.mismatches() and summary.answered > 0 else 1


#: the demo's agent seats (README "Tests": each suite has its own range on the shared lab)
DEMO_SEATS = (1131, 1200)


def add_parser(sub: Any) -> None:
    """``hotline sim`` and ``hotline demo``."""
    sim = sub.add_parser("sim", help="traffic simulator: SIPp agent farms and citizens calling 12345 (lab)")
    sim.add_argument("--rate", type=float, default=0.5, help="mean new calls per second (Poisson)")
    sim.add_argument("--seconds", type=float, default=60.0, help="how long callers keep arriving")
    sim.add_argument("--seats", type=int, default=30, help="agent seats registered (spread over 1001-1300)")
    sim.add_argument("--seed", type=int, default=12345)
    sim.add_argument("--max-calls", type=int, default=1000)
    sim.add_argument("--talk-s", type=float, default=20.0, help="median talk time (log-normal)")
    sim.add_argument("--patience-s", type=float, default=60.0, help="mean patience (exponential)")
    sim.set_defaults(func=_cmd_sim)

    demo = sub.add_parser("demo", help="the main job on the lab: service + simulated agents and callers")
    demo.add_argument("--seconds", type=float, default=180.0, help="the compressed hour: how long callers arrive")
    demo.add_argument("--rate", type=float, default=0.3, help="mean new calls per second")
    demo.add_argument("--seats", type=int, default=15, help="agent seats (spread over 1131-1200)")
    demo.add_argument("--processes", type=int, default=None, help="Vosk decoder processes (default: one per core, "
                      "at most 2)")
    demo.add_argument("--json", action="store_true", help="also print the summary as one JSON object on the last "
                      "line (and no progress bar)")
    demo.add_argument("--seed", type=int, default=12345)
    demo.add_argument("--talk-s", type=float, default=10.0, help="median talk time (log-normal); every second of "
                      "talk is two seconds of audio to transcribe on 2 cores (QA's daily plan skips calls < 20 s)")
    demo.add_argument("--patience-s", type=float, default=60.0, help="mean caller patience")
    demo.add_argument("--web-port", type=int, default=8080, help="wallboard port on 127.0.0.1")
    demo.set_defaults(func=_cmd_demo)
