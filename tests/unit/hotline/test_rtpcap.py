"""Per-call RFC 4733 DTMF pcaps: one timeline, increasing seq/timestamps, proper event ends (no I/O)."""

from __future__ import annotations

import itertools
import struct

import pytest

from hotline_lab.rtpcap import (
    END_REPEATS,
    PT_PCMU,
    PT_TELEPHONE_EVENT,
    _ipv4_checksum,
    pcap_bytes,
    rtp_stream,
    schedule,
)


def _events(packets):
    return [p for p in packets if p.payload_type == PT_TELEPHONE_EVENT]


def test_given_keys_when_streamed_then_seq_and_timestamps_only_increase_across_digits() -> None:
    packets = rtp_stream(schedule("2133#", 1000, 600))
    seqs = [p.seq for p in packets]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
    starts = []
    for p in _events(packets):
        if p.marker:
            starts.append(p.timestamp)
    assert len(starts) == 5 and starts == sorted(set(starts))  # a new event timestamp per key, never reused
    audio_ts = [p.timestamp for p in packets if p.payload_type == PT_PCMU]
    assert audio_ts == sorted(audio_ts)


def test_given_one_key_when_streamed_then_growing_durations_and_three_end_packets() -> None:
    events = _events(rtp_stream(schedule("5", 200, 0)))
    codes = {p.payload[0] for p in events}
    assert codes == {5}
    ends = [p for p in events if p.payload[1] & 0x80]
    assert len(ends) == END_REPEATS
    durations = [struct.unpack("!H", p.payload[2:])[0] for p in events]
    assert durations[: len(events) - END_REPEATS] == sorted(durations[: len(events) - END_REPEATS])
    assert len({struct.unpack("!H", p.payload[2:])[0] for p in ends}) == 1
    assert len({p.timestamp for p in events}) == 1  # every packet of one event carries its start


def test_given_star_and_hash_when_streamed_then_event_codes_10_and_11() -> None:
    events = _events(rtp_stream(schedule("*#", 0, 400)))
    assert [p.payload[0] for p in events if p.marker] == [10, 11]


@pytest.mark.parametrize(("keys", "gaps"), [("12", [100]), ("1x", [500]), ("123", [500])])
def test_given_bad_schedule_when_building_then_value_error(keys: str, gaps: list[int]) -> None:
    with pytest.raises(ValueError):
        schedule(keys, 0, gaps)


def test_given_stream_when_written_as_pcap_then_headers_parse_back_with_valid_ip_checksum() -> None:
    packets = rtp_stream(schedule("1", 100, 0), tail_ms=100)
    data = pcap_bytes(packets)
    magic, major, minor, _, _, _snaplen, link = struct.unpack("<IHHiIII", data[:24])
    assert (magic, major, minor, link) == (0xA1B2C3D4, 2, 4, 1)
    offset, count, last_us = 24, 0, -1
    while offset < len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[offset:offset + 16])
        frame = data[offset + 16: offset + 16 + incl]
        assert incl == orig == len(frame)
        assert sec * 1_000_000 + usec >= last_us
        last_us = sec * 1_000_000 + usec
        ip = frame[14:34]
        assert _ipv4_checksum(ip) == 0  # a correct header sums to 0xFFFF
        assert ip[9] == 17  # UDP
        rtp = frame[42:]
        assert rtp[0] == 0x80 and (rtp[1] & 0x7F) in (PT_PCMU, PT_TELEPHONE_EVENT)
        offset += 16 + incl
        count += 1
    assert count == len(packets)


def test_given_speech_when_streamed_then_it_follows_the_tail_on_the_same_timeline_repeated_with_gaps() -> None:
    speech = bytes(range(0, 250)) + bytes(range(0, 250))  # 500 samples: 3 full packets + 20 padded samples
    packets = rtp_stream(schedule("1", 100, 0), tail_ms=100, speech=speech, speech_ms=2000)
    plain = rtp_stream(schedule("1", 100, 0), tail_ms=100)
    assert packets[:len(plain)] == plain  # the keys are unchanged
    talk = packets[len(plain):]
    assert len(talk) == 2000 // 20 and all(p.payload_type == PT_PCMU for p in talk)
    assert talk[0].payload == speech[:160] and talk[3].payload == speech[480:] + b"\xff" * 140
    assert talk[4].payload == b"\xff" * 160  # the gap between repeats
    first_again = next(i for i, p in enumerate(talk) if i > 0 and p.payload == speech[:160])
    assert first_again == 4 + 1500 // 20  # clip, then the 1.5 s gap, then the clip again
    seqs = [p.seq for p in packets]
    assert all((b - a) % 65536 == 1 for a, b in itertools.pairwise(seqs))
    ts = [p.timestamp for p in talk]
    assert all(b - a == 160 for a, b in itertools.pairwise(ts))
    assert talk[0].at_ms == plain[-1].at_ms + 20


def test_given_no_speech_duration_when_streamed_then_no_speech_packets() -> None:
    assert rtp_stream(schedule("1", 100, 0), speech=b"\x00" * 160, speech_ms=0) == rtp_stream(schedule("1", 100, 0))
