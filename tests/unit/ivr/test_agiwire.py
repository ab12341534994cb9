"""AGI replies -> interpreter results, interpreter commands -> AGI lines (no I/O)."""

from __future__ import annotations

import pytest

from hotline.ivr.agiwire import (
    AgiArgumentError,
    AgiReply,
    GetVariable,
    VariableValue,
    format_command,
    keys_taken,
    parse_reply,
    quote_arg,
    to_result,
)
from hotline.ivr.interpreter import (
    CallerHungUp,
    CommandFailed,
    DigitsReceived,
    GetDigits,
    Hangup,
    PlaybackFinished,
    PlayPrompt,
    SayDigits,
    SetVariable,
    Timeout,
)

PLAY = PlayPrompt("hotline/zh/main_menu", "0123456789*#")
GET = GetDigits("hotline/zh/wo_enter_number", 10000, 20)
SAY = SayDigits("20251009")
SET = SetVariable("HOTLINE_LANGUAGE", "yue")


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("200 result=49 endpos=12345\n", AgiReply(200, "49", "endpos=12345")),
        ("200 result= (timeout)", AgiReply(200, "", "(timeout)")),
        ("200 result=12 (timeout)", AgiReply(200, "12", "(timeout)")),
        ("200 result=-1 endpos=0", AgiReply(200, "-1", "endpos=0")),
        ("100 result=0 Trying...", AgiReply(100, "0", "Trying...")),
        ("510 Invalid or unknown command", AgiReply(510, None, "Invalid or unknown command")),
        ("511 Command Not Permitted on a dead channel or intercept routine",
         AgiReply(511, None, "Command Not Permitted on a dead channel or intercept routine")),
        ("520-Invalid command syntax.  Proper usage follows:\nUsage: ...\n520 End of proper usage.",
         AgiReply(520, None, "Invalid command syntax.  Proper usage follows:\nUsage: ...\n520 End of proper usage.")),
        ("garbage", AgiReply(0, None, "garbage")),
        ("", AgiReply(0, None, "")),
    ],
)
def test_given_agi_reply_text_when_parsed_then_code_value_and_data(text: str, reply: AgiReply) -> None:
    assert parse_reply(text) == reply


@pytest.mark.parametrize(
    ("command", "text", "result"),
    [
        (PLAY, "200 result=0 endpos=8000", PlaybackFinished(None)),
        (PLAY, "200 result=49 endpos=1200", PlaybackFinished("1")),
        (PLAY, "200 result=35 endpos=1200", PlaybackFinished("#")),
        (PLAY, "200 result=-1 endpos=0", CallerHungUp()),
        (SAY, "200 result=0", PlaybackFinished(None)),
        (GET, "200 result=20251009", DigitsReceived("20251009")),
        (GET, "200 result=12 (timeout)", DigitsReceived("12")),
        (GET, "200 result= (timeout)", Timeout()),
        (GET, "200 result=", DigitsReceived("")),  # "#" alone: an empty entry, not a timeout
        (GET, "200 result=*9#x", DigitsReceived("*9#x")),  # garbage keys: the interpreter re-prompts
        (GET, "200 result=-1", CallerHungUp()),
        (SET, "200 result=1", PlaybackFinished(None)),
        (PLAY, "510 Invalid or unknown command", CommandFailed(510, "Invalid or unknown command")),
        (PLAY, "511 Command Not Permitted on a dead channel", CommandFailed(511, "Command Not Permitted on a dead "
                                                                             "channel")),
        (PLAY, "200 result=abc", CommandFailed(200, "unexpected reply 'abc'")),
        (PLAY, "garbage", CommandFailed(0, "garbage")),
    ],
)
def test_given_reply_to_command_when_mapped_then_interpreter_result(command, text: str, result) -> None:
    assert to_result(command, parse_reply(text)) == result


def test_given_provisional_100_when_mapped_then_none_keep_waiting() -> None:
    assert to_result(PLAY, parse_reply("100 result=0 Trying...")) is None


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (PLAY, 'STREAM FILE hotline/zh/main_menu "0123456789*#"'),
        (PlayPrompt("hotline/zh/welcome"), 'STREAM FILE hotline/zh/welcome ""'),
        (GET, "GET DATA hotline/zh/wo_enter_number 10000 20"),
        (SAY, 'SAY DIGITS 20251009 ""'),
        (SayDigits("WO-12 3"), 'SAY DIGITS 123 ""'),
        (SET, "SET VARIABLE HOTLINE_LANGUAGE yue"),
        (SetVariable("NOTE", 'say "hi" \\ 你好'), 'SET VARIABLE NOTE "say \\"hi\\" \\\\ 你好"'),
        (Hangup(16), "EXEC Hangup 16"),
        (GetVariable("CALLERID(name)"), 'GET VARIABLE "CALLERID(name)"'),
    ],
)
def test_given_command_when_formatted_then_agi_line(command, line: str) -> None:
    assert format_command(command) == line


def test_given_value_with_newline_when_quoted_then_refused() -> None:
    with pytest.raises(AgiArgumentError):
        quote_arg("a\r\nHANGUP")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("200 result=1 (张伟)", "张伟"),
        ("200 result=1 (Wang (Ltd))", "Wang (Ltd)"),
        ("200 result=1 ()", ""),
        ("200 result=0", None),
    ],
)
def test_given_get_variable_reply_when_mapped_then_value_decoded(text: str, value: str | None) -> None:
    assert to_result(GetVariable("CALLERID(name)"), parse_reply(text)) == VariableValue("CALLERID(name)", value)


@pytest.mark.parametrize(
    ("command", "text", "keys"),
    [
        (PLAY, "200 result=49 endpos=1200", "1"),
        (PLAY, "200 result=0 endpos=8000", ""),
        (PLAY, "200 result=-1 endpos=0", ""),
        (PlayPrompt("hotline/zh/welcome"), "200 result=49", ""),  # takes no key: cannot have taken one
        (GET, "200 result=20251009", "20251009#"),  # fewer than max, no timeout: ended by "#"
        (GET, "200 result=", "#"),
        (GET, "200 result=12 (timeout)", "12"),
        (GET, "200 result= (timeout)", ""),
        (GetDigits("hotline/zh/main_menu", 6000, 1), "200 result=3", "3"),  # max reached: no "#"
        (GET, "510 Invalid or unknown command", ""),
        (SET, "200 result=1", ""),
    ],
)
def test_given_reply_when_asked_which_keys_asterisk_took_then_in_order_with_terminator(command, text: str,
                                                                                      keys: str) -> None:
    assert keys_taken(command, parse_reply(text)) == keys
