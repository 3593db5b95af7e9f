"""Text that is in a spec but is not the spec (#12), pure.

- The trigger: a first line that @-mentions someone is the request to the bot, not spec text.
- Diagram source outside a code fence (Mermaid, PlantUML, ASCII art) is fenced, so that it is
  never a title and never prose.
- Page chrome pasted from a browser (navigation, breadcrumbs, "Copy" buttons, a table of
  contents, footers, cookie banners) is dropped; only in a page without Markdown headings,
  where chrome is what copying a rendered page brings along.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from openproducer.spec import FENCE

_MENTION = re.compile(r"^\s*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\b")
_DIAGRAM = re.compile(
    r"^\s*(?:(?:graph|flowchart)\s+(?:TD|TB|BT|RL|LR)\b|sequenceDiagram|classDiagram|"
    r"stateDiagram(?:-v2)?|erDiagram|gantt|pie(?:\s+title)?|journey|gitGraph|mindmap|"
    r"timeline|quadrantChart|@startuml|@startmindmap|digraph\s|graph\s*\{)",
)
_BOX_ART = re.compile(r"^[\s+\-|=_/\\<>^v*.:#'`~┌┐└┘├┤┬┴┼─│═║╔╗╚╝▶◀▲▼→←↑↓]*$")
_CHROME_LINE = re.compile(
    r"^(?:©|\(c\)\s|copyright\s+©)|\b\d+\s+min(?:ute)?s?\s+read\b|^last updated\b|"
    r"^(?:copy|copy code|copied!?|skip to (?:main )?content|was this page helpful\??|"
    r"edit this page(?: on \w+)?|previous|next|sign in|sign up|log in|search(?: docs)?…?)$",
    re.IGNORECASE,
)
_TOC = re.compile(r"^\s*(?:table of contents|contents|on this page|in this article)\s*:?\s*$", re.I)
_BREADCRUMB = re.compile(r"^\s*[^\s/›>»·|][^/›>»·|]{0,40}(?:\s+[/›>»·|]\s+[^/›>»·|]{1,40}){2,}\s*$")
_TAG_LINE = re.compile(r"^\s*</?[A-Za-z][\w-]*(?:\s[^<>]*)?>")  # a wrapper tag is structure
_SHORT_WORDS = 4
_SHORT_SHARE = 2 / 3
_MIN_MENU_LINES = 3


def drop_trigger(text: str) -> str:
    """The spec without a first line that @-mentions the bot (when anything else is left)."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not _MENTION.match(lines[first]):
        return text
    rest = "\n".join(lines[first + 1 :])
    return rest if rest.strip() else text


def fence_diagrams(text: str) -> str:
    """Unfenced diagram source and ASCII art, fenced as code."""
    blocks = _paragraphs(text.split("\n"))
    return "\n".join(_fenced(block) if _is_diagram(block) else "\n".join(block) for block in blocks)


def drop_chrome(text: str) -> str:
    """A pasted page without its navigation, table of contents, footer and banners."""
    kept = [block for block in _paragraphs(text.split("\n")) if not _is_chrome(block)]
    return "\n".join("\n".join(_without_chrome_lines(block)) for block in kept)


def _paragraphs(lines: Sequence[str]) -> list[list[str]]:
    """Lines grouped into paragraphs (a blank line ends one and is kept with it); a fenced
    block is one paragraph."""
    blocks: list[list[str]] = [[]]
    fence: str | None = None
    for line in lines:
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening["fence"]
        elif fence is not None and line.strip().startswith(fence[:3]) and not line.strip()[3:]:
            fence = None
        blocks[-1].append(line)
        if fence is None and not line.strip():
            blocks.append([])
    return [block for block in blocks if block]


def _filled(block: Sequence[str]) -> list[str]:
    return [line for line in block if line.strip()]


def _is_diagram(block: Sequence[str]) -> bool:
    filled = _filled(block)
    if not filled or FENCE.match(filled[0]):
        return False
    if _DIAGRAM.match(filled[0]):
        return True
    art = sum(bool(_BOX_ART.match(line)) and len(line.strip()) >= 3 for line in filled)
    return len(filled) >= 3 and art * 2 >= len(filled)


def _fenced(block: Sequence[str]) -> str:
    filled = _filled(block)
    trailing = len(block) - len("\n".join(block).rstrip("\n").split("\n"))
    return "\n".join(["```text", *filled, "```", *[""] * trailing])


def _is_chrome(block: Sequence[str]) -> bool:
    """A menu of short lines, a table of contents, or a block of chrome lines only."""
    filled = _filled(block)
    if not filled or FENCE.match(filled[0]) or any(_TAG_LINE.match(line) for line in filled):
        return False
    if _TOC.match(filled[0]) or all(_is_chrome_line(line) for line in filled):
        return True
    short = sum(len(line.split()) <= _SHORT_WORDS for line in filled)
    return len(filled) >= _MIN_MENU_LINES and short >= len(filled) * _SHORT_SHARE


def _is_chrome_line(line: str) -> bool:
    return bool(_CHROME_LINE.search(line.strip()) or _BREADCRUMB.match(line))


def _without_chrome_lines(block: Sequence[str]) -> list[str]:
    return [line for line in block if not line.strip() or not _is_chrome_line(line)]
