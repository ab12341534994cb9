"""The web component of the running service (``Service.components``): builds the app and listens.

Built by :func:`hotline.web.plugin.build_web` (called by the wiring, :mod:`hotline.app.wiring`) from the
``web:`` settings and named collaborators: the AMI client and call tracker of the service; a
:class:`hotline.web.providers.Floor` (the routing dispatcher's, pushed by its change notification, when
routing exists; else a :class:`hotline.web.floor.StandaloneFloor` built here and fed by the call tracker);
optional providers, extra gauges and sub-apps, all passed at construction.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from hotline.kernel.keyfile import load_or_create_key
from hotline.telephony.ami import AmiClient
from hotline.telephony.tracker import CallTracker
from hotline.web.app import UsersFile, make_app
from hotline.web.audit import AuditLog
from hotline.web.auth import Authenticator
from hotline.web.config import WebConfig
from hotline.web.deps import WebDeps
from hotline.web.floor import StandaloneFloor
from hotline.web.providers import (
    AnnouncementsProvider,
    CallbacksProvider,
    Floor,
    OpsGauges,
    RemindersProvider,
    WorkOrderSlaProvider,
)

log = logging.getLogger("hotline.web")


class WebComponent:
    """HTTP API, wallboard and ``/metrics`` on ``config.host:config.port``.

    Args:
        floor: None builds a :class:`StandaloneFloor` (agents and statistics kept by the web layer).
        audit: the audit log (None: one at ``config.audit_log``); closed by :meth:`stop`.
        subapps: (prefix, app) mounted beside the app's own routes (``/qa``), behind the same guard.
        port: override ``config.port`` (0 = any free port; read :attr:`port` after start).
    """

    def __init__(self, config: WebConfig, *, ami: AmiClient | None = None, tracker: CallTracker | None = None,
                 floor: Floor | None = None, callbacks: CallbacksProvider | None = None,
                 reminders: RemindersProvider | None = None, announcements: AnnouncementsProvider | None = None,
                 sla: WorkOrderSlaProvider | None = None, gauges: Sequence[OpsGauges] = (),
                 audit: AuditLog | None = None, subapps: Sequence[tuple[str, web.Application]] = (),
                 port: int | None = None) -> None:
        self.config = config
        self.ami = ami
        self.tracker = tracker
        self.own_floor = floor is None
        self.floor: Floor = floor if floor is not None else StandaloneFloor(config.floor)
        if isinstance(self.floor, StandaloneFloor) and tracker is not None:
            tracker.subscribe(self.floor.on_call_event)
        self.users = UsersFile(config.users_file)
        self.audit = audit if audit is not None else AuditLog(config.audit_log)
        # argon2 (64 MiB, ~50 ms each) on a pool of its own: login floods cannot starve the default executor
        self.password_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hotline-password")
        self.deps = WebDeps(config=config, floor=self.floor, audit=self.audit,
                            auth=Authenticator(self.users, config.session_max_age_s,
                                                 executor=self.password_pool), ami=ami,
                            calls=tracker.model if tracker is not None else None, callbacks=callbacks,
                            reminders=reminders, announcements=announcements, sla=sla, gauges=gauges,
                            subapps=subapps)
        self.port = config.port if port is None else port
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Start the floor (replaying its log), then listen.

        Raises:
            OSError: the port is taken, or the key / log files cannot be opened.
            UsersFileError: the users file is invalid.
        """
        if isinstance(self.floor, StandaloneFloor) and self.own_floor:
            await self.floor.start()
            if self.tracker is not None and self.ami is not None and self.ami.connected:
                asyncio.get_running_loop().create_task(self._reconcile(), name="floor-reconcile")
        key = await asyncio.to_thread(load_or_create_key, self.config.secret_file, "session key")
        self.app = make_app(self.deps, key, self.users)
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info("web: listening on http://%s:%d (users: %s)", self.config.host, self.port, self.config.users_file)

    async def _reconcile(self) -> None:
        """Once the call model has resynced, close replayed waiting calls Asterisk no longer has."""
        assert self.tracker is not None and isinstance(self.floor, StandaloneFloor)
        for _ in range(200):  # at most 20 s
            if self.tracker.resyncs:
                break
            await asyncio.sleep(0.1)
        else:
            return
        live = [c.linkedid for c in self.tracker.model.active_calls()]
        closed = self.floor.reconcile(live, self.floor.clock())
        if closed:
            log.info("floor: %d waiting calls ended while hotline was down", closed)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if isinstance(self.floor, StandaloneFloor) and self.own_floor:
            await self.floor.stop()
        await asyncio.to_thread(self.audit.close)
        self.password_pool.shutdown(wait=False, cancel_futures=True)
