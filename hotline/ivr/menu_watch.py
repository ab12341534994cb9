"""Menu reload without restart: poll the menu files, validate, swap only a valid menu.

:class:`MenuWatcher` holds the current :class:`hotline.ivr.menus.Menu`. Every ``interval_s`` it compares
a fingerprint of the menu file (or folder of ``*.yaml``/``*.yml``: names, mtimes, sizes) and, when
it changed, loads the menu in a worker thread (file reads and the prompt-folder scan never run on
the event loop). A menu with problems is refused: every problem is logged (file, line, node path),
the previous menu stays current. A running call keeps the Menu it started with (the adapter
takes ``watcher.current`` once per call). :meth:`reload` is also the hook for a CLI/HTTP trigger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hotline.ivr.menus import Menu, MenuError, load_menu
from hotline.kernel.background import BackgroundTask, periodically
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar

log = logging.getLogger("hotline.ivr.menus")

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(path: Path) -> Fingerprint:
    """(name, mtime_ns, size) of the menu file, or of every YAML file in the folder; () if missing."""
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    out = []
    for f in files:
        with contextlib.suppress(OSError):
            st = f.stat()
            out.append((str(f), st.st_mtime_ns, st.st_size))
    return tuple(out)


@dataclass
class ReloadOutcome:
    """Result of one reload: ``accepted`` or refused with ``problems`` (one line each)."""

    accepted: bool
    menu_id: str = ""
    problems: list[str] = field(default_factory=list)


class MenuWatcher:
    """The current menu, reloaded when its files change.

    Args:
        path: menu file or folder.
        prompt_dir: sound folder for the prompt check (None: no check).
        interval_s: polling period, seconds.
        loader: ``load_menu``-compatible callable (tests may wrap it).
        calendar: the service's working calendar, given to every menu (schedule nodes).
    """

    def __init__(self, path: Path, *, prompt_dir: Path | None = None, interval_s: float = 5.0,
                 loader: Callable[..., Menu] = load_menu, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> None:
        self.path = Path(path)
        self.prompt_dir = prompt_dir
        self.interval_s = interval_s
        self._loader = loader
        self.calendar = calendar
        self._menu: Menu | None = None
        self._seen: Fingerprint = ()
        self._bg = BackgroundTask("ivr-menu-watch")
        self._lock = asyncio.Lock()
        self.reloads = 0
        self.refusals = 0
        self.last: ReloadOutcome | None = None

    @property
    def current(self) -> Menu:
        """The menu new calls start with.

        Raises:
            RuntimeError: before :meth:`load`.
        """
        if self._menu is None:
            raise RuntimeError("no menu loaded yet: call MenuWatcher.load() first")
        return self._menu

    def _load_blocking(self) -> tuple[Fingerprint, Menu]:
        seen = fingerprint(self.path)
        prompt_dir = self.prompt_dir if self.prompt_dir is not None and self.prompt_dir.is_dir() else None
        if self.prompt_dir is not None and prompt_dir is None:
            log.warning("prompt folder %s does not exist: menu prompts are not checked", self.prompt_dir)
        return seen, self._loader(self.path, prompt_dir=prompt_dir, calendar=self.calendar)

    async def load(self) -> Menu:
        """First load (at start): a bad menu stops the service.

        Raises:
            MenuError: every problem found.
        """
        async with self._lock:
            seen, menu = await asyncio.to_thread(self._load_blocking)
            self._seen, self._menu = seen, menu
        log.info("IVR menu %r loaded from %s (%d nodes)", menu.id, self.path, len(menu.nodes))
        return menu

    async def reload(self) -> ReloadOutcome:
        """Load the files again; swap the menu only if it is valid.

        Returns:
            The outcome (also in :attr:`last`); a refused menu logs one WARNING per problem.
        """
        async with self._lock:
            seen = await asyncio.to_thread(fingerprint, self.path)
            try:
                seen, menu = await asyncio.to_thread(self._load_blocking)
            except MenuError as exc:
                self._seen = seen  # do not retry the same broken files every poll
                self.refusals += 1
                problems = [str(p) for p in exc.problems]
                for p in problems:
                    log.warning("IVR menu reload refused, keeping %r: %s",
                                self._menu.id if self._menu else None, p)
                self.last = ReloadOutcome(False, self._menu.id if self._menu else "", problems)
                return self.last
            self._seen, self._menu = seen, menu
            self.reloads += 1
            log.info("IVR menu %r reloaded from %s (%d nodes)", menu.id, self.path, len(menu.nodes))
            self.last = ReloadOutcome(True, menu.id)
            return self.last

    async def check(self) -> ReloadOutcome | None:
        """Reload if the files changed since the last (attempted) load; None if unchanged."""
        if await asyncio.to_thread(fingerprint, self.path) == self._seen:
            return None
        return await self.reload()

    async def _poll(self) -> None:
        # a watcher bug is logged by periodically() and does not end the polling
        await periodically(self.check, self.interval_s, self._bg.stopping, what="IVR menu watcher",
                           delay_first=True, logger=log)

    async def start(self) -> None:
        """Load the menu (if not yet) and start polling."""
        if self._menu is None:
            await self.load()
        self._bg.start(self._poll)

    async def stop(self) -> None:
        """Stop polling."""
        await self._bg.stop()
