"""Hot-topic announcements: timed prompts played at a menu's ``announcements`` node.

Pure model. Persistence (Redis), the CLI and the HTTP API are adapters that store the plain dicts
produced by :meth:`Announcement.to_dict` and rebuild with :meth:`Announcement.from_dict`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hotline.kernel.errors import ProblemsError
from hotline.telephony.headers import UnsafeHeaderValue, check_prompt

ALL_MENUS = "*"  # in ``menus``: the announcement targets every menu


class AnnouncementError(ProblemsError):
    """An announcement dict is invalid.

    Attributes:
        problems: one line per problem, ``"<field>: <what is wrong>"``.
    """

    headline = "invalid announcement"
    inline = True


@dataclass(frozen=True, slots=True)
class Announcement:
    """A timed prompt for one or more menus.

    Attributes:
        id: stable identifier (the adapter's key, e.g. ``"housing-fund-2026-07"``).
        prompt: full prompt name as played by Asterisk (no extension); ``{lang}`` is replaced by
            the caller's language, e.g. ``"hotline/{lang}/hot/housing_fund_july"``. ``/``-separated
            segments of ``[A-Za-z0-9_-]`` (no ``..``, no absolute path, no comma: see
            :func:`hotline.telephony.headers.check_prompt`).
        starts_at: epoch seconds, inclusive.
        ends_at: epoch seconds, exclusive; > ``starts_at``.
        menus: menu ids it plays in; ``"*"`` means every menu.
        languages: language codes it plays for (``zh``, ``yue``, ``en``); empty means all.
    """

    id: str
    prompt: str
    starts_at: float
    ends_at: float
    menus: tuple[str, ...]
    languages: tuple[str, ...] = ()

    def is_active(self, menu_id: str, now: float) -> bool:
        """Whether it plays in ``menu_id`` at ``now`` (epoch seconds)."""
        targets = ALL_MENUS in self.menus or menu_id in self.menus
        return targets and self.starts_at <= now < self.ends_at

    def plays_in(self, language: str) -> bool:
        """Whether it plays for a caller who chose ``language``."""
        return not self.languages or language in self.languages

    def prompt_for(self, language: str) -> str:
        """The prompt name for ``language`` (``{lang}`` substituted)."""
        return self.prompt.replace("{lang}", language)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (lists, numbers, strings), the inverse of :meth:`from_dict`."""
        return {
            "id": self.id,
            "prompt": self.prompt,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "menus": list(self.menus),
            "languages": list(self.languages),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Announcement:
        """Validate and build from a plain dict (as stored in Redis or posted to the HTTP API).

        Args:
            data: keys ``id``, ``prompt``, ``starts_at``, ``ends_at`` (epoch seconds),
                ``menus`` (non-empty list), optional ``languages``. Unknown keys are rejected.
        Returns:
            The announcement.
        Raises:
            AnnouncementError: every problem found, together.
        """
        try:
            parsed = _AnnouncementIn.model_validate(data)
        except ValidationError as exc:
            raise AnnouncementError(
                [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
            ) from None
        return cls(
            id=parsed.id,
            prompt=parsed.prompt,
            starts_at=parsed.starts_at,
            ends_at=parsed.ends_at,
            menus=tuple(parsed.menus),
            languages=tuple(parsed.languages),
        )


class _AnnouncementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    prompt: str = Field(min_length=1, pattern=r"^[^\s]+$")
    starts_at: float
    ends_at: float
    menus: list[str] = Field(min_length=1)
    languages: list[str] = Field(default_factory=list)

    @field_validator("prompt")
    @classmethod
    def _sound_name(cls, value: str) -> str:
        # played with STREAM FILE: a plain sound name, never a path out of the sounds directory
        try:
            return check_prompt(value, "prompt", allow_lang=True)
        except UnsafeHeaderValue as exc:
            raise ValueError(exc.reason) from None

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be finite epoch seconds")
        return value

    @model_validator(mode="after")
    def _window(self) -> _AnnouncementIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


def active_for(announcements: Iterable[Announcement], menu_id: str, now: float) -> list[Announcement]:
    """Announcements playing in ``menu_id`` at ``now``, in play order.

    Args:
        announcements: all known announcements (any menu, any window).
        menu_id: the menu's ``id``.
        now: epoch seconds.
    Returns:
        Active ones sorted by ``starts_at``, then ``id`` (stable for equal starts).
    """
    return sorted((a for a in announcements if a.is_active(menu_id, now)), key=lambda a: (a.starts_at, a.id))
