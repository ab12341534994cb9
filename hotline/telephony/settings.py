"""Settings of the AMI adapter and the AMI event log (slices of the root settings tree)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AmiConfig(_Strict):
    """How to reach Asterisk's manager interface (manager.conf ``[hotline]`` in the lab)."""

    host: str = "127.0.0.1"
    port: int = Field(5038, ge=1, le=65535)
    username: str = "hotline"
    secret: str = "hotline-lab-secret"
    connect_timeout_s: float = Field(5.0, gt=0)
    action_timeout_s: float = Field(10.0, gt=0, description="default timeout of one AMI action")
    ping_interval_s: float = Field(5.0, gt=0, description="a silent drop is detected within 2 intervals")
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    fallback_encoding: str = Field("gb18030", description="for frames that are not valid UTF-8")


class EventLogConfig(_Strict):
    """The append-only AMI event log (raw frames + receive time), replayable."""

    path: Path = Path(os.environ.get("HOTLINE_EVENT_LOG", "/var/lib/hotline/events/ami.log"))
