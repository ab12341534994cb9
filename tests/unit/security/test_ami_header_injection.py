"""AMI header injection: a list of attacks, each refused with a message that names the field and why.

Issue #15 item 4: nothing from a caller, a form or a CSV reaches an AMI header unvalidated. Each
test below is one attack (the hostile value is in its name or parameters); the refusal is an
``UnsafeHeaderValue`` (an ``InvalidRequest``, HTTP 400) at the entry point, and the AMI encoder's
last-line guard refuses what slipped past (``AmiBadAction``, nothing written).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.callbacks.api import CallbacksApi
from hotline.callbacks.importer import parse_reminders_csv
from hotline.callbacks.settings import CallbacksSettings
from hotline.ivr.announcements import Announcement, AnnouncementError
from hotline.kernel.requests import InvalidRequest
from hotline.telephony.ami import AmiBadAction, encode_action
from hotline.telephony.headers import UnsafeHeaderValue, check_action, check_id, check_prompt, check_value
from hotline.web.spy import spy_originate
from tests.unit.security.fakes import MemoryStore

NOW = dt.datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()

# (attack, hostile value, words the refusal must contain)
PROMPT_ATTACKS = [
    ("comma adds Playback options / variables", "hello,HL_ATTEMPT=x", "comma"),
    ("dot-dot walks out of the sounds dir", "../../var/spool/asterisk/monitor/x", ".."),
    ("dot-dot inside a path", "hotline/zh/../../../monitor/2026/citizen", ".."),
    ("absolute path", "/var/spool/asterisk/monitor/x", "absolute"),
    ("CR/LF starts a new header", "hello\r\nAction: Originate", "CR or LF"),
    ("bare LF", "hello\nVariable: X=1", "CR or LF"),
    ("dialplan function", "${SHELL(rm -rf /)}", "${"),
    ("dialplan expression", "$[1+1]", "$["),
    ("NUL byte", "hello\x00world", "control"),
    ("very long", "a" * 5000, "longer than"),
    ("full-width comma", "hello\uff0cworld", "segments"),
    ("unicode look-alike slash", "hotline\u2215zh\u2215x", "segments"),
    ("right-to-left override", "hello\u202egnp", "segments"),
    ("space splits an AGI argument", "hello world", "segments"),
    ("AGI quote breaks out", 'hello" 0 SET VARIABLE X', "segments"),
    ("ampersand adds a file", "hello&/etc/passwd", "segments"),
    ("extension given", "hello.wav", "segments"),
    ("empty", "", "empty"),
    ("not text", 42, "text"),
]


@pytest.mark.parametrize(("attack", "value", "words"), PROMPT_ATTACKS, ids=[a[0] for a in PROMPT_ATTACKS])
def test_given_hostile_prompt_when_checked_then_refused_with_a_clear_reason(attack: str, value: object,
                                                                            words: str) -> None:
    with pytest.raises(UnsafeHeaderValue) as err:
        check_prompt(value, "prompt")
    assert words in str(err.value), attack
    assert str(err.value).startswith("prompt ")
    assert isinstance(err.value, InvalidRequest) and err.value.details["field"] == "prompt"


def test_given_a_prompt_outside_the_catalog_when_checked_then_refused() -> None:
    with pytest.raises(UnsafeHeaderValue, match="not in the prompt catalog"):
        check_prompt("hotline/zh/other_citizens_recording", catalog={"hello", "hotline/zh/reminder_intro"})
    assert check_prompt("hotline/zh/reminder_intro", catalog={"hotline/zh/reminder_intro"}) == \
        "hotline/zh/reminder_intro"


ID_ATTACKS = [
    ("comma adds an Account value", "rem-1,evil"),
    ("dot", "rem.1"),
    ("slash", "rem/1"),
    ("CR/LF", "rem\r\nAction: Hangup"),
    ("NUL", "rem\x00"),
    ("expression", "${SHELL(id)}"),
    ("hash", "rem#1"),
    ("space", "rem 1"),
    ("full-width digit", "rem-\uff11"),
    ("Cyrillic a", "rem-\u0430"),
    ("too long", "r" * 65),
    ("empty", ""),
]


@pytest.mark.parametrize(("attack", "value"), ID_ATTACKS, ids=[a[0] for a in ID_ATTACKS])
def test_given_hostile_id_when_checked_then_refused(attack: str, value: str) -> None:
    with pytest.raises(UnsafeHeaderValue) as err:
        check_id(value, "job_id")
    assert str(err.value).startswith("job_id "), attack


VALUE_ATTACKS = [
    ("comma sets another variable", "x,HL_ATTEMPT=evil", "comma"),
    ("expression", "${SHELL(rm -rf /)}", "${"),
    ("math expression", "$[${X}+1]", "$["),
    ("SHELL without ${", "SHELL(id)", "SHELL"),
    ("CR/LF", "1\r\nAction: Originate", "CR or LF"),
    ("NUL", "1\x00", "control"),
    ("very long", "9" * 300, "longer than"),
]


@pytest.mark.parametrize(("attack", "value", "words"), VALUE_ATTACKS, ids=[a[0] for a in VALUE_ATTACKS])
def test_given_hostile_variable_value_when_checked_then_refused(attack: str, value: str, words: str) -> None:
    with pytest.raises(UnsafeHeaderValue) as err:
        check_value(value, "HL_SAY_DIGITS")
    assert words in str(err.value), attack


def test_given_valid_names_ids_and_values_then_they_pass_unchanged() -> None:
    assert check_prompt("hotline/yue/main_menu") == "hotline/yue/main_menu"
    assert check_prompt("hotline/{lang}/hot/x", allow_lang=True) == "hotline/{lang}/hot/x"
    assert check_id("csv-0123abcd_EF") == "csv-0123abcd_EF"
    assert check_value("") == "" and check_value("Asia/Shanghai") == "Asia/Shanghai"


# ----------------------------------------------------------------- the encoder's last-line guard

GUARD_ATTACKS = [
    ("Originate runs System", "Originate", {"Channel": "PJSIP/1271", "Application": "System", "Data": "id"},
     "System"),
    ("Originate runs TrySystem", "Originate", {"Channel": "PJSIP/1271", "Application": "trysystem", "Data": "x"},
     "System"),
    ("Originate runs Exec", "Originate", {"Channel": "PJSIP/1271", "Application": "Exec", "Data": "System(id)"},
     "Exec"),
    ("Originate ExecIf", "Originate", {"Channel": "PJSIP/1271", "Application": "ExecIf", "Data": "1?System(id)"},
     "Exec"),
    ("SHELL in Data", "Originate", {"Channel": "PJSIP/1271", "Application": "Verbose", "Data": "SHELL(id)"},
     "SHELL"),
    ("expression in Data", "Originate", {"Channel": "PJSIP/1271", "Application": "Verbose", "Data": "${ENV(HOME)}"},
     "${"),
    ("comma in a Variable value", "Originate", {"Channel": "PJSIP/1", "Variable": {"HL_PROMPTS": "a,HL_X=1"}},
     "comma"),
    ("function as Variable name", "Originate", {"Channel": "PJSIP/1", "Variable": {"FILE(/tmp/x)": "1"}},
     "variable name"),
    ("comma in Account", "Originate", {"Channel": "PJSIP/1", "Account": "rem-1#1,x"}, "account code"),
    ("Setvar writes a function", "Setvar", {"Channel": "PJSIP/1", "Variable": "FILE(/etc/asterisk/x)", "Value": "1"},
     "plain variable"),
    ("AGI EXEC System", "AGI", {"Channel": "PJSIP/1", "Command": "EXEC System id"}, "AGI never"),
    ("NUL in any header", "Redirect", {"Channel": "PJSIP/1\x00", "Context": "x"}, "NUL"),
]


@pytest.mark.parametrize(("attack", "action", "fields", "words"), GUARD_ATTACKS, ids=[a[0] for a in GUARD_ATTACKS])
def test_given_dangerous_action_when_encoded_then_refused_and_nothing_is_produced(
        attack: str, action: str, fields: dict, words: str) -> None:
    with pytest.raises(UnsafeHeaderValue) as direct:
        check_action(action, fields)
    assert words in str(direct.value), attack
    with pytest.raises(AmiBadAction) as err:
        encode_action(action, "id.1", fields)
    assert isinstance(err.value.__cause__, UnsafeHeaderValue)
    assert f"AMI action {action} refused" in str(err.value)


def test_given_the_actions_hotline_sends_when_guarded_then_they_pass() -> None:
    check_action("Originate", {"Channel": "PJSIP/1271", "Application": "ChanSpy", "Data": "PJSIP/1275-0000002a,qw"})
    check_action("Originate", {"Channel": "Local/wait@hotline-cb-agent/n", "Account": "cb-cb-1700000000.12#1",
                               "Variable": {"HL_TZ": "Asia/Shanghai", "HL_PROMPTS": "hello&goodbye", "HL_X": ""}})
    check_action("Getvar", {"Channel": "PJSIP/1-1", "Variable": "CHANNEL(audionativeformat)"})
    check_action("Setvar", {"Channel": "PJSIP/1-1", "Variable": "HOTLINE_SKILLS", "Value": "a,b"})
    check_action("AGI", {"Channel": "PJSIP/1-1", "Command": "EXEC Hangup 16", "CommandID": "c1"})


# ----------------------------------------------------------------- the entry points


def _api(known: set[str] | None = None) -> CallbacksApi:
    return CallbacksApi(MemoryStore(), CallbacksSettings(), clock=lambda: NOW, known_prompts=known)  # type: ignore[arg-type]


@pytest.mark.parametrize("prompt", ["hello,HL_ATTEMPT=x", "../../var/spool/asterisk/monitor/x", "${SHELL(id)}",
                                    "hello&..&goodbye", "hello\r\nAction: Hangup"])
async def test_given_hostile_reminder_prompt_when_scheduled_then_400_and_nothing_stored(prompt: str) -> None:
    api = _api()
    with pytest.raises(InvalidRequest) as err:
        await api.schedule_reminder("13800138000", prompt, NOW + 60)
    assert "prompt" in str(err.value)
    assert api.store.jobs == {}  # type: ignore[attr-defined]


async def test_given_hostile_reminder_id_or_digits_when_scheduled_then_400() -> None:
    api = _api()
    with pytest.raises(InvalidRequest, match="job_id"):
        await api.schedule_reminder("13800138000", "hello", NOW, job_id="rem,HL_X=1")
    with pytest.raises(InvalidRequest, match="say_digits"):
        await api.schedule_reminder("13800138000", "hello", NOW, say_digits="1,HL_X=1")
    with pytest.raises(InvalidRequest, match="say_digits"):
        await api.schedule_reminder("13800138000", "hello", NOW, say_digits="\uff11\uff12")
    assert api.store.jobs == {}  # type: ignore[attr-defined]


async def test_given_prompt_outside_the_catalog_when_scheduled_then_400() -> None:
    with pytest.raises(InvalidRequest, match="not in the prompt catalog"):
        await _api({"hello", "goodbye"}).schedule_reminder("13800138000", "hotline/zh/secret", NOW)


async def test_given_hostile_callback_queue_when_scheduled_then_400() -> None:
    with pytest.raises(InvalidRequest, match="queue"):
        await _api().schedule_callback("13800138000", "commerce,HL_X=1", None)


def test_given_csv_with_hostile_prompts_and_ids_then_those_rows_are_errors_and_good_rows_kept() -> None:
    text = ('number,prompts,id\n'
            '13800138000,hello,ok-1\n'
            '13800138001,"hello,HL_ATTEMPT=x",bad-1\n'
            '13800138002,../../var/spool/asterisk/monitor/x,bad-2\n'
            '13800138003,hello,"evil,Account"\n'
            '13800138004,${SHELL(id)},bad-4\n'
            '13800138005,hello,ok..2\n')
    result = parse_reminders_csv(text, now=NOW)
    assert [j.job_id for j in result.jobs] == ["ok-1"]
    reasons = {e.row: e.reason for e in result.errors}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert "comma" in reasons[3] or "segments" in reasons[3]
    assert ".." in reasons[4]
    assert reasons[5].startswith("id ")
    assert "${" in reasons[6]


def test_given_hostile_spy_seat_when_originate_built_then_refused() -> None:
    with pytest.raises(UnsafeHeaderValue, match="seat"):
        spy_originate("listen", "1271,x", "PJSIP/1275-0000002a", 5.0)
    with pytest.raises(UnsafeHeaderValue, match="seat"):
        spy_originate("listen", "1271\r\nAction: Originate", "PJSIP/1275-0000002a", 5.0)


@pytest.mark.parametrize("prompt", ["../../var/spool/asterisk/monitor/x", "hot,x", "/etc/passwd", "${X}"])
def test_given_hostile_announcement_prompt_when_posted_then_invalid(prompt: str) -> None:
    with pytest.raises(AnnouncementError) as err:
        Announcement.from_dict({"id": "a", "prompt": prompt, "starts_at": 0, "ends_at": 1, "menus": ["*"]})
    assert "prompt" in str(err.value)


@pytest.mark.parametrize("caller_num", ['${SHELL(id)}', '1" <2>,x', "138\r\nAction: Hangup", "SHELL(id)", "$[1]"])
def test_given_hostile_caller_id_from_the_trunk_when_an_agent_is_rung_then_the_originate_still_goes_out(
        caller_num: str) -> None:
    """A citizen's SIP ``From`` is outside input too: it is cleaned for ``CallerID`` (never a refused
    Originate, which would re-offer the call forever)."""
    from hotline.queues.dispatch_rules import CallerLeg, originate_fields
    from hotline.queues.routing import OfferCall

    fields = originate_fields(OfferCall("L1", "U1", "1001", "commerce", ring_timeout_s=5),
                              CallerLeg("L1", "U1", "PJSIP/trunk-7", caller_num), "hlq-abc")
    data = encode_action("Originate", "id.1", fields)
    assert data.count(b"\r\n\r\n") == 1 and b"${" not in data and b"SHELL(" not in data
    assert fields["CallerID"].count('"') in (0, 2)  # type: ignore[union-attr]
