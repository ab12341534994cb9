"""The pure recording policy: naming, which leg is recorded, linked sets, closing, retention, usage."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.recording.catalog import fts_query, like_pattern, search_text
from hotline.recording.policy import (
    CollectRecording,
    RecorderState,
    Rules,
    StartRecording,
    StoredFile,
    expired,
    forget_call,
    handle,
    leg_formats,
    mixmonitor_format,
    parse_recording_path,
    recording_stem,
    safe_linkedid,
    usage_report,
    wav_closed,
)
from hotline.telephony import events as ev

T0 = 1_795_990_000.0  # 2026-11-29 22:06:40 UTC = 2026-11-30 06:06:40 in Asia/Shanghai
CALL = "hotline-lab-1796000000.9"
CALLER = CALL
AGENT = "hotline-lab-1796000000.10"
DEFAULT = Rules()


def enter(uid: str, bridge: str = "b1", n: int = 2, linkedid: str = CALL, at: float = T0) -> ev.BridgeEntered:
    return ev.BridgeEntered(at, uid, linkedid, f"PJSIP/x-{uid[-2:]}", bridge_id=bridge, num_channels=n)


def run(events: list[ev.DomainEvent], rules: Rules = DEFAULT) -> tuple[RecorderState, list[object]]:
    state, out = RecorderState(), []
    for e in events:
        state, cmds = handle(state, e, rules)
        out += cmds
    return state, out


@pytest.mark.parametrize(
    ("linkedid", "seq", "at", "tz", "stem"),
    [
        (CALL, 1, T0, "Asia/Shanghai", f"2026/11/30/{CALL}"),
        (CALL, 1, T0, "UTC", f"2026/11/29/{CALL}"),
        (CALL, 3, T0, "Asia/Shanghai", f"2026/11/30/{CALL}-3"),
        ("a/b c", 1, T0, "Asia/Shanghai", "2026/11/30/a_b_c"),
    ],
)
def test_recording_stem_is_local_date_folder_and_linkedid(linkedid, seq, at, tz, stem) -> None:
    assert recording_stem(linkedid, seq, at, tz) == stem


def test_given_bad_seq_or_linkedid_when_naming_then_value_error() -> None:
    with pytest.raises(ValueError):
        recording_stem(CALL, 0, T0)
    with pytest.raises(ValueError):
        safe_linkedid("..")


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        (f"2026/11/30/{CALL}.wav", (date(2026, 11, 30), CALL, 1, ".wav")),
        (f"2026/11/30/{CALL}-2.wav", (date(2026, 11, 30), CALL, 2, ".wav")),
        (f"2026/11/30/{CALL}-2.caller.wav", (date(2026, 11, 30), CALL, 2, ".caller.wav")),
        (f"2026/11/30/{CALL}.agent.wav16", (date(2026, 11, 30), CALL, 1, ".agent.wav16")),
        ("2026/13/30/x.wav", None),
        ("exp/a.wav", None),
        ("2026/11/30/x.mp3", None),
    ],
)
def test_parse_recording_path_round_trips_names(rel, expected) -> None:
    got = parse_recording_path(rel)
    assert (None if got is None else (got.day, got.linkedid, got.seq, got.suffix)) == expected


@pytest.mark.parametrize(
    ("native", "fmt"),
    [("(ulaw)", "wav"), ("(alaw)", "wav"), ("(g722)", "wav16"), ("(ulaw|g722)", "wav16"), ("", "wav"),
     ("(opus)", "wav16"), ("(slin16)", "wav16"), ("(gsm)", "wav")],
)
def test_mixmonitor_format_follows_the_native_rate(native, fmt) -> None:
    assert mixmonitor_format(native) == fmt


@pytest.mark.parametrize(
    ("caller", "agent", "fmts"),
    [("(ulaw)", "(g722)", ("wav", "wav16")), ("(g722)", "(ulaw)", ("wav16", "wav")),
     ("(ulaw)", "(alaw)", ("wav", "wav")), ("(g722)", "(g722)", ("wav16", "wav16")),
     ("(g722)", "", ("wav16", "wav16")), ("(ulaw)", "()", ("wav", "wav"))],
)
def test_each_leg_recorded_at_its_own_channels_native_rate(caller, agent, fmts) -> None:
    assert leg_formats(caller, agent) == fmts


def test_given_wideband_agent_leg_kept_beside_stereo_when_retention_runs_then_it_expires_with_the_call() -> None:
    old = [StoredFile(f"2026/01/02/{CALL}{sfx}", 1000, T0) for sfx in (".wav", ".caller.wav", ".agent.wav16")]
    assert [f.rel_path for f in expired(old, 30, T0)] == sorted(f.rel_path for f in old)
    assert usage_report(old, 30, T0).files == 3


def test_given_caller_and_agent_bridged_when_second_enters_then_caller_leg_recorded_once() -> None:
    _state, cmds = run([enter(AGENT, n=1), enter(CALLER, n=2)])
    assert cmds == [StartRecording(CALL, CALLER, "PJSIP/x-.9", 1, f"2026/11/30/{CALL}", T0, "PJSIP/x-10")]


def test_given_one_leg_in_bridge_then_nothing_recorded() -> None:
    assert run([enter(CALLER, n=1)])[1] == []


def test_given_no_leg_is_the_call_origin_then_first_leg_in_is_recorded() -> None:
    a, b = "x.1", "x.2"
    _s, cmds = run([enter(a, n=1, linkedid="x.0"), enter(b, n=2, linkedid="x.0")])
    assert [c.uniqueid for c in cmds] == [a]


def test_given_recorded_caller_blind_transferred_when_new_bridge_then_same_recording_continues() -> None:
    agent2 = "hotline-lab-1796000000.11"
    events = [enter(AGENT, n=1), enter(CALLER, n=2),
              ev.BridgeLeft(T0 + 5, CALLER, CALL, "c", bridge_id="b1", num_channels=1),
              ev.ChannelHungUp(T0 + 6, AGENT, CALL, "a", cause=16),
              enter(agent2, bridge="b2", n=1, at=T0 + 7), enter(CALLER, bridge="b2", n=2, at=T0 + 8)]
    _s, cmds = run(events)
    assert [type(c).__name__ for c in cmds] == ["StartRecording"]


def test_given_consultation_between_agents_when_bridged_then_linked_set_member_two() -> None:
    agent2 = "hotline-lab-1796000000.11"
    events = [enter(AGENT, n=1), enter(CALLER, n=2),
              ev.BridgeLeft(T0 + 5, AGENT, CALL, "a", bridge_id="b1", num_channels=1),
              enter(AGENT, bridge="b2", n=1, at=T0 + 6), enter(agent2, bridge="b2", n=2, at=T0 + 7)]
    _s, cmds = run(events)
    assert [(c.uniqueid, c.seq, c.stem) for c in cmds] == [
        (CALLER, 1, f"2026/11/30/{CALL}"), (AGENT, 2, f"2026/11/30/{CALL}-2")]


def test_given_recorded_leg_hangs_up_then_collect_once() -> None:
    events = [enter(AGENT, n=1), enter(CALLER, n=2), ev.ChannelHungUp(T0 + 9, CALLER, CALL, "c", cause=16),
              ev.ChannelHungUp(T0 + 9, AGENT, CALL, "a", cause=16)]
    state, cmds = run(events)
    assert cmds[1:] == [CollectRecording(CALL, CALLER, 1, f"2026/11/30/{CALL}", T0, T0 + 9)]
    assert state.active == {}


def test_given_mixmonitor_stopped_then_collect_and_a_later_bridge_records_again() -> None:
    agent2 = "hotline-lab-1796000000.11"
    events = [enter(AGENT, n=1), enter(CALLER, n=2),
              ev.MixMonitorChanged(T0 + 3, CALLER, CALL, "c", started=False),
              ev.BridgeLeft(T0 + 4, CALLER, CALL, "c", bridge_id="b1", num_channels=1),
              enter(agent2, bridge="b2", n=1, at=T0 + 5), enter(CALLER, bridge="b2", n=2, at=T0 + 6)]
    _s, cmds = run(events)
    assert [(type(c).__name__, c.seq) for c in cmds] == [
        ("StartRecording", 1), ("CollectRecording", 1), ("StartRecording", 2)]


def test_given_excluded_caller_prefix_then_not_recorded() -> None:
    created = ev.ChannelCreated(T0, CALLER, CALL, "c", caller_num="13800138000")
    assert run([created, enter(AGENT, n=1), enter(CALLER)], Rules(exclude_caller_prefixes=("1380013",)))[1] == []
    assert len(run([created, enter(AGENT, n=1), enter(CALLER)], Rules(exclude_caller_prefixes=("139",)))[1]) == 1


def test_given_only_prefixes_then_other_callers_not_recorded() -> None:
    created = ev.ChannelCreated(T0, CALLER, CALL, "c", caller_num="13900001231")
    assert len(run([created, enter(AGENT, n=1), enter(CALLER)], Rules(only_caller_prefixes=("139000012",)))[1]) == 1
    assert run([created, enter(AGENT, n=1), enter(CALLER)], Rules(only_caller_prefixes=("138",)))[1] == []


def test_given_recording_disabled_then_nothing_recorded() -> None:
    assert run([enter(AGENT, n=1), enter(CALLER)], Rules(enabled=False))[1] == []


def test_given_call_forgotten_then_its_counter_is_dropped() -> None:
    state, _ = run([enter(AGENT, n=1), enter(CALLER)])
    assert CALL in state.next_seq
    assert CALL not in forget_call(state, CALL).next_seq


@pytest.mark.parametrize(
    ("size", "prev", "data", "closed"),
    [
        (44 + 16000, None, 16000, False),  # first look
        (44 + 16000, 44 + 8000, 16000, False),  # still growing
        (44 + 16000, 44 + 16000, 0, False),  # open: header not written yet
        (44 + 16000, 44 + 16000, 16000, True),
        (44, 44, 0, True),  # header-only, closed
        (44, 44, None, False),  # unreadable header
    ],
)
def test_wav_closed_needs_stable_size_and_matching_header(size, prev, data, closed) -> None:
    assert wav_closed(size, prev, data) is closed


def _files() -> list[StoredFile]:
    return [
        StoredFile("2026/08/01/a.wav", 1000, 0.0),
        StoredFile("2026/09/01/b.wav", 2000, 0.0),
        StoredFile("2026/09/02/b.caller.wav", 50, 0.0),  # a leg still being merged: also a .wav
        StoredFile("2026/11/30/c.wav", 4000, 0.0),
        StoredFile("notes.txt", 10, 0.0),
    ]


def test_given_90_days_retention_then_files_older_than_cutoff_expire() -> None:
    gone = expired(_files(), 90, T0)  # today 2026-11-30, cutoff 2026-09-01 (kept)
    assert [f.rel_path for f in gone] == ["2026/08/01/a.wav"]


def test_given_negative_retention_then_value_error() -> None:
    with pytest.raises(ValueError):
        expired([], -1, T0)


def test_usage_report_groups_by_month_and_counts_what_would_be_purged() -> None:
    r = usage_report(_files(), 90, T0)
    assert (r.files, r.total_bytes) == (4, 7050)
    assert r.by_month == {"2026-08": (1, 1000), "2026-09": (2, 2050), "2026-11": (1, 4000)}
    assert (r.oldest_day, r.newest_day, r.expired_files, r.expired_bytes) == ("2026-08-01", "2026-11-30", 1, 1000)


@pytest.mark.parametrize(
    ("text", "indexed"),
    [("我 要 投诉 噪音", "我要投诉噪音"), ("我 要 Complaint 噪音", "我要 complaint 噪音"),
     ("그 바람 에", "그 바람 에"), ("  a   b ", "a b"), ("", "")],
)
def test_search_text_drops_spaces_between_cjk_only(text, indexed) -> None:
    assert search_text(text) == indexed


def test_queries_are_escaped_for_fts_and_like() -> None:
    assert fts_query('say "hi"') == '"say ""hi"""'
    assert like_pattern("50%_x") == "%50\\%\\_x%"
