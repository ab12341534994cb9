"""The IVR state machine walked through the sample 12345 menu, result by result."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.ivr.announcements import Announcement
from hotline.ivr.interpreter import (
    CallerHungUp,
    CallFacts,
    Command,
    CommandFailed,
    DigitsReceived,
    GetDigits,
    HandOverToQueue,
    Hangup,
    LookupResult,
    LookupWorkOrder,
    PlaybackFinished,
    PlayPrompt,
    Result,
    SayDigits,
    SessionState,
    SetVariable,
    Timeout,
    start,
    step,
)
from hotline.ivr.menus import DTMF_DIGITS, Menu, parse_menu
from hotline.kernel.calendar import HOLIDAYS_STATUTORY, WEEKDAYS, ChineseCalendarSource, WorkingCalendar

from .conftest import CLOSED, HOLIDAY, OPEN, at

P = PlaybackFinished()
T = Timeout()
H = CallerHungUp()


def keys(digits: str) -> DigitsReceived:
    return DigitsReceived(digits)


def walk(
    menu: Menu, results: list[Result], now: float = OPEN, facts: CallFacts | None = None
) -> tuple[SessionState, list[tuple[Command, ...]]]:
    """Start a session and feed results; returns the final state and every command batch."""
    state, commands = start(menu, facts or CallFacts(caller="13800000000"), now)
    batches = [commands]
    for result in results:
        assert not state.done, f"session ended early at {state.node}: {state.reason}"
        state, commands = step(menu, state, result, now)
        batches.append(commands)
    return state, batches


LANG_PATH = ("language", "opening_hours", "welcome", "hot_topics", "main")


@pytest.mark.parametrize(
    ("results", "queue", "skills", "priority", "language", "tail"),
    [
        pytest.param(
            [keys("1"), P, keys("1"), keys("3"), P],
            "housing_fund",
            ("housing_fund", "consultation"),
            5,
            "zh",
            ("consultation", "consult_housing_fund"),
            id="mandarin-consultation-housing-fund",
        ),
        pytest.param(
            [keys("2"), P, keys("2"), keys("5"), P],
            "transport",
            ("transport", "request"),
            6,
            "yue",
            ("request", "request_transport"),
            id="cantonese-request-transport",
        ),
        pytest.param(
            [keys("3"), P, keys("1"), keys("2"), P],
            "labour_social",
            ("labour_social", "consultation"),
            5,
            "en",
            ("consultation", "consult_labour_social"),
            id="english-consultation-labour",
        ),
        pytest.param(
            [keys("1"), P, keys("2"), keys("1"), P],
            "commerce",
            ("commerce", "request"),
            6,
            "zh",
            ("request", "request_commerce"),
            id="request-commerce",
        ),
        pytest.param(
            [keys("1"), P, keys("1"), keys("4"), P],
            "environment",
            ("environment", "consultation"),
            5,
            "zh",
            ("consultation", "consult_environment"),
            id="consultation-environment",
        ),
        pytest.param(
            [keys("1"), P, keys("3"), P],
            "complaints",
            ("complaint", "seniority"),
            7,
            "zh",
            ("complaint",),
            id="complaint-goes-to-senior-agents",
        ),
        pytest.param(
            [keys("1"), P, keys("4"), P], "general", ("suggestion",), 3, "zh", ("suggestion",), id="suggestion"
        ),
        pytest.param(
            [keys("2"), P, keys("0"), P], "general", ("general",), 5, "yue", ("operator",), id="operator-zero"
        ),
        pytest.param(
            [keys("1"), P, keys("1"), keys("*"), keys("2"), keys("0"), P],
            "general",
            ("request",),
            6,
            "zh",
            ("consultation", "main", "request", "request_general"),
            id="star-goes-back-to-main-from-submenu",
        ),
    ],
)
def test_given_sample_menu_when_caller_presses_keys_then_handed_to_the_right_queue(
    menu: Menu,
    results: list[Result],
    queue: str,
    skills: tuple[str, ...],
    priority: int,
    language: str,
    tail: tuple[str, ...],
) -> None:
    state, batches = walk(menu, results)
    path = (*LANG_PATH, *tail)
    assert batches[-1] == (HandOverToQueue(queue, skills, priority, language, path, follow_up=False),)
    assert state.done and state.outcome == "queued"
    assert state.path == path
    assert state.node == tail[-1]


def test_given_new_call_when_starting_then_language_prompt_waits_for_one_key(menu: Menu) -> None:
    state, commands = start(menu, CallFacts(), OPEN)
    assert commands == (GetDigits("hotline/zh/choose_language", 6000, 1),)
    assert state.path == ("language",)
    assert not state.done


def test_given_language_chosen_when_continuing_then_language_variable_set_and_prompts_switch_folder(
    menu: Menu,
) -> None:
    _, batches = walk(menu, [keys("2"), P])
    assert batches[1] == (SetVariable("HOTLINE_LANGUAGE", "yue"), PlayPrompt("hotline/yue/welcome"))
    assert batches[2] == (GetDigits("hotline/yue/main_menu", 6000, 1),)


def test_given_language_preset_by_call_facts_when_starting_then_prompts_use_it(menu: Menu) -> None:
    state, commands = start(menu, CallFacts(language="en"), OPEN)
    assert state.language == "en"
    assert commands == (GetDigits("hotline/en/choose_language", 6000, 1),)


def test_given_no_key_at_language_when_retries_exhausted_then_continues_in_mandarin(menu: Menu) -> None:
    state, batches = walk(menu, [T, P, T, P, T])
    assert batches[1] == (PlayPrompt("hotline/zh/no_input", DTMF_DIGITS),)
    assert batches[2] == (GetDigits("hotline/zh/choose_language", 6000, 1),)
    assert batches[-1] == (PlayPrompt("hotline/zh/welcome"),)
    assert state.language == "zh"
    assert state.path == ("language", "opening_hours", "welcome")


@pytest.mark.parametrize("garbage", ["*", "#", "A", "D", "x", "12", "7", " "])
def test_given_garbage_key_at_main_menu_when_pressed_then_invalid_prompt_and_same_menu_again(
    menu: Menu, garbage: str
) -> None:
    state, batches = walk(menu, [keys("1"), P, keys(garbage)])
    assert batches[-1] == (PlayPrompt("hotline/zh/invalid", DTMF_DIGITS),)
    state, commands = step(menu, state, P, OPEN)
    assert commands == (GetDigits("hotline/zh/main_menu", 6000, 1),)
    assert state.attempts == 1
    assert state.path == LANG_PATH  # re-prompting does not add to the path


def test_given_garbage_at_main_menu_when_retries_exhausted_then_fallback_general_queue(menu: Menu) -> None:
    state, batches = walk(menu, [keys("1"), P, keys("A"), P, keys("*"), P, keys("9"), P])
    assert batches[-1] == (
        HandOverToQueue("general", ("general",), 5, "zh", (*LANG_PATH, "operator"), follow_up=False),
    )
    assert state.outcome == "queued"


def test_given_key_during_menu_prompt_when_barging_in_then_option_taken_without_waiting(menu: Menu) -> None:
    facts = CallFacts(open_work_orders=("202510090001",))
    state, batches = walk(menu, [keys("1"), P], facts=facts)
    assert batches[-1] == (PlayPrompt("hotline/zh/main_menu", DTMF_DIGITS),)
    state, commands = step(menu, state, PlaybackFinished("2"), OPEN)
    assert commands == (GetDigits("hotline/zh/request_menu", 6000, 1),)


@pytest.mark.parametrize(
    ("results", "follow_up"),
    [
        ([keys("1"), P, P, keys("6"), P], True),  # heard both prompts, pressed 6
        ([keys("1"), P, PlaybackFinished("6"), P], True),  # barged in with 6 during the main prompt
    ],
)
def test_given_caller_with_open_work_order_when_choosing_follow_up_then_hand_over_marked_follow_up(
    menu: Menu, results: list[Result], follow_up: bool
) -> None:
    facts = CallFacts(open_work_orders=("202510090001",))
    state, batches = walk(menu, results, facts=facts)
    assert batches[2] == (PlayPrompt("hotline/zh/main_menu", DTMF_DIGITS),)
    final = batches[-1][-1]
    assert isinstance(final, HandOverToQueue)
    assert (final.queue, final.skills, final.follow_up) == ("general", ("follow_up",), follow_up)
    assert state.follow_up is follow_up


def test_given_caller_without_open_work_order_when_pressing_follow_up_key_then_invalid(menu: Menu) -> None:
    state, batches = walk(menu, [keys("1"), P, keys("6")])
    assert batches[2] == (GetDigits("hotline/zh/main_menu", 6000, 1),)  # no follow-up offer played
    assert batches[-1] == (PlayPrompt("hotline/zh/invalid", DTMF_DIGITS),)
    assert not state.follow_up


@pytest.mark.parametrize(
    ("now", "node", "prompt"),
    [
        (CLOSED, "closed", "closed"),
        (HOLIDAY, "holiday", "holiday"),
        (at(2025, 10, 12, 20), "closed", "closed"),  # ordinary Sunday after rest-day hours
    ],
)
def test_given_agents_off_when_calling_then_message_and_callback_hint_then_goodbye(
    menu: Menu, now: float, node: str, prompt: str
) -> None:
    state, batches = walk(menu, [keys("1"), P, T, P], now=now)
    assert batches[1] == (SetVariable("HOTLINE_LANGUAGE", "zh"), PlayPrompt(f"hotline/zh/{prompt}", DTMF_DIGITS))
    assert batches[2] == (GetDigits("hotline/zh/callback_hint", 6000, 1),)
    assert batches[3] == (PlayPrompt("hotline/zh/goodbye"),)
    assert batches[4] == (Hangup(16),)
    assert state.path == ("language", "opening_hours", node, "goodbye")
    assert state.outcome == "hung_up"


@pytest.mark.parametrize(
    ("now", "first_prompt"),
    [
        (at(2025, 10, 11, 20), "welcome"),  # make-up Saturday: working-day hours (to 22:00)
        (at(2025, 10, 12, 10), "welcome"),  # ordinary Sunday: rest-day hours (09-18)
        (at(2025, 10, 8, 10), "holiday"),  # last day of Golden Week
        (at(2025, 10, 9, 7, 59), "closed"),  # before opening
    ],
)
def test_given_calendar_day_when_calling_then_schedule_branches_by_working_calendar(
    menu: Menu, now: float, first_prompt: str
) -> None:
    _, batches = walk(menu, [keys("1")], now=now)
    assert batches[-1][1].prompt == f"hotline/zh/{first_prompt}"


def test_given_year_unknown_to_calendar_when_schedule_runs_then_statutory_holidays_and_provisional_warning(
    menu: Menu,
) -> None:
    state, batches = walk(menu, [keys("1")], now=at(2027, 2, 9, 10))  # Tuesday, 春节（补假） by law
    assert batches[-1][1].prompt == "hotline/zh/holiday"
    assert any("2027" in w and "provisional" in w and HOLIDAYS_STATUTORY in w for w in state.warnings)


def test_given_calendar_without_holidays_package_when_year_unknown_then_weekday_rule_and_provisional_warning(
    menu: Menu,
) -> None:
    weekdays_only = replace(menu, calendar=WorkingCalendar([ChineseCalendarSource()]))  # no fallback
    state, batches = walk(weekdays_only, [keys("1")], now=at(2027, 2, 9, 10))
    assert batches[-1][1] == PlayPrompt("hotline/zh/welcome")
    assert any("2027" in w and "provisional" in w and WEEKDAYS in w for w in state.warnings)


WO_START = [keys("1"), P, keys("5")]


def test_given_work_order_number_when_found_then_number_and_status_read_back(menu: Menu) -> None:
    state, batches = walk(
        menu,
        [*WO_START, keys("20251009001"), LookupResult("20251009001", True, "in_progress"), P, P, P, keys("0"), P],
    )
    assert batches[3] == (GetDigits("hotline/zh/wo_enter_number", 10000, 20, 5000),)
    assert batches[4] == (LookupWorkOrder("20251009001"),)
    assert batches[5] == (PlayPrompt("hotline/zh/wo_status_intro"),)
    assert batches[6] == (SayDigits("20251009001"),)
    assert batches[7] == (PlayPrompt("hotline/zh/wo_status_in_progress"),)
    assert batches[8] == (GetDigits("hotline/zh/after_status_menu", 6000, 1),)
    final = batches[-1][-1]
    assert isinstance(final, HandOverToQueue)
    assert final.variables == (("work_order_number", "20251009001"),)
    assert state.path[-4:] == ("wo_number", "wo_lookup", "after_status", "operator")


@pytest.mark.parametrize(
    ("lookup", "prompt"),
    [
        (LookupResult("20251009001", False), "wo_not_found"),
        (LookupResult("20251009001", True, "archived"), None),  # unknown status
        (CommandFailed(0, "ticketing timeout"), "wo_unavailable"),
        (T, "wo_unavailable"),
    ],
)
def test_given_lookup_outcome_when_not_a_plain_success_then_matching_prompt_then_after_status(
    menu: Menu, lookup: Result, prompt: str | None
) -> None:
    state, batches = walk(menu, [*WO_START, keys("20251009001"), lookup])
    if prompt is None:
        assert batches[-1] == (PlayPrompt("hotline/zh/wo_status_intro"),)
        state, _ = step(menu, state, P, OPEN)
        state, commands = step(menu, state, P, OPEN)
        assert commands == (PlayPrompt("hotline/zh/wo_status_unknown"),)
    else:
        assert batches[-1] == (PlayPrompt(f"hotline/zh/{prompt}"),)
        state, commands = step(menu, state, P, OPEN)
        assert commands == (GetDigits("hotline/zh/after_status_menu", 6000, 1),)


@pytest.mark.parametrize(
    ("entered", "looked_up"),
    [
        ("20251009001", "20251009001"),
        ("20251009001#", "20251009001"),  # adapter passed the terminator through
        ("2025100900#17", "2025100900"),  # '#' ends the entry
        ("999*20251009001", "20251009001"),  # '*' clears what came before
        ("**20251009001", "20251009001"),
        ("20251009001 ", "20251009001"),
    ],
)
def test_given_collect_when_digits_entered_then_hash_terminates_and_star_clears(
    menu: Menu, entered: str, looked_up: str
) -> None:
    _, batches = walk(menu, [*WO_START, keys(entered)])
    assert batches[-1] == (LookupWorkOrder(looked_up),)


@pytest.mark.parametrize("entered", ["*", "20251009*", "123*"])
def test_given_collect_when_entry_ends_with_star_then_prompt_replayed_without_using_a_retry(
    menu: Menu, entered: str
) -> None:
    state, batches = walk(menu, [*WO_START, keys(entered)])
    assert batches[-1] == (GetDigits("hotline/zh/wo_enter_number", 10000, 20, 5000),)
    assert state.attempts == 0


@pytest.mark.parametrize("entered", ["12345", "2025100900A", "2025-10-09", "123456789012345678901", "٢٠٢٥١٠٠٩"])
def test_given_collect_when_entry_too_short_long_or_not_digits_then_invalid_number_prompt(
    menu: Menu, entered: str
) -> None:
    state, batches = walk(menu, [*WO_START, keys(entered), P])
    # The preface of a collect is not interruptible: a key would be lost before GET DATA starts.
    assert batches[-2] == (PlayPrompt("hotline/zh/wo_invalid_number"),)
    assert batches[-1] == (GetDigits("hotline/zh/wo_enter_number", 10000, 20, 5000),)
    assert state.attempts == 1


@pytest.mark.parametrize("entered", ["", "#"])
def test_given_collect_when_hash_alone_then_empty_entry_is_invalid_not_a_timeout(menu: Menu, entered: str) -> None:
    # GET DATA answers "200 result=" to "#" alone (DigitsReceived("")), "200 result= (timeout)" to silence
    state, batches = walk(menu, [*WO_START, keys(entered), P])
    assert batches[-2] == (PlayPrompt("hotline/zh/wo_invalid_number"),)
    assert state.attempts == 1


def test_given_main_menu_when_empty_entry_then_invalid_prompt_and_when_silence_then_no_input_prompt(
    menu: Menu,
) -> None:
    _, batches = walk(menu, [keys("1"), P, keys("")])
    assert batches[-1] == (PlayPrompt("hotline/zh/invalid", DTMF_DIGITS),)
    _, batches = walk(menu, [keys("1"), P, T])
    assert batches[-1] == (PlayPrompt("hotline/zh/no_input", DTMF_DIGITS),)


def test_given_collect_when_no_number_after_retries_then_on_failure_node(menu: Menu) -> None:
    state, batches = walk(menu, [*WO_START, T, P, keys("1"), P, T])
    assert batches[-1] == (GetDigits("hotline/zh/after_status_menu", 6000, 1),)
    assert state.path[-2:] == ("wo_number", "after_status")


@pytest.mark.parametrize(
    ("results", "node"),
    [
        ([H], "language"),
        ([keys("1"), H], "welcome"),  # during a non-interruptible prompt
        ([keys("1"), P, H], "main"),  # mid main-menu prompt
        ([keys("1"), P, keys("5"), keys("20251009001"), H], "wo_lookup"),  # while the lookup runs
        ([keys("1"), P, CommandFailed(511, "dead channel")], "main"),
    ],
)
def test_given_caller_hangs_up_mid_prompt_when_stepping_then_session_ends_with_path_recorded(
    menu: Menu, results: list[Result], node: str
) -> None:
    state, batches = walk(menu, results)
    assert batches[-1] == ()  # nothing to send to a dead channel
    assert state.done and state.outcome == "caller_hung_up"
    assert state.node == node
    assert state.path[-1] == node
    assert state.ended_at == OPEN


def test_given_ended_session_when_stepping_again_then_unchanged_and_no_commands(menu: Menu) -> None:
    state, _ = walk(menu, [H])
    assert step(menu, state, keys("1"), OPEN) == (state, ())


ANNS = (
    Announcement("late", "hotline/{lang}/hot/school_places", at(2025, 10, 5, 0), at(2025, 11, 1, 0), ("foshan-12345",)),
    Announcement("early", "hotline/{lang}/hot/housing_fund_july", at(2025, 10, 1, 0), at(2025, 11, 1, 0), ("*",)),
    Announcement("over", "hotline/{lang}/hot/old", at(2025, 9, 1, 0), at(2025, 9, 30, 0), ("foshan-12345",)),
    Announcement("other", "hotline/{lang}/hot/sz", at(2025, 10, 1, 0), at(2025, 11, 1, 0), ("shenzhen-12345",)),
    Announcement("english", "hotline/en/hot/en_only", at(2025, 10, 1, 0), at(2025, 11, 1, 0), ("*",), ("en",)),
)


def test_given_active_announcements_when_reaching_slot_then_played_in_start_order_then_main_menu(
    menu: Menu,
) -> None:
    _, batches = walk(menu, [keys("2"), P, P, P, P], facts=CallFacts(announcements=ANNS))
    assert [b[-1] for b in batches[2:]] == [
        PlayPrompt("hotline/yue/hot_topics_intro", "#"),
        PlayPrompt("hotline/yue/hot/housing_fund_july", "#"),
        PlayPrompt("hotline/yue/hot/school_places", "#"),
        GetDigits("hotline/yue/main_menu", 6000, 1),
    ]


def test_given_announcements_when_caller_presses_hash_then_rest_skipped(menu: Menu) -> None:
    _, batches = walk(menu, [keys("1"), P, PlaybackFinished("#")], facts=CallFacts(announcements=ANNS))
    assert batches[-1] == (GetDigits("hotline/zh/main_menu", 6000, 1),)


def test_given_no_active_announcement_when_reaching_slot_then_goes_straight_on(menu: Menu) -> None:
    state, batches = walk(menu, [keys("1"), P], now=at(2026, 3, 2, 10), facts=CallFacts(announcements=ANNS))
    assert batches[-1] == (GetDigits("hotline/zh/main_menu", 6000, 1),)
    assert "hot_topics" in state.path


def test_given_prompt_playback_fails_when_stepping_then_prompt_skipped(menu: Menu) -> None:
    _, batches = walk(menu, [keys("1"), CommandFailed(510, "file not found")])
    assert batches[-1] == (GetDigits("hotline/zh/main_menu", 6000, 1),)


def test_given_commands_keep_failing_when_three_in_a_row_then_handed_to_fallback_queue(menu: Menu) -> None:
    state, batches = walk(menu, [keys("1"), P] + [CommandFailed(520, "usage")] * 3)
    assert isinstance(batches[-1][-1], HandOverToQueue)
    assert state.reason == "command_failures"


def test_given_caller_loops_forever_when_max_steps_reached_then_fallback_queue(menu: Menu) -> None:
    results: list[Result] = [keys("1"), P, keys("5")] + [keys("*")] * 200
    state, commands = start(menu, CallFacts(), OPEN)
    for result in results:
        if state.done:
            break
        state, commands = step(menu, state, result, OPEN)
    assert state.done and state.reason == "max_steps"
    assert state.steps == menu.defaults.max_steps
    assert commands[-1] == HandOverToQueue("general", ("general",), 5, "zh", state.path)


def test_given_menu_reloaded_mid_session_when_node_gone_then_session_ends_via_fallback(menu: Menu) -> None:
    state, _ = walk(menu, [keys("1"), P])
    other = replace(menu, nodes={k: v for k, v in menu.nodes.items() if k != "main"})
    state, commands = step(other, state, keys("1"), OPEN)
    assert state.done and state.reason == "menu_changed"
    assert isinstance(commands[-1], HandOverToQueue)


NO_FALLBACK = """
id: tiny
start: main
defaults: {retries: 1, goodbye_prompt: bye, invalid_prompt: oops}
nodes:
  main: {kind: menu, prompt: hello, options: {"1": done}}
  done: {kind: hangup, cause: 17}
"""


def test_given_menu_without_fallback_when_retries_exhausted_then_goodbye_and_hangup() -> None:
    menu = parse_menu({"tiny.yaml": NO_FALLBACK})
    state, batches = walk(menu, [keys("9"), P, keys("9"), P])
    assert batches[1] == (PlayPrompt("oops", DTMF_DIGITS),)
    assert batches[3] == (PlayPrompt("bye"),)
    assert batches[4] == (Hangup(16),)
    assert state.reason == "retries_exhausted"


def test_given_hangup_node_when_reached_then_its_cause_used() -> None:
    menu = parse_menu({"tiny.yaml": NO_FALLBACK})
    state, batches = walk(menu, [keys("1")])
    assert batches[-1] == (Hangup(17),)
    assert state.outcome == "hung_up"
