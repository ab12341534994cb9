"""Hot-topic announcements: active windows, menu targeting, languages, dict round trip."""

from __future__ import annotations

import pytest

from hotline.ivr.announcements import Announcement, AnnouncementError, active_for


def ann(id_: str, starts_at: float, ends_at: float, menus=("foshan-12345",), languages=()) -> Announcement:
    return Announcement(id_, f"hotline/{{lang}}/hot/{id_}", starts_at, ends_at, tuple(menus), tuple(languages))


@pytest.mark.parametrize(
    ("now", "active"),
    [
        (99.0, []),
        (100.0, ["a"]),  # start inclusive
        (150.0, ["a", "b"]),  # sorted by start
        (200.0, ["b"]),  # end exclusive
        (300.0, []),
    ],
)
def test_given_announcements_when_now_moves_then_only_those_in_window_are_active(now: float, active: list[str]) -> None:
    anns = [ann("b", 120, 300), ann("a", 100, 200), ann("other-menu", 0, 1000, menus=("shenzhen",))]
    assert [a.id for a in active_for(anns, "foshan-12345", now)] == active


def test_given_same_start_when_listing_active_then_ordered_by_id() -> None:
    anns = [ann("z", 100, 200), ann("m", 100, 200)]
    assert [a.id for a in active_for(anns, "foshan-12345", 150)] == ["m", "z"]


def test_given_wildcard_menu_when_listing_then_it_targets_every_menu() -> None:
    assert active_for([ann("all", 0, 10, menus=("*",))], "any-menu", 5)


@pytest.mark.parametrize(("languages", "plays"), [((), True), (("zh",), True), (("en",), False)])
def test_given_language_filter_when_caller_language_is_zh_then_plays_only_if_listed(
    languages: tuple[str, ...], plays: bool
) -> None:
    a = ann("x", 0, 10, languages=languages)
    assert a.plays_in("zh") is plays
    assert a.prompt_for("yue") == "hotline/yue/hot/x"


def test_given_announcement_when_round_tripping_dict_then_equal_and_plain() -> None:
    a = ann("housing", 1_751_299_200.0, 1_753_977_600.0, languages=("zh", "yue"))
    data = a.to_dict()
    assert data["menus"] == ["foshan-12345"]
    assert isinstance(data["languages"], list)
    assert Announcement.from_dict(data) == a


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        ({"id": "x", "prompt": "p", "starts_at": 10, "ends_at": 10, "menus": ["m"]}, ["ends_at must be after"]),
        ({"id": "x", "prompt": "p", "starts_at": 0, "ends_at": 1, "menus": []}, ["menus"]),
        (
            {"id": "x", "prompt": "has space", "starts_at": 0, "ends_at": 1, "menus": ["m"], "colour": 1},
            ["prompt", "colour"],
        ),
        ({"prompt": "p", "starts_at": "soon", "ends_at": 1, "menus": ["m"]}, ["id", "starts_at"]),
        ({"id": "x", "prompt": "p", "starts_at": float("nan"), "ends_at": 1, "menus": ["m"]}, ["finite"]),
    ],
)
def test_given_bad_dict_when_loading_announcement_then_every_problem_reported(data: dict, fragments: list[str]) -> None:
    with pytest.raises(AnnouncementError) as exc:
        Announcement.from_dict(data)
    for fragment in fragments:
        assert fragment in str(exc.value)
