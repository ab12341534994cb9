"""The ``speech:`` section of the configuration (pydantic v2, ``extra="forbid"``).

Meant to be mounted in hotline's one configuration tree (``speech: SpeechSettings``); checked
for shape at load, then :func:`probe` checks the model folder live.

Example::

    speech:
      model_path: /var/lib/hotline/models/vosk-model-small-cn-0.22
      processes: 2
      speakers: [caller, agent]       # channel 0 (left), channel 1 (right)
      keywords:
        complaint: [投诉, 举报]
        threat: [自杀, 跳楼]
        urgent: [紧急, 救命]
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.speech.jobs import DEFAULT_GROUP, DEFAULT_RESULTS_HASH, DEFAULT_RESULTS_STREAM, DEFAULT_STREAM
from hotline.speech.models import resolve_model_path
from hotline.speech.transcript import DEFAULT_KEYWORDS, DEFAULT_SPEAKERS


class SpeechSettings(BaseModel):
    """Transcription settings.

    Attributes:
        model_path: the Vosk model folder; None means "not configured" (``$HOTLINE_VOSK_MODEL``
            is then consulted by :func:`hotline.speech.models.resolve_model_path`).
        processes: decoder processes per worker (each holds the model in memory).
        stream: Redis stream of jobs.
        group: consumer group shared by all workers.
        results_hash: Redis hash of stored outcomes (interim sink until the catalog takes over).
        events_stream: Redis stream announcing each stored outcome.
        visibility_timeout_s: a job idle this long is reclaimed from its (dead) worker, seconds.
        max_deliveries: deliveries after which a job is stored as failed.
        min_duration_s: recordings shorter than this are skipped, seconds.
        speakers: label of channel 0, channel 1 of stereo recordings.
        keywords: QA flag -> keywords (Chinese matched ignoring spaces, Latin as whole words).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: Path | None = None
    processes: int = Field(default=1, ge=1, le=64)
    stream: str = DEFAULT_STREAM
    group: str = DEFAULT_GROUP
    results_hash: str = DEFAULT_RESULTS_HASH
    events_stream: str = DEFAULT_RESULTS_STREAM
    visibility_timeout_s: float = Field(default=60.0, gt=0)
    max_deliveries: int = Field(default=3, ge=1)
    min_duration_s: float = Field(default=1.0, ge=0)
    speakers: tuple[str, str] = DEFAULT_SPEAKERS  # type: ignore[assignment]
    keywords: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_KEYWORDS))

    @field_validator("speakers")
    @classmethod
    def _distinct_speakers(cls, v: tuple[str, str]) -> tuple[str, str]:
        if v[0] == v[1] or not all(s.strip() for s in v):
            raise ValueError("speakers must be two different, non-empty labels")
        return v

    @field_validator("keywords")
    @classmethod
    def _non_empty_keywords(cls, v: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for flag, words in v.items():
            if not flag.strip() or not words or not all(w.strip() for w in words):
                raise ValueError(f"keywords.{flag}: give a flag name and a list of non-empty keywords")
        return v


def probe(settings: SpeechSettings) -> Path:
    """Live check at start-up: the configured model folder exists and looks like a Vosk model.

    Raises:
        ModelNotFound: not configured, missing, or incomplete (the message lists what lacks).
    """
    return resolve_model_path(settings.model_path)
