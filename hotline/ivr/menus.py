"""IVR menu definitions: YAML in, a validated :class:`Menu` out, or every problem at once.

A menu is one YAML file, or a folder of ``*.yaml``/``*.yml`` files whose ``nodes`` are merged (the
menu-level keys ``id``, ``start``, ... may each be set in one file only). Shape::

    id: foshan-12345                 # menu id (announcements target it)
    start: language                  # first node
    fallback: operator               # queue or hangup node used when all else fails
    languages: [zh, yue, en]         # first one is the default unless default_language is set
    prompt_prefix: "hotline/{lang}/" # node prompts are relative to it; {lang} = caller's language
    defaults: {timeout_ms: 5000, retries: 2, invalid_prompt: invalid, timeout_prompt: no_input}
    hours:                           # named business hours for schedule nodes (see ivr.calendar)
      agents: {tz: Asia/Shanghai, working_days: ["08:00-22:00"], rest_days: ["09:00-18:00"]}
    nodes:
      main:
        kind: menu
        prompt: main_menu
        options:
          "1": consultation          # shorthand for {next: consultation}
          "6": {next: follow_up, when: open_work_order, prompt: follow_up_offer}

Node kinds (``kind:``), and whether they wait for caller input:

=============== ====== =================================================================
kind            input  what it does
=============== ====== =================================================================
menu            yes    prompt, one DTMF key chooses an option
collect         yes    prompt, reads digits (min/max length, ``#`` ends, ``*`` clears)
language        yes    prompt, one key chooses the language (prompt folder)
play            no     plays prompts, then ``next``
announcements   no     plays the active hot-topic announcements for this menu, then ``next``
schedule        no     branches to ``open``/``closed``/``holiday`` by business hours
lookup          no     looks up a work order (number from a collect), reads the status back
goto            no     jumps to ``target``
queue           end    hands the call to an Asterisk queue with skills and priority
hangup          end    optional goodbye prompt, then hangs up
=============== ====== =================================================================

Retries: an input node re-prompts ``retries`` times after the first failed attempt (timeout or
invalid key), playing ``timeout_prompt``/``invalid_prompt`` first, then goes to ``on_failure``. The
default for ``on_failure`` is the menu's ``fallback`` (for a 12345 line: the general queue, so a
caller who cannot use the keypad still reaches a person); a ``language`` node instead continues to
``next`` in the current language; with no fallback the call ends politely (``goodbye_prompt``,
then hang-up).

Checks, all reported together in one :class:`MenuError`: YAML syntax (with line), duplicate keys,
schema (unknown keys, wrong types, bad ranges), duplicate nodes across files, unknown target node,
unreachable node, loop without input (a cycle of nodes none of which waits for the caller),
unknown language / hours / variable, and missing prompt files (when the known prompts are given).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from hotline.kernel.calendar import DEFAULT_CALENDAR, BusinessHours, WorkingCalendar
from hotline.kernel.errors import ProblemsError

# --------------------------------------------------------------------------------------------
# Problems and the one exception


ProblemKind = Literal[
    "yaml_syntax",
    "schema",
    "duplicate_node",
    "duplicate_setting",
    "missing_setting",
    "unknown_target",
    "unreachable",
    "input_free_loop",
    "missing_prompt",
    "unknown_language",
    "unknown_hours",
    "unknown_variable",
    "bad_fallback",
    "calendar",
    "io",
]


@dataclass(frozen=True, slots=True)
class MenuProblem:
    """One thing wrong with a menu definition.

    Attributes:
        file: the file it is in (as given to the loader).
        path: dotted key path inside the file, e.g. ``nodes.main.options.5.next`` ("" = file).
        message: what is wrong, in words an operator can act on.
        kind: machine-readable category (see ``ProblemKind``).
        line: 1-based line in ``file`` when known.
    """

    file: str
    path: str
    message: str
    kind: ProblemKind
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class MenuError(ProblemsError):
    """The menu cannot be loaded; :attr:`problems` lists every problem found.

    Attributes:
        problems: all problems, in file then discovery order.
    """

    problems: list[MenuProblem]

    def __init__(self, problems: list[MenuProblem]) -> None:
        super().__init__(problems, headline=f"menu has {len(problems)} problem(s)")


# --------------------------------------------------------------------------------------------
# Schema

NODE_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
IDENT = r"^[a-z][a-z0-9_]*$"
DTMF_KEY = r"^[0-9*#]$"
DTMF_DIGITS = "0123456789*#"


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _str_keys(value: Any) -> Any:
    # YAML 1.1 reads `1:` as the int 1; menus want the key "1".
    if not isinstance(value, Mapping):
        return value
    out: dict[Any, Any] = {}
    for k, v in value.items():
        key = str(k) if isinstance(k, int) and not isinstance(k, bool) else k
        if key in out:
            raise ValueError(f"key {key!r} is given twice (once quoted, once not)")
        out[key] = v
    return out


def _option(value: Any) -> Any:
    return {"next": value} if isinstance(value, str) else value


PromptName = Annotated[str, Field(min_length=1, pattern=r"^[^\s{}]+$")]
Prompts = Annotated[tuple[PromptName, ...], BeforeValidator(_as_list)]
NodeId = Annotated[str, Field(pattern=NODE_ID)]
DtmfKey = Annotated[str, Field(pattern=DTMF_KEY)]
Ident = Annotated[str, Field(pattern=IDENT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    """Menu-wide defaults for input nodes.

    Attributes:
        timeout_ms: wait for the first key after a prompt ends, milliseconds.
        inter_digit_timeout_ms: wait between digits in a ``collect``, milliseconds.
        retries: re-prompts after the first failed attempt (so ``retries + 1`` attempts).
        invalid_prompt: played before re-prompting after a wrong key (relative name).
        timeout_prompt: played before re-prompting after no key (relative name).
        goodbye_prompt: played before a hang-up the interpreter decides on its own.
        max_steps: results one session may feed before it is sent to the fallback (a guard
            against a caller looping forever; ~ number of prompts heard).
    """

    timeout_ms: int = Field(5000, ge=500, le=60000)
    inter_digit_timeout_ms: int = Field(3000, ge=500, le=30000)
    retries: int = Field(2, ge=0, le=9)
    invalid_prompt: PromptName | None = None
    timeout_prompt: PromptName | None = None
    goodbye_prompt: PromptName | None = None
    max_steps: int = Field(120, ge=10, le=10000)


class _InputNode(_Strict):
    """Fields shared by nodes that wait for caller input (None = the menu default)."""

    prompt: Prompts = Field(min_length=1)
    timeout_ms: int | None = Field(None, ge=500, le=60000)
    retries: int | None = Field(None, ge=0, le=9)
    invalid_prompt: PromptName | None = None
    timeout_prompt: PromptName | None = None
    on_failure: NodeId | None = None


class MenuOption(_Strict):
    """One key of a ``menu`` node.

    Attributes:
        next: target node id.
        when: ``always`` or ``open_work_order`` (offered only if the caller has an open work
            order; choosing it marks the session ``follow_up``).
        prompt: played after the node prompt when the option is offered (for conditional options).
        label: free text for people reading the YAML and reports.
    """

    next: NodeId
    when: Literal["always", "open_work_order"] = "always"
    prompt: PromptName | None = None
    label: str | None = None


class MenuNode(_InputNode):
    """Prompt, then one DTMF key picks an option."""

    kind: Literal["menu"]
    options: Annotated[
        dict[DtmfKey, Annotated[MenuOption, BeforeValidator(_option)]],
        BeforeValidator(_str_keys),
        Field(min_length=1),
    ]


class CollectNode(_InputNode):
    """Prompt, then read digits into a session variable.

    ``#`` ends the entry early; ``*`` clears what was typed before it (``12*34`` is ``34``; a
    trailing ``*`` replays the prompt without using a retry). Only 0-9 are accepted.
    """

    kind: Literal["collect"]
    store_as: Ident
    min_digits: int = Field(1, ge=1, le=64)
    max_digits: int = Field(20, ge=1, le=64)
    terminator: Literal["#"] = "#"
    inter_digit_timeout_ms: int | None = Field(None, ge=500, le=30000)
    next: NodeId

    @model_validator(mode="after")
    def _lengths(self) -> CollectNode:
        if self.min_digits > self.max_digits:
            raise ValueError(f"min_digits ({self.min_digits}) > max_digits ({self.max_digits})")
        return self


class LanguageNode(_InputNode):
    """Prompt, then one key picks the language (and so the prompt folder)."""

    kind: Literal["language"]
    options: Annotated[dict[DtmfKey, Ident], BeforeValidator(_str_keys), Field(min_length=1)]
    next: NodeId


class PlayNode(_Strict):
    """Play prompts without barge-in, then go to ``next``."""

    kind: Literal["play"]
    prompt: Prompts = Field(min_length=1)
    next: NodeId


class AnnouncementsNode(_Strict):
    """Play the active hot-topic announcements targeting this menu, then go to ``next``.

    Attributes:
        intro: played first, only when at least one announcement is active.
        skip_digits: keys that skip the remaining announcements ("" = not skippable).
    """

    kind: Literal["announcements"]
    intro: PromptName | None = None
    skip_digits: Annotated[str, Field(pattern=r"^[0-9*#]*$")] = "#"
    next: NodeId


class ScheduleNode(_Strict):
    """Branch on the named business hours: ``open``, ``closed``, ``holiday`` (default: closed)."""

    kind: Literal["schedule"]
    hours: Ident
    open: NodeId
    closed: NodeId
    holiday: NodeId | None = None


class QueueNode(_Strict):
    """Hand the call over to a queue (ends the IVR session).

    Attributes:
        queue: Asterisk queue name / routing id (``commerce``, ``general``, ...).
        skills: skills the answering agent needs (``seniority``, ``consultation``, ...).
        priority: 0 (lowest) .. 10; maps to the Asterisk ``QUEUE_PRIO``.
        prompt: played before the hand-over ("please hold").
    """

    kind: Literal["queue"]
    queue: Ident
    skills: tuple[Ident, ...] = ()
    priority: int = Field(5, ge=0, le=10)
    prompt: Prompts = ()


class LookupNode(_Strict):
    """Self-service: look up the work order whose number a ``collect`` stored, read it back.

    Found: ``intro_prompt``, the number as digits, the status prompt; then ``next``. Not found:
    ``not_found_prompt`` then ``on_not_found`` (default ``next``). Lookup failed or timed out:
    ``unavailable_prompt`` then ``on_failure`` (default ``next``).

    Attributes:
        number_from: the ``store_as`` variable of a collect node.
        status_prompts: work-order status -> prompt (statuses as the ticketing connector names
            them, e.g. ``received``, ``in_progress``, ``replied``, ``closed``).
        unknown_status_prompt: for a status not in ``status_prompts``.
    """

    kind: Literal["lookup"]
    number_from: Ident
    intro_prompt: PromptName | None = None
    status_prompts: dict[Ident, PromptName] = Field(default_factory=dict)
    unknown_status_prompt: PromptName
    not_found_prompt: PromptName
    unavailable_prompt: PromptName
    next: NodeId
    on_not_found: NodeId | None = None
    on_failure: NodeId | None = None


class GotoNode(_Strict):
    """Jump to ``target``."""

    kind: Literal["goto"]
    target: NodeId


class HangupNode(_Strict):
    """Optional goodbye prompt, then hang up with a Q.850 ``cause`` (16 = normal clearing)."""

    kind: Literal["hangup"]
    prompt: Prompts = ()
    cause: int = Field(16, ge=1, le=127)


AnyNode = (
    MenuNode
    | CollectNode
    | LanguageNode
    | PlayNode
    | AnnouncementsNode
    | ScheduleNode
    | QueueNode
    | LookupNode
    | GotoNode
    | HangupNode
)
Node = Annotated[
    MenuNode
    | CollectNode
    | LanguageNode
    | PlayNode
    | AnnouncementsNode
    | ScheduleNode
    | QueueNode
    | LookupNode
    | GotoNode
    | HangupNode,
    Field(discriminator="kind"),
]
NODE_KINDS = frozenset(
    {"menu", "collect", "language", "play", "announcements", "schedule", "queue", "lookup", "goto", "hangup"}
)
INPUT_KINDS = frozenset({"menu", "collect", "language"})


class _MenuFile(_Strict):
    """One file; every menu-level key is optional here, required-ness is checked after merging."""

    id: Annotated[str, Field(pattern=NODE_ID)] | None = None
    start: NodeId | None = None
    fallback: NodeId | None = None
    languages: tuple[Ident, ...] | None = None
    default_language: Ident | None = None
    prompt_prefix: str | None = None
    defaults: Defaults | None = None
    hours: dict[Ident, BusinessHours] | None = None
    calendar_file: str | None = None
    nodes: Annotated[dict[NodeId, Any], BeforeValidator(_str_keys)] = Field(default_factory=dict)


_NODE = TypeAdapter(Node)


_SETTINGS = (
    "id",
    "start",
    "fallback",
    "languages",
    "default_language",
    "prompt_prefix",
    "defaults",
    "hours",
    "calendar_file",
)


# --------------------------------------------------------------------------------------------
# The loaded menu


@dataclass(frozen=True)
class Menu:
    """A validated menu, ready for :mod:`hotline.ivr.interpreter`.

    Attributes:
        id: menu id.
        start: first node id.
        fallback: queue/hangup node id used when a node has no ``on_failure``, or None.
        languages: allowed language codes; ``default_language`` is the session's initial one.
        prompt_prefix: prepended to node prompts; ``{lang}`` is replaced by the language.
        defaults: input-node defaults.
        hours: named business hours.
        nodes: node id -> node model.
        calendar: the service's working calendar, for schedule nodes (one for IVR, SLA, callbacks).
        sources: node id -> file it was defined in.
    """

    id: str
    start: str
    fallback: str | None
    languages: tuple[str, ...]
    default_language: str
    prompt_prefix: str
    defaults: Defaults
    hours: Mapping[str, BusinessHours]
    nodes: Mapping[str, AnyNode]
    calendar: WorkingCalendar = DEFAULT_CALENDAR
    sources: Mapping[str, str] = field(default_factory=dict)

    def prompt(self, name: str, language: str) -> str:
        """Full prompt name for Asterisk, e.g. ``welcome`` -> ``hotline/zh/welcome``."""
        return self.prompt_prefix.replace("{lang}", language) + name

    def retries(self, node: Any) -> int:
        """Effective retries of an input node."""
        return self.defaults.retries if node.retries is None else node.retries

    def timeout_ms(self, node: Any) -> int:
        """Effective first-key timeout of an input node, milliseconds."""
        return self.defaults.timeout_ms if node.timeout_ms is None else node.timeout_ms

    def inter_digit_timeout_ms(self, node: CollectNode) -> int:
        """Effective inter-digit timeout of a collect node, milliseconds."""
        return node.inter_digit_timeout_ms or self.defaults.inter_digit_timeout_ms

    def invalid_prompt(self, node: Any) -> str | None:
        """Relative invalid-input prompt of an input node, or None."""
        return node.invalid_prompt or self.defaults.invalid_prompt

    def timeout_prompt(self, node: Any) -> str | None:
        """Relative no-input prompt of an input node, or None."""
        return node.timeout_prompt or self.defaults.timeout_prompt


def targets(node: Any) -> Iterator[tuple[str, str]]:
    """``(field path, target node id)`` for every edge out of a node (relative paths)."""
    kind = node.kind
    if kind == "menu":
        for key, opt in node.options.items():
            yield f"options.{key}.next", opt.next
    if kind in ("collect", "language", "play", "announcements", "lookup"):
        yield "next", node.next
    if kind == "schedule":
        yield "open", node.open
        yield "closed", node.closed
        if node.holiday:
            yield "holiday", node.holiday
    if kind == "goto":
        yield "target", node.target
    if kind == "lookup" and node.on_not_found:
        yield "on_not_found", node.on_not_found
    if getattr(node, "on_failure", None):
        yield "on_failure", node.on_failure


def node_prompts(node: Any) -> Iterator[tuple[str, str]]:
    """``(field path, relative prompt name)`` for every prompt a node may play."""
    prompts = getattr(node, "prompt", ())
    for i, p in enumerate(prompts):
        yield (f"prompt.{i}" if len(prompts) > 1 else "prompt"), p
    for fld in (
        "invalid_prompt",
        "timeout_prompt",
        "intro",
        "intro_prompt",
        "unknown_status_prompt",
        "not_found_prompt",
        "unavailable_prompt",
    ):
        value = getattr(node, fld, None)
        if value:
            yield fld, value
    if node.kind == "menu":
        for key, opt in node.options.items():
            if opt.prompt:
                yield f"options.{key}.prompt", opt.prompt
    if node.kind == "lookup":
        for status, p in node.status_prompts.items():
            yield f"status_prompts.{status}", p


# --------------------------------------------------------------------------------------------
# YAML with duplicate-key detection and line numbers


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: let the base class complain
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r} (first at line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _line_index(text: str) -> dict[tuple[str, ...], int]:
    """Map key paths (``("nodes", "main", "options", "1")``) to 1-based lines."""
    index: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        index.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                sub = (*path, str(k.value))
                index[sub] = k.start_mark.line + 1
                walk(v, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, (*path, str(i)))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return index
    if root is not None:
        walk(root, ())
    return index


def _line_for(index: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> int | None:
    while path:
        if path in index:
            return index[path]
        path = path[:-1]
    return None


# --------------------------------------------------------------------------------------------
# Loading


@dataclass
class _Parsed:
    name: str
    model: _MenuFile | None  # menu-level settings; None if they are invalid
    raw_nodes: dict[str, Any]  # every node id written, valid or not
    nodes: dict[str, Any]  # the nodes that validated
    lines: dict[tuple[str, ...], int]
    ok: bool = True  # no schema problem anywhere in the file


class _Problems:
    def __init__(self) -> None:
        self.items: list[MenuProblem] = []

    def add(
        self,
        file: str,
        path: tuple[str, ...] | str,
        message: str,
        kind: ProblemKind,
        lines: Mapping[tuple[str, ...], int] | None = None,
    ) -> None:
        parts = tuple(path.split(".")) if isinstance(path, str) and path else tuple(path)
        line = _line_for(lines, parts) if lines else None
        self.items.append(MenuProblem(file, ".".join(parts), message, kind, line))


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str, ...]:
    parts = [str(p) for p in loc]
    # Drop the discriminator tag pydantic inserts after the node id: nodes.main.menu.options...
    if len(parts) > 2 and parts[0] == "nodes" and parts[2] in NODE_KINDS:
        del parts[2]
    # Drop validator/function markers pydantic adds to some locations.
    return tuple(p for p in parts if not p.startswith("function-") and p != "[key]")


def _parse_file(name: str, text: str, problems: _Problems) -> _Parsed:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        what = " ".join(x for x in (exc.context, exc.problem) if x)
        problems.items.append(
            MenuProblem(name, "", f"YAML syntax error at line {line}{col}: {what}", "yaml_syntax", line)
        )
        return _Parsed(name, None, {}, {}, {}, ok=False)
    except yaml.YAMLError as exc:
        problems.items.append(MenuProblem(name, "", f"YAML error: {exc}", "yaml_syntax"))
        return _Parsed(name, None, {}, {}, {}, ok=False)
    lines = _line_index(text)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.add(name, (), "expected a mapping at the top (id, start, nodes, ...)", "schema")
        return _Parsed(name, None, {}, {}, lines, ok=False)
    raw = data.get("nodes") or {}
    raw_nodes = {str(k): v for k, v in raw.items()} if isinstance(raw, Mapping) else {}
    ok = True
    model: _MenuFile | None = None
    try:
        model = _MenuFile.model_validate(data)
    except ValidationError as exc:
        ok = False
        _schema_problems(name, exc, (), problems, lines)
    # Nodes one by one, so that one broken node does not hide the problems of the others.
    nodes: dict[str, Any] = {}
    for node_id, raw in raw_nodes.items():
        try:
            nodes[str(node_id)] = _NODE.validate_python(raw)
        except ValidationError as exc:
            ok = False
            _schema_problems(name, exc, ("nodes", str(node_id)), problems, lines)
    return _Parsed(name, model, raw_nodes, nodes, lines, ok)


def _schema_problems(
    name: str,
    exc: ValidationError,
    prefix: tuple[str, ...],
    problems: _Problems,
    lines: Mapping[tuple[str, ...], int],
) -> None:
    for err in exc.errors():
        loc = _clean_loc((*prefix, *err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" if loc else msg
        elif err["type"] == "union_tag_invalid":
            msg = f"unknown node kind {err['input'].get('kind')!r}; expected one of {sorted(NODE_KINDS)}"
        elif err["type"] == "union_tag_not_found":
            msg = "node has no 'kind'"
        elif err["type"] == "model_attributes_type" and len(loc) == 2 and loc[0] == "nodes":
            msg = "a node must be a mapping with a 'kind'"
        problems.add(name, loc, msg, "schema", lines)


def parse_menu(
    files: Mapping[str, str],
    *,
    known_prompts: Collection[str] | None = None,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> Menu:
    """Validate a menu from YAML texts (pure: no file access).

    Args:
        files: file name -> YAML text; one entry for a single-file menu, several for a folder.
            Names are only used in messages.
        known_prompts: full prompt names that exist (``hotline/zh/welcome``); when given, every
            node prompt is checked for every language in ``languages``. None skips the check.
        calendar: the working calendar of schedule nodes (the service's, from ``calendar.file``).
    Returns:
        The menu.
    Raises:
        MenuError: with every problem found (see the module docstring for the kinds).
    """
    problems = _Problems()
    parsed = [_parse_file(name, text, problems) for name, text in files.items()]
    if not files:
        problems.items.append(MenuProblem("<none>", "", "no menu files given", "io"))
    return _build(parsed, problems, known_prompts, calendar)


def load_menu(
    path: str | Path,
    *,
    prompt_dir: str | Path | None = None,
    known_prompts: Collection[str] | None = None,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> Menu:
    """Read and validate a menu file, or a folder of ``*.yaml``/``*.yml`` files.

    Args:
        path: the file or folder.
        prompt_dir: Asterisk sound folder; prompts are known if a file ``<dir>/<name>.<ext>``
            exists (any extension: wav, gsm, ulaw, sln16, ...). Merged with ``known_prompts``.
        known_prompts: full prompt names that exist (see :func:`parse_menu`).
        calendar: the working calendar of schedule nodes (the service's, from ``calendar.file``).
    Returns:
        The menu.
    Raises:
        MenuError: every problem found, including unreadable files.
    """
    path = Path(path)
    texts: dict[str, str] = {}
    problems: list[MenuProblem] = []
    files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
    if path.is_dir() and not files:
        problems.append(MenuProblem(str(path), "", "folder has no *.yaml or *.yml files", "io"))
    for f in files:
        try:
            texts[str(f)] = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(MenuProblem(str(f), "", f"cannot read: {exc}", "io"))
    known = set(known_prompts or ())
    if prompt_dir is not None:
        known |= prompts_in_dir(prompt_dir)
    try:
        menu = parse_menu(
            texts,
            known_prompts=known if (prompt_dir is not None or known_prompts is not None) else None,
            calendar=calendar,
        )
    except MenuError as exc:
        raise MenuError(problems + exc.problems) from None
    if problems:
        raise MenuError(problems)
    return menu


def prompts_in_dir(prompt_dir: str | Path) -> set[str]:
    """Prompt names (relative path without extension, ``/``-separated) of sound files in a folder."""
    root = Path(prompt_dir)
    return {p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*") if p.is_file()}


def _build(
    parsed: list[_Parsed],
    problems: _Problems,
    known_prompts: Collection[str] | None,
    calendar: WorkingCalendar,
) -> Menu:
    # ---- merge menu-level settings (each in one file only) and nodes
    settings: dict[str, tuple[Any, str]] = {}
    nodes: dict[str, Any] = {}
    sources: dict[str, str] = {}
    lines_of: dict[str, Mapping[tuple[str, ...], int]] = {p.name: p.lines for p in parsed}
    all_ids: dict[str, str] = {}  # every node id written, even invalid ones, -> file
    schema_ok = all(p.ok for p in parsed) and not problems.items
    for p in parsed:
        for node_id in p.raw_nodes:
            if node_id in all_ids and all_ids[node_id] != p.name:
                problems.add(
                    p.name,
                    ("nodes", str(node_id)),
                    f"node {node_id!r} is also defined in {all_ids[node_id]}",
                    "duplicate_node",
                    p.lines,
                )
            all_ids.setdefault(str(node_id), p.name)
        for node_id, node in p.nodes.items():
            if node_id not in nodes:
                nodes[node_id] = node
                sources[node_id] = p.name
        for key in _SETTINGS if p.model is not None else ():
            value = getattr(p.model, key)
            if value is None:
                continue
            if key in settings:
                problems.add(
                    p.name,
                    (key,),
                    f"{key!r} is already set in {settings[key][1]}",
                    "duplicate_setting",
                    p.lines,
                )
                continue
            settings[key] = (value, p.name)
    main_file = next((f for k, (_, f) in settings.items() if k == "start"), parsed[0].name if parsed else "")

    def setting(key: str, default: Any = None) -> Any:
        return settings[key][0] if key in settings else default

    def where(key: str) -> str:
        return settings[key][1] if key in settings else main_file

    for key in ("id", "start"):
        if key not in settings and schema_ok:
            problems.add(main_file, (key,), f"menu-level {key!r} is required (in exactly one file)", "missing_setting")

    languages: tuple[str, ...] = setting("languages") or ("zh",)
    default_language: str = setting("default_language") or languages[0]
    if default_language not in languages:
        problems.add(
            where("default_language"),
            ("default_language",),
            f"{default_language!r} is not in languages {list(languages)}",
            "unknown_language",
            lines_of.get(where("default_language")),
        )
    hours: dict[str, BusinessHours] = setting("hours") or {}

    def node_problem(node_id: str, sub: str, message: str, kind: ProblemKind) -> None:
        file = sources.get(node_id, main_file)
        path = ("nodes", node_id, *sub.split(".")) if sub else ("nodes", node_id)
        problems.add(file, path, message, kind, lines_of.get(file))

    def check_target(file: str, path: tuple[str, ...], target: str) -> bool:
        if target in all_ids:
            return True
        near = difflib.get_close_matches(target, list(all_ids), n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        problems.add(file, path, f"unknown target node {target!r}{hint}", "unknown_target", lines_of.get(file))
        return False

    # ---- start / fallback
    start = setting("start")
    if start is not None:
        check_target(where("start"), ("start",), start)
    fallback = setting("fallback")
    if fallback is not None and check_target(where("fallback"), ("fallback",), fallback):
        fb = nodes.get(fallback)
        if fb is not None and fb.kind not in ("queue", "hangup"):
            problems.add(
                where("fallback"),
                ("fallback",),
                f"fallback must be a queue or hangup node, {fallback!r} is a {fb.kind} node",
                "bad_fallback",
                lines_of.get(where("fallback")),
            )

    # ---- per node: targets, languages, hours, variables
    stored_vars = {n.store_as for n in nodes.values() if n.kind == "collect"}
    for node_id, node in nodes.items():
        file = sources[node_id]
        for sub, target in targets(node):
            check_target(file, ("nodes", node_id, *sub.split(".")), target)
        if node.kind == "language":
            for key, lang in node.options.items():
                if lang not in languages:
                    node_problem(
                        node_id,
                        f"options.{key}",
                        f"language {lang!r} is not in {list(languages)}",
                        "unknown_language",
                    )
        if node.kind == "schedule" and node.hours not in hours:
            node_problem(node_id, "hours", f"unknown hours {node.hours!r}; defined: {sorted(hours)}", "unknown_hours")
        if node.kind == "lookup" and node.number_from not in stored_vars:
            node_problem(
                node_id,
                "number_from",
                f"no collect node stores {node.number_from!r} (store_as); defined: {sorted(stored_vars)}",
                "unknown_variable",
            )

    # ---- reachability needs every node parsed, or it reports noise
    if schema_ok and start in nodes:
        _check_reachable(nodes, start, fallback, node_problem)
    _check_input_free_loops(nodes, node_problem)  # a loop among valid nodes is real either way

    # ---- prompts
    if known_prompts is not None:
        known = set(known_prompts)
        prefix = setting("prompt_prefix", "")
        defaults: Defaults = setting("defaults") or Defaults()
        for fld in ("invalid_prompt", "timeout_prompt", "goodbye_prompt"):
            name = getattr(defaults, fld)
            if name:
                _check_prompt(known, prefix, languages, name, where("defaults"), ("defaults", fld), problems, lines_of)
        for node_id, node in nodes.items():
            for sub, name in node_prompts(node):
                file = sources[node_id]
                _check_prompt(
                    known,
                    prefix,
                    languages,
                    name,
                    file,
                    ("nodes", node_id, *sub.split(".")),
                    problems,
                    lines_of,
                )

    # ---- the calendar is one service setting now, not a menu key
    if setting("calendar_file"):
        problems.add(
            where("calendar_file"),
            ("calendar_file",),
            "calendar_file is no longer read from menus: set calendar.file in the service config "
            "(one calendar for IVR hours, SLA due dates and callbacks)",
            "calendar",
            lines_of.get(where("calendar_file")),
        )

    if problems.items:
        raise MenuError(problems.items)
    return Menu(
        id=setting("id"),
        start=start,
        fallback=fallback,
        languages=languages,
        default_language=default_language,
        prompt_prefix=setting("prompt_prefix", ""),
        defaults=setting("defaults") or Defaults(),
        hours=hours,
        nodes=nodes,
        calendar=calendar,
        sources=sources,
    )


def _check_prompt(
    known: set[str],
    prefix: str,
    languages: Iterable[str],
    name: str,
    file: str,
    path: tuple[str, ...],
    problems: _Problems,
    lines_of: Mapping[str, Mapping[tuple[str, ...], int]],
) -> None:
    missing = [full for lang in languages if (full := prefix.replace("{lang}", lang) + name) not in known]
    if missing:
        problems.add(file, path, f"missing prompt file(s): {', '.join(missing)}", "missing_prompt", lines_of.get(file))


def _check_reachable(
    nodes: Mapping[str, Any],
    start: str,
    fallback: str | None,
    report: Callable[[str, str, str, ProblemKind], None],
) -> None:
    seen: set[str] = set()
    todo = [start] + ([fallback] if fallback else [])
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        todo.extend(t for _, t in targets(nodes[node_id]))
    for node_id in nodes:
        if node_id not in seen:
            report(
                node_id,
                "",
                "unreachable node: no path from 'start' (or 'fallback') leads here",
                "unreachable",
            )


def _check_input_free_loops(nodes: Mapping[str, Any], report: Callable[[str, str, str, ProblemKind], None]) -> None:
    """Report each cycle made only of nodes that do not wait for the caller (once per cycle)."""
    graph = {
        n: [t for _, t in targets(node) if t in nodes and nodes[t].kind not in INPUT_KINDS]
        for n, node in nodes.items()
        if node.kind not in INPUT_KINDS
    }
    state: dict[str, int] = {}  # 1 = on stack, 2 = done
    stack: list[str] = []
    reported: set[frozenset[str]] = set()

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for t in graph.get(n, ()):
            if state.get(t) == 1:
                cycle = stack[stack.index(t) :]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    loop = " -> ".join([*cycle, t])
                    report(
                        t,
                        "",
                        f"loop without input: {loop} (no node in it waits for the caller)",
                        "input_free_loop",
                    )
            elif t not in state:
                visit(t)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
