"""Read an issue body or a comment into a `Command` (pure). The grammar is in README.md#commands."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from markdown_it import MarkdownIt

from openproducer.safety import LEGACY_TRIGGER

VERBS: tuple[str, ...] = (
    "confirm",
    "cancel",
    "status",
    "rollback",
    "help",
    "sync",
    *("drop", "merge", "rename", "add", "edit"),
)
# Plan edits take their whole first line ("rename 4: New title"); add and edit also take the
# text below the command line, as the new item's or the new body.
EDIT_VERBS = frozenset({"drop", "merge", "rename", "add", "edit"})
_WITH_BODY = frozenset({"add", "edit"})


@dataclass(frozen=True)
class Command:
    verb: str  # a key of `engine.COMMANDS`
    argument: str = ""  # run id, "last", an edit's first line, or the unrecognised text
    body: str = ""  # for add and edit: the text below the command line
    spec_text: str | None = None  # for spawn: the text with the trigger removed in place


# CommonMark with GitHub's tables: enough to tell prose from code, HTML and quotes.
_MARKDOWN = MarkdownIt("commonmark").enable("table")


def _trigger_pattern(trigger: str) -> re.Pattern[str]:
    """The mention or the legacy trigger, case-insensitive, as a whole token."""
    names = "|".join(re.escape(t) for t in (trigger, LEGACY_TRIGGER))
    return re.compile(rf"(?i)(?<![\w@/-])(?:{names})(?![\w-])")


def split_lines(text: str) -> list[str]:
    """Lines as CommonMark counts them (``\\n``, ``\\r\\n`` or ``\\r`` end one)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def live_lines(text: str) -> list[tuple[int, str]]:
    """(index, line) of the lines of prose: paragraphs, headings, list items, table cells.

    GitHub's Markdown decides, read by a CommonMark parser: fenced and indented code blocks,
    HTML blocks (``<pre>``, comments) and block quotes are never live; within a live line,
    code spans and inline HTML comments are blanked out (keeping the length).
    """
    lines = split_lines(text)
    live: set[int] = set()
    quoted = 0
    for token in _MARKDOWN.parse("\n".join(lines)):
        if token.type == "blockquote_open":
            quoted += 1
        elif token.type == "blockquote_close":
            quoted -= 1
        elif token.type == "inline" and not quoted and token.map:
            live.update(range(*token.map))
    result, in_comment = [], False
    for index in sorted(live):
        line = lines[index]
        if in_comment:
            if "-->" not in line:
                continue
            line, in_comment = " " * (line.index("-->") + 3) + line[line.index("-->") + 3 :], False
        line = re.sub(r"<!--.*?-->", lambda m: " " * len(m.group(0)), line)
        if "<!--" in line:
            in_comment = True
            line = line.split("<!--", 1)[0]
        result.append((index, _strip_inline_code(line)))
    return result


def _strip_inline_code(line: str) -> str:
    """Blank out `code spans` (keeping the length) so a quoted command never triggers."""
    return re.sub(r"(`+)(.+?)\1", lambda m: " " * len(m.group(0)), line)


def parse_issue_body(body: str, *, trigger: str) -> Command | None:
    """An issue body triggers a spawn when the trigger stands anywhere in live text."""
    pattern = _trigger_pattern(trigger)
    lines = split_lines(body)
    hits = [i for i, line in live_lines(body) if pattern.search(line)]
    if not hits:
        return None
    for i in hits:
        lines[i] = pattern.sub("", lines[i]).rstrip()
    return Command("spawn", spec_text="\n".join(lines))


def parse_comment(body: str, *, trigger: str, verbs: Collection[str] = VERBS) -> Command | None:
    """A comment is for the bot only when the trigger opens it; ``verbs`` are its commands."""
    stripped = body.lstrip()
    match = _trigger_pattern(trigger).match(stripped)
    if not match or not live_lines(stripped[: match.end()]):
        return None
    rest = stripped[match.end() :]
    first_line, _, remainder = rest.partition("\n")
    words = first_line.split()
    verb = words[0].lower().rstrip(".:!,") if words else ""
    if verb in verbs and verb in EDIT_VERBS and (not remainder.strip() or verb in _WITH_BODY):
        line = first_line.strip()[len(words[0]) :].strip()
        return Command(verb, argument=line[:300], body=remainder.strip("\n"))
    if verb in verbs and not remainder.strip():
        return Command(verb, argument=" ".join(words[1:3]))
    if not rest.strip():
        return Command("spawn", spec_text=None)  # plan the issue body
    if _looks_like_spec(rest):
        return Command("spawn", spec_text=rest)
    return Command("unknown", argument=rest.strip()[:200])


def _looks_like_spec(text: str) -> bool:
    """A comment carries a spec when it has structure or real length, not a stray sentence."""
    lines = [line for line in text.splitlines() if line.strip()]
    structured = any(re.match(r"\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|```)", line) for line in lines)
    return structured or len(lines) >= 3 or len(text) >= 200
