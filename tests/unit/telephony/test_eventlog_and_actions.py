"""The event log round-trips raw frames; actions are encoded safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.telephony.ami import AmiBadAction, encode_action
from hotline.telephony.eventlog import EventLogWriter, LogReadResult, encode_record, iter_records, read_log


def test_given_frames_in_any_encoding_when_logged_and_replayed_then_they_come_back_identical(tmp_path: Path) -> None:
    frames = [
        b"Event: Newchannel\r\nCallerIDName: \xe5\xbc\xa0\xe4\xbc\x9f\r\nUniqueid: u.1",
        "Event: Newchannel\r\nCallerIDName: 李娜\r\nUniqueid: u.2".encode("gb18030"),
        b"Event: Hangup\r\nUniqueid: u.1\r\nCause: 16",
    ]
    writer = EventLogWriter(tmp_path / "ami.log")
    for i, raw in enumerate(frames):
        writer.append(1000.0 + i, raw)
    writer.close()
    assert writer.written == 3 and writer.error is None
    msgs = list(read_log(tmp_path / "ami.log"))
    assert [m.raw for m in msgs] == frames
    assert [m.received_at for m in msgs] == [1000.0, 1001.0, 1002.0]
    assert msgs[0].text("CallerIDName") == "张伟" and msgs[1].text("CallerIDName") == "李娜"


def test_given_a_log_cut_mid_record_when_read_then_whole_records_come_back_and_truncation_is_flagged() -> None:
    data = encode_record(1.0, b"Event: A") + encode_record(2.0, b"Event: B")[:-4]
    result = LogReadResult()
    assert [raw for _, raw in iter_records(data, result)] == [b"Event: A"]
    assert result.records == 1 and result.truncated


def test_given_an_action_with_lists_and_variables_when_encoded_then_headers_repeat() -> None:
    data = encode_action("Originate", "id.1.Originate", {
        "Channel": "Local/1001@hotline-agent", "Async": True, "Variable": {"RING_S": "15", "Q": "commerce"},
        "Codecs": ["ulaw", "alaw"], "Priority": 1,
    })
    assert data == (
        b"Action: Originate\r\nActionID: id.1.Originate\r\nChannel: Local/1001@hotline-agent\r\nAsync: true\r\n"
        b"Variable: RING_S=15\r\nVariable: Q=commerce\r\nCodecs: ulaw\r\nCodecs: alaw\r\nPriority: 1\r\n\r\n"
    )


@pytest.mark.parametrize("fields", [{"Channel": "x\r\nAction: Hangup"}, {"Bad\nKey": "v"}, {"Variable": {"A": "1\n"}}])
def test_given_cr_or_lf_in_an_action_when_encoded_then_it_is_refused(fields) -> None:
    with pytest.raises(AmiBadAction):
        encode_action("Originate", "id.2", fields)


def test_given_queued_frames_when_flushed_then_they_are_on_disk_before_close(tmp_path: Path) -> None:
    writer = EventLogWriter(tmp_path / "ami.log")
    for i in range(200):
        writer.append(float(i), b"Event: Tick\r\nN: %d" % i)
    assert writer.flush(timeout=5)
    assert len(list(read_log(tmp_path / "ami.log"))) == 200 and writer.written == 200
    writer.close()
