"""The ``web:`` section of the configuration (pydantic v2, ``extra="forbid"``).

Mounted in hotline's one tree as ``Settings.web``. Example::

    web:
      host: 127.0.0.1
      port: 8080
      users_file: /etc/hotline/users.yaml        # written by `hotline user add`
      session_max_age_s: 28800                   # 8 h shift
      service_level: {variant: SL2, target_ratio: 0.8}
      floor:                                     # only used while no routing dispatcher is wired
        queues: [{name: commerce, skills: [commerce]}, ...]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_ROOT = Path(os.environ.get("HOTLINE_WEB_ROOT", "/var/lib/hotline/web"))

#: queues of the lab floor (the README's RT queues) and the skill each one needs
LAB_QUEUES: tuple[str, ...] = ("commerce", "labour_social", "housing_fund", "environment", "transport", "general")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QueueSpec(_Strict):
    """One queue of the stand-alone floor (see :mod:`hotline.web.floor`)."""

    name: str = Field(min_length=1)
    skills: tuple[str, ...] = ()
    service_level_s: float = Field(20.0, gt=0, description="T of 'answered within T seconds'")
    wrap_up_s: float = Field(15.0, ge=0)


class FloorConfig(_Strict):
    """The stand-alone floor: agents and queues the web layer manages itself while the routing
    dispatcher is not wired (agent states through the pure routing core, statistics from its facts).

    Attributes:
        queues: queue definitions; default: the six lab queues, each needing the skill of its name.
        first_agent / last_agent: agent ids (= PJSIP seats) ``first..last``; agent ``n`` gets skills
            ``general`` and ``LAB_QUEUES[n % 5]`` at proficiency 3.
        events_log: JSON-lines log of the floor's queue events and facts, replayed at start so a
            restart does not zero the day.
    """

    queues: tuple[QueueSpec, ...] = tuple(QueueSpec(name=q, skills=(q,)) for q in LAB_QUEUES)
    first_agent: int = 1001
    last_agent: int = 1300
    events_log: Path = _ROOT / "floor-events.jsonl"

    @model_validator(mode="after")
    def _check(self) -> FloorConfig:
        if self.last_agent < self.first_agent:
            raise ValueError("last_agent must be >= first_agent")
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise ValueError(f"queue names must be unique, got {names}")
        return self


class ServiceLevelConfig(_Strict):
    """What the wallboard shows as *the* service level (the other variants are in the API)."""

    variant: Literal["SL1", "SL2", "SL3", "SL4"] = "SL2"
    target_ratio: float = Field(0.8, gt=0, lt=1, description="cards turn red below this")


class WebConfig(_Strict):
    """The web app: HTTP API, wallboard, supervisor actions, ``/metrics``.

    Attributes:
        enabled: run the web component in ``hotline run``.
        host / port: where it listens (loopback by default: put a TLS proxy in front).
        users_file: YAML users (name, role, argon2 hash, optional seat / agent id).
        secret_file: 32-byte key of the encrypted session cookie; created (mode 0600) if missing.
        session_max_age_s: a session expires this many seconds after login.
        audit_log: JSON lines, one per supervisor action (who, what, when).
        push_min_interval_s: wallboard pushes are coalesced to at most one per this interval.
        log_format: ``json`` (one object per line, phone numbers masked) or ``text``.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    users_file: Path = _ROOT / "users.yaml"
    secret_file: Path = _ROOT / "session.key"
    session_max_age_s: int = Field(8 * 3600, ge=60)
    audit_log: Path = _ROOT / "audit.jsonl"
    push_min_interval_s: float = Field(0.05, ge=0, le=1)
    spy_timeout_s: float = Field(5.0, gt=0, description="AMI Originate timeout of listen/whisper/barge")
    service_level: ServiceLevelConfig = ServiceLevelConfig()
    floor: FloorConfig = FloorConfig()
    log_format: Literal["json", "text"] = "json"
