"""Fuzz: hostile values through the reminders/callbacks API, the CSV import and the supervisor forms,
checked on the exact AMI bytes that would be written.

Each property drives an entry point with values built from hostile fragments (commas, ``..``, CR/LF,
``${SHELL(...)}``, ``$[``, NUL, full-width and look-alike characters, very long text) mixed with
valid names. Either the entry point refuses the input with an ``InvalidRequest`` (nothing stored,
nothing sent), or the action it leads to is encoded by the AMI client's own encoder and the bytes
are exactly one frame whose headers are the expected ones, with every value safe.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.callbacks import policy as pol
from hotline.callbacks.api import CallbacksApi
from hotline.callbacks.dialler import originate_fields
from hotline.callbacks.importer import parse_reminders_csv
from hotline.callbacks.settings import CallbacksSettings
from hotline.ivr.agiwire import format_command
from hotline.ivr.announcements import Announcement, AnnouncementError
from hotline.ivr.interpreter import PlayPrompt
from hotline.kernel.requests import InvalidRequest
from hotline.telephony.ami import AmiBadAction
from hotline.telephony.headers import UnsafeHeaderValue
from hotline.web.schemas import SpyRequest
from hotline.web.spy import spy_originate
from tests.unit.security.fakes import CaptureAmi, MemoryStore, headers_of

NOW = dt.datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
SETTINGS = CallbacksSettings()
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = ["..", "../", "/", ",", ",HL_ATTEMPT=evil", "\r\n", "\n", "\r\nAction: Originate", "${SHELL(rm -rf /)}",
           "${", "$[1+1]", "$[", "\x00", "\uff0c", "\u2215", "\u202e", "\u0430", "\uff11", " ", '"', "&", "#", ".",
           "SHELL(id)", "System(id)", "a" * 300, "../../var/spool/asterisk/monitor/x", "=", ";", "|", "\t"]
SAFE = ["hello", "goodbye", "hotline/zh/reminder_intro", "hotline/yue/wo_done", "beep", "a-b_c", "X9"]

fragment = st.one_of(st.sampled_from(HOSTILE), st.sampled_from(SAFE), st.text(max_size=8))
hostile_text = st.lists(fragment, min_size=1, max_size=5).map("".join)
prompt_text = st.lists(st.one_of(hostile_text, st.sampled_from(SAFE)), min_size=1, max_size=4).map("&".join)

SAFE_PROMPT = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
ORIGINATE_HEADERS = ["Action", "ActionID", "Channel", "Context", "Exten", "Priority", "Timeout", "CallerID",
                     "Account", "Async"] + ["Variable"] * 10
VARIABLES = ["HL_ATTEMPT", "HL_PROMPTS", "HL_SAY_DIGITS", "HL_SAY_NUMBER", "HL_SAY_TIME", "HL_TZ", "HL_SURVEY",
             "HL_SURVEY_TRIES", "HL_SURVEY_TIMEOUT_S", "HL_CLOSING"]


def _assert_safe_value(value: str) -> None:
    for bad in (",", "${", "$[", "\x00", "\r", "\n", ".."):
        assert bad not in value, (bad, value)


async def _originate_bytes(job) -> bytes:  # type: ignore[no-untyped-def]
    ami = CaptureAmi()
    action_id = ami.next_action_id("Originate")
    await ami.action("Originate", originate_fields(pol.start_attempt(job, NOW, action_id), SETTINGS),
                     action_id=action_id)
    return ami.sent[0]


def _check_reminder_frame(data: bytes, job_id: str, prompts: tuple[str, ...]) -> None:
    headers = headers_of(data)
    assert [name for name, _ in headers] == ORIGINATE_HEADERS
    values = dict(headers[:10])
    assert values["Account"] == f"{job_id}#1"
    variables = [v.split("=", 1) for name, v in headers if name == "Variable"]
    assert [k for k, _ in variables] == VARIABLES  # no extra variable smuggled in
    for _, value in variables:
        _assert_safe_value(value)
    assert dict(variables)["HL_PROMPTS"] == "&".join(prompts)
    assert all(SAFE_PROMPT.fullmatch(p) for p in prompts)


# ----------------------------------------------------------------- reminders API


@FUZZ
@given(prompt=prompt_text, job_id=st.none() | hostile_text | st.sampled_from(["rem-ok", "rem_2"]),
       say_digits=st.sampled_from(["", "123", "1,2", "\uff11", "1\r\n2", "${X}"]))
def test_reminders_api_with_hostile_values_never_sends_an_unsafe_originate(prompt: str, job_id: str | None,
                                                                           say_digits: str) -> None:
    async def run() -> None:
        store = MemoryStore()
        api = CallbacksApi(store, SETTINGS, clock=lambda: NOW)  # type: ignore[arg-type]
        try:
            row = await api.schedule_reminder("13800138000", prompt, NOW + 60, job_id=job_id, say_digits=say_digits)
        except InvalidRequest as exc:
            assert store.jobs == {}
            assert exc.message and exc.body()["error_id"] == "invalid-request"
            return
        job = store.jobs[row["id"]]
        assert job_id is None or SAFE_ID.fullmatch(job_id)
        assert job.message.prompts == tuple(p for p in prompt.split("&") if p)  # valid input kept as given
        _check_reminder_frame(await _originate_bytes(job), job.job_id, job.message.prompts)

    asyncio.run(run())


@FUZZ
@given(queue=st.one_of(hostile_text, st.sampled_from(["commerce", "housing_fund"])))
def test_callbacks_api_with_hostile_queue_stores_only_a_plain_name(queue: str) -> None:
    async def run() -> None:
        store = MemoryStore()
        api = CallbacksApi(store, SETTINGS, clock=lambda: NOW)  # type: ignore[arg-type]
        try:
            await api.schedule_callback("13800138000", queue, None)
        except InvalidRequest:
            assert store.requests == {}
            return
        assert SAFE_ID.fullmatch(queue)
        [request] = store.requests.values()
        assert request.queue == queue

    asyncio.run(run())


def test_a_valid_reminder_gives_exactly_these_bytes() -> None:
    async def run() -> bytes:
        store = MemoryStore()
        api = CallbacksApi(store, SETTINGS, clock=lambda: NOW)  # type: ignore[arg-type]
        await api.schedule_reminder("138 0013 8000", "hotline/zh/wo_done&goodbye", NOW, job_id="rem-a",
                                    say_digits="2026")
        return await _originate_bytes(store.jobs["rem-a"])

    assert asyncio.run(run()) == (
        b"Action: Originate\r\nActionID: t.1.Originate\r\nChannel: PJSIP/13800138000@trunk\r\n"
        b"Context: hotline-reminder\r\nExten: s\r\nPriority: 1\r\nTimeout: 30000\r\n"
        b'CallerID: "12345" <12345>\r\nAccount: rem-a#1\r\nAsync: true\r\n'
        b"Variable: HL_ATTEMPT=rem-a#1\r\nVariable: HL_PROMPTS=hotline/zh/wo_done&goodbye\r\n"
        b"Variable: HL_SAY_DIGITS=2026\r\nVariable: HL_SAY_NUMBER=\r\nVariable: HL_SAY_TIME=\r\n"
        b"Variable: HL_TZ=Asia/Shanghai\r\nVariable: HL_SURVEY=\r\nVariable: HL_SURVEY_TRIES=2\r\n"
        b"Variable: HL_SURVEY_TIMEOUT_S=6\r\nVariable: HL_CLOSING=goodbye\r\n\r\n"
    )


# ----------------------------------------------------------------- CSV import


@FUZZ
@given(rows=st.lists(st.tuples(st.one_of(hostile_text, st.sampled_from(SAFE)),
                               st.one_of(st.just(""), hostile_text, st.sampled_from(["id-1", "id_2"]))),
                     min_size=1, max_size=6))
def test_csv_import_with_hostile_prompts_and_ids_never_yields_an_unsafe_originate(rows: list[tuple[str, str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["number", "prompts", "id"])
    for i, (prompts, job_id) in enumerate(rows):
        writer.writerow([f"1380013{i:04d}", prompts, job_id])
    result = parse_reminders_csv(out.getvalue(), now=NOW, trunk="trunk")
    assert len(result.jobs) + len(result.errors) <= result.rows or result.errors[0].row == 1
    for job in result.jobs:
        assert SAFE_ID.fullmatch(job.job_id) or job.job_id.startswith("csv-")
        _check_reminder_frame(asyncio.run(_originate_bytes(job)), job.job_id, job.message.prompts)


# ----------------------------------------------------------------- supervisor forms


@FUZZ
@given(seat=st.one_of(hostile_text, st.sampled_from(["1271", "1280"])),
       mode=st.one_of(st.sampled_from(["listen", "whisper", "barge"]), hostile_text),
       agent_id=st.one_of(st.none(), hostile_text, st.just("1275")))
def test_spy_form_with_hostile_values_rings_only_a_plain_seat_into_chanspy(seat: str, mode: str,
                                                                           agent_id: str | None) -> None:
    from pydantic import ValidationError

    try:
        body = SpyRequest.model_validate({"mode": mode, "agent_id": agent_id})
    except ValidationError:
        return  # 400 before anything else
    assert body.agent_id is None or body.agent_id.isdigit()
    ami = CaptureAmi()
    try:
        fields = spy_originate(body.mode, seat, "PJSIP/1275-0000002a", 5.0)
        asyncio.run(ami.action("Originate", fields))
    except (UnsafeHeaderValue, AmiBadAction):
        assert ami.sent == []
        return
    assert SAFE_ID.fullmatch(seat)
    headers = dict(headers_of(ami.sent[0]))
    assert headers["Channel"] == f"PJSIP/{seat}" and headers["Application"] == "ChanSpy"
    assert headers["Data"] == f"PJSIP/1275-0000002a,{ {'listen': 'q', 'whisper': 'qw', 'barge': 'qB'}[body.mode]}"


@FUZZ
@given(prompt=st.one_of(hostile_text, st.sampled_from(["hotline/{lang}/hot/x", "hot_topic"])),
       lang=st.sampled_from(["zh", "yue", "en"]))
def test_announcement_form_with_hostile_prompt_plays_only_a_plain_sound(prompt: str, lang: str) -> None:
    try:
        a = Announcement.from_dict({"id": "a-1", "prompt": prompt, "starts_at": 0, "ends_at": 1, "menus": ["*"]})
    except AnnouncementError:
        return
    ami = CaptureAmi()
    asyncio.run(ami.action("AGI", {"Channel": "PJSIP/trunk-00000001",
                                   "Command": format_command(PlayPrompt(a.prompt_for(lang), "")),
                                   "CommandID": "u/1"}))
    headers = dict(headers_of(ami.sent[0]))
    assert headers["Command"] == f"STREAM FILE {a.prompt_for(lang)} \"\""
    assert SAFE_PROMPT.fullmatch(a.prompt_for(lang))


# ----------------------------------------------------------------- the encoder's last line


@FUZZ
@given(prompts=st.lists(hostile_text, min_size=1, max_size=3), digits=hostile_text)
def test_a_job_that_skipped_validation_is_still_never_sent_with_smuggled_headers(prompts: list[str],
                                                                                digits: str) -> None:
    """A job built without the entry points (an old Redis record, a future bug): the AMI encoder
    refuses a comma, ``${``/``$[``, SHELL( or CR/LF in a Variable; what it lets through is one frame
    with exactly the ten variables."""
    from hotline.callbacks.model import Job, JobKind, Message

    job = pol.schedule(Job(job_id="rem-x", kind=JobKind.REMINDER, number="13800138000", created_at=NOW,
                           not_before_at=NOW, trunk="trunk", message=Message(prompts=tuple(prompts),
                                                                             say_digits=digits)),
                       SETTINGS.policy(), NOW)
    try:
        data = asyncio.run(_originate_bytes(job))
    except AmiBadAction:
        return
    headers = headers_of(data)
    assert [name for name, _ in headers] == ORIGINATE_HEADERS
    variables = [v.split("=", 1) for name, v in headers if name == "Variable"]
    assert [k for k, _ in variables] == VARIABLES
    for _, value in variables:
        for bad in (",", "${", "$[", "\x00", "\r", "\n"):
            assert bad not in value
