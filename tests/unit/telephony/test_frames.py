"""Byte-exact framing: split reads, Chinese names, repeated keys, Output forms, garbage."""

from __future__ import annotations

import pytest

from hotline.telephony.frames import AmiFramer, parse_message

GREETING = b"Asterisk Call Manager/11.0.0\r\n"
NEWCHANNEL = (
    "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000001\r\n"
    "CallerIDNum: 13800138000\r\nCallerIDName: 张伟\r\nUniqueid: lab-1.1\r\nLinkedid: lab-1.1\r\n\r\n"
).encode()


def feed_all(framer: AmiFramer, data: bytes, step: int) -> list:
    out = []
    for i in range(0, len(data), step):
        out += framer.feed(data[i:i + step])
    return out


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64, 10_000])
def test_given_a_stream_split_anywhere_when_framed_then_every_message_comes_out_whole(step: int) -> None:
    stream = GREETING + NEWCHANNEL * 3
    msgs = feed_all(AmiFramer(), stream, step)
    assert [m.kind for m in msgs] == ["greeting", "event", "event", "event"]
    assert msgs[0].headers["Version"] == "11.0.0"
    assert all(m.text("CallerIDName") == "张伟" for m in msgs[1:])
    assert all(m.encoding == "utf-8" for m in msgs[1:])


def test_given_a_split_inside_a_utf8_character_when_framed_then_the_name_is_intact() -> None:
    cut = NEWCHANNEL.index("张".encode()) + 1  # in the middle of the 3-byte character
    framer = AmiFramer(expect_greeting=False)
    assert framer.feed(NEWCHANNEL[:cut]) == []
    (msg,) = framer.feed(NEWCHANNEL[cut:])
    assert msg.text("CallerIDName") == "张伟"


def test_given_a_gb18030_caller_name_when_framed_then_the_fallback_decodes_it() -> None:
    raw = "Event: Newchannel\r\nCallerIDName: 李娜\r\nUniqueid: x.1\r\n\r\n".encode("gb18030")
    (msg,) = AmiFramer(expect_greeting=False).feed(raw)
    assert msg.text("CallerIDName") == "李娜"
    assert msg.encoding == "gb18030"


def test_given_bytes_no_encoding_decodes_when_framed_then_the_header_is_kept_with_replacements() -> None:
    raw = b"Event: Newchannel\r\nCallerIDName: \xff\xfe\xff\r\nUniqueid: x.1\r\n\r\n"
    (msg,) = AmiFramer(fallback_encoding="ascii", expect_greeting=False).feed(raw)
    assert msg.encoding == "utf-8-replace"
    assert msg.text("CallerIDName") != ""
    assert msg.text("Uniqueid") == "x.1"


@pytest.mark.parametrize(
    "separator",
    [b"\r\n\r\n", b"\r\n\n", b"\n\n", b"\r\n\r\n\r\n\r\n", b"\r\n\n\r\n\n"],
)
def test_given_odd_message_separators_when_framed_then_messages_neither_merge_nor_drop(separator: bytes) -> None:
    stream = b"Event: A\r\nX: 1" + separator + b"Event: B\r\nX: 2" + separator + b"Event: C\r\nX: 3\r\n\r\n"
    for step in (1, 5, len(stream)):
        msgs = feed_all(AmiFramer(expect_greeting=False), stream, step)
        assert [(m.name, m.text("X")) for m in msgs] == [("A", "1"), ("B", "2"), ("C", "3")]


def test_given_repeated_keys_when_parsed_then_they_are_lists_in_order() -> None:
    msg = parse_message(b"Event: Newchannel\r\nChanVariable: A=1\r\nChanVariable: B=x=y\r\nChanVariable: C=")
    assert msg["ChanVariable"] == ["A=1", "B=x=y", "C="]
    assert msg.pairs("ChanVariable") == {"A": "1", "B": "x=y", "C": ""}
    assert msg.text("ChanVariable") == "C="


def test_given_the_asterisk_14_output_form_when_parsed_then_output_lists_the_lines() -> None:
    raw = (b"Response: Success\r\nActionID: a.1.Command\r\nMessage: Command output follows\r\n"
           b"Output: Name/username             Host\r\nOutput: \r\nOutput: 2 objects found.")
    msg = parse_message(raw)
    assert msg.kind == "response"
    assert msg.output == ["Name/username             Host", "", "2 objects found."]


def test_given_a_legacy_follows_body_with_blank_lines_when_framed_then_it_is_one_message() -> None:
    stream = (b"Response: Follows\r\nPrivilege: Command\r\nActionID: 9\r\nline one\nChannel: not a header\n\n"
              b"after blank\n--END COMMAND--\r\n\r\nEvent: Next\r\n\r\n")
    msgs = feed_all(AmiFramer(expect_greeting=False), stream, 4)
    assert [m.kind for m in msgs] == ["response", "event"]
    assert msgs[0].action_id == "9"
    assert msgs[0].output == ["line one", "Channel: not a header", "", "after blank"]
    assert "Channel" not in msgs[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Response: Error\r\nActionID: 1\r\nMessage: Authentication failed", "Authentication failed"),
        (b"Response: Error\r\nActionID: 2\r\nMessage: Permission denied", "Permission denied"),
        (b"Response: Error\r\nActionID: 3\r\nMessage: Invalid/unknown command: Frob.",
         "Invalid/unknown command: Frob."),
        (b"Response: Error\r\nActionID: 4\r\nMessage: No such channel", "No such channel"),
    ],
)
def test_given_error_responses_when_parsed_then_kind_and_message_are_kept(raw: bytes, message: str) -> None:
    msg = parse_message(raw)
    assert (msg.kind, msg.name, msg.text("Message")) == ("response", "Error", message)


def test_given_garbage_lines_when_framed_then_they_are_kept_and_the_next_message_survives() -> None:
    stream = b"Event: A\r\nthis is not a header\r\nX: 1\r\n\r\nnonsense only\r\n\r\nEvent: B\r\n\r\n"
    msgs = AmiFramer(expect_greeting=False).feed(stream)
    assert [m.kind for m in msgs] == ["event", "garbage", "event"]
    assert msgs[0].garbage == ["this is not a header"] and msgs[0].text("X") == "1"
    assert msgs[1].garbage == ["nonsense only"]


def test_given_a_header_without_a_space_after_the_colon_when_parsed_then_it_is_a_header() -> None:
    msg = parse_message(b"Event: VarSet\r\nValue:\r\nVariable:X")
    assert msg.text("Value") == "" and msg.text("Variable") == "X"


def test_given_header_names_in_another_case_when_looked_up_then_found() -> None:
    msg = parse_message(b"Event: Hangup\r\nUniqueID: u.1")
    assert msg.text("Uniqueid") == "u.1" and "uniqueid" in msg


def test_given_an_endless_frame_when_framed_then_it_is_cut_as_garbage_not_buffered_forever() -> None:
    framer = AmiFramer(expect_greeting=False, max_message_bytes=1000)
    msgs = framer.feed(b"Event: A\r\n" + b"X" * 2000)
    assert len(msgs) == 1 and msgs[0].kind == "garbage" and "oversized" in msgs[0].garbage[0]
    assert framer.pending_bytes == 0
    assert [m.name for m in framer.feed(b"Event: B\r\n\r\n")] == ["B"]


def test_given_no_greeting_when_framed_then_the_first_message_is_not_lost() -> None:
    msgs = AmiFramer(expect_greeting=True).feed(b"Event: A\r\n\r\n")
    assert [m.name for m in msgs] == ["A"]
