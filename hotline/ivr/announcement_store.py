"""Hot-topic announcements persisted in Redis, and the small function API the CLI and HTTP use.

One Redis hash, ``<redis.key_prefix><ivr.announcements_key>`` (``hotline:ivr:announcements``):
field = announcement id, value = the JSON of :meth:`hotline.ivr.announcements.Announcement.to_dict`.
The IVR reads the whole hash when a call starts (:meth:`AnnouncementStore.all`), so an added or
removed announcement takes effect on the next call, with no restart and no cache to invalidate.
Every Redis call is bounded by ``timeout_s``; failures raise :class:`AnnouncementStoreError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar

import redis.asyncio as aioredis

from hotline.ivr.announcements import Announcement, AnnouncementError
from hotline.kernel.errors import HotlineError
from hotline.kernel.redisutil import bounded

log = logging.getLogger("hotline.ivr.announcements")
T = TypeVar("T")


class AnnouncementStoreError(HotlineError):
    """Redis could not be reached or answered an error (``cause``)."""

    def __init__(self, what: str, cause: str) -> None:
        self.cause = cause
        super().__init__(f"announcement store {what} failed: {cause}")


class AnnouncementStore:
    """Announcements in one Redis hash.

    Args:
        redis: a ``redis.asyncio.Redis`` (owned by the caller, ``decode_responses`` either way).
        key: the hash key, prefix included.
        timeout_s: bound of each Redis call.
    """

    def __init__(self, redis: aioredis.Redis, key: str, *, timeout_s: float = 2.0) -> None:
        self.redis = redis
        self.key = key
        self.timeout_s = timeout_s

    async def _call(self, what: str, aw: Awaitable[T]) -> T:
        return await bounded(what, aw, self.timeout_s, AnnouncementStoreError)

    async def put(self, announcement: Announcement) -> None:
        """Add or replace (same id) an announcement."""
        body = json.dumps(announcement.to_dict(), ensure_ascii=False, sort_keys=True)
        await self._call("put", self.redis.hset(self.key, announcement.id, body))

    async def remove(self, announcement_id: str) -> bool:
        """Remove by id. Returns False if there was none."""
        return bool(await self._call("remove", self.redis.hdel(self.key, announcement_id)))

    async def all(self) -> list[Announcement]:
        """Every stored announcement (any window), sorted by ``starts_at`` then id.

        A stored entry that no longer validates is skipped and logged (never breaks a call).
        """
        raw: Mapping[Any, Any] = await self._call("read", self.redis.hgetall(self.key))
        out = []
        for key, value in raw.items():
            text = value.decode() if isinstance(value, bytes) else str(value)
            try:
                out.append(Announcement.from_dict(json.loads(text)))
            except (ValueError, AnnouncementError) as exc:
                log.warning("announcement %r in %s is invalid and skipped: %s", key, self.key, exc)
        return sorted(out, key=lambda a: (a.starts_at, a.id))


# ----------------------------------------------------------------- function API (CLI, HTTP)


async def add_announcement(store: AnnouncementStore, data: Mapping[str, Any]) -> Announcement:
    """Validate a plain dict (the HTTP body / CLI flags) and store it.

    Args:
        data: ``id``, ``prompt``, ``starts_at``, ``ends_at`` (epoch seconds), ``menus``,
            optional ``languages`` (see :meth:`Announcement.from_dict`).
    Returns:
        The stored announcement.
    Raises:
        AnnouncementError: invalid data (every problem listed); HTTP 400.
        AnnouncementStoreError: Redis failed; HTTP 503.
    """
    announcement = Announcement.from_dict(data)
    await store.put(announcement)
    return announcement


async def list_announcements(store: AnnouncementStore) -> list[dict[str, Any]]:
    """Every stored announcement as plain dicts. Raises AnnouncementStoreError."""
    return [a.to_dict() for a in await store.all()]


async def remove_announcement(store: AnnouncementStore, announcement_id: str) -> bool:
    """Remove one; False if unknown (HTTP 404). Raises AnnouncementStoreError."""
    return await store.remove(announcement_id)


class AnnouncementsApi:
    """The web app's announcements provider (``web.providers.AnnouncementsProvider``) over the store.

    Translates the store's errors into the web layer's: invalid data -> 400, Redis down -> 503,
    unknown id -> 404.
    """

    def __init__(self, store: AnnouncementStore) -> None:
        self.store = store

    async def list_announcements(self) -> list[dict[str, Any]]:
        from hotline.kernel.requests import Unavailable

        try:
            return await list_announcements(self.store)
        except AnnouncementStoreError as exc:
            raise Unavailable(str(exc)) from exc

    async def put_announcement(self, data: Mapping[str, Any]) -> dict[str, Any]:
        from hotline.kernel.requests import InvalidRequest, Unavailable

        try:
            return (await add_announcement(self.store, data)).to_dict()
        except AnnouncementError as exc:
            raise InvalidRequest(str(exc), {"problems": exc.problems}) from exc
        except AnnouncementStoreError as exc:
            raise Unavailable(str(exc)) from exc

    async def remove_announcement(self, announcement_id: str) -> None:
        from hotline.kernel.requests import NotFound, Unavailable

        try:
            removed = await remove_announcement(self.store, announcement_id)
        except AnnouncementStoreError as exc:
            raise Unavailable(str(exc)) from exc
        if not removed:
            raise NotFound(f"no announcement {announcement_id!r}")
