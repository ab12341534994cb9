"""Transcripts as plain data: Vosk results in, time-ordered speaker segments and QA flags out.

Pure: no Vosk, no I/O. The decoder hands over, per channel, the JSON strings that
``KaldiRecognizer.Result()`` returned at each endpoint followed by ``FinalResult()``, with
``SetWords(True)`` so that each carries word timestamps::

    {"result": [{"word": "投诉", "start": 0.63, "end": 0.75, "conf": 1.0}, ...], "text": "投诉 ..."}

Empty results (``{"text": ""}``, Vosk's answer on silence) are dropped. Each channel is one
speaker (``caller`` = channel 0 / left, ``agent`` = channel 1 / right, configurable); channels
are merged by start time. A recording with no words at all gives ``no_speech=True``: silence is
an outcome, not an error.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Speaker label per channel index of a stereo recording (MixMonitor ``D`` option: caller left).
DEFAULT_SPEAKERS: tuple[str, ...] = ("caller", "agent")
#: Speaker label of a mono (mixed) recording, where caller and agent cannot be told apart.
MONO_SPEAKER = "mixed"

#: Keyword lists per QA flag. Configuration overrides them; these are only a starting point.
DEFAULT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "complaint": ("投诉", "举报", "曝光", "不满意"),
    "threat": ("自杀", "跳楼", "同归于尽", "杀了", "爆炸"),
    "urgent": ("紧急", "救命", "着火", "报警"),
}

TRANSCRIPT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word.

    Attributes:
        word: the word as the model spells it.
        start_s: start, seconds from the beginning of the recording.
        end_s: end, seconds from the beginning of the recording.
        conf: Vosk's confidence, 0-1.
    """

    word: str
    start_s: float
    end_s: float
    conf: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "start_s": self.start_s, "end_s": self.end_s, "conf": self.conf}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Word:
        return cls(str(d["word"]), float(d["start_s"]), float(d["end_s"]), float(d.get("conf", 1.0)))


@dataclass(frozen=True, slots=True)
class Segment:
    """One utterance of one speaker: what one ``Result()`` (or the ``FinalResult()``) returned.

    Attributes:
        speaker: ``caller``, ``agent`` (stereo) or ``mixed`` (mono).
        channel: the WAV channel index it was decoded from.
        start_s: start of the first word, seconds.
        end_s: end of the last word, seconds.
        text: the words joined by spaces, as Vosk gives them.
        words: the words with their timestamps, in time order.
    """

    speaker: str
    channel: int
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "speaker": self.speaker,
            "channel": self.channel,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "text": self.text,
            "words": [w.to_dict() for w in self.words],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Segment:
        return cls(
            str(d["speaker"]),
            int(d["channel"]),
            float(d["start_s"]),
            float(d["end_s"]),
            str(d["text"]),
            tuple(Word.from_dict(w) for w in d.get("words", ())),
        )


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """A configured keyword found in a segment (for QA targeting).

    Attributes:
        flag: the flag whose list holds the keyword (``complaint``, ``threat``, ...).
        keyword: the keyword as configured.
        speaker: who said it.
        start_s: start of the first matched word, seconds.
        end_s: end of the last matched word, seconds.
        text: the whole segment, for context.
    """

    flag: str
    keyword: str
    speaker: str
    start_s: float
    end_s: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "flag": self.flag,
            "keyword": self.keyword,
            "speaker": self.speaker,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KeywordHit:
        return cls(
            str(d["flag"]), str(d["keyword"]), str(d["speaker"]),
            float(d["start_s"]), float(d["end_s"]), str(d["text"]),
        )


@dataclass(frozen=True, slots=True)
class Transcript:
    """The transcript of one recording.

    Attributes:
        path: the recording.
        duration_s: audio duration from the WAV header, seconds.
        rate_hz: the sample rate it was decoded at (the file's own), Hz.
        channels: channels in the file (each decoded separately).
        segments: all speakers' segments in start-time order.
        hits: keyword hits in time order.
        no_speech: True when no word was recognised (silence, or a skipped recording).
        skipped: why the recording was not decoded (``header_only``, ``sub_second``,
            ``empty``), None when it was.
        model: the model folder name, for the record.
        speakers: the speaker label of each channel.
        channel_rates_hz: the rate each channel was decoded at, Hz, when the channels came from
            separate mono legs at different rates (G.711 caller 8000, G.722 agent 16000);
            ``rate_hz`` is then the highest. Empty: every channel at ``rate_hz``.
    """

    path: str
    duration_s: float
    rate_hz: int
    channels: int
    segments: tuple[Segment, ...] = ()
    hits: tuple[KeywordHit, ...] = ()
    no_speech: bool = False
    skipped: str | None = None
    model: str = ""
    speakers: tuple[str, ...] = field(default=())
    channel_rates_hz: tuple[int, ...] = ()

    @property
    def flags(self) -> tuple[str, ...]:
        """Names of the flags raised, sorted, each once."""
        return tuple(sorted({h.flag for h in self.hits}))

    @property
    def text(self) -> str:
        """Readable dialogue: one ``speaker: text`` line per segment."""
        return "\n".join(f"{s.speaker}: {s.text}" for s in self.segments)

    def text_of(self, speaker: str) -> str:
        """Everything one speaker said, segments joined by spaces."""
        return " ".join(s.text for s in self.segments if s.speaker == speaker)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": TRANSCRIPT_VERSION,
            "path": self.path,
            "duration_s": self.duration_s,
            "rate_hz": self.rate_hz,
            "channels": self.channels,
            "speakers": list(self.speakers),
            "channel_rates_hz": list(self.channel_rates_hz),
            "no_speech": self.no_speech,
            "skipped": self.skipped,
            "model": self.model,
            "flags": list(self.flags),
            "segments": [s.to_dict() for s in self.segments],
            "hits": [h.to_dict() for h in self.hits],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Transcript:
        """Rebuild a transcript from :meth:`to_dict` output (``flags`` is derived, not read)."""
        return cls(
            path=str(d["path"]),
            duration_s=float(d["duration_s"]),
            rate_hz=int(d["rate_hz"]),
            channels=int(d["channels"]),
            segments=tuple(Segment.from_dict(s) for s in d.get("segments", ())),
            hits=tuple(KeywordHit.from_dict(h) for h in d.get("hits", ())),
            no_speech=bool(d.get("no_speech", False)),
            skipped=d.get("skipped"),
            model=str(d.get("model", "")),
            speakers=tuple(d.get("speakers", ())),
            channel_rates_hz=tuple(int(r) for r in d.get("channel_rates_hz", ())),
        )

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict` (UTF-8 characters kept, not escaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Transcript:
        return cls.from_dict(json.loads(text))


def speaker_labels(channels: int, labels: Sequence[str] = DEFAULT_SPEAKERS) -> tuple[str, ...]:
    """Speaker label of each channel.

    Args:
        channels: channels in the recording.
        labels: label per channel index for multi-channel files (``caller`` left by default).
    Returns:
        ``(MONO_SPEAKER,)`` for mono; else ``labels[i]`` per channel, ``channel<i>`` past the end
        of ``labels``.
    """
    if channels == 1:
        return (MONO_SPEAKER,)
    return tuple(labels[i] if i < len(labels) else f"channel{i}" for i in range(channels))


def parse_result(raw: str | bytes | Mapping[str, Any], channel: int, speaker: str) -> Segment | None:
    """Turn one Vosk ``Result()``/``FinalResult()`` into a segment.

    Args:
        raw: the JSON text (or the parsed dict); ``result`` holds words when ``SetWords(True)``.
        channel: the channel it was decoded from.
        speaker: the label of that channel.
    Returns:
        The segment, or None when the result is empty (silence; Vosk returns ``{"text": ""}``).
        Without word timestamps the segment has no words and ``start_s == end_s == 0.0``.
    Raises:
        ValueError: ``raw`` is not JSON.
    """
    d = json.loads(raw) if isinstance(raw, str | bytes) else raw
    words = tuple(
        Word(str(w["word"]), float(w["start"]), float(w["end"]), float(w.get("conf", 1.0)))
        for w in d.get("result", ())
        if str(w.get("word", "")).strip()
    )
    text = " ".join(w.word for w in words) if words else " ".join(str(d.get("text", "")).split())
    if not text:
        return None
    if words:
        return Segment(speaker, channel, words[0].start_s, words[-1].end_s, text, words)
    return Segment(speaker, channel, 0.0, 0.0, text)


def join_results(
    raws: Iterable[str | bytes | Mapping[str, Any]], channel: int, speaker: str
) -> list[Segment]:
    """Parse every ``Result()`` and the ``FinalResult()`` of one channel, dropping empty ones.

    Args:
        raws: results in the order the recogniser returned them, ``FinalResult()`` last.
        channel: the channel index.
        speaker: the label of that channel.
    Returns:
        The non-empty segments, in order.
    """
    return [s for s in (parse_result(r, channel, speaker) for r in raws) if s is not None]


def merge_channels(per_channel: Iterable[Sequence[Segment]]) -> list[Segment]:
    """Merge the segments of several channels into one dialogue ordered by start time.

    Ties (same start) keep the channel order, so the result is deterministic.
    """
    merged = [s for segs in per_channel for s in segs]
    merged.sort(key=lambda s: (s.start_s, s.channel, s.end_s))
    return merged


# --- keyword flags -----------------------------------------------------------------------------

_SPACELESS_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0x20000, 0x3134F),  # CJK Extensions B-G
)


def _is_spaceless_script(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _SPACELESS_RANGES)


def _norm(text: str) -> str:
    """NFKC (full-width to half-width), case-folded, punctuation removed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))


def find_keywords(
    segments: Iterable[Segment], rules: Mapping[str, Sequence[str]] = DEFAULT_KEYWORDS
) -> list[KeywordHit]:
    """Find configured keywords in segments.

    Matching is case- and width-insensitive (NFKC + casefold) and ignores punctuation. A keyword
    containing Han, kana or Hangul characters is matched ignoring spaces, because Chinese is
    written without them while Vosk separates its words with spaces (``我 要 投诉`` contains
    ``投诉``; so does ``我要投诉``, and ``投 诉``). Any other keyword (Latin letters, digits)
    must match whole space-separated tokens (``ass`` does not match ``class``).

    Args:
        segments: the transcript's segments.
        rules: flag name -> keywords.
    Returns:
        One hit per occurrence, ordered by start time, then flag.
    """
    compiled: list[tuple[str, str, bool, str | tuple[str, ...]]] = []
    for flag, keywords in rules.items():
        for kw in keywords:
            n = _norm(kw)
            if not n.strip():
                continue
            if any(_is_spaceless_script(ch) for ch in n):
                compiled.append((flag, kw, True, "".join(n.split())))
            else:
                compiled.append((flag, kw, False, tuple(n.split())))

    hits: list[KeywordHit] = []
    for seg in segments:
        words = seg.words or tuple(Word(t, seg.start_s, seg.end_s) for t in seg.text.split())
        tokens = [_norm(w.word).replace(" ", "") for w in words]
        joined = "".join(tokens)
        starts: list[int] = []  # character offset of each token in ``joined``
        pos = 0
        for t in tokens:
            starts.append(pos)
            pos += len(t)
        for flag, kw, spaceless, pattern in compiled:
            if spaceless:
                assert isinstance(pattern, str)
                i = joined.find(pattern)
                while i >= 0:
                    first = _token_at(starts, tokens, i)
                    last = _token_at(starts, tokens, i + len(pattern) - 1)
                    start_s, end_s = words[first].start_s, words[last].end_s
                    hits.append(KeywordHit(flag, kw, seg.speaker, start_s, end_s, seg.text))
                    i = joined.find(pattern, i + len(pattern))
            else:
                assert isinstance(pattern, tuple)
                k = len(pattern)
                for i in range(len(tokens) - k + 1):
                    if tuple(tokens[i : i + k]) == pattern:
                        start_s, end_s = words[i].start_s, words[i + k - 1].end_s
                        hits.append(KeywordHit(flag, kw, seg.speaker, start_s, end_s, seg.text))
    hits.sort(key=lambda h: (h.start_s, h.flag, h.keyword))
    return hits


def _token_at(starts: list[int], tokens: list[str], offset: int) -> int:
    """Index of the token whose characters include ``offset`` in the joined string."""
    for i in range(len(starts) - 1, -1, -1):
        if starts[i] <= offset and tokens[i]:
            return i
    return 0


# --- assembling --------------------------------------------------------------------------------


def build_transcript(
    path: str,
    *,
    duration_s: float,
    rate_hz: int,
    channel_results: Sequence[Sequence[str | bytes | Mapping[str, Any]]],
    labels: Sequence[str] = DEFAULT_SPEAKERS,
    keywords: Mapping[str, Sequence[str]] = DEFAULT_KEYWORDS,
    model: str = "",
    channel_rates_hz: Sequence[int] = (),
) -> Transcript:
    """Assemble a transcript from the raw Vosk results of each channel.

    Args:
        path: the recording.
        duration_s: its duration from the header, seconds.
        rate_hz: the rate it was decoded at, Hz.
        channel_results: per channel (index = WAV channel), the ``Result()`` strings then the
            ``FinalResult()``.
        labels: speaker label per channel for stereo files.
        keywords: flag -> keywords, see :func:`find_keywords`.
        model: model name for the record.
        channel_rates_hz: per channel, the rate it was decoded at when the channels had
            different rates (separate legs); empty otherwise.
    Returns:
        The transcript; ``no_speech=True`` when no channel had a word.
    """
    speakers = speaker_labels(len(channel_results), labels)
    per_channel = [join_results(raws, c, speakers[c]) for c, raws in enumerate(channel_results)]
    segments = merge_channels(per_channel)
    return Transcript(
        path=path,
        duration_s=duration_s,
        rate_hz=rate_hz,
        channels=len(channel_results),
        segments=tuple(segments),
        hits=tuple(find_keywords(segments, keywords)),
        no_speech=not segments,
        model=model,
        speakers=speakers,
        channel_rates_hz=tuple(channel_rates_hz),
    )


def skipped_transcript(
    path: str, reason: str, *, duration_s: float = 0.0, rate_hz: int = 0, channels: int = 0, model: str = ""
) -> Transcript:
    """The transcript of a recording that was not decoded (header-only, sub-second, empty).

    Args:
        path: the recording.
        reason: why it was skipped (``RecordingTooShort.reason``).
        duration_s: duration from the header, seconds (0 when unknown).
        rate_hz: rate from the header, Hz (0 when unknown).
        channels: channels from the header (0 when unknown).
        model: model name for the record.
    """
    return Transcript(
        path=path, duration_s=duration_s, rate_hz=rate_hz, channels=channels,
        no_speech=True, skipped=reason, model=model,
    )
