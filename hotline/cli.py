"""The ``hotline`` command line.

    hotline lab up|down|status          the lab on loopback (Asterisk, Redis, Mosquitto, RT)
    hotline ami watch [--count N] ...   print every AMI message as one JSON line
    hotline run                         run the service until Ctrl-C
    hotline demo [--seconds S --rate R] the main job on the lab, with a summary
    hotline ivr prompts|check|announce  IVR prompts, menu check, hot-topic announcements
    hotline calendar show|due           holidays and make-up days (with sources), due dates

Errors are printed as one clear line (plus a log tail for lab steps) and exit non-zero;
no traceback for expected failures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from callbacks.cli import add_parsers as add_callbacks_parsers
from hotline.config import Settings, load_settings
from hotline.errors import HotlineError
from ivr.cli import add_parser as add_ivr_parser
from qa.cli import add_parser as add_qa_parser
from queues.cli import add_agent_commands
from recording.cli import add_parser as add_recording_parser
from ticketing.cli import add_outbox_parser


def _cmd_lab(args: argparse.Namespace, settings: Settings) -> int:
    from hotline import lab

    cfg = settings.lab
    if args.root:
        cfg = cfg.model_copy(update={"root": args.root})
    if getattr(args, "no_rt", False):
        cfg = cfg.model_copy(update={"with_rt": False})
    if args.lab_cmd == "up":
        result = lab.up(cfg, settings.ami, progress=lambda s: print(f"lab: {s}", flush=True))
        for name, detail in result.items():
            print(f"{name:10} {detail}")
        print("lab is up")
        return 0
    if args.lab_cmd == "down":
        stopped = lab.down(cfg)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    rows = lab.status(cfg, settings.ami)
    for row in rows:
        state = "running" if row.running else "stopped"
        pid = f"pid {row.pid}" if row.pid else ""
        print(f"{row.name:10} {state:8} {pid:10} {row.detail}")
    return 0 if all(r.running for r in rows) else 3


def _cmd_ami(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.watch import watch

    ami = settings.ami.model_copy(update={k: v for k, v in {
        "host": args.host, "port": args.port, "username": args.username, "secret": args.secret,
        "fallback_encoding": args.fallback_encoding,
    }.items() if v is not None})
    return asyncio.run(watch(ami, count=args.count, timeout_s=args.timeout))


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.service import Service
    from web.logfmt import configure_logging

    configure_logging(settings.web.log_format)  # JSON lines, phone numbers masked
    asyncio.run(Service(settings).run_until_signalled())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = argparse.ArgumentParser(prog="hotline", description="12345 hotline integration server")
    p.add_argument("--config", help="YAML config file (default: $HOTLINE_CONFIG, else lab defaults)")
    sub = p.add_subparsers(dest="cmd", required=True)

    lab = sub.add_parser("lab", help="the lab: Asterisk + Redis + Mosquitto (+ RT) on loopback")
    lab.add_argument("lab_cmd", choices=["up", "down", "status"])
    lab.add_argument("--root", help="lab folder (default /var/lib/hotline or $HOTLINE_LAB_ROOT)")
    lab.add_argument("--no-rt", action="store_true", help="do not install/start Request Tracker")
    lab.set_defaults(func=_cmd_lab)

    ami = sub.add_parser("ami", help="AMI tools")
    ami_sub = ami.add_subparsers(dest="ami_cmd", required=True)
    w = ami_sub.add_parser("watch", help="print every AMI message as one JSON line")
    w.add_argument("--host")
    w.add_argument("--port", type=int)
    w.add_argument("--username")
    w.add_argument("--secret")
    w.add_argument("--fallback-encoding", help="for frames that are not UTF-8 (default gb18030)")
    w.add_argument("--count", type=int, default=0, help="exit after N messages (0: run until Ctrl-C)")
    w.add_argument("--timeout", type=float, default=0.0, help="exit after this many seconds (0: never)")
    w.set_defaults(func=_cmd_ami)
    run = sub.add_parser("run", help="run the service (AMI pump, call model, event log) until Ctrl-C")
    run.set_defaults(func=_cmd_run)

    from hotline.sim.cli import add_parser as add_sim_parser

    add_sim_parser(sub)  # hotline sim, hotline demo
    add_ivr_parser(sub)  # hotline ivr prompts|check|announce
    add_agent_commands(sub)  # hotline agent login|logout|ready|pause|status
    add_recording_parser(sub)  # hotline speech worker|install-model|transcribe, recordings usage|purge, catalog
    add_outbox_parser(sub)  # hotline outbox status|list|dead|replay ID|replay-all
    add_qa_parser(sub)  # hotline qa sample|check|calibration
    add_callbacks_parsers(sub)  # hotline reminders add|list|cancel|import, hotline callbacks list|cancel
    from web.cli import register as register_web

    register_web(sub)  # hotline user add|list, hotline check
    from hotline.calendar_ops import add_parser as add_calendar_parser

    add_calendar_parser(sub)  # hotline calendar show [YEAR], hotline calendar due TIME --type T
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hotline`` console script. Returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        return int(args.func(args, settings))
    except HotlineError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
