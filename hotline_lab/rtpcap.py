"""RTP in pcap files for SIPp's ``play_pcap_audio``: a caller's whole DTMF sequence (and what the
caller then says), one file per call.

Why: SIPp replays a pcap with the packets' own RTP sequence numbers and timestamps. Replaying a
one-digit pcap (``dtmf_2833_1.pcap``) twice in a call restarts both, and Asterisk's RTP stack
treats the second digit as a duplicate of the first and drops it. So we write one file per call
holding every digit on one continuous timeline: one SSRC, sequence numbers and timestamps that
only increase, PCMU silence between digits (a real phone keeps sending audio, and Asterisk's
``strictrtp`` learns the source from a few packets in sequence before it accepts any), and
RFC 4733 telephone-events for each digit:

* payload type 101 (the ``a=rtpmap:101 telephone-event/8000`` of ``lab/sipp/*.xml``);
* every packet of one event has the event's start timestamp; the first has the marker bit;
* ``duration`` grows by one packet time per packet; the end packet (E bit) is sent 3 times
  with the final duration (RFC 4733 section 2.5.1.4), and the next audio packet's timestamp
  continues after the event.

Pure Python (no scapy): pcap global header, Ethernet II, IPv4 (header checksum), UDP (checksum
0 = none, allowed on IPv4), RTP. SIPp rewrites addresses and ports when it replays; it keeps the
RTP header and the timing between packets.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PT_PCMU = 0
PT_TELEPHONE_EVENT = 101
CLOCK_HZ = 8000
PACKET_MS = 20
SAMPLES_PER_PACKET = CLOCK_HZ * PACKET_MS // 1000  # 160
PCMU_SILENCE = b"\xff" * SAMPLES_PER_PACKET
#: RFC 4733 event codes
EVENT_CODES: dict[str, int] = {**{str(d): d for d in range(10)}, "*": 10, "#": 11,
                               "A": 12, "B": 13, "C": 14, "D": 15}
END_REPEATS = 3
VOLUME_DBM0 = 10  # -10 dBm0, as phones send


@dataclass(frozen=True, slots=True)
class Digit:
    """One key press: ``key`` pressed at ``at_ms`` (from the start of the stream) for ``duration_ms``."""

    key: str
    at_ms: int
    duration_ms: int = 160


def schedule(keys: str, first_at_ms: int, gap_ms: int | Sequence[int], duration_ms: int = 160) -> list[Digit]:
    """Digits pressed one after the other.

    Args:
        keys: e.g. ``"2133#"``.
        first_at_ms: when the first key is pressed.
        gap_ms: pause from the start of one key to the start of the next (ms); one value, or one per
            gap (``len(keys) - 1`` values), for menus whose prompts differ in length.
        duration_ms: how long each key is held.
    Raises:
        ValueError: unknown key, a gap shorter than the key, or the wrong number of gaps.
    """
    gaps = [gap_ms] * max(0, len(keys) - 1) if isinstance(gap_ms, int) else list(gap_ms)
    if len(gaps) != max(0, len(keys) - 1):
        raise ValueError(f"{len(keys)} keys need {len(keys) - 1} gaps, got {len(gaps)}")
    out: list[Digit] = []
    at = first_at_ms
    for i, key in enumerate(keys):
        if key.upper() not in EVENT_CODES:
            raise ValueError(f"not a DTMF key: {key!r}")
        out.append(Digit(key.upper(), at, duration_ms))
        if i < len(gaps):
            if gaps[i] < duration_ms + PACKET_MS * (END_REPEATS + 1):
                raise ValueError(f"gap {gaps[i]} ms is shorter than a key press ({duration_ms} ms) and its end")
            at += gaps[i]
    return out


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet on the stream's timeline: sent at ``at_ms``."""

    at_ms: int
    payload_type: int
    seq: int
    timestamp: int
    marker: bool
    payload: bytes


def event_payload(code: int, end: bool, duration_samples: int, volume: int = VOLUME_DBM0) -> bytes:
    """The 4-byte RFC 4733 payload: event, E|R|volume, duration (timestamp units)."""
    return struct.pack("!BBH", code, (0x80 if end else 0) | (volume & 0x3F), min(duration_samples, 0xFFFF))


def rtp_stream(digits: Iterable[Digit], *, tail_ms: int = 500, ssrc_seed: int = 0x484C,
               speech: bytes = b"", speech_ms: int = 0, speech_gap_ms: int = 1500) -> list[RtpPacket]:
    """The packets of a call: silence, each digit's events, silence, then speech; seq and timestamps only increase.

    Args:
        digits: key presses in time order, not overlapping.
        tail_ms: silence after the last digit.
        ssrc_seed: first sequence number / timestamp offset (any 16-bit value).
        speech: raw G.711 mu-law samples at 8 kHz (no header) the caller says after the tail: the
            clip is repeated, ``speech_gap_ms`` of silence between repeats, for ``speech_ms``; a
            partial last packet is padded with silence. Empty: no speech.
        speech_ms: how long the caller keeps talking after the tail (ms; 0 = no speech).
        speech_gap_ms: silence between two repeats of the clip (ms).
    Returns:
        Packets in send order, one every 20 ms of audio, plus the repeated end packets.
    Raises:
        ValueError: digits out of order or overlapping.
    """
    packets: list[RtpPacket] = []
    seq = ssrc_seed & 0xFFFF
    ts0 = (ssrc_seed * 7919) & 0xFFFFFFFF
    t = 0
    last_end = 0

    def add(at_ms: int, pt: int, ts_ms: int, marker: bool, payload: bytes) -> None:
        nonlocal seq
        packets.append(RtpPacket(at_ms, pt, seq, (ts0 + ts_ms * CLOCK_HZ // 1000) & 0xFFFFFFFF, marker, payload))
        seq = (seq + 1) & 0xFFFF

    first = True
    for d in digits:
        start = d.at_ms - d.at_ms % PACKET_MS
        if start < last_end:
            raise ValueError(f"digit {d.key!r} at {d.at_ms} ms overlaps the previous one")
        while t < start:  # audio (silence) up to the key press
            add(t, PT_PCMU, t, first, PCMU_SILENCE)
            first = False
            t += PACKET_MS
        code = EVENT_CODES[d.key]
        n = max(1, d.duration_ms // PACKET_MS)
        for i in range(n):
            add(t, PT_TELEPHONE_EVENT, start, i == 0, event_payload(code, False, (i + 1) * SAMPLES_PER_PACKET))
            t += PACKET_MS
        for _ in range(END_REPEATS):  # the end packet, 3 times (each its own seq: loss-proof, never a dup)
            add(t, PT_TELEPHONE_EVENT, start, False, event_payload(code, True, n * SAMPLES_PER_PACKET))
        t += PACKET_MS
        last_end = t
    end = t + tail_ms
    while t < end:
        add(t, PT_PCMU, t, False, PCMU_SILENCE)
        t += PACKET_MS
    if speech and speech_ms > 0:
        frames = [speech[i:i + SAMPLES_PER_PACKET].ljust(SAMPLES_PER_PACKET, b"\xff")
                  for i in range(0, len(speech), SAMPLES_PER_PACKET)]
        frames += [PCMU_SILENCE] * (speech_gap_ms // PACKET_MS)
        end = t + speech_ms
        i = 0
        while t < end:
            add(t, PT_PCMU, t, False, frames[i % len(frames)])
            t += PACKET_MS
            i += 1
    return packets


def rtp_bytes(p: RtpPacket, ssrc: int) -> bytes:
    """RTP header (version 2, no CSRC) + payload."""
    return struct.pack("!BBHII", 0x80, (0x80 if p.marker else 0) | p.payload_type, p.seq, p.timestamp, ssrc) + p.payload


def _ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(payload: bytes, src: tuple[str, int], dst: tuple[str, int], ident: int) -> bytes:
    """Ethernet II + IPv4 + UDP around ``payload``."""
    udp_len = 8 + len(payload)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ident & 0xFFFF, 0, 64, 17, 0,
                     bytes(int(x) for x in src[0].split(".")), bytes(int(x) for x in dst[0].split(".")))
    ip = ip[:10] + struct.pack("!H", _ipv4_checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + udp


def pcap_bytes(packets: Sequence[RtpPacket], *, ssrc: int = 0x12345678, src: tuple[str, int] = ("127.0.0.1", 6000),
               dst: tuple[str, int] = ("127.0.0.1", 6002)) -> bytes:
    """A classic pcap (microsecond, Ethernet link type) of the packets at their ``at_ms`` times."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, p in enumerate(packets):
        frame = udp_frame(rtp_bytes(p, ssrc), src, dst, i)
        sec, ms = divmod(p.at_ms, 1000)
        out.append(struct.pack("<IIII", sec, ms * 1000, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def write_dtmf_pcap(path: str | Path, digits: Iterable[Digit], *, tail_ms: int = 500,
                    speech: bytes = b"", speech_ms: int = 0) -> Path:
    """Write one call's DTMF sequence (and optionally the caller's speech after it) as a pcap.

    Blocking file write, ~11 kB per second of call (a 3-minute caller is ~2 MB).

    Args:
        speech, speech_ms: what the caller says after the last key, see :func:`rtp_stream`.
    Returns:
        The path written.
    """
    path = Path(path)
    path.write_bytes(pcap_bytes(rtp_stream(digits, tail_ms=tail_ms, speech=speech, speech_ms=speech_ms)))
    return path
