"""Builds the IVR component from its settings slice and named collaborators (called by
``hotline/app/service.py``).

Builds the menu watcher, the Redis announcement store, the work-order lookup (in-memory stand-in
or Request Tracker) and the :class:`hotline.ivr.agi.IvrComponent`; the hand-over callable is injected by
the composition root (the routing component's, or a :class:`hotline.ivr.agi.RecordingHandOver`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import aiohttp

from hotline.ivr.agi import IvrComponent
from hotline.ivr.announcement_store import AnnouncementStore
from hotline.ivr.menu_watch import MenuWatcher
from hotline.ivr.settings import IvrConfig
from hotline.ivr.workorders import InMemoryWorkOrders, RtWorkOrders, WorkOrderLookup
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.kernel.redisutil import connect
from hotline.kernel.settings import RedisConfig
from hotline.queues.handover import HandOver, SessionListener
from hotline.telephony.ami import AmiClient
from hotline.ticketing.rt import RtClient


def announcement_store(redis_url: str, key_prefix: str, key: str, timeout_s: float) -> AnnouncementStore:
    """A store on its own Redis client (timeouts on connect and on every reply)."""
    client = connect(redis_url, call_timeout_s=timeout_s, decode_responses=True)
    return AnnouncementStore(client, key_prefix + key, timeout_s=timeout_s)


def read_env(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of an env file such as the lab's ``rt.env`` (blocking; at start only)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip().strip('"') for k, v in pairs}


class _LazyRt(RtWorkOrders):
    """RtWorkOrders whose aiohttp session is made on first use (inside the event loop)."""

    def __init__(self, env_path: Path, timeout_s: float) -> None:
        self._env_path = env_path
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        super().__init__(None)  # type: ignore[arg-type]

    def _ensure(self) -> None:
        if self._session is None:
            env = read_env(self._env_path)
            self._session = aiohttp.ClientSession()
            self._client = RtClient(self._session, env["HOTLINE_RT_URL"], token=env.get("HOTLINE_RT_TOKEN") or None,
                                    user=env.get("HOTLINE_RT_USER"), password=env.get("HOTLINE_RT_PASSWORD"),
                                    timeout_s=self._timeout_s)

    async def status(self, number: str) -> str | None:
        self._ensure()
        return await super().status(number)

    async def open_for_caller(self, caller_num: str) -> tuple[str, ...]:
        self._ensure()
        return await super().open_for_caller(caller_num)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def build_ivr(cfg: IvrConfig, redis: RedisConfig, ami: AmiClient, hand_over: HandOver,
              calendar: WorkingCalendar = DEFAULT_CALENDAR,
              listeners: Sequence[SessionListener] = ()) -> IvrComponent:
    """The IVR component (nothing connects until ``start``).

    Args:
        cfg: the ``ivr:`` section (menu, prompts, work-order lookup, announcement key).
        redis: the top-level ``redis:`` section (``url``, ``key_prefix``: the announcement store).
        ami: the service's AMI client.
        hand_over: where callers are handed over (routing's ``enqueue``, or a recording stand-in).
        calendar: the service's working calendar (schedule nodes).
        listeners: told of every session start and end (:data:`hotline.ivr.agi.SessionListener`).
    """
    menus = MenuWatcher(cfg.menu_path, prompt_dir=cfg.prompt_dir, interval_s=cfg.reload_interval_s,
                        calendar=calendar)
    store = announcement_store(redis.url, redis.key_prefix, cfg.announcements_key, cfg.lookup_timeout_s)
    work_orders: WorkOrderLookup
    if cfg.work_orders == "rt":
        work_orders = _LazyRt(cfg.rt_env, cfg.lookup_timeout_s)
    else:
        work_orders = InMemoryWorkOrders()

    async def close() -> None:
        await store.redis.aclose()
        if isinstance(work_orders, _LazyRt):
            await work_orders.aclose()

    return IvrComponent(ami, menus, hand_over, work_orders=work_orders, announcements=store, config=cfg,
                        on_close=close, listeners=listeners)
