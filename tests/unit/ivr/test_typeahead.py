"""Type-ahead buffer: every DTMFEnd key used exactly once, in either event order (no I/O)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.ivr.agiwire import keys_taken, parse_reply
from hotline.ivr.interpreter import GetDigits, PlayPrompt
from hotline.ivr.menus import DTMF_DIGITS
from hotline.ivr.typeahead import DTMF_KEYS, Entry, KeyBuffer

ALL = "0123456789*#ABCD"
MENU = GetDigits("hotline/zh/main_menu", 6000, 1)


def press(buf: KeyBuffer, keys: str, at: float = 0.0) -> None:
    for k in keys:
        buf.pressed(k, at)


def test_given_keys_during_non_interruptible_prompt_when_next_input_then_taken_from_buffer_in_order() -> None:
    buf = KeyBuffer()
    press(buf, "213")  # during the welcome (STREAM FILE with no escape digits): Asterisk drops them
    assert buf.take_entry(1) == Entry("2", True)
    assert buf.take_one(DTMF_DIGITS) == "1"
    assert buf.take_entry(1) == Entry("3", True)
    assert len(buf) == 0 and buf.from_buffer == 3


def test_given_dtmfend_before_reply_when_asterisk_took_the_key_then_not_used_again() -> None:
    buf = KeyBuffer()
    since = buf.mark()
    press(buf, "1")
    buf.taken_by_asterisk(keys_taken(MENU, parse_reply("200 result=1")), since=since, takes=ALL, at=0.1)
    assert buf.keys == "" and buf.owed == ""


def test_given_reply_before_dtmfend_when_the_key_arrives_then_swallowed_once() -> None:
    buf = KeyBuffer()
    since = buf.mark()
    buf.taken_by_asterisk("1", since=since, takes=ALL, at=0.0)
    assert buf.owed == "1"
    assert buf.pressed("1", 0.05) is False  # the DTMFEnd of the key GET DATA already returned
    assert buf.pressed("1", 0.9) is True  # the caller pressed 1 again: type-ahead
    assert buf.keys == "1" and buf.owed == ""


def test_given_get_data_took_digits_and_hash_when_half_the_events_are_late_then_rest_owed() -> None:
    buf = KeyBuffer()
    since = buf.mark()
    press(buf, "20")
    got = keys_taken(GetDigits("hotline/zh/wo_enter_number", 10000, 20), parse_reply("200 result=2025"))
    buf.taken_by_asterisk(got, since=since, takes=ALL, at=1.0)
    assert buf.keys == "" and buf.owed == "25#"
    press(buf, "25#9", at=1.1)
    assert buf.keys == "9"  # pressed after GET DATA ended: for the next input


def test_given_keys_after_the_escape_key_when_reply_arrives_then_they_stay_for_the_next_node() -> None:
    buf = KeyBuffer()
    since = buf.mark()
    press(buf, "13")  # "1" stopped the menu prompt, "3" came before the next command
    buf.taken_by_asterisk("1", since=since, takes=DTMF_DIGITS, at=0.0)
    assert buf.keys == "3"


def test_given_announcement_skippable_by_hash_when_caller_typed_1_then_hash_then_1_kept_for_the_menu() -> None:
    buf = KeyBuffer()
    press(buf, "1")  # typed during the welcome
    since = buf.mark()
    assert buf.take_one("#") is None  # the announcement plays: its escape key is not first
    press(buf, "2#")  # "2" ignored by STREAM FILE (not an escape digit), "#" skips it
    prompt = PlayPrompt("hotline/zh/hot/x", "#")
    buf.taken_by_asterisk(keys_taken(prompt, parse_reply("200 result=35 endpos=800")), since=since, takes="#",
                          at=0.0)
    assert buf.keys == "12"


def test_given_key_pressed_just_before_the_command_started_when_a_later_key_taken_then_stale_one_dropped() -> None:
    buf = KeyBuffer()
    since = buf.mark()
    press(buf, "23")  # "2" was lost in the instant before GET DATA started; "3" was taken
    buf.taken_by_asterisk("3", since=since, takes=ALL, at=0.0)
    assert buf.keys == "" and buf.stale == 1


def test_given_same_digit_repeated_when_taken_then_earliest_run_removed() -> None:
    buf = KeyBuffer()
    since = buf.mark()
    press(buf, "11")
    buf.taken_by_asterisk("1", since=since, takes=DTMF_DIGITS, at=0.0)
    assert buf.keys == "1"


def test_given_keys_before_the_mark_when_reply_names_same_digit_then_only_later_keys_matched() -> None:
    buf = KeyBuffer()
    press(buf, "5")  # typed ahead, not an escape of the running prompt
    since = buf.mark()
    press(buf, "#")
    buf.taken_by_asterisk("#", since=since, takes="#", at=0.0)
    press(buf, "5")
    assert buf.keys == "55"


def test_given_collect_when_buffer_holds_part_of_the_number_then_entry_incomplete() -> None:
    buf = KeyBuffer()
    press(buf, "2025")
    assert buf.take_entry(20) == Entry("2025", False)
    press(buf, "1009#7")
    assert buf.take_entry(16) == Entry("1009", True)
    assert buf.keys == "7"


def test_given_hash_alone_when_taken_as_entry_then_empty_and_complete() -> None:
    buf = KeyBuffer()
    press(buf, "#")
    assert buf.take_entry(20) == Entry("", True)


def test_given_garbage_keys_when_pressed_then_invalid_dropped_and_buffer_capped() -> None:
    buf = KeyBuffer(max_keys=8)
    for k in ["X", "", "12", "e", "\x00", "F"]:
        assert buf.pressed(k, 0.0) is False
    assert buf.invalid == 6
    press(buf, "a" * 3 + "1" * 100)  # lowercase a-d are the same keys
    assert buf.keys == "AAA11111" and buf.overflow == 95


def test_given_owed_key_never_seen_when_ttl_passes_then_forgotten() -> None:
    buf = KeyBuffer(owed_ttl_s=2.0)
    buf.taken_by_asterisk("4", since=buf.mark(), takes=ALL, at=10.0)
    assert buf.pressed("4", 13.0) is True  # a new press, long after: not swallowed
    assert buf.owed == "" and buf.owed_expired == 1


@given(
    typed=st.text(alphabet="0123456789*#", min_size=0, max_size=30),
    taken_len=st.integers(0, 10),
    split=st.integers(0, 40),
    late=st.booleans(),
)
def test_property_every_key_used_exactly_once_whatever_the_event_order(typed: str, taken_len: int, split: int,
                                                                       late: bool) -> None:
    """Keys typed during a command: a prefix taken by Asterisk, the rest buffered, whichever order
    the DTMFEnd events and the reply come in; nothing is used twice, nothing lost."""
    taken = typed[:taken_len]
    buf = KeyBuffer(max_keys=64)
    since = buf.mark()
    seen = min(split, len(typed)) if late else len(typed)
    press(buf, typed[:seen])
    buf.taken_by_asterisk(taken, since=since, takes=ALL, at=0.0)
    press(buf, typed[seen:], at=0.1)
    assert buf.owed == ""
    assert buf.keys == typed[len(taken):]
    assert set(buf.keys) <= DTMF_KEYS
