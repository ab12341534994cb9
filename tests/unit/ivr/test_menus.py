"""Menu loading: schema, graph checks, prompts, files and folders; every problem reported together."""

from __future__ import annotations

import copy
import textwrap
from typing import Any

import pytest
import yaml

from hotline.ivr.menus import CollectNode, MenuError, MenuNode, MenuProblem, load_menu, parse_menu
from hotline.kernel.calendar import WorkingCalendar
from hotline.kernel.errors import HotlineError

BASE: dict[str, Any] = {
    "id": "t",
    "start": "main",
    "fallback": "operator",
    "languages": ["zh", "en"],
    "prompt_prefix": "p/{lang}/",
    "hours": {"office": {"tz": "Asia/Shanghai", "working_days": ["09:00-17:00"]}},
    "nodes": {
        "main": {"kind": "menu", "prompt": "main_menu", "options": {"1": "sales", "0": "operator"}},
        "sales": {"kind": "queue", "queue": "sales", "skills": ["s"]},
        "operator": {"kind": "queue", "queue": "general"},
    },
}


def menu_text(nodes: dict[str, Any] | None = None, **settings: Any) -> str:
    """The base menu with nodes added/replaced (None value removes) and settings changed."""
    data = copy.deepcopy(BASE)
    for node_id, node in (nodes or {}).items():
        if node is None:
            data["nodes"].pop(node_id, None)
        else:
            data["nodes"][node_id] = node
    for key, value in settings.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def problems_of(files: dict[str, str], **kwargs: Any) -> list[MenuProblem]:
    with pytest.raises(MenuError) as exc:
        parse_menu(files, **kwargs)
    assert isinstance(exc.value, ValueError)
    assert isinstance(exc.value, HotlineError)  # the CLI reports these without a traceback
    return exc.value.problems


def test_given_valid_menu_when_parsing_then_nodes_and_settings_are_typed() -> None:
    menu = parse_menu({"m.yaml": menu_text()})
    assert menu.id == "t"
    assert menu.default_language == "zh"
    assert isinstance(menu.nodes["main"], MenuNode)
    assert menu.prompt("main_menu", "en") == "p/en/main_menu"
    assert menu.retries(menu.nodes["main"]) == 2  # default
    assert menu.sources == {"main": "m.yaml", "sales": "m.yaml", "operator": "m.yaml"}


def test_given_unquoted_numeric_option_keys_when_parsing_then_keys_are_digit_strings() -> None:
    text = menu_text().replace("'1': sales", "1: sales").replace("'0': operator", "0: operator")
    assert "1: sales" in text
    menu = parse_menu({"m.yaml": text})
    assert set(menu.nodes["main"].options) == {"1", "0"}


MAIN_WITH = {"kind": "menu", "prompt": "main_menu", "options": {"1": "sales", "0": "operator"}}


@pytest.mark.parametrize(
    ("nodes", "settings", "kind", "path", "fragment"),
    [
        pytest.param(
            {"main": {**MAIN_WITH, "options": {"1": "sale", "0": "operator"}}},
            {},
            "unknown_target",
            "nodes.main.options.1.next",
            "unknown target node 'sale' (did you mean 'sales'?)",
            id="unknown-target",
        ),
        pytest.param(
            {"orphan": {"kind": "hangup"}},
            {},
            "unreachable",
            "nodes.orphan",
            "unreachable node",
            id="unreachable",
        ),
        pytest.param(
            {
                "main": {**MAIN_WITH, "options": {"1": "a", "0": "operator"}},
                "a": {"kind": "play", "prompt": "x", "next": "b"},
                "b": {"kind": "goto", "target": "a"},
            },
            {},
            "input_free_loop",
            "nodes.a",
            "loop without input: a -> b -> a",
            id="loop-without-input",
        ),
        pytest.param(
            {"main": {**MAIN_WITH, "colour": "red"}},
            {},
            "schema",
            "nodes.main.colour",
            "unknown key 'colour'",
            id="extra-key",
        ),
        pytest.param(
            {"main": {**MAIN_WITH, "kind": "ask"}},
            {},
            "schema",
            "nodes.main",
            "unknown node kind 'ask'",
            id="unknown-kind",
        ),
        pytest.param(
            {"main": {"prompt": "x"}},
            {},
            "schema",
            "nodes.main",
            "node has no 'kind'",
            id="no-kind",
        ),
        pytest.param(
            {"main": {**MAIN_WITH, "options": {"1": "sales", "A": "operator"}}},
            {},
            "schema",
            "nodes.main.options.A",
            "should match pattern",
            id="option-key-not-dtmf",
        ),
        pytest.param(
            {"main": {**MAIN_WITH, "timeout_ms": 10}},
            {},
            "schema",
            "nodes.main.timeout_ms",
            "greater than or equal to 500",
            id="timeout-too-short",
        ),
        pytest.param(
            {
                "main": {**MAIN_WITH, "options": {"1": "num", "0": "operator"}},
                "num": {
                    "kind": "collect",
                    "prompt": "x",
                    "store_as": "n",
                    "min_digits": 9,
                    "max_digits": 3,
                    "next": "operator",
                },
            },
            {},
            "schema",
            "nodes.num",
            "min_digits (9) > max_digits (3)",
            id="collect-lengths",
        ),
        pytest.param(
            {
                "main": {"kind": "language", "prompt": "x", "options": {"1": "zh", "3": "fr"}, "next": "operator"},
                "sales": None,
            },
            {},
            "unknown_language",
            "nodes.main.options.3",
            "language 'fr' is not in ['zh', 'en']",
            id="unknown-language",
        ),
        pytest.param(
            {
                "main": {**MAIN_WITH, "options": {"1": "when", "0": "operator"}},
                "when": {"kind": "schedule", "hours": "nights", "open": "sales", "closed": "operator"},
            },
            {},
            "unknown_hours",
            "nodes.when.hours",
            "unknown hours 'nights'",
            id="unknown-hours",
        ),
        pytest.param(
            {
                "main": {**MAIN_WITH, "options": {"1": "look", "0": "operator"}},
                "look": {
                    "kind": "lookup",
                    "number_from": "ticket",
                    "unknown_status_prompt": "u",
                    "not_found_prompt": "n",
                    "unavailable_prompt": "x",
                    "next": "sales",
                },
            },
            {},
            "unknown_variable",
            "nodes.look.number_from",
            "no collect node stores 'ticket'",
            id="unknown-variable",
        ),
        pytest.param(
            {}, {"fallback": "main"}, "bad_fallback", "fallback", "must be a queue or hangup", id="bad-fallback"
        ),
        pytest.param({}, {"start": None}, "missing_setting", "start", "'start' is required", id="missing-start"),
        pytest.param(
            {}, {"start": "mian"}, "unknown_target", "start", "unknown target node 'mian'", id="unknown-start"
        ),
        pytest.param(
            {},
            {"default_language": "yue"},
            "unknown_language",
            "default_language",
            "'yue' is not in",
            id="bad-default-lang",
        ),
    ],
)
def test_given_invalid_menu_when_parsing_then_problem_names_file_node_path_and_what(
    nodes: dict[str, Any], settings: dict[str, Any], kind: str, path: str, fragment: str
) -> None:
    problems = problems_of({"menus/main.yaml": menu_text(nodes, **settings)})
    matching = [p for p in problems if p.kind == kind]
    assert matching, problems
    problem = matching[0]
    assert problem.file == "menus/main.yaml"
    assert problem.path == path
    assert fragment in problem.message
    assert str(problem).startswith("menus/main.yaml:")
    assert f"{path}: " in str(problem)


def test_given_missing_prompt_files_when_known_prompts_given_then_each_missing_language_named() -> None:
    known = {"p/zh/main_menu"}
    problems = problems_of({"m.yaml": menu_text()}, known_prompts=known)
    assert [(p.kind, p.path) for p in problems] == [("missing_prompt", "nodes.main.prompt")]
    assert "p/en/main_menu" in problems[0].message
    assert "p/zh/main_menu" not in problems[0].message


def test_given_all_prompts_known_when_parsing_then_prompt_check_passes() -> None:
    assert parse_menu({"m.yaml": menu_text()}, known_prompts={"p/zh/main_menu", "p/en/main_menu"})


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("id: t\nnodes:\n  main:\n    kind: menu\n   prompt: x\n", 5, "YAML syntax error at line 5"),
        ("id: t\nnodes: [unclosed\n", 3, "YAML syntax error"),
        (
            "id: t\nstart: main\nnodes:\n  main:\n    kind: menu\n    prompt: x\n    options:\n"
            "      '1': a\n      '1': b\n",
            9,
            "duplicate key '1' (first at line 8)",
        ),
    ],
)
def test_given_yaml_syntax_error_when_parsing_then_line_number_reported(text: str, line: int, fragment: str) -> None:
    problems = problems_of({"bad.yaml": text})
    assert [p.kind for p in problems] == ["yaml_syntax"]
    assert problems[0].line == line
    assert fragment in problems[0].message
    assert str(problems[0]).startswith(f"bad.yaml:{line}: ")


def test_given_option_key_quoted_and_unquoted_when_parsing_then_reported_not_silently_merged() -> None:
    text = menu_text().replace("'0': operator", "1: operator")
    problems = problems_of({"m.yaml": text})
    assert [(p.kind, p.path) for p in problems] == [("schema", "nodes.main.options")]
    assert "given twice" in problems[0].message


def test_given_semantic_error_when_parsing_then_line_of_the_bad_key_reported() -> None:
    text = textwrap.dedent(
        """\
        id: t
        start: main
        nodes:
          main:
            kind: menu
            prompt: main_menu
            options:
              "1": nowhere
        """
    )
    problems = problems_of({"m.yaml": text})
    assert [(p.kind, p.line) for p in problems] == [("unknown_target", 8)]


def test_given_many_errors_when_parsing_then_all_are_reported_together() -> None:
    nodes = {
        "main": {**MAIN_WITH, "options": {"1": "sale", "2": "loop_a", "3": "when", "0": "operator"}},
        "loop_a": {"kind": "goto", "target": "loop_b"},
        "loop_b": {"kind": "goto", "target": "loop_a"},
        "when": {"kind": "schedule", "hours": "nights", "open": "sales", "closed": "operator"},
        "orphan": {"kind": "hangup"},
    }
    with pytest.raises(MenuError) as exc:
        parse_menu({"m.yaml": menu_text(nodes)}, known_prompts=set())
    kinds = {p.kind for p in exc.value.problems}
    assert kinds == {"unknown_target", "input_free_loop", "unknown_hours", "unreachable", "missing_prompt"}
    message = str(exc.value)
    assert f"menu has {len(exc.value.problems)} problem(s)" in message
    for p in exc.value.problems:
        assert str(p) in message


def test_given_schema_error_in_one_node_when_parsing_then_other_nodes_are_still_checked() -> None:
    nodes = {
        "main": {**MAIN_WITH, "options": {"1": "broken", "2": "ghost", "0": "operator"}},
        "broken": {"kind": "queue", "queue": "Not An Ident"},
    }
    problems = problems_of({"m.yaml": menu_text(nodes)})
    assert {(p.kind, p.path) for p in problems} == {
        ("schema", "nodes.broken.queue"),
        ("unknown_target", "nodes.main.options.2.next"),  # 'broken' exists, so it is not reported
    }


def test_given_folder_of_files_when_loading_then_nodes_merge_and_sources_recorded(tmp_path) -> None:
    (tmp_path / "00-main.yaml").write_text(menu_text({"sales": None, "main": {**MAIN_WITH, "options": {"1": "sales"}}}))
    (tmp_path / "10-queues.yml").write_text(yaml.safe_dump({"nodes": {"sales": BASE["nodes"]["sales"]}}))
    (tmp_path / "notes.txt").write_text("ignored")
    menu = load_menu(tmp_path)
    assert menu.sources["sales"].endswith("10-queues.yml")
    assert menu.sources["main"].endswith("00-main.yaml")


def test_given_folder_with_conflicts_when_loading_then_both_files_named(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(menu_text())
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"id": "again", "nodes": {"sales": {"kind": "hangup"}}}))
    with pytest.raises(MenuError) as exc:
        load_menu(tmp_path)
    found = {(p.kind, p.path, p.file.rsplit("/", 1)[-1]) for p in exc.value.problems}
    assert ("duplicate_node", "nodes.sales", "b.yaml") in found
    assert ("duplicate_setting", "id", "b.yaml") in found
    assert any("a.yaml" in p.message for p in exc.value.problems)


def test_given_empty_folder_when_loading_then_io_problem(tmp_path) -> None:
    with pytest.raises(MenuError, match=r"no \*\.yaml"):
        load_menu(tmp_path)


def test_given_prompt_dir_when_loading_then_sound_files_of_any_extension_count(tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(menu_text())
    sounds = tmp_path / "sounds"
    (sounds / "p" / "zh").mkdir(parents=True)
    (sounds / "p" / "zh" / "main_menu.wav").write_bytes(b"")
    with pytest.raises(MenuError) as exc:
        load_menu(tmp_path / "m.yaml", prompt_dir=sounds)
    assert [p.message for p in exc.value.problems] == ["missing prompt file(s): p/en/main_menu"]
    (sounds / "p" / "en").mkdir()
    (sounds / "p" / "en" / "main_menu.sln16").write_bytes(b"")
    assert load_menu(tmp_path / "m.yaml", prompt_dir=sounds).id == "t"


def test_given_menu_calendar_file_when_loading_then_problem_points_to_service_calendar_setting(tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(menu_text(calendar_file="cal.yaml"))
    with pytest.raises(MenuError) as exc:
        load_menu(tmp_path / "m.yaml")
    assert [(p.kind, p.path) for p in exc.value.problems] == [("calendar", "calendar_file")]
    assert "calendar.file" in exc.value.problems[0].message


def test_given_service_calendar_when_loading_then_menu_carries_it(tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(menu_text())
    calendar = WorkingCalendar([])
    assert load_menu(tmp_path / "m.yaml", calendar=calendar).calendar is calendar


def test_given_collect_node_when_parsing_then_defaults_are_sane() -> None:
    nodes = {
        "main": {**MAIN_WITH, "options": {"1": "num", "0": "operator"}},
        "num": {"kind": "collect", "prompt": "x", "store_as": "n", "next": "sales"},
    }
    menu = parse_menu({"m.yaml": menu_text(nodes)})
    node = menu.nodes["num"]
    assert isinstance(node, CollectNode)
    assert (node.min_digits, node.max_digits, node.terminator) == (1, 20, "#")
    assert menu.inter_digit_timeout_ms(node) == 3000
    assert menu.timeout_ms(node) == 5000
