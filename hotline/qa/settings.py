"""The ``qa:`` section of the configuration (pydantic v2, ``extra="forbid"``).

Example::

    qa:
      plans_file: /etc/hotline/qa.yaml          # plans and scoring forms (qa.plans)
      storage_root: null                        # recordings root; null = recording.host_dir
      media_key_file: /var/lib/hotline/qa/media.key
      media_url_ttl_s: 900

The QA tables live in the recording catalog (``recording.catalog.url``, Alembic revision ``0002_qa``).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

_LAB_ROOT = Path(os.environ.get("HOTLINE_LAB_ROOT", "/var/lib/hotline"))


class QaConfig(BaseModel):
    """QA sampling and review.

    Attributes:
        plans_file: YAML of sampling plans and scoring forms (default: the shipped example).
        storage_root: folder the recordings' ``rel_path`` is relative to; None = ``recording.host_dir``.
        media_key_file: 32-byte HMAC key of the signed recording URLs (url-safe base64), created
            mode 0600 when missing.
        media_url_ttl_s: a recording URL on a review page works this many seconds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    plans_file: Path = Path(__file__).with_name("examples") / "qa.yaml"
    storage_root: Path | None = None
    media_key_file: Path = _LAB_ROOT / "qa" / "media.key"
    media_url_ttl_s: int = Field(900, ge=30, le=86400)
