"""The ``hotline`` command line.

    hotline ami watch [--count N] ...   print every AMI message as one JSON line
    hotline run                         run the service until Ctrl-C
    hotline ivr prompts|check|announce  IVR prompts, menu check, hot-topic announcements
    hotline calendar show|due           holidays and make-up days (with sources), due dates
    hotline lab|sim|demo                the lab's commands (package hotline_lab, entry points
                                        ``hotline.commands``; loaded only when named)

Errors are printed as one clear line (plus a log tail for lab steps) and exit non-zero;
no traceback for expected failures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from hotline.app.config import Settings, load_settings
from hotline.callbacks.cli import add_parsers as add_callbacks_parsers
from hotline.ivr.cli import add_parser as add_ivr_parser
from hotline.kernel.errors import HotlineError
from hotline.qa.cli import add_parser as add_qa_parser
from hotline.queues.cli import add_agent_commands
from hotline.recording.cli import add_parser as add_recording_parser
from hotline.ticketing.cli import add_outbox_parser


def _cmd_ami(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.app.watch import watch

    ami = settings.ami.model_copy(update={k: v for k, v in {
        "host": args.host, "port": args.port, "username": args.username, "secret": args.secret,
        "fallback_encoding": args.fallback_encoding,
    }.items() if v is not None})
    return asyncio.run(watch(ami, count=args.count, timeout_s=args.timeout))


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.app.service import Service
    from hotline.web.logfmt import configure_logging

    configure_logging(settings.web.log_format)  # JSON lines, phone numbers masked
    asyncio.run(Service(settings).run_until_signalled())
    return 0


#: entry-point group of command extensions: name = the command, value = ``add_parsers(subparsers)``
#: (the lab package registers ``lab``, ``sim`` and ``demo``; nothing of it is imported otherwise)
COMMANDS_GROUP = "hotline.commands"


def _requested_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (skipping ``--config FILE``); None for none or ``--help``."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--config":
            skip = True
        elif arg in ("-h", "--help"):
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def _add_extensions(sub: argparse._SubParsersAction, argv: Sequence[str] | None) -> None:
    """Register command extensions (entry points of :data:`COMMANDS_GROUP`).

    Only the extension of the requested command is imported (all of them for ``--help`` or no
    command), so ``hotline run`` loads nothing of the lab package.
    """
    wanted = _requested_command(sys.argv[1:] if argv is None else argv)
    loaded: set[str] = set()
    for ep in entry_points(group=COMMANDS_GROUP):
        if (wanted is not None and ep.name != wanted) or ep.value in loaded:
            continue
        loaded.add(ep.value)
        ep.load()(sub)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs).

    Args:
        argv: the arguments about to be parsed (default ``sys.argv[1:]``): decides which command
            extensions are loaded (see :func:`_add_extensions`).
    """
    p = argparse.ArgumentParser(prog="hotline", description="12345 hotline integration server")
    p.add_argument("--config", help="YAML config file (default: $HOTLINE_CONFIG, else lab defaults)")
    sub = p.add_subparsers(dest="cmd", required=True)

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

    add_ivr_parser(sub)  # hotline ivr prompts|check|announce
    add_agent_commands(sub)  # hotline agent login|logout|ready|pause|status
    add_recording_parser(sub)  # hotline speech worker|install-model|transcribe, recordings usage|purge, catalog
    add_outbox_parser(sub)  # hotline outbox status|list|dead|replay ID|replay-all
    add_qa_parser(sub)  # hotline qa sample|check|calibration
    add_callbacks_parsers(sub)  # hotline reminders add|list|cancel|import, hotline callbacks list|cancel
    from hotline.web.cli import register as register_web

    register_web(sub)  # hotline user add|list
    from hotline.app.check import add_parser as add_check_parser

    add_check_parser(sub)  # hotline check
    from hotline.app.calendar_ops import add_parser as add_calendar_parser

    add_calendar_parser(sub)  # hotline calendar show [YEAR], hotline calendar due TIME --type T
    _add_extensions(sub, argv)  # hotline lab up|down|status, hotline sim, hotline demo (hotline_lab)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hotline`` console script. Returns the exit code."""
    args = build_parser(argv).parse_args(argv)
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
