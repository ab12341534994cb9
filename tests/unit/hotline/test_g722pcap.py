"""hotline.g722pcap: a wideband (G.722) talking phone's RTP as a pcap for SIPp."""

from __future__ import annotations

import array
import math
import struct

import pytest

from hotline_lab.g722pcap import BYTES_PER_PACKET, PT_G722, encode_g722, g722_packets, talk_timeline, write_g722_pcap


def tone16k(freq_hz: float, seconds: float) -> bytes:
    n = int(16000 * seconds)
    return array.array("h", [int(8000 * math.sin(2 * math.pi * freq_hz * i / 16000)) for i in range(n)]).tobytes()


def test_timeline_is_lead_silence_then_clip_and_gap_repeated_in_whole_packets() -> None:
    clip = b"\x01\x00" * 1600  # 0.1 s
    pcm = talk_timeline(clip, talk_ms=1010, gap_ms=100, lead_ms=200)
    assert len(pcm) == 51 * 640  # 1010 ms rounds up to 51 packets of 320 samples
    assert pcm[:6400] == bytes(6400) and pcm[6400:6400 + 3200] == clip and pcm[9600:12800] == bytes(3200)
    with pytest.raises(ValueError):
        talk_timeline(b"", 1000)


def test_g722_is_4_bits_per_sample_and_decodes_back_to_the_tone() -> None:
    import G722

    pcm = tone16k(1000, 0.5)
    coded = encode_g722(pcm)
    assert len(coded) == len(pcm) // 4
    back = array.array("h", bytes(G722.G722(16000, 64000).decode(coded)))
    energy = sum(s * s for s in back[800:]) / len(back[800:])
    assert math.sqrt(energy) > 3000  # the 8000-peak tone (RMS 5657) comes back, not silence


def test_packets_are_pt9_20ms_with_rtp_clock_8k_and_the_first_marked() -> None:
    pkts = g722_packets(bytes(BYTES_PER_PACKET * 3 + 7), ssrc_seed=10)
    assert [(p.payload_type, p.at_ms, p.seq, p.marker, len(p.payload)) for p in pkts] == [
        (PT_G722, 0, 10, True, 160), (PT_G722, 20, 11, False, 160), (PT_G722, 40, 12, False, 160)]
    assert [p.timestamp - pkts[0].timestamp for p in pkts] == [0, 160, 320]  # RFC 3551: 8 kHz RTP clock


def test_pcap_holds_one_udp_rtp_frame_per_packet(tmp_path) -> None:
    path = write_g722_pcap(tmp_path / "agent-g722.pcap", tone16k(440, 0.3), talk_ms=1000)
    data = path.read_bytes()
    assert struct.unpack("<I", data[:4])[0] == 0xA1B2C3D4
    frame = 14 + 20 + 8 + 12 + 160
    assert len(data) == 24 + 50 * (16 + frame)
    assert data[24 + 16 + 14 + 20 + 8 + 1] & 0x7F == PT_G722
