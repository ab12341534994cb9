"""One validated configuration tree (pydantic v2, ``extra="forbid"``).

Loaded once from YAML (``--config FILE`` or ``$HOTLINE_CONFIG``); every problem is reported
together with the file and the dotted path of the bad key. Defaults match the lab started
by ``hotline lab up``, so the lab needs no config file at all.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hotline.callbacks.settings import CallbacksSettings
from hotline.ivr.settings import IvrConfig
from hotline.kernel.calendar import CalendarSettings
from hotline.kernel.errors import ConfigError
from hotline.kernel.settings import MqttConfig, RedisConfig
from hotline.kernel.yamlmodel import load_model
from hotline.qa.settings import QaConfig
from hotline.queues.config import RoutingSettings
from hotline.recording.settings import RecordingSettings
from hotline.speech.settings import SpeechSettings
from hotline.telephony.settings import AmiConfig, EventLogConfig
from hotline.ticketing.settings import TicketingSettings
from hotline.web.config import WebConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabConfig(_Strict):
    """Where the lab keeps its chroot, logs and pid files, and what it runs."""

    root: Path = Path(os.environ.get("HOTLINE_LAB_ROOT", "/var/lib/hotline"))
    mirror: str = os.environ.get("HOTLINE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    suite: str = "sid"
    first_seat: int = 1001
    last_seat: int = 1300
    redis_port: int = 6379
    mqtt_port: int = 1883
    with_rt: bool = Field(True, description="start Request Tracker (ticketing) as part of the lab")


class Settings(_Strict):
    """The whole configuration tree."""

    ami: AmiConfig = AmiConfig()
    lab: LabConfig = LabConfig()
    redis: RedisConfig = RedisConfig()
    mqtt: MqttConfig = MqttConfig()
    event_log: EventLogConfig = EventLogConfig()
    calendar: CalendarSettings = CalendarSettings()  # one working calendar (IVR, SLA, callbacks)
    ivr: IvrConfig = IvrConfig()
    ticketing: TicketingSettings = TicketingSettings()
    speech: SpeechSettings = SpeechSettings()
    recording: RecordingSettings = RecordingSettings()
    routing: RoutingSettings = RoutingSettings()
    web: WebConfig = WebConfig()
    qa: QaConfig = QaConfig()
    callbacks: CallbacksSettings = CallbacksSettings()


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load and validate the configuration.

    Args:
        path: a YAML file; None means ``$HOTLINE_CONFIG`` if set, else all defaults.
    Returns:
        The frozen settings tree.
    Raises:
        ConfigError: unreadable file, bad YAML, or any invalid key; lists every problem
            as ``file: dotted.path: message``.
    """
    if path is None:
        path = os.environ.get("HOTLINE_CONFIG") or None
    if path is None:
        return Settings()
    return load_model(path, Settings, ConfigError)
