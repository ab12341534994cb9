"""The ``ticketing:`` section of the configuration (pydantic v2, ``extra="forbid"``).

Mounted in hotline's one tree as ``Settings.ticketing``. Off by default (``enabled: false``) so
that ``hotline demo`` and other engineers' services do not file tickets; the broker and Redis
come from the top-level ``mqtt:`` and ``redis:`` sections unless overridden here.

Example (the lab)::

    ticketing:
      enabled: true
      rt:
        env_file: /var/lib/hotline/rt/rt.env     # HOTLINE_RT_URL, _TOKEN (or _USER/_PASSWORD)
        default_queue: general
      webhook:
        url: https://dept.example/hotline/hook
        secret_file: /etc/hotline/webhook.secret
      mqtt: {enabled: true, client_id: hotline-1}
      outbox: {consumer: hotline-1, max_attempts: 8}
      work_orders:
        recording_url_template: "https://rec.example/{linkedid}.wav"
      monitor: {interval_s: 60, yellow_ratio: 0.2, yellow_within_s: 14400}
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from hotline.speech.jobs import DEFAULT_RESULTS_HASH, DEFAULT_RESULTS_STREAM
from hotline.ticketing.connector import WORK_ORDER_CREATED, WORK_ORDER_TRANSCRIPT, WORK_ORDER_UPDATED
from hotline.ticketing.delivery import DEFAULT_PREFIX
from hotline.ticketing.sla import DEFAULT_POLICY, SlaPolicy


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``#`` comments and blank lines ignored) as a dict."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip().strip("'\"")
    return out


class RtSinkSettings(_Strict):
    """Request Tracker 5 (REST2). Credentials given here win over ``env_file`` (written by ``lab/rt.sh``)."""

    enabled: bool = True
    url: str | None = None
    token: str | None = None
    user: str | None = None
    password: str | None = None
    env_file: Path = Path(os.environ.get("HOTLINE_RT_DIR", "/var/lib/hotline/rt")) / "rt.env"
    default_queue: str = "general"
    timeout_s: float = Field(10.0, gt=0)
    #: how long a transcript or update waits for its ticket before opening it (or retrying), seconds;
    #: keep it well under ``outbox.deliver_timeout_s``
    ticket_wait_s: float = Field(10.0, ge=0)

    def credentials(self) -> tuple[str, str | None, str | None, str | None]:
        """``(url, token, user, password)``, reading ``env_file`` for what is not given.

        Raises:
            ValueError: no URL or no credentials anywhere (the message names the file).
        """
        env: dict[str, str] = {}
        if (not self.url or not (self.token or self.password)) and self.env_file.exists():
            env = read_env_file(self.env_file)
        url = self.url or env.get("HOTLINE_RT_URL")
        token = self.token or env.get("HOTLINE_RT_TOKEN") or None
        user = self.user or env.get("HOTLINE_RT_USER") or None
        password = self.password or env.get("HOTLINE_RT_PASSWORD") or None
        if not url or not (token or (user and password)):
            raise ValueError(f"ticketing.rt: no URL/credentials given and none in {self.env_file}")
        return url, token, user, password


class WebhookSinkSettings(_Strict):
    """The signed webhook sink; off while ``url`` is empty."""

    url: str | None = None
    secret: str | None = None
    secret_file: Path | None = None
    timeout_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _secret_with_url(self) -> WebhookSinkSettings:
        if self.url and not (self.secret or self.secret_file):
            raise ValueError("webhook.url needs webhook.secret or webhook.secret_file")
        return self

    def secret_value(self) -> str:
        """The HMAC secret (``secret``, else the stripped content of ``secret_file``)."""
        if self.secret:
            return self.secret
        assert self.secret_file is not None
        return self.secret_file.read_text(encoding="utf-8").strip()


class MqttSinkSettings(_Strict):
    """The MQTT bus sink; the broker is ``host``/``port`` here, else the top-level ``mqtt:`` section."""

    enabled: bool = True
    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    topic_prefix: str | None = None
    client_id: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = Field(10, ge=2)
    publish_timeout_s: float = Field(5.0, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)


def _default_routes() -> dict[str, list[str]]:
    return {
        "rt": [WORK_ORDER_CREATED, WORK_ORDER_TRANSCRIPT, WORK_ORDER_UPDATED],
        "webhook": ["work_order."],
        "mqtt": ["call.", "agent.", "queue.", "work_order."],
    }


class OutboxSettings(_Strict):
    """Outbox stream names, routes and retry policy (see :mod:`hotline.ticketing.outbox`)."""

    prefix: str = DEFAULT_PREFIX
    consumer: str = Field(default_factory=lambda: f"hotline-{socket.gethostname()}")
    routes: dict[str, list[str]] = Field(default_factory=_default_routes)
    max_attempts: int = Field(8, ge=1)
    backoff_min_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(60.0, gt=0)
    deliver_timeout_s: float = Field(30.0, gt=0)
    claim_idle_s: float = Field(60.0, gt=0)
    #: calls delivered side by side per sink (each call's events stay in order; 1: one after another)
    parallel_calls: int = Field(4, ge=1, le=64)
    max_buffer: int = Field(100_000, ge=1)


class WorkOrderSettings(_Strict):
    """Work orders from calls, and where transcripts are announced (the speech pipeline)."""

    default_queue: str = "general"
    recording_url_template: str | None = None
    first_seat: int = 1001
    last_seat: int = 1300
    publish_call_events: bool = True
    transcripts_stream: str = DEFAULT_RESULTS_STREAM
    transcripts_hash: str = DEFAULT_RESULTS_HASH
    transcripts_group: str = "ticketing"
    transcript_grace_s: float = Field(120.0, ge=0)
    index_key: str = "hotline:ticketing:workorders"
    cards_key: str = "hotline:ticketing:cards"


class MonitorSettings(_Strict):
    """The SLA monitor (yellow and red cards)."""

    enabled: bool = True
    interval_s: float = Field(60.0, gt=0)
    yellow_ratio: float = Field(DEFAULT_POLICY.yellow_ratio, ge=0, lt=1)
    yellow_within_s: float | None = Field(14_400.0, ge=0)
    check_closed_in_rt: bool = True

    def policy(self, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> SlaPolicy:
        """The SLA policy (due dates and cards) on ``calendar`` (the service's one calendar)."""
        within = None if self.yellow_within_s is None else dt.timedelta(seconds=self.yellow_within_s)
        return SlaPolicy(yellow_ratio=self.yellow_ratio, yellow_within=within, calendar=calendar)


class TicketingSettings(_Strict):
    """The whole ``ticketing:`` section."""

    enabled: bool = False
    redis_url: str | None = None
    rt: RtSinkSettings = RtSinkSettings()
    webhook: WebhookSinkSettings = WebhookSinkSettings()
    mqtt: MqttSinkSettings = MqttSinkSettings()
    outbox: OutboxSettings = OutboxSettings()
    work_orders: WorkOrderSettings = WorkOrderSettings()
    monitor: MonitorSettings = MonitorSettings()

    def enabled_sinks(self) -> list[str]:
        """Names of the sinks that are switched on, in route order."""
        on = {"rt": self.rt.enabled, "webhook": bool(self.webhook.url), "mqtt": self.mqtt.enabled}
        return [sink for sink in self.outbox.routes if on.get(sink, False)]

    def routes(self) -> dict[str, list[str]]:
        """The outbox routes of the enabled sinks only."""
        return {sink: self.outbox.routes[sink] for sink in self.enabled_sinks()}
