"""Masking of phone and ID-card numbers in Chinese text, safe recording paths, signed media links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hotline.qa.errors import BadMediaLink, PathEscape
from hotline.qa.privacy import check_media, mask_text, mask_words, resolve_under, sign_media


@pytest.mark.parametrize(("text", "masked"), [
    ("我的手机号是13800138000谢谢", "我的手机号是138****8000谢谢"),
    ("电话+8613912345678", "电话+86139****5678"),
    ("号码138-0013-8000可以打", "号码138-****-8000可以打"),
    ("一三八零零一三八零零零", "一三八****八零零零"),                      # spoken as Chinese numerals
    ("幺三九 幺二三四 五六七八", "幺三九 **** 五六七八"),                 # ASR spacing
    ("１３８００１３８０００", "１３８****８０００"),                      # full width
    ("座机075783335678找王科长", "座机0757****5678找王科长"),
    ("北京010-12345678", "北京010-****5678"),
    ("家里电话是83335678", "家里电话是****5678"),
    ("身份证号11010519491231002X核实", "身份证号**************002X核实"),
    ("身份证440606199001011234", "身份证**************1234"),
    ("拨打12345热线反映", "拨打12345热线反映"),                          # the hotline itself is not personal
    ("工单号20261126001已受理", "工单号20261126001已受理"),               # 11 digits, not a mobile
    ("共83335678元", "共83335678元"),                                     # 8 digits without phone context
    ("2026年11月26日下午3点", "2026年11月26日下午3点"),
    ("", ""),
])
def test_mask_text_on_chinese_without_spaces(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert len(mask_text(text)) == len(text)


def test_mask_words_masks_a_number_spoken_across_vosk_words() -> None:
    words = ["我", "的", "电话", "是", "一三八", "零零一三", "八零零零"]
    assert mask_words(words) == ["我", "的", "电话", "是", "一三八", "****", "八零零零"]


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    root = tmp_path / "recordings"
    (root / "2026" / "11").mkdir(parents=True)
    (root / "2026" / "11" / "call.wav").write_bytes(b"RIFF")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "2026" / "evil.wav")
    os.symlink(root / "2026" / "11" / "call.wav", root / "alias.wav")
    return root


@pytest.mark.parametrize("bad", [
    "../secret.txt", "2026/../../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt", "%252e%252e/secret.txt",
    "/etc/passwd", "%2fetc%2fpasswd", "2026/evil.wav", "2026\\..\\..\\secret.txt", "2026/11/call.wav\x00.txt",
    "", "2026/11", "2026/11/missing.wav",
])
def test_given_a_path_that_escapes_or_is_not_a_file_then_it_is_refused(storage: Path, bad: str) -> None:
    with pytest.raises(PathEscape):
        resolve_under(storage, bad)


def test_given_paths_inside_the_root_then_they_resolve(storage: Path) -> None:
    assert resolve_under(storage, "2026/11/call.wav") == (storage / "2026/11/call.wav").resolve()
    assert resolve_under(storage, "alias.wav") == (storage / "2026/11/call.wav").resolve()  # symlink inside is fine


def test_media_links_are_bound_to_user_assignment_and_time() -> None:
    key = b"k" * 32
    sig = sign_media(key, "qa1", 7, 1000)
    check_media(key, "qa1", 7, 1000, sig, now=999.0)
    for user, aid, exp, now in [("qa2", 7, 1000, 999.0), ("qa1", 8, 1000, 999.0), ("qa1", 7, 2000, 999.0),
                                ("qa1", 7, 1000, 1001.0)]:
        with pytest.raises(BadMediaLink):
            check_media(key, user, aid, exp, sig, now=now)


def test_given_a_number_spoken_across_words_then_the_review_page_transcript_masks_it() -> None:
    from hotline.speech.transcript import Segment, Transcript, Word
    from hotline.web.qa_pages import _transcript_html

    words = ("我", "的", "手机", "是", "一三八", "零零一三", "八零零零")
    seg = Segment("caller", 0, 0.5, 4.0, " ".join(words),
                  tuple(Word(w, 0.5 + i * 0.5, 0.9 + i * 0.5) for i, w in enumerate(words)))
    page = _transcript_html(Transcript("x.wav", 5.0, 8000, 2, segments=(seg,), speakers=("caller", "agent")))
    assert "零零一三" not in page and ">****</span>" in page
    assert page.count("class='w'") == len(words) and "data-start='2.50'" in page
