"""Parse a spec (pure): its options, with line numbers for every error, and its sections.

Options come from ``key: value`` lines at the very top of the text or from a fenced ```yaml
block anywhere. Only the keys in ``KNOWN_OPTIONS`` are options: ``Priority: P0`` or
``Owner: Alice`` are spec text wherever they appear, so a spec never fails just because it
contains a ``Key: value`` line. Line endings are normalized to ``\\n``; line numbers are
1-based lines of the text as the user wrote it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, get_args
from urllib.parse import unquote

import yaml

from openproducer.model import (
    GroupMode,
    OptionError,
    Options,
    Section,
    Spec,
    SpecSource,
    UniqueBy,
)

KNOWN_OPTIONS: tuple[str, ...] = (
    "count",
    "template",
    "components",
    "labels",
    "assignees",
    "milestone",
    "dry_run",
    "unique_by",
    "rate_limit_per_minute",
    "issue_type",
    "spec",
    "group",
)
_ALIASES = {"components_list": "components"}

MAX_TEMPLATE = 256
MAX_LABEL = 50  # GitHub's limit for a label name
MAX_LABELS = 20
MAX_ASSIGNEES = 10  # GitHub assigns at most 10 people to an issue
MAX_TEXT_OPTION = 256
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
_UNIQUE_BY: tuple[str, ...] = get_args(UniqueBy)
_GROUP_MODES: tuple[str, ...] = get_args(GroupMode)
_PLACEHOLDERS = frozenset({"component", "index"})

# https://docs.github.com/en/enterprise-cloud@latest/admin/managing-iam/iam-configuration-reference/username-considerations-for-external-authentication
# Logins: 1-39 characters, letters, digits and single hyphens, not starting or ending with one.
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_KEY_LINE = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9_ -]{0,40}?)\s*:(?!//)\s*(?P<value>.*?)\s*$")
# A fenced code block's opening or closing line (CommonMark: at most three spaces of indent).
FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\s`]*)")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Entry:
    """One option as written: normalized key, raw value, 1-based line."""

    key: str
    value: object
    line: int


@dataclass(frozen=True)
class _Found:
    """Options found in the text: entries, errors, and the lines they occupy."""

    entries: tuple[_Entry, ...] = ()
    errors: tuple[OptionError, ...] = ()
    lines: frozenset[int] = frozenset()


# --------------------------------------------------------------------------- options


def parse_spec(text: str, *, max_issues: int = 100) -> Spec:
    """Split ``text`` into options and free text, validating every option."""
    lines = _split_lines(text)
    top = _find_top_options(lines)
    blocks = _find_yaml_options(lines, skip=top.lines)
    entries = top.entries + blocks.entries
    errors = list(top.errors + blocks.errors)
    entries, duplicate_errors = _drop_duplicates(entries)
    errors += duplicate_errors
    options, value_errors = _build_options(entries, max_issues=max_issues)
    errors += value_errors
    held = top.lines | blocks.lines
    return Spec(
        text=_without(lines, held),
        options=options,
        errors=tuple(sorted(errors, key=lambda e: e.line)),
        option_lines=tuple(sorted(held)),
    )


def _without(lines: Sequence[str], held: frozenset[int]) -> str:
    """The text without the option lines; a removed block leaves one blank line, not two."""
    if not held:
        return "\n".join(lines)
    kept: list[str] = []
    for number, line in enumerate(lines, 1):
        if number in held:
            continue
        seam = number - 1 in held and kept and not kept[-1].strip() and not line.strip()
        if not seam:
            kept.append(line)
    return "\n".join(kept).lstrip("\n")


def normalize_key(key: str) -> str:
    """``Dry-Run`` and ``dry run`` → ``dry_run``; aliases → their option."""
    name = re.sub(r"[\s-]+", "_", key.strip().lower())
    return _ALIASES.get(name, name)


def _is_known(key: str) -> bool:
    return normalize_key(key) in KNOWN_OPTIONS


def _split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _find_top_options(lines: Sequence[str]) -> _Found:
    """``key: value`` lines before any other text; unknown keys there stay spec text."""
    entries: list[_Entry] = []
    errors: list[OptionError] = []
    held: set[int] = set()
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        match = _KEY_LINE.match(lines[index])
        if not match:
            break
        end = _continuation_end(lines, index, match["value"])
        if _is_known(match["key"]):
            entry, error = _top_entry(lines, index, end, match)
            entries += [entry] if entry else []
            errors += [error] if error else []
            held.update(range(index + 1, end + 1))
        index = end
    return _Found(tuple(entries), tuple(errors), frozenset(held))


def _continuation_end(lines: Sequence[str], index: int, value: str) -> int:
    """Index after the option's last line: a block scalar or list continues on indented lines."""
    if value not in ("", "|", ">", "|-", ">-", "|+", ">+"):
        return index + 1
    end = index + 1
    while end < len(lines) and _continues(lines[end], list_item=not value):
        end += 1
    while end > index + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _continues(line: str, *, list_item: bool) -> bool:
    if not line.strip():
        return True
    return line[:1] in (" ", "\t") or (list_item and line.startswith("- "))


def _top_entry(
    lines: Sequence[str], index: int, end: int, match: re.Match[str]
) -> tuple[_Entry | None, OptionError | None]:
    key = normalize_key(match["key"])
    if end == index + 1:
        return _Entry(key, _unquote(match["value"]), index + 1), None
    chunk = "\n".join(["value: " + match["value"], *lines[index + 1 : end]])
    try:
        loaded = yaml.safe_load(chunk)
    except yaml.YAMLError as exc:
        line = index + 1 + _mark_line(exc)
        return None, OptionError(line, key, _yaml_message(exc))
    value = loaded.get("value") if isinstance(loaded, dict) else None
    return _Entry(key, value, index + 1), None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _mark_line(exc: yaml.YAMLError) -> int:
    """0-based line of the YAML problem within the parsed chunk."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return int(mark.line) if mark is not None else 0


def _yaml_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or "it could not be read"
    return (
        f"the options are not valid YAML ({problem}); check the indentation on this line, "
        'and put quotes around a value that starts with {, [, * or contains ": "'
    )


def _fenced_blocks(lines: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """(opening index, closing index or len(lines), info string) of each fenced code block."""
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        fence = match["fence"]
        close = index + 1
        while close < len(lines) and not _closes(lines[close], fence):
            close += 1
        yield index, close, match["info"].lower()
        index = close + 1


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (
        len(line) - len(line.lstrip(" ")) <= 3
        and len(stripped) >= len(fence)
        and set(stripped) == {fence[0]}
    )


def _find_yaml_options(lines: Sequence[str], *, skip: frozenset[int]) -> _Found:
    """Fenced ```yaml blocks whose top-level mapping has at least one known option key."""
    found = _Found()
    for start, close, info in _fenced_blocks(lines):
        if info not in ("yaml", "yml") or start + 1 in skip:
            continue
        block = _read_yaml_block(lines[start + 1 : close], first_line=start + 2)
        if block is None:
            continue
        end = min(close, len(lines) - 1)
        found = _Found(
            found.entries + block.entries,
            found.errors + block.errors,
            found.lines | frozenset(range(start + 1, end + 2)),
        )
    return found


# Keys that do not make a yaml block an options block on their own: `spec` is also the body
# of every Kubernetes object, so a manifest quoted in a spec stays spec text.
_AMBIGUOUS_IN_YAML = frozenset({"spec"})


def _marks_options(key: str) -> bool:
    return _is_known(key) and normalize_key(key) not in _AMBIGUOUS_IN_YAML


def _read_yaml_block(body: Sequence[str], *, first_line: int) -> _Found | None:
    """The options in a yaml block, or None when the block is not an options block."""
    content = "\n".join(body)
    try:
        pairs = _yaml_pairs(content)
    except yaml.YAMLError as exc:
        if not any(_marks_options(m["key"]) for m in map(_KEY_LINE.match, body) if m):
            return None
        line = first_line + _mark_line(exc)
        return _Found(errors=(OptionError(line, "", _yaml_message(exc)),))
    if not any(_marks_options(key) for key, _, _ in pairs):
        return None
    entries: list[_Entry] = []
    errors: list[OptionError] = []
    for key, value, offset in pairs:
        if _is_known(key):
            entries.append(_Entry(normalize_key(key), value, first_line + offset))
        else:
            errors.append(OptionError(first_line + offset, key, _unknown_message(key)))
    return _Found(tuple(entries), tuple(errors))


def _yaml_pairs(content: str) -> list[tuple[str, object, int]]:
    """(key, value, 0-based line) of a top-level mapping, duplicates kept; [] otherwise."""
    loader = yaml.SafeLoader(content)
    try:
        node = loader.get_single_node()
        if not isinstance(node, yaml.MappingNode):
            return []
        return [
            (str(loader.construct_object(k, deep=True)), _construct(loader, v), k.start_mark.line)
            for k, v in node.value
        ]
    finally:
        loader.dispose()


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    value: object = loader.construct_object(node, deep=True)
    return value


def _unknown_message(key: str) -> str:
    names = [*KNOWN_OPTIONS, *_ALIASES]
    close = difflib.get_close_matches(normalize_key(key), names, n=1, cutoff=0.6)
    hint = f'did you mean "{_ALIASES.get(close[0], close[0])}"? ' if close else ""
    return f'"{key}" is not an option; {hint}known options: {", ".join(KNOWN_OPTIONS)}'


def _drop_duplicates(
    entries: Sequence[_Entry],
) -> tuple[tuple[_Entry, ...], list[OptionError]]:
    """Keep the first of each key; every repeat is an error naming both lines."""
    first: dict[str, _Entry] = {}
    errors = []
    for entry in entries:
        if entry.key in first:
            where = f"lines {first[entry.key].line} and {entry.line}"
            message = f"{entry.key} is given twice ({where}); keep only one of them"
            errors.append(OptionError(entry.line, entry.key, message))
        else:
            first[entry.key] = entry
    return tuple(first.values()), errors


# --------------------------------------------------------------------------- values

_Result = tuple[object, str | None]  # (value, error message)


def _build_options(
    entries: Sequence[_Entry], *, max_issues: int
) -> tuple[Options, list[OptionError]]:
    values: dict[str, Any] = {}  # checked by the coercers below, one per option
    errors: list[OptionError] = []
    lines: dict[str, int] = {}
    for entry in entries:
        value, message = _coerce(entry.key, entry.value, max_issues=max_issues)
        if message is not None:
            errors.append(OptionError(entry.line, entry.key, message))
            continue
        values[entry.key] = value
        lines[entry.key] = entry.line
    options = Options(**values)
    errors += _check_template(options, lines)
    return options, errors


def _coerce(key: str, raw: object, *, max_issues: int) -> _Result:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, f'{key} needs a value, for example "{key}: {_EXAMPLES[key]}"'
    if key == "count":
        return _coerce_count(raw, max_issues=max_issues)
    if key == "components":
        return _coerce_components(raw, max_issues=max_issues)
    return _COERCERS[key](raw)


def _shown(raw: object) -> str:
    if isinstance(raw, list | dict):
        return "a list" if isinstance(raw, list) else "a mapping"
    return f'"{raw}"'


def _whole_number(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
        return int(raw)
    return None


def _coerce_count(raw: object, *, max_issues: int) -> _Result:
    number = _whole_number(raw)
    if number is None or not 1 <= number <= max_issues:
        return None, f"count must be a whole number between 1 and {max_issues} (got {_shown(raw)})"
    return number, None


def _coerce_rate(raw: object) -> _Result:
    number = _whole_number(raw)
    if number is None or number < 1:
        message = "rate_limit_per_minute must be a whole number of at least 1"
        return None, f"{message}, e.g. 20 (got {_shown(raw)})"
    return number, None


def _coerce_bool(raw: object) -> _Result:
    if isinstance(raw, bool):
        return raw, None
    word = str(raw).strip().lower() if isinstance(raw, str | int) else ""
    if word in _TRUE or word in _FALSE:
        return word in _TRUE, None
    return None, f"dry_run must be true or false (got {_shown(raw)})"


def _coerce_unique_by(raw: object) -> _Result:
    word = raw.strip().lower() if isinstance(raw, str) else ""
    if word in _UNIQUE_BY:
        return word, None
    return None, f"unique_by must be one of {', '.join(_UNIQUE_BY)} (got {_shown(raw)})"


def _coerce_group(raw: object) -> _Result:
    word = raw.strip().lower() if isinstance(raw, str) else ""
    if word in _GROUP_MODES:
        return word, None
    return None, f"group must be sections or flat (got {_shown(raw)})"


def _scalar_text(key: str, raw: object, *, what: str) -> _Result:
    if isinstance(raw, list | dict):
        return None, f"{key} must be {what} (got {_shown(raw)})"
    text = str(raw).strip()
    if len(text) > MAX_TEXT_OPTION:
        return None, f"{key} is {len(text)} characters long; keep it to {MAX_TEXT_OPTION} at most"
    return text, None


def _coerce_milestone(raw: object) -> _Result:
    return _scalar_text("milestone", raw, what="a milestone title or number")


def _coerce_issue_type(raw: object) -> _Result:
    return _scalar_text("issue_type", raw, what="the name of an issue type, e.g. Task")


# https://github.com/OWNER/REPO/blob/REF/PATH (any host: GitHub Enterprise Server too)
_BLOB_LINK = re.compile(
    r"^https?://[^/\s]+/(?P<repo>[\w.-]+/[\w.-]+)/blob/(?P<ref>[^/\s]+)/(?P<path>[^\s?#]+)"
    r"(?:[?#]\S*)?$"
)


def parse_spec_source(value: str) -> tuple[SpecSource | None, str]:
    """The file a `spec` option names (``docs/rfc.md``, ``docs/rfc.md@v2`` or a blob link).

    Returns (source, "") or (None, what is wrong).
    """
    value = value.strip()
    link = _BLOB_LINK.match(value)
    if link:
        path, ref, repo = (
            unquote(link.group("path")),
            unquote(link.group("ref")),
            link.group("repo"),
        )
    elif "://" in value:
        return None, (
            "spec must be a path in this repository (docs/spec.md, docs/spec.md@v2) or a link "
            f"to a file, https://github.com/OWNER/REPO/blob/BRANCH/PATH (got {_shown(value)})"
        )
    else:
        path, _, ref = value.partition("@")
        repo = ""
    path = path.strip().removeprefix("./")
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or ".." in parts or "" in parts:
        return (
            None,
            f"spec must be a relative path to a file, e.g. docs/spec.md (got {_shown(value)})",
        )
    return SpecSource(path=path, ref=ref.strip(), repo=repo), ""


def _coerce_spec(raw: object) -> _Result:
    text, problem = _scalar_text("spec", raw, what="a path or a link to a file")
    if problem or not isinstance(text, str):
        return None, problem
    _, problem = parse_spec_source(text)
    return (None, problem) if problem else (text, None)


def _coerce_template(raw: object) -> _Result:
    if isinstance(raw, list | dict):
        return None, f"template must be text, e.g. Implement {{component}} (got {_shown(raw)})"
    text = str(raw).strip("\n")
    if len(text) > MAX_TEMPLATE:
        return None, f"template is {len(text)} characters long; keep it to {MAX_TEMPLATE} at most"
    unknown = sorted({m for m in _PLACEHOLDER.findall(text)} - _PLACEHOLDERS)
    if unknown:
        used = ", ".join("{" + name + "}" for name in unknown)
        return (
            None,
            f"template uses {used}, which is not a placeholder; use {{component}} or {{index}}",
        )
    return text, None


def _as_list(raw: object) -> list[object] | None:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                loaded = yaml.safe_load(text)
            except yaml.YAMLError:
                loaded = None
            if isinstance(loaded, list):
                return list(loaded)
            text = text[1:-1]
        return [part for part in text.split(",")]
    if isinstance(raw, int | float):
        return [raw]
    return None


def _text_items(key: str, raw: object) -> tuple[tuple[str, ...] | None, str | None]:
    items = _as_list(raw)
    example = _EXAMPLES[key]
    if items is None or any(isinstance(i, list | dict) for i in items):
        return None, f"{key} must be a comma-separated list, e.g. {key}: {example}"
    cleaned = tuple(text for text in (str(i).strip() for i in items if i is not None) if text)
    if not cleaned:
        return None, f'{key} needs a value, for example "{key}: {example}"'
    return cleaned, None


def _twice(items: Sequence[str]) -> str | None:
    seen: set[str] = set()
    for item in items:
        if item.casefold() in seen:
            return item
        seen.add(item.casefold())
    return None


def _coerce_components(raw: object, *, max_issues: int) -> _Result:
    items, message = _text_items("components", raw)
    if items is None:
        return None, message
    if len(items) > max_issues:
        return None, f"components lists {len(items)} entries; at most {max_issues} are allowed"
    repeated = _twice(items)
    if repeated is not None:
        return None, f'components lists "{repeated}" twice; each component becomes one issue'
    return items, None


def _coerce_labels(raw: object) -> _Result:
    items, message = _text_items("labels", raw)
    if items is None:
        return None, message
    if len(items) > MAX_LABELS:
        return None, f"labels lists {len(items)} labels; at most {MAX_LABELS} are allowed"
    for label in items:
        if len(label) > MAX_LABEL:
            short = label[:20] + "…"
            return None, (
                f'label "{short}" is {len(label)} characters long; '
                f"GitHub allows at most {MAX_LABEL}"
            )
    return tuple(dict.fromkeys(items)), None


def _coerce_assignees(raw: object) -> _Result:
    items, message = _text_items("assignees", raw)
    if items is None:
        return None, message
    logins = tuple(dict.fromkeys(item.removeprefix("@") for item in items))
    if len(logins) > MAX_ASSIGNEES:
        return None, (
            f"assignees lists {len(logins)} people; GitHub allows at most {MAX_ASSIGNEES} per issue"
        )
    for login in logins:
        if not _LOGIN.match(login):
            return None, (
                f'assignee "{login}" is not a valid GitHub username (letters, digits and '
                "single hyphens, at most 39 characters)"
            )
    return logins, None


def _check_template(options: Options, lines: dict[str, int]) -> list[OptionError]:
    template = options.template
    if template is None or not options.components or "{component}" in template:
        return []
    message = (
        "template must contain {component} when components are given, so that each "
        f"component gets its own issue (got {_shown(template)})"
    )
    return [OptionError(lines["template"], "template", message)]


_COERCERS: dict[str, Callable[[object], _Result]] = {
    "template": _coerce_template,
    "labels": _coerce_labels,
    "assignees": _coerce_assignees,
    "milestone": _coerce_milestone,
    "dry_run": _coerce_bool,
    "unique_by": _coerce_unique_by,
    "rate_limit_per_minute": _coerce_rate,
    "issue_type": _coerce_issue_type,
    "spec": _coerce_spec,
    "group": _coerce_group,
}

_EXAMPLES = {
    "count": "5",
    "template": "Implement {component}",
    "components": "api, web, docs",
    "labels": "enhancement, backend",
    "assignees": "octocat, hubot",
    "milestone": "v1.0",
    "dry_run": "true",
    "unique_by": "title",
    "rate_limit_per_minute": "20",
    "issue_type": "Task",
    "spec": "docs/rfc-12.md",
    "group": "flat",
}

_HELP: tuple[tuple[str, str, str, str], ...] = (
    ("count", "whole number", "as the spec reads", "How many issues to create (1-{max})."),
    (
        "template",
        "text",
        "none",
        "Issue text per component; `{component}` and `{index}` are filled in. "
        "The first line is the title.",
    ),
    ("components", "list", "none", "One issue per component (alias: `components_list`)."),
    ("labels", "list", "none", "Labels added to every issue (at most 20)."),
    ("assignees", "list", "none", "GitHub usernames assigned to every issue (at most 10)."),
    ("milestone", "title or number", "none", "Milestone for every issue."),
    ("dry_run", "true / false", "the `dry-run` input", "Only preview the plan, create nothing."),
    ("unique_by", "title, body or hash", "hash", "How an existing issue is recognised."),
    ("rate_limit_per_minute", "whole number", "no limit", "At most this many issues a minute."),
    ("issue_type", "text", "none", "Issue type for every issue, e.g. Task or Bug."),
    (
        "spec",
        "path or link",
        "this issue",
        "Plan a file of this repository instead (`path@ref` or a link to it).",
    ),
    (
        "group",
        "sections or flat",
        "the `group` input",
        "`sections`: one parent issue per top-level section; `flat`: all under this issue.",
    ),
)


def render_option_help(*, max_issues: int = 100) -> str:
    """A Markdown table of the options, for the bot's ``help`` reply."""
    rows = [
        "| Option | Type | Default | Example | Meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, kind, default, meaning in _HELP:
        example = f"`{name}: {_EXAMPLES[name]}`"
        meaning = meaning.replace("{max}", str(max_issues))
        rows.append(f"| `{name}` | {kind} | {default} | {example} | {meaning} |")
    rows.append("")
    rows.append(
        "Write options as `key: value` lines at the very top of the spec, or in a fenced "
        "`yaml` block anywhere. Keys ignore case and accept `-` or `_` (`Dry-Run: true`); "
        "lists are YAML lists or comma-separated. Other `Key: value` lines are spec text."
    )
    return "\n".join(rows)


# --------------------------------------------------------------------------- sections

_ATX = re.compile(r"^ {0,3}(?P<marks>#{1,6})(?:[ \t]+(?P<title>.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(?P<char>=|-)(?P=char)+[ \t]*$")
_EMPHASIS_LINE = re.compile(
    r"^ {0,3}(?P<mark>\*\*\*|\*\*|___|__|\*|_)(?P<title>[^*_\s](?:.*?[^*_\s])?)(?P=mark)"
    r"(?::)?[ \t]*$"
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_BLOCK_START = re.compile(r"^\s*(?:[>|]|<\w|`{3,}|~{3,})")
_EMPHASIS_MAX_WORDS = 8


@dataclass(frozen=True)
class _Heading:
    index: int  # 0-based line of the heading text
    skip: int  # lines the heading occupies (2 for setext)
    level: int
    title: str
    emphasis: bool = False


def parse_sections(text: str) -> tuple[Section, ...]:
    """The Markdown headings of ``text`` with the text directly under each.

    ATX (``#``) and setext headings count, and so does a line that is only bold or emphasis
    (``**Backend**``), one level below the last real heading. Nothing inside fenced code or
    HTML comments is a heading; text before the first heading (the preamble) is no section.
    """
    lines = _split_lines(text)
    headings = _find_headings(lines)
    sections = []
    stack: list[tuple[int, str]] = []
    for position, heading in enumerate(headings):
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        stack.append((heading.level, heading.title))
        end = headings[position + 1].index if position + 1 < len(headings) else len(lines)
        body = "\n".join(lines[heading.index + heading.skip : end]).strip("\n")
        path = tuple(title for _, title in stack)
        sections.append(Section(path=path, level=heading.level, line=heading.index + 1, body=body))
    return tuple(sections)


def has_markdown_headings(text: str) -> bool:
    """Whether ``text`` has an ATX, setext or emphasis heading (a pasted page has none)."""
    lines = _split_lines(text)
    return bool(_markdown_headings(lines, _hidden_lines(lines)))


def _find_headings(lines: Sequence[str]) -> list[_Heading]:
    hidden = _hidden_lines(lines)
    return _markdown_headings(lines, hidden) or _outline_headings(lines, hidden)


def _markdown_headings(lines: Sequence[str], hidden: frozenset[int]) -> list[_Heading]:
    headings: list[_Heading] = []
    level = 0  # level of the last real (ATX or setext) heading
    styles: list[tuple[str, bool]] | None = [] if _is_rst(lines, hidden) else None
    index = 0
    while index < len(lines):
        if index in hidden:
            index += 1
            continue
        heading = _heading_at(lines, index, hidden, level, styles=styles)
        if heading is None:
            index += 1
            continue
        headings.append(heading)
        level = level if heading.emphasis else heading.level
        index = heading.index + heading.skip
    return headings


def _heading_at(
    lines: Sequence[str],
    index: int,
    hidden: frozenset[int],
    level: int,
    *,
    styles: list[tuple[str, bool]] | None = None,
) -> _Heading | None:
    line = lines[index]
    if styles is not None and (rst := _rst_heading(lines, index, hidden, styles)):
        return rst
    atx = _ATX.match(line)
    if atx:
        title = clean_title(atx["title"] or "")
        return _Heading(index, 1, len(atx["marks"]), title) if title else None
    if not _starts_block(lines, index, hidden) or not _is_paragraph_line(line):
        return None
    following = lines[index + 1] if index + 1 < len(lines) else ""
    setext = _SETEXT.match(following) if index + 1 not in hidden else None
    if setext and (title := clean_title(line)):
        return _Heading(index, 2, 1 if setext["char"] == "=" else 2, title)
    return _emphasis_heading(line, index, level)


# reStructuredText headings: a title underlined (or over- and underlined) with one repeated
# punctuation character; levels follow the order in which the styles first appear.
# https://docutils.sourceforge.io/docs/ref/rst/restructuredtext.html#sections
_ADORNMENT = re.compile(r"^(?P<char>[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])(?P=char){2,}[ \t]*$")


def _is_rst(lines: Sequence[str], hidden: frozenset[int]) -> bool:
    """Whether the text underlines headings the reStructuredText way (other than = and -)."""
    for index in range(1, len(lines)):
        adornment = _ADORNMENT.match(lines[index]) if index not in hidden else None
        if not adornment or not _is_paragraph_line(lines[index - 1]):
            continue
        overlined = index >= 2 and lines[index - 2].rstrip() == lines[index].rstrip()
        if adornment["char"] not in "=-" or overlined:
            return True
    return False


def _rst_heading(
    lines: Sequence[str], index: int, hidden: frozenset[int], styles: list[tuple[str, bool]]
) -> _Heading | None:
    style, skip, title = _rst_parts(lines, index, hidden)
    if style is None or not title:
        return None
    if style not in styles:
        styles.append(style)
    return _Heading(index + (1 if style[1] else 0), skip, min(styles.index(style) + 1, 6), title)


def _rst_parts(
    lines: Sequence[str], index: int, hidden: frozenset[int]
) -> tuple[tuple[str, bool] | None, int, str]:
    """(style, lines taken, title) of an RST heading starting at ``index``."""
    window = [
        lines[i] if i < len(lines) and i not in hidden else "" for i in range(index, index + 3)
    ]
    top = _ADORNMENT.match(window[0])
    if top and window[1].strip() and window[2].rstrip() == window[0].rstrip():
        return (top["char"], True), 2, clean_title(window[1])
    under = _ADORNMENT.match(window[1])
    if top or not under or not _is_paragraph_line(window[0]):
        return None, 0, ""
    if not _starts_block(lines, index, hidden) or len(window[1].strip()) < len(window[0].strip()):
        return None, 0, ""
    return (under["char"], False), 2, clean_title(window[0])


_OUTLINE = re.compile(r"^(?P<number>\d{1,2}(?:\.\d{1,2})*)\.?[ \t]+(?P<title>[^\W\d_].*?)[ \t]*$")
_OUTLINE_MAX_WORDS = 8
_OUTLINE_MIN = 2


def _outline_headings(lines: Sequence[str], hidden: frozenset[int]) -> list[_Heading]:
    """Numbered plain-text headings ("1. Entry Points", "2.3 Configuration Parser") of a page
    pasted without Markdown: a short numbered line alone between blank lines, followed by
    prose or a deeper-numbered heading. A run of numbered lines (a table of contents) is none.
    """
    found: list[_Heading] = []
    for index, line in enumerate(lines):
        match = _OUTLINE.match(line)
        if index in hidden or not match or not _stands_alone(lines, index):
            continue
        title = clean_title(line)
        if len(title.split()) > _OUTLINE_MAX_WORDS or re.search(r"[.!?:;,]$", title):
            continue
        found.append(_Heading(index, 1, match["number"].count(".") + 1, title))
    return found if len(found) >= _OUTLINE_MIN else []


def _stands_alone(lines: Sequence[str], index: int) -> bool:
    before = lines[index - 1] if index else ""
    after = lines[index + 1] if index + 1 < len(lines) else ""
    following = lines[index + 2] if index + 2 < len(lines) else ""
    number = _OUTLINE.match(lines[index])
    deeper = _OUTLINE.match(following)
    if deeper and number:
        next_ok = deeper["number"].count(".") > number["number"].count(".")
    else:
        next_ok = not _LIST_ITEM.match(following)
    return not before.strip() and not after.strip() and bool(following.strip()) and next_ok


def _starts_block(lines: Sequence[str], index: int, hidden: frozenset[int]) -> bool:
    """True when line ``index`` cannot continue a paragraph from the line above."""
    if index == 0 or index - 1 in hidden:
        return True
    previous = lines[index - 1]
    return not previous.strip() or bool(_ATX.match(previous))


def _emphasis_heading(line: str, index: int, level: int) -> _Heading | None:
    match = _EMPHASIS_LINE.match(line)
    if not match or re.search(r"[.!?。！？]$", match["title"].rstrip(":")):
        return None
    title = clean_title(match["title"])
    if not title or len(title.split()) > _EMPHASIS_MAX_WORDS:
        return None
    return _Heading(index, 1, min(level + 1, 6), title, emphasis=True)


def _is_paragraph_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not _LIST_ITEM.match(line) and not _BLOCK_START.match(line)


def _hidden_lines(lines: Sequence[str]) -> frozenset[int]:
    """Lines inside fenced code blocks or HTML comments."""
    hidden: set[int] = set()
    for start, close, _ in _fenced_blocks(lines):
        hidden.update(range(start, close + 1))
    hidden |= _comment_lines(lines, hidden)
    return frozenset(hidden)


def _comment_lines(lines: Sequence[str], hidden: set[int]) -> set[int]:
    """Lines that start inside an HTML comment or with one."""
    found: set[int] = set()
    inside = False
    for index, line in enumerate(lines):
        if index in hidden:
            continue
        if inside or line.lstrip().startswith("<!--"):
            found.add(index)
        inside = _still_inside(line, inside=inside)
    return found


def _still_inside(line: str, *, inside: bool) -> bool:
    """Whether an HTML comment is open at the end of ``line``."""
    position = 0
    while True:
        mark = "-->" if inside else "<!--"
        found = line.find(mark, position)
        if found < 0:
            return inside
        inside, position = not inside, found + len(mark)


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"!?\[([^\]]+)\]\[[^\]]*\]")
_TAG = re.compile(r"</?(?P<name>[A-Za-z][\w-]*)(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,3}|_{1,3}|~~)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`).+?(?<!`)\1(?!`)")
HTML_TAGS = frozenset(
    [
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "center",
        "code",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "font",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "ol",
        "p",
        "picture",
        "pre",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
        "video",
    ]
)


def clean_title(text: str) -> str:
    """Heading or item text as a plain title: no emphasis, link URLs, tags or trailing #s.

    Code spans are kept as written, and so are ``<placeholders>`` that are no HTML tag
    (``kiln run <task_id>``, ``Option<Instant>``)."""
    text = re.sub(r"<!--.*?(?:-->|$)", "", text)
    text = _outside_code(text, _plain)
    text = re.sub(r"(?:^|\s)#+\s*$", "", text)
    text = text.strip().strip("*_").strip().rstrip(":：").rstrip()
    return " ".join(text.split())


def _plain(text: str) -> str:
    """Prose without link targets, HTML tags and emphasis marks."""
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _TAG.sub(lambda m: "" if m["name"].lower() in HTML_TAGS else m[0], text)
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text


def _outside_code(text: str, change: Callable[[str], str]) -> str:
    """``change`` applied to the text around inline code spans, which stay as they are."""
    spans = [span[0] for span in _CODE_SPAN.finditer(text)]
    held = _CODE_SPAN.sub(lambda m: f"\x00{spans.index(m[0])}\x00", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m[1])], change(held))
