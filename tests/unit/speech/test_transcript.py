"""speech.transcript: Vosk JSON parsing, joining, merging by time, keywords, no speech."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.speech.transcript import (
    DEFAULT_KEYWORDS,
    KeywordHit,
    Segment,
    Transcript,
    Word,
    build_transcript,
    find_keywords,
    join_results,
    merge_channels,
    parse_result,
    skipped_transcript,
    speaker_labels,
)


def vosk(*words: tuple[str, float, float]) -> str:
    """A Vosk Result() JSON with SetWords(True), as the recogniser prints it."""
    result = [{"conf": 1.0, "end": e, "start": s, "word": w} for w, s, e in words]
    return json.dumps({"result": result, "text": " ".join(w for w, _, _ in words)}, ensure_ascii=False)


EMPTY = '{\n  "text" : ""\n}'


def seg(speaker: str, channel: int, start: float, text: str, step: float = 0.3) -> Segment:
    words = tuple(Word(t, start + i * step, start + (i + 1) * step) for i, t in enumerate(text.split()))
    return Segment(speaker, channel, words[0].start_s, words[-1].end_s, text, words)


def test_given_result_with_words_when_parsed_then_segment_spans_first_to_last_word() -> None:
    s = parse_result(vosk(("我", 0.5, 0.7), ("要", 0.7, 0.9), ("投诉", 0.9, 1.4)), 0, "caller")

    assert s == Segment(
        "caller", 0, 0.5, 1.4, "我 要 投诉",
        (Word("我", 0.5, 0.7), Word("要", 0.7, 0.9), Word("投诉", 0.9, 1.4)),
    )


@pytest.mark.parametrize("raw", [EMPTY, '{"text": ""}', '{"text": "   "}', '{"result": [], "text": ""}'])
def test_given_empty_result_when_parsed_then_none(raw: str) -> None:
    assert parse_result(raw, 0, "caller") is None


def test_given_result_without_word_timestamps_when_parsed_then_text_kept_at_zero() -> None:
    got = parse_result('{"text": "ten of clubs"}', 1, "agent")
    assert got == Segment("agent", 1, 0.0, 0.0, "ten of clubs")


def test_given_dict_result_when_parsed_then_same_as_json() -> None:
    raw = vosk(("빅스비", 0.3, 0.9))
    assert parse_result(json.loads(raw), 0, "mixed") == parse_result(raw, 0, "mixed")


def test_given_results_and_final_when_joined_then_empty_segments_dropped_in_order() -> None:
    raws = [vosk(("你好", 0.2, 0.6)), EMPTY, vosk(("请问", 2.0, 2.4)), EMPTY, vosk(("谢谢", 5.0, 5.5))]

    segments = join_results(raws, 0, "agent")

    assert [s.text for s in segments] == ["你好", "请问", "谢谢"]
    assert all(s.speaker == "agent" and s.channel == 0 for s in segments)


def test_given_two_channels_when_merged_then_dialogue_in_start_order() -> None:
    caller = [seg("caller", 0, 0.5, "喂 你好"), seg("caller", 0, 4.0, "我 要 投诉")]
    agent = [seg("agent", 1, 2.0, "您好 请讲"), seg("agent", 1, 6.0, "好的")]

    merged = merge_channels([caller, agent])

    assert [(s.speaker, s.start_s) for s in merged] == [
        ("caller", 0.5), ("agent", 2.0), ("caller", 4.0), ("agent", 6.0),
    ]


def test_given_same_start_when_merged_then_channel_order_breaks_tie() -> None:
    a, b = seg("agent", 1, 1.0, "好"), seg("caller", 0, 1.0, "喂")
    assert merge_channels([[a], [b]]) == [b, a]


@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 3600, allow_nan=False)), max_size=30))
def test_merge_keeps_every_segment_and_orders_by_start(items: list[tuple[int, float]]) -> None:
    channels: list[list[Segment]] = [[], []]
    for c, start in items:
        channels[c].append(Segment(("caller", "agent")[c], c, start, start + 1, "x"))

    merged = merge_channels(channels)

    assert sorted(map(id, merged)) == sorted(id(s) for ch in channels for s in ch)
    assert [s.start_s for s in merged] == sorted(s.start_s for s in merged)


@pytest.mark.parametrize(
    ("channels", "labels", "expected"),
    [
        (1, ("caller", "agent"), ("mixed",)),
        (2, ("caller", "agent"), ("caller", "agent")),
        (2, ("agent", "caller"), ("agent", "caller")),
        (3, ("caller", "agent"), ("caller", "agent", "channel2")),
    ],
)
def test_speaker_labels(channels: int, labels: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert speaker_labels(channels, labels) == expected


@pytest.mark.parametrize(
    ("words", "flag", "keyword"),
    [
        (["我", "要", "投诉", "你们"], "complaint", "投诉"),  # Vosk's spaced Chinese, keyword one token
        (["我要投诉你们"], "complaint", "投诉"),  # unspaced Chinese
        (["我", "要", "投", "诉"], "complaint", "投诉"),  # keyword split across tokens
        (["我", "想", "举报", "他"], "complaint", "举报"),
        (["救命", "啊"], "urgent", "救命"),
        (["我", "不想", "活", "了", "要", "跳楼"], "threat", "跳楼"),
    ],
)
def test_given_chinese_with_or_without_spaces_when_searched_then_keyword_flagged(
    words: list[str], flag: str, keyword: str
) -> None:
    s = Segment("caller", 0, 0.0, float(len(words)), " ".join(words),
                tuple(Word(w, float(i), i + 1.0) for i, w in enumerate(words)))

    hits = find_keywords([s], DEFAULT_KEYWORDS)

    assert [(h.flag, h.keyword) for h in hits] == [(flag, keyword)]


def test_given_keyword_split_across_words_when_found_then_hit_spans_those_words() -> None:
    words = [("我", 0.0, 0.2), ("要", 0.2, 0.4), ("投", 0.4, 0.6), ("诉", 0.6, 0.8), ("你们", 0.8, 1.2)]
    s = parse_result(vosk(*words), 0, "caller")
    assert s is not None

    (hit,) = find_keywords([s], {"complaint": ["投诉"]})

    assert hit == KeywordHit("complaint", "投诉", "caller", 0.4, 0.8, "我 要 投 诉 你们")


@pytest.mark.parametrize(
    ("text", "rules", "expected"),
    [
        ("i want to file a complaint", {"complaint": ["complaint"]}, ["complaint"]),
        ("FILE A Complaint", {"complaint": ["complaint"]}, ["complaint"]),
        ("this is a class act", {"rude": ["ass"]}, []),  # whole tokens for Latin keywords
        ("call the police now", {"urgent": ["call the police"]}, ["urgent"]),
        ("call police the", {"urgent": ["call the police"]}, []),
        ("그 는 빅 스비", {"wake": ["빅스비"]}, ["wake"]),  # Hangul matched ignoring spaces
        ("我要投诉,投诉!", {"complaint": ["投诉"]}, ["complaint", "complaint"]),  # each occurrence
        ("请问１２３４５热线", {"hotline": ["12345热线"]}, ["hotline"]),  # full-width digits (NFKC)
        ("没有问题", {"complaint": ["投诉"], "empty": ["", "  "]}, []),
    ],
)
def test_keyword_matching_table(text: str, rules: dict[str, list[str]], expected: list[str]) -> None:
    s = Segment("agent", 1, 0.0, 1.0, text)  # no word timestamps: tokens from the text
    assert [h.flag for h in find_keywords([s], rules)] == expected


def test_given_silence_on_every_channel_when_built_then_no_speech_not_error() -> None:
    t = build_transcript("/r/a.wav", duration_s=12.0, rate_hz=8000, channel_results=[[EMPTY], [EMPTY, EMPTY]])

    assert t.no_speech
    assert t.segments == () and t.hits == () and t.flags == ()
    assert t.speakers == ("caller", "agent")
    assert t.skipped is None


def test_given_stereo_results_when_built_then_labelled_merged_and_flagged() -> None:
    caller = [vosk(("喂", 0.5, 0.7)), EMPTY, vosk(("我", 4.0, 4.2), ("要", 4.2, 4.4), ("投诉", 4.4, 5.0))]
    agent = [vosk(("您好", 1.5, 2.0), ("请讲", 2.0, 2.5)), EMPTY]

    t = build_transcript("/r/b.wav", duration_s=6.0, rate_hz=16000, channel_results=[caller, agent],
                         labels=("caller", "agent"), keywords={"complaint": ["投诉"]}, model="m")

    assert not t.no_speech
    assert t.text == "caller: 喂\nagent: 您好 请讲\ncaller: 我 要 投诉"
    assert t.text_of("caller") == "喂 我 要 投诉"
    assert t.flags == ("complaint",)
    assert t.hits[0].speaker == "caller" and t.hits[0].start_s == 4.4


def test_given_swapped_labels_when_built_then_left_channel_is_agent() -> None:
    t = build_transcript("/r/c.wav", duration_s=2.0, rate_hz=8000,
                         channel_results=[[vosk(("hello", 0.1, 0.4))], [EMPTY]], labels=("agent", "caller"))
    assert t.segments[0].speaker == "agent"


def test_transcript_round_trips_through_dict_and_json() -> None:
    caller = [vosk(("我", 4.0, 4.2), ("要", 4.2, 4.4), ("投诉", 4.4, 5.0))]
    t = build_transcript(
        "/r/d.wav", duration_s=6.0, rate_hz=8000, channel_results=[caller, [EMPTY]], model="m"
    )

    d: dict[str, Any] = t.to_dict()

    assert d["flags"] == ["complaint"] and d["version"] == 1
    assert Transcript.from_dict(d) == t
    assert Transcript.from_json(t.to_json()) == t
    assert "投诉" in t.to_json()  # UTF-8 kept readable, not \\u-escaped


def test_skipped_transcript_is_no_speech_with_reason() -> None:
    t = skipped_transcript("/r/e.wav", "header_only", rate_hz=8000, channels=2)
    assert t.no_speech and t.skipped == "header_only"
    assert Transcript.from_dict(t.to_dict()) == t


def test_given_legs_decoded_at_8k_and_16k_when_built_then_per_channel_rates_kept_through_json() -> None:
    word = json.dumps({"result": [{"word": "네", "start": 0.5, "end": 0.7, "conf": 1.0}], "text": "네"})
    t = build_transcript("/rec/L1.wav", duration_s=3.0, rate_hz=16000, channel_results=[[word], [word]],
                         channel_rates_hz=(8000, 16000))

    assert t.channel_rates_hz == (8000, 16000)
    assert Transcript.from_json(t.to_json()) == t
    older = {k: v for k, v in t.to_dict().items() if k != "channel_rates_hz"}  # stored before this field
    assert Transcript.from_dict(older).channel_rates_hz == ()
