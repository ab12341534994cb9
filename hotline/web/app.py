"""The aiohttp application: routes, sessions, the role/CSRF middleware, background tasks.

:func:`make_app` takes a :class:`hotline.web.deps.WebDeps` and the session key; background tasks (wallboard
heartbeat, ``/metrics`` sampler, users-file reload, SLA cards refresh) live in ``cleanup_ctx``
(created, yielded, cancelled and awaited). :class:`UsersFile` re-reads the users file when it
changes (the stat and the read run in a thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp_session import setup as setup_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from hotline.web.api import PRINCIPAL, add_api_routes, board
from hotline.web.auth import UNSAFE, authorise, check_csrf, handler_roles
from hotline.web.deps import DEPS, HUB, WebDeps
from hotline.web.errors import NotAuthenticated, UsersFileError, WebError, status_of
from hotline.web.hub import WallboardHub
from hotline.web.ops import HotlineCollector, make_registry, render
from hotline.web.pages import add_page_routes, page
from hotline.web.providers import SlaCard
from hotline.web.users import User, load_users

log = logging.getLogger("hotline.web")

COLLECTOR = web.AppKey("hotline_collector", HotlineCollector)
SLA_CARDS = web.AppKey("hotline_sla_cards", list)


class UsersFile:
    """The users, re-read from ``path`` when its mtime changes (checked every ``interval_s``)."""

    def __init__(self, path: Path, interval_s: float = 2.0) -> None:
        self.path = path
        self.interval_s = interval_s
        self.users: dict[str, User] = {}
        self._mtime: float | None = None

    def __call__(self) -> dict[str, User]:
        return self.users

    def _reload_if_changed(self) -> bool:
        try:
            mtime = os.stat(self.path).st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime == self._mtime:
            return False
        self.users = load_users(self.path)
        self._mtime = mtime
        return True

    async def load(self) -> None:
        """Read the file now (in a thread). Raises UsersFileError."""
        await asyncio.to_thread(self._reload_if_changed)

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                if await asyncio.to_thread(self._reload_if_changed):
                    log.info("users file %s reloaded: %d users", self.path, len(self.users))
            except UsersFileError as exc:
                log.error("%s (keeping the previous users)", exc)


def _is_api(request: web.Request) -> bool:
    return request.path.startswith(("/api/", "/ws/", "/metrics"))


def _error_response(request: web.Request, exc: WebError) -> web.StreamResponse:
    if isinstance(exc, NotAuthenticated) and not _is_api(request) and request.method == "GET":
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs)}")
    if _is_api(request) or request.method != "GET":
        return web.json_response(exc.body(), status=status_of(exc))
    resp = page(f"hotline: {exc.error_id}", f"<h1>{status_of(exc)}</h1><p>{exc.message}</p><p><a href='/'>home</a>"
                                            f" · <a href='/login'>log in as someone else</a></p>")
    resp.set_status(status_of(exc))
    return resp


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    """Authenticate, authorise (deny by default), check CSRF, and turn WebErrors into responses."""
    try:
        http_exc = request.match_info.http_exception
        if http_exc is not None:
            if _is_api(request):
                body: dict[str, Any] = {"error_id": "not-found" if http_exc.status == 404 else "method-not-allowed",
                        "message": http_exc.reason, "details": {}}
                return web.json_response(body, status=http_exc.status, headers={
                    k: v for k, v in http_exc.headers.items() if k.lower() == "allow"})
            raise http_exc
        is_public, roles = handler_roles(request)
        if not is_public:
            d = request.config_dict[DEPS]
            who = await d.auth.principal(request)
            if who is None:
                raise NotAuthenticated("log in first (session cookie or HTTP Basic)")
            authorise(who, roles)
            if request.method in UNSAFE and who.via == "session":
                await check_csrf(request, who.csrf)
            request[PRINCIPAL] = who
        return await handler(request)
    except WebError as exc:
        return _error_response(request, exc)


async def metrics_handler(request: web.Request) -> web.Response:
    reg = request.config_dict[COLLECTOR]
    body = render(make_registry(reg))
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def make_app(deps: WebDeps, session_key: bytes, users: UsersFile | None = None) -> web.Application:
    """Build the application (no I/O here; the users file is read in the startup context).

    Args:
        deps: collaborators; ``deps.auth`` should read from ``users`` when given.
        session_key: 32 bytes for the encrypted cookie (:func:`hotline.kernel.keyfile.load_or_create_key`).
        users: the users file to load at start and watch; None when ``deps.auth`` has its own users.
    """
    from hotline.web.auth import FLOOR, requires

    app = web.Application(client_max_size=256 * 1024)
    setup_session(app, EncryptedCookieStorage(session_key, cookie_name="hotline_session",
                                              max_age=deps.config.session_max_age_s, httponly=True,
                                              samesite="Strict"))
    app.middlewares.append(guard)
    app[DEPS] = deps
    app[SLA_CARDS] = []
    hub = WallboardHub(lambda: board(deps, app[SLA_CARDS] if deps.sla is not None else None),
                       min_interval_s=deps.config.push_min_interval_s)
    app[HUB] = hub
    deps.floor.subscribe(hub.changed)
    collector = HotlineCollector(ami=deps.ami, calls=deps.calls, floor=deps.floor, gauges=deps.gauges,
                                 ws_clients=lambda: hub.clients)
    app[COLLECTOR] = collector
    add_page_routes(app)
    add_api_routes(app)
    for prefix, sub in deps.subapps:  # e.g. /qa, the QA review pages (hotline/web/qa_pages.py)
        app.add_subapp(prefix, sub)
    app.router.add_get("/metrics", requires(FLOOR)(metrics_handler))

    async def background(app: web.Application) -> AsyncIterator[None]:
        if users is not None:
            await users.load()
        if deps.audit.path is not None:
            await asyncio.to_thread(deps.audit.load_recent)

        async def sampler() -> None:
            while True:
                collector.sample()
                await asyncio.sleep(1.0)

        async def sla_refresh() -> None:
            while deps.sla is not None:
                try:
                    cards: list[SlaCard] = list(await asyncio.wait_for(deps.sla.sla_cards(deps.clock()), 10))
                    app[SLA_CARDS][:] = cards
                    hub.changed()
                except Exception as exc:  # a provider failure shows as an empty panel, logged
                    log.warning("SLA cards provider failed: %s", exc)
                await asyncio.sleep(30.0)

        coros: list[Any] = [hub.heartbeat(), sampler(), sla_refresh()]
        if users is not None:
            coros.append(users.watch())
        tasks = [asyncio.create_task(c) for c in coros]
        yield
        await hub.close()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t

    app.cleanup_ctx.append(background)
    return app
