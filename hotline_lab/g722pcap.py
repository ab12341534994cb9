"""G.722 (wideband, 16 kHz) RTP in a pcap for SIPp's ``play_pcap_audio``: a wideband phone that talks.

SIPp's ``rtp_stream`` plays only narrowband WAV payloads, so a G.722 agent phone (payload type 9,
``lab/sipp/answer_g722.xml``) replays a pcap instead. This module encodes 16 kHz PCM with the
ITU-T G.722 encoder of the PyPI package ``g722`` (sippy's libg722, 64 kbit/s mode) and writes
the RTP stream with :mod:`hotline_lab.rtpcap`'s pcap writer.

RTP details (RFC 3551 section 4.5.2): G.722 samples at 16 kHz, but its RTP clock runs at 8000 Hz
(a historical error kept for compatibility), so a 20 ms packet carries 320 samples coded into
160 bytes and advances the RTP timestamp by 160. The whole call is one continuous encoder run
(clip, silence, clip, ...), so the decoder's ADPCM state never jumps between packets.
"""

from __future__ import annotations

import array
import sys
from pathlib import Path

from hotline_lab.rtpcap import RtpPacket, pcap_bytes

PT_G722 = 9
RATE_HZ = 16000  # audio sampling rate
RTP_CLOCK_HZ = 8000  # RTP timestamp rate (RFC 3551)
PACKET_MS = 20
BYTES_PER_PACKET = 160  # 64 kbit/s x 20 ms
SAMPLES_PER_PACKET = RATE_HZ * PACKET_MS // 1000  # 320


def encode_g722(pcm16k: bytes) -> bytes:
    """Encode 16-bit little-endian mono PCM at 16 kHz as G.722 at 64 kbit/s (4 bits per sample).

    Args:
        pcm16k: raw samples (no header); an odd trailing byte is dropped.
    Returns:
        ``len(pcm16k) // 4`` bytes.
    Raises:
        ImportError: the ``g722`` package is not installed.
    """
    import G722  # the PyPI package ``g722`` (C extension)

    samples = array.array("h")
    samples.frombytes(pcm16k[: len(pcm16k) - len(pcm16k) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if not samples:
        return b""
    return bytes(G722.G722(RATE_HZ, 64000).encode(samples))


def talk_timeline(clip16k: bytes, talk_ms: int, gap_ms: int = 1500, lead_ms: int = 200) -> bytes:
    """The PCM a talking phone sends: ``lead_ms`` of silence, then the clip repeated with ``gap_ms`` gaps.

    Args:
        clip16k: 16-bit mono PCM at 16 kHz (no header).
        talk_ms: total length, ms (rounded up to whole 20 ms packets).
        gap_ms: silence between two repeats of the clip, ms.
        lead_ms: silence before the first word (lets Asterisk's strict RTP learn the source).
    Returns:
        16-bit mono PCM at 16 kHz, a whole number of packets long.
    Raises:
        ValueError: an empty clip or a non-positive ``talk_ms``.
    """
    if not clip16k or talk_ms <= 0:
        raise ValueError("need a clip and a positive talk_ms")
    per_ms = RATE_HZ * 2 // 1000  # bytes per ms
    packets = -(-talk_ms // PACKET_MS)
    total = packets * SAMPLES_PER_PACKET * 2
    unit = clip16k[: len(clip16k) - len(clip16k) % 2] + bytes(gap_ms * per_ms)
    body = bytearray(bytes(lead_ms * per_ms))
    while len(body) < total:
        body += unit
    return bytes(body[:total])


def g722_packets(g722: bytes, *, ssrc_seed: int = 0x4722) -> list[RtpPacket]:
    """Cut a G.722 byte stream into 20 ms RTP packets (payload type 9, timestamp +160 each).

    Args:
        g722: the encoded stream; a partial last packet is dropped.
        ssrc_seed: first sequence number / timestamp offset.
    Returns:
        One packet per 20 ms, the first with the marker bit, sent at ``at_ms = 20 * i``.
    """
    seq = ssrc_seed & 0xFFFF
    ts0 = (ssrc_seed * 7919) & 0xFFFFFFFF
    ts_step = RTP_CLOCK_HZ * PACKET_MS // 1000
    out = []
    for i in range(len(g722) // BYTES_PER_PACKET):
        payload = g722[i * BYTES_PER_PACKET:(i + 1) * BYTES_PER_PACKET]
        out.append(RtpPacket(i * PACKET_MS, PT_G722, (seq + i) & 0xFFFF, (ts0 + i * ts_step) & 0xFFFFFFFF,
                             i == 0, payload))
    return out


def write_g722_pcap(path: str | Path, clip16k: bytes, talk_ms: int, gap_ms: int = 1500) -> Path:
    """Write the pcap of a wideband phone saying ``clip16k`` over and over for ``talk_ms``.

    Blocking (encoding and a file write, ~9 kB per second of audio): call from a thread in async code.

    Args:
        clip16k: 16-bit mono PCM at 16 kHz (no header), e.g. a real speech clip.
        talk_ms: how long the phone talks, ms (``play_pcap_audio`` plays the file once).
        gap_ms: silence between repeats, ms.
    Returns:
        The path written.
    Raises:
        ValueError: empty clip or ``talk_ms <= 0``.
        ImportError: the ``g722`` package is missing.
    """
    path = Path(path)
    path.write_bytes(pcap_bytes(g722_packets(encode_g722(talk_timeline(clip16k, talk_ms, gap_ms)))))
    return path
