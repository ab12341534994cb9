"""CLI subcommands of the web layer, registered by ``hotline/app/cli.py`` with one call.

    hotline user add NAME --role ROLE [--seat NNNN] [--agent-id NNNN] [--password-stdin]
    hotline user list
    hotline check [--timeout S] [--only ami,redis,...]
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, Protocol

from hotline.web.config import WebConfig
from hotline.web.users import Role


class Settings(Protocol):
    """The slice of the root settings the user commands read (``web``: the users file)."""

    @property
    def web(self) -> WebConfig: ...


def _cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.web.users import add_user, load_users

    cfg = settings.web
    path = args.file or cfg.users_file
    if args.user_cmd == "list":
        for u in sorted(load_users(path).values(), key=lambda u: u.name):
            print(f"{u.name:20} {u.role.value:12} seat={u.seat or '-':6} agent={u.agent_id or '-'}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("hotline: the passwords differ", file=sys.stderr)
            return 2
    user = add_user(path, args.name, args.role, password, seat=args.seat, agent_id=args.agent_id)
    print(f"user {user.name} ({user.role.value}) saved in {path}")
    return 0


def register(sub: Any) -> None:
    """Add ``user`` to the ``hotline`` subparsers (``func(args, settings) -> int``)."""
    user = sub.add_parser("user", help="web users (login, role, seat)")
    usub = user.add_subparsers(dest="user_cmd", required=True)
    add = usub.add_parser("add", help="add or replace a user (password asked twice, or --password-stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--seat", help="PJSIP seat rung for listen/whisper/barge (supervisors)")
    add.add_argument("--agent-id", help="the agent this login acts as (agents)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (scripts)")
    add.add_argument("--file", help="users file (default: web.users_file)")
    lst = usub.add_parser("list", help="list users (no hashes)")
    lst.add_argument("--file", help="users file (default: web.users_file)")
    user.set_defaults(func=_cmd_user)
