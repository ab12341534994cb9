"""The ``recording:`` section of the configuration (pydantic v2, ``extra="forbid"``).

Example::

    recording:
      enabled: true
      host_dir: /var/lib/hotline/chroot/var/spool/asterisk/monitor   # Asterisk's monitor dir, as hotline sees it
      retention_days: 180
      exclude_caller_prefixes: ["1380013"]     # test lines
      catalog:
        url: sqlite+aiosqlite:////var/lib/hotline/catalog/catalog.sqlite
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

_LAB_ROOT = Path(os.environ.get("HOTLINE_LAB_ROOT", "/var/lib/hotline"))


class CatalogSettings(BaseModel):
    """The SQL catalog of calls, recordings, transcripts and QA data.

    Attributes:
        url: SQLAlchemy async URL. SQLite (``sqlite+aiosqlite:///PATH``) is the embedded default
            and the only dialect with the full-text index (FTS5 trigram); every worker that writes
            transcripts must reach the same database (one host for SQLite).
        upgrade_on_start: run ``alembic upgrade head`` when the service starts.
        timeout_s: budget of one catalog operation, seconds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = f"sqlite+aiosqlite:///{_LAB_ROOT / 'catalog' / 'catalog.sqlite'}"
    upgrade_on_start: bool = True
    timeout_s: float = Field(default=10.0, gt=0)


class RecordingSettings(BaseModel):
    """Call recording.

    Attributes:
        enabled: start MixMonitor on every answered (two-party bridged) call.
        host_dir: Asterisk's monitor folder (``/var/spool/asterisk/monitor`` inside the lab's
            chroot) as this host sees it; recordings are written and merged there.
        job_dir: the same folder as the transcription workers see it (default ``host_dir``).
        tz: zone whose local date names the ``YYYY/MM/DD`` folders.
        retention_days: recordings older than this many days are purged.
        exclude_caller_prefixes: caller numbers not recorded.
        only_caller_prefixes: when not empty, only these callers are recorded.
        keep_legs: keep the two mono leg files after merging them into the stereo WAV.
        min_duration_s: shorter recordings are marked skipped and not transcribed.
        close_timeout_s: how long to wait for MixMonitor to close a file after the leg ended.
        close_poll_s: how often to look at a file while waiting for it to close.
        action_timeout_s: budget of each AMI action (Getvar, MixMonitor).
        transcribe: enqueue each closed recording for transcription (Redis stream of ``speech``).
        enqueue_retry_s: how long a recording's transcription job is retried while Redis fails or does not
            answer (backoff 0.5 s doubling to 15 s; the job id is derived from the recording, so a retry
            after an ambiguous timeout still gives one transcript).
        catalog: the SQL catalog.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    host_dir: Path = _LAB_ROOT / "chroot" / "var" / "spool" / "asterisk" / "monitor"
    job_dir: Path | None = None
    tz: str = "Asia/Shanghai"
    retention_days: int = Field(default=180, ge=0)
    exclude_caller_prefixes: tuple[str, ...] = ()
    only_caller_prefixes: tuple[str, ...] = ()
    keep_legs: bool = False
    min_duration_s: float = Field(default=1.0, ge=0)
    close_timeout_s: float = Field(default=30.0, gt=0)
    close_poll_s: float = Field(default=0.2, gt=0)
    action_timeout_s: float = Field(default=5.0, gt=0)
    transcribe: bool = True
    enqueue_retry_s: float = Field(300.0, ge=0)
    catalog: CatalogSettings = CatalogSettings()

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v
