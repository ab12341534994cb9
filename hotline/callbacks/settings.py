"""The ``callbacks:`` config section (pydantic v2, ``extra="forbid"``), checked at load.

Cross-field checks: every calling window parses, the time zone exists, department contact numbers
are valid mainland numbers (normalised), caps and attempts are positive.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hotline.callbacks.errors import InvalidSchedule
from hotline.callbacks.model import Outcome
from hotline.callbacks.numbers import NumberRejected, parse_number
from hotline.callbacks.policy import DEFAULT_GAPS_S, CallingWindow, SchedulePolicy
from hotline.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompts(_Strict):
    """Sound files (no extension) the reminder dialplan plays; stock Asterisk sounds by default,
    the IVR's generated ``hotline/<lang>/...`` prompts once they exist."""

    reminder_intro: tuple[str, ...] = ("hello",)
    satisfaction_intro: tuple[str, ...] = ("hello",)
    satisfaction_question: str = "beep"
    deadline_yellow: tuple[str, ...] = ("hello",)
    deadline_red: tuple[str, ...] = ("hello",)
    goodbye: tuple[str, ...] = ("goodbye",)


class CallbacksSettings(_Strict):
    """Callbacks, reminders and follow-up calls."""

    enabled: bool = True
    key_prefix: str = "hotline:callbacks:"
    tz: str = "Asia/Shanghai"
    windows: tuple[str, ...] = ("08:30-21:00",)
    rest_days: bool = Field(True, description="weekend / rest-day windows (statutory holidays never, unless urgent)")
    max_attempts: int = Field(3, ge=1)
    retry_gaps_s: dict[Outcome, float] = Field(default_factory=lambda: dict(DEFAULT_GAPS_S))
    max_concurrent: int = Field(10, ge=1)
    max_concurrent_per_trunk: int = Field(10, ge=1)
    trunk_caps: dict[str, int] = Field(default_factory=dict)
    trunk: str = Field("trunk", description="PJSIP endpoint for outbound calls: PJSIP/<number>@<trunk>")
    caller_id: str = "12345"
    ring_timeout_s: float = Field(30.0, gt=0, description="Originate Timeout")
    action_timeout_s: float = Field(5.0, gt=0, description="budget of one AMI action")
    attempt_grace_s: float = Field(10.0, gt=0, description="after the Originate timeout: an attempt with no"
                                   " OriginateResponse is then settled from CoreShowChannels"
                                   " (hotline/callbacks/attempts.py)")
    tick_s: float = Field(1.0, gt=0, description="longest sleep of the timer task (new jobs from the CLI)")
    callback_mode: Literal["citizen_first", "agent_first"] = Field(
        "citizen_first", description="keep-my-place: ring the citizen, then queue them for an agent; or queue a"
                                     " placeholder, ring the citizen once an agent answered"
                                     " (hotline/callbacks/agentfirst.py)")
    callback_max_active_per_queue: int = Field(1, ge=1)
    callback_priority_boost: int = Field(1000, description="added to the caller's priority on the call back")
    department_contacts: dict[str, str] = Field(default_factory=dict, description="queue -> contact number")
    offer_enabled: bool = Field(True, description="offer waiting callers a callback (hotline/callbacks/offer.py)")
    offer_ewt_s: float | None = Field(300.0, ge=0, description="offer when EWT >= this (s); None: only max wait"
                                                              " and on demand")
    offer_check_s: float = Field(1.0, gt=0, description="how often waiting calls' EWT is checked (s)")
    offer_max_invalid_numbers: int = Field(2, ge=1, description="keyed-in numbers tried before keep waiting")
    offer_context: str = Field("hotline-cb-offer", description="dialplan context of the offer (extensions.conf)")
    hold_context: str = Field("hotline-hold", description="where waiting callers hold (back after the offer)")
    prompts: Prompts = Prompts()

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one calling window")
        for w in value:
            try:
                CallingWindow.parse(w)
            except InvalidSchedule as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("department_contacts")
    @classmethod
    def _contacts(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for dep, raw in value.items():
            parsed = parse_number(raw)
            if isinstance(parsed, NumberRejected):
                raise ValueError(f"department {dep}: {parsed.reason}")
            out[dep] = parsed.number
        return out

    def policy(self, calendar: WorkingCalendar = DEFAULT_CALENDAR) -> SchedulePolicy:
        """The pure scheduling policy of this section on ``calendar`` (the service's one calendar)."""
        return SchedulePolicy(
            tz=self.tz, windows=tuple(CallingWindow.parse(w) for w in self.windows), rest_days=self.rest_days,
            max_attempts=self.max_attempts, retry_gaps_s={**DEFAULT_GAPS_S, **self.retry_gaps_s},
            max_concurrent=self.max_concurrent, max_concurrent_per_trunk=self.max_concurrent_per_trunk,
            trunk_caps=dict(self.trunk_caps), calendar=calendar,
        )
