"""The lab's commands, registered on the ``hotline`` command line through the ``hotline.commands``
entry points (``pyproject.toml``):

    hotline lab up|down|status          the lab on loopback (Asterisk, Redis, Mosquitto, RT)
    hotline sim [...]                   simulated citizens against a running service
    hotline demo [--seconds S --rate R] the main job on the lab, with a summary
"""

from __future__ import annotations

import argparse
from typing import Any

from hotline.app.config import Settings
from hotline_lab.sim.cli import add_parser as add_sim_parser


def _cmd_lab(args: argparse.Namespace, settings: Settings) -> int:
    from hotline_lab import lab

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


def add_parsers(sub: Any) -> None:
    """Add ``lab``, ``sim`` and ``demo`` to the ``hotline`` sub-command parsers."""
    lab = sub.add_parser("lab", help="the lab: Asterisk + Redis + Mosquitto (+ RT) on loopback")
    lab.add_argument("lab_cmd", choices=["up", "down", "status"])
    lab.add_argument("--root", help="lab folder (default /var/lib/hotline or $HOTLINE_LAB_ROOT)")
    lab.add_argument("--no-rt", action="store_true", help="do not install/start Request Tracker")
    lab.set_defaults(func=_cmd_lab)
    add_sim_parser(sub)  # hotline sim, hotline demo
