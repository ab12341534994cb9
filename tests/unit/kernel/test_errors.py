"""ProblemsError: the one base of the 'list of problems' errors; each subclass keeps its message."""

from __future__ import annotations

from hotline.ivr.announcements import AnnouncementError
from hotline.ivr.menus import MenuError, MenuProblem
from hotline.ivr.prompt_catalog import PromptCatalogError
from hotline.kernel.calendar import CalendarFileError
from hotline.kernel.errors import ConfigError, HotlineError, ProblemsError, problem_text
from hotline.qa.errors import InvalidAnswers, PlanError
from hotline.web.errors import UsersFileError


def test_given_problems_when_block_text_then_one_indented_line_each() -> None:
    assert problem_text("invalid x", ["a: bad", "b: worse"]) == "invalid x:\n  a: bad\n  b: worse"


def test_given_problems_when_inline_text_then_semicolon_separated() -> None:
    assert problem_text("invalid x", ["a", "b"], inline=True) == "invalid x: a; b"


def test_problems_error_keeps_the_list_and_is_a_value_error() -> None:
    err = ProblemsError(("a", "b"), headline="bad file")
    assert err.problems == ["a", "b"]
    assert str(err) == "bad file:\n  a\n  b"
    assert isinstance(err, HotlineError) and isinstance(err, ValueError)


def test_every_problems_error_keeps_its_message() -> None:
    assert str(ConfigError(["f: a", "f: b"])) == "invalid configuration:\n  f: a\n  f: b"
    assert str(UsersFileError(["u"])) == "invalid users file:\n  u"
    assert str(PlanError(["p"])) == "invalid QA configuration:\n  p"
    assert str(InvalidAnswers(["q1: missing", "q2: unknown"])) == "invalid score: q1: missing; q2: unknown"
    assert str(AnnouncementError(["menus: empty"])) == "invalid announcement: menus: empty"
    cal = CalendarFileError("cal.yaml", ["years.2027: x", "y"])
    assert (str(cal), cal.source, cal.problems) == ("cal.yaml: years.2027: x; y", "cal.yaml", ["years.2027: x", "y"])
    cat = PromptCatalogError("p.yaml", ["prompts: Field required"])
    assert (str(cat), cat.source) == ("p.yaml: prompts: Field required", "p.yaml")
    p1, p2 = MenuProblem("m.yaml", "start", "no such node", "ref", 3), MenuProblem("m.yaml", "", "empty", "schema")
    menu = MenuError([p1, p2])
    assert str(menu) == f"menu has 2 problem(s):\n  {p1}\n  {p2}"
    assert menu.problems == [p1, p2]
    for err in (ConfigError(["x"]), UsersFileError(["x"]), PlanError(["x"]), InvalidAnswers(["x"]), cal, cat, menu):
        assert isinstance(err, ProblemsError) and isinstance(err, ValueError)
