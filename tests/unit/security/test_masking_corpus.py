"""The one masker (:mod:`hotline.kernel.masking`) on a corpus of how numbers really appear, plus a property."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.kernel.masking import mask_numbers, mask_words
from hotline.qa.privacy import mask_text
from hotline.web.logfmt import mask_phone_numbers

CORPUS: list[tuple[str, str]] = [
    # mainland mobiles
    ("我的手机号是13800138000谢谢", "我的手机号是138****8000谢谢"),
    ("caller 13800138000 queued", "caller 138****8000 queued"),
    ("+8613912345678", "+86139****5678"),
    ("电话+86 139 1234 5678", "电话+86 139 **** 5678"),
    ("0086 139 1234 5678", "0086 139 **** 5678"),
    ("008613912345678", "0086139****5678"),
    ("(+86)138-0013-8000", "(+86)138-****-8000"),
    ("号码138-0013-8000可以打", "号码138-****-8000可以打"),
    ("号码(138)0013-8000", "号码(138)****-8000"),
    ("１３８００１３８０００", "１３８****８０００"),                               # full-width digits
    ("１３８　００１３　８０００", "１３８　****　８０００"),                        # ideographic spaces
    ("＋８６　１３８－００１３－８０００", "＋８６　１３８－****－８０００"),           # full-width punctuation
    ("（１３８）００１３－８０００", "（１３８）****－８０００"),
    ("一三八零零一三八零零零", "一三八****八零零零"),                               # Chinese numerals
    ("幺三九 幺二三四 五六七八", "幺三九 **** 五六七八"),                          # 幺 and ASR spacing
    ("幺八六两零零幺三八零零", "幺八六****三八零零"),                             # 两
    ("我 的 号 码 是 1 3 8 0 0 1 3 8 0 0 0 谢 谢", "我 的 号 码 是 1 3 8 * * * * 8 0 0 0 谢 谢"),  # digit by digit
    ("1 3 9 - 1 2 3 4 - 5 6 7 8", "1 3 9 - * * * * - 5 6 7 8"),
    ("caller 13800138000 1272", "caller 138****8000 1272"),                   # mobile followed by a seat
    ("号码13800138000一直打不通", "号码138****8000一直打不通"),              # a numeral right after it
    ("第一13800138000", "第一138****8000"),
    ("打了一一三八零零一三八零零零", "打了一一三八****八零零零"),                 # 一 before a spoken mobile
    ("张先生 15012345678 投诉", "张先生 150****5678 投诉"),
    # landlines with area codes
    ("from 0757-83201234 ok", "from 0757-****1234 ok"),
    ("座机075783335678找王科长", "座机0757****5678找王科长"),
    ("北京010-12345678", "北京010-****5678"),
    ("北京010 6552 1234", "北京010 **** 1234"),
    ("(010)65521234", "(010)****1234"),
    ("（０７５７）８３２０－１２３４", "（０７５７）****－１２３４"),
    ("零七五七 八三二零 幺二三四", "零七五七 **** 幺二三四"),
    ("020-8888-1234", "020-****-1234"),
    ("家里电话是83335678", "家里电话是****5678"),                               # bare 8 digits after 电话
    # 18-digit ID numbers
    ("身份证号11010519491231002X核实", "身份证号**************002X核实"),
    ("身份证440606199001011234", "身份证**************1234"),
    ("身份证 11010519491231002x", "身份证 **************002x"),
    ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证**************００２Ｘ"),
    ("身份证 4406 0619 9001 0112 34", "身份证 **** **** **** **12 34"),
    ("身份证44060619900101123412", "身份证****************3412"),             # ID followed by more digits
    ("幺幺零幺零五幺九四九幺两三幺零零两X", "**************零零两X"),
    # left alone
    ("10:30", "10:30"),
    ("2026-12-07", "2026-12-07"),
    ("2026年12月7日下午3点", "2026年12月7日下午3点"),
    ("¥1,200", "¥1,200"),
    ("¥1,200,000.50", "¥1,200,000.50"),
    ("工单 WO-2026-000123 已受理", "工单 WO-2026-000123 已受理"),
    ("工单号20261126001已受理", "工单号20261126001已受理"),
    ("排队 3 人，等待 12 分钟", "排队 3 人，等待 12 分钟"),
    ("拨打12345热线反映", "拨打12345热线反映"),
    ("12345 hotline", "12345 hotline"),
    ("seat 1272 rang", "seat 1272 rang"),
    ("共83335678元", "共83335678元"),
    ("uniqueid 1767225600.12 linkedid 1767225600.11", "uniqueid 1767225600.12 linkedid 1767225600.11"),
    ("ts 1767225600123 ok", "ts 1767225600123 ok"),                          # ms timestamp in a log
    ("seats 1271 1272 1273 idle", "seats 1271 1272 1273 idle"),
    ("一二三", "一二三"),
    ("两个人", "两个人"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "masked"), CORPUS)
def test_given_corpus_text_when_masked_then_only_private_digits_change(text: str, masked: str) -> None:
    out = mask_numbers(text)
    assert out == masked
    assert len(out) == len(text)
    assert all(a == b or b == "*" for a, b in zip(text, out, strict=True))


@pytest.mark.parametrize(("text", "masked"), CORPUS[:8])
def test_given_logs_pages_and_exports_when_masked_then_they_use_the_same_masker(text: str, masked: str) -> None:
    assert mask_phone_numbers(text) == mask_text(text) == masked


def test_given_vosk_words_when_masked_then_each_word_keeps_its_length() -> None:
    words = ["我", "的", "电话", "是", "一三八", "零零一三", "八零零零"]
    assert mask_words(words) == ["我", "的", "电话", "是", "一三八", "****", "八零零零"]


# --- property: any mobile, in any format, embedded in Chinese text, never survives 7 digits in a row

_CN = "零一二三四五六七八九"
_FULL = "０１２３４５６７８９"
_TEXT = st.text(alphabet=st.sampled_from(
    "我的电话是请联系张先生投诉谢谢，。：、在市区号码手机热线反映 abc一两"), max_size=12)


def _digits_of(text: str) -> str:
    """Every digit of ``text`` in order (ASCII), masked characters as ``*``, everything else dropped."""
    table = {"幺": "1", "两": "2", **{c: str(i) for i, c in enumerate(_CN)}}
    out = []
    for ch in text:
        n = table.get(ch) or unicodedata.normalize("NFKC", ch)
        if len(n) == 1 and (n.isdigit() or n == "*"):
            out.append(n)
    return "".join(out)


@st.composite
def _written_mobile(draw: st.DrawFn) -> tuple[str, str]:
    """(country prefix as written, the mobile as written)."""
    number = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(
        st.sampled_from("0123456789"), min_size=9, max_size=9)))
    script = draw(st.sampled_from(["ascii", "full", "cn", "cn-yao"]))
    if script == "full":
        glyphs = [_FULL[int(c)] for c in number]
    elif script.startswith("cn"):
        glyphs = [_CN[int(c)] for c in number]
        if script == "cn-yao":
            glyphs = ["幺" if g == "一" else "两" if g == "二" and draw(st.booleans()) else g for g in glyphs]
    else:
        glyphs = list(number)
    layout = draw(st.sampled_from(["plain", "3-4-4", "digits"]))
    sep = draw(st.sampled_from([" ", "-", "　", "－", "‐"]))
    if layout == "3-4-4":
        body = "".join(glyphs[:3]) + sep + "".join(glyphs[3:7]) + sep + "".join(glyphs[7:])
    elif layout == "digits":
        body = " ".join(glyphs)
    else:
        body = "".join(glyphs)
    if draw(st.booleans()):
        body = draw(st.sampled_from(["(", "（"])) + "".join(glyphs[:3]) + draw(st.sampled_from([")", "）"])) + \
            sep + "".join(glyphs[3:7]) + sep + "".join(glyphs[7:])
    prefix = draw(st.sampled_from(["", "+86", "86", "0086", "+86 ", "0086-", "(+86)", "（＋８６）", "＋８６　"]))
    return prefix, body


@settings(max_examples=300, deadline=None)
@given(before=_TEXT, mobile=_written_mobile(), after=_TEXT)
def test_given_any_written_mobile_in_chinese_text_when_masked_then_no_7_digits_survive(
        before: str, mobile: tuple[str, str], after: str) -> None:
    prefix, body = mobile
    text = before + prefix + body + after
    out = mask_numbers(text)
    assert len(out) == len(text)
    shown = _digits_of(out[len(before) + len(prefix): len(before) + len(prefix) + len(body)])
    assert not re.search(r"[0-9]{7}", shown), (text, out)
    assert shown.count("*") >= 4, (text, out)  # 138****5678, or more when a numeral touches it
