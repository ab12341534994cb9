"""``hotline check``: the configuration is valid, then each backend answers (one line each).

Probes, each bounded by ``timeout_s``: AMI login (``AmiClient``), Redis ``PING``, MQTT CONNECT
(aiomqtt), the ticketing server (RT 5 REST2 ``/REST/2.0/rt`` with the lab token, or any HTTP
answer from the base URL), the Vosk model folder (:func:`hotline.speech.models.resolve_model_path`), and
the web users file, and the working calendar (a WARN line, not a failure, when the official holiday
data ends within ``calendar.warn_days``). Output, e.g.::

    ok    config     /etc/hotline.yaml
    ok    ami        127.0.0.1:5038 Asterisk 22.5.2 (login as hotline)
    FAIL  redis      redis://127.0.0.1:6379/0: Connection refused -- is redis-server running? (`hotline lab up`)
    WARN  calendar   official holiday data ends 2026-12-31: ... add 2027 ... to calendar.file

Exit code 0 when every probe passed, 1 otherwise (the config failing to load is exit 2, from the CLI).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from hotline.app.config import Settings
from hotline.telephony.ami import AmiClient, AmiError


@dataclass(frozen=True, slots=True)
class Probe:
    """One probe's outcome: ``name``, ``ok`` and a one-line ``detail`` saying what to fix; ``warn``
    marks a passing probe that needs attention soon (printed ``WARN``, exit code still 0)."""

    name: str
    ok: bool
    detail: str
    warn: bool = False

    def line(self) -> str:
        mark = "FAIL" if not self.ok else "WARN" if self.warn else "ok  "
        return f"{mark}  {self.name:10} {self.detail}"


async def probe_ami(settings: Settings, timeout_s: float) -> Probe:
    cfg = settings.ami.model_copy(update={"connect_timeout_s": timeout_s})
    client = AmiClient(cfg)
    where = f"{cfg.host}:{cfg.port}"
    try:
        await client.start()
        await client.wait_connected(timeout=timeout_s, fail_fast=True)
        return Probe("ami", True, f"{where} AMI {client.version or '?'} (login as {cfg.username})")
    except AmiError as exc:
        return Probe("ami", False, f"{where}: {exc} -- check ami.host/port/username/secret and manager.conf")
    finally:
        await client.stop(drain_timeout=1.0)


async def probe_redis(settings: Settings, timeout_s: float) -> Probe:
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    url = settings.redis.url
    client = aioredis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        await asyncio.wait_for(client.ping(), timeout_s)
        return Probe("redis", True, f"{url} PING ok")
    except (RedisError, OSError, TimeoutError) as exc:
        why = exc or type(exc).__name__
        return Probe("redis", False, f"{url}: {why} -- is redis-server running? (`hotline lab up`)")
    finally:
        await client.aclose()


async def probe_mqtt(settings: Settings, timeout_s: float) -> Probe:
    import aiomqtt

    where = f"{settings.mqtt.host}:{settings.mqtt.port}"
    try:
        async with asyncio.timeout(timeout_s), aiomqtt.Client(settings.mqtt.host, settings.mqtt.port,
                                                               timeout=timeout_s):
            pass
        return Probe("mqtt", True, f"{where} CONNECT ok")
    except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
        return Probe("mqtt", False, f"{where}: {exc or type(exc).__name__} -- is mosquitto running? (`hotline lab up`)")


def _rt_env(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


async def probe_ticketing(settings: Settings, timeout_s: float) -> Probe:
    env_file = Path(os.environ.get("HOTLINE_RT_ENV", str(settings.lab.root / "rt" / "rt.env")))
    env = await asyncio.to_thread(_rt_env, env_file)
    tcfg: Any = getattr(settings, "ticketing", None)
    base = str(getattr(tcfg, "url", "") or env.get("HOTLINE_RT_URL") or "http://127.0.0.1:8480").rstrip("/")
    token = getattr(tcfg, "token", None) or env.get("HOTLINE_RT_TOKEN")
    headers = {"Authorization": f"token {token}"} if token else {}
    url = f"{base}/REST/2.0/rt" if token else base
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as http, \
                http.get(url, headers=headers) as resp:
            if resp.status >= 400 or (token and resp.status != 200):
                return Probe("ticketing", False, f"{url}: HTTP {resp.status} -- check the RT token ({env_file})")
            return Probe("ticketing", True, f"{url} HTTP {resp.status}")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return Probe("ticketing", False, f"{url}: {exc or type(exc).__name__} -- is RT running? (`lab/rt.sh start`)")


async def probe_vosk(settings: Settings, timeout_s: float) -> Probe:
    from hotline.speech.models import resolve_model_path

    scfg: Any = getattr(settings, "speech", None)
    try:
        path = await asyncio.to_thread(resolve_model_path, getattr(scfg, "model_path", None))
        return Probe("vosk", True, f"model {path}")
    except OSError as exc:  # ModelNotFound (a FileNotFoundError), an unreadable folder: the message says which
        return Probe("vosk", False, f"{exc} -- set speech.model_path or $HOTLINE_VOSK_MODEL")


async def probe_users(settings: Settings, timeout_s: float) -> Probe:
    from hotline.web.errors import UsersFileError
    from hotline.web.users import load_users

    wcfg: Any = getattr(settings, "web", None)
    if wcfg is None:
        return Probe("web", True, "no web section")
    try:
        users = await asyncio.to_thread(load_users, wcfg.users_file)
    except UsersFileError as exc:
        return Probe("web", False, str(exc).replace("\n", " "))
    if not users:
        return Probe("web", False, f"{wcfg.users_file}: no users -- `hotline user add NAME --role admin`")
    return Probe("web", True, f"{len(users)} users in {wcfg.users_file}")


async def probe_calendar(settings: Settings, timeout_s: float) -> Probe:
    """The working calendar: the operator's file loads, and how long the official data lasts."""
    from hotline.app.calendar_ops import calendar_probe

    return await asyncio.to_thread(calendar_probe, settings.calendar)


PROBES: dict[str, Callable[[Settings, float], Awaitable[Probe]]] = {
    "ami": probe_ami, "redis": probe_redis, "mqtt": probe_mqtt, "ticketing": probe_ticketing,
    "vosk": probe_vosk, "web": probe_users, "calendar": probe_calendar,
}


async def run_checks(settings: Settings, timeout_s: float = 5.0, only: list[str] | None = None) -> list[Probe]:
    """Run the probes concurrently; each is bounded by ``timeout_s`` (+1 s for cleanup)."""
    names = only or list(PROBES)

    async def bounded(name: str) -> Probe:
        try:
            return await asyncio.wait_for(PROBES[name](settings, timeout_s), timeout_s + 1)
        except TimeoutError:
            return Probe(name, False, f"no answer within {timeout_s:.0f} s")

    return list(await asyncio.gather(*(bounded(n) for n in names)))


def _cmd_check(args: argparse.Namespace, settings: Settings) -> int:

    only = [x.strip() for x in args.only.split(",")] if args.only else None
    unknown = [x for x in only or [] if x not in PROBES]
    if unknown:
        print(f"hotline: unknown probe(s) {unknown}; known: {', '.join(PROBES)}", file=sys.stderr)
        return 2
    print(f"ok    config     {args.config or 'defaults (no config file)'}")
    results = asyncio.run(run_checks(settings, timeout_s=args.timeout, only=only))
    for r in results:
        print(r.line())
    return 0 if all(r.ok for r in results) else 1


def add_parser(sub: Any) -> None:
    """Add ``check`` to the ``hotline`` subparsers."""
    check = sub.add_parser("check", help="validate the config and probe AMI, Redis, MQTT, ticketing, Vosk")
    check.add_argument("--timeout", type=float, default=5.0, help="seconds per probe")
    check.add_argument("--only", help="comma-separated probes: ami,redis,mqtt,ticketing,vosk,web,calendar")
    check.set_defaults(func=_cmd_check)
