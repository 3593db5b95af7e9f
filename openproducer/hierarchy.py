"""The shape of a run on GitHub: sub-issue tree and dependency graph (pure).

GitHub allows 100 sub-issues per parent, closed ones included, and 8 levels of nesting:
https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/adding-sub-issues
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from openproducer.model import GroupMode, PlannedIssue

MAX_SUB_ISSUES = 100
AUTO_GROUP_OVER = 20  # larger plans from two or more top-level sections are grouped by default


@dataclass(frozen=True)
class _Chunk:
    """Issues that share one parent: a top-level section's (at most 100) or a plain part."""

    name: str
    items: tuple[PlannedIssue, ...]


def shape_plan(
    issues: Sequence[PlannedIssue], *, mode: GroupMode, room: int, parent: int
) -> tuple[tuple[PlannedIssue, ...], str | None]:
    """The plan as it sits under the spec issue #``parent``, which can take ``room`` more
    sub-issues: flat, or one parent issue per top-level section (``PlannedIssue.group``).

    ``auto`` groups plans of more than 20 issues from two or more sections, ``sections``
    groups any plan of two or more, ``flat`` none; a plan that does not fit ``room`` is grouped
    whatever the mode. A section with one issue keeps it directly under #``parent``.
    Returns the plan (a parent before its sub-issues, every dependency before its dependents)
    and a note saying how it was grouped, if it was.
    """
    buckets = _sections(issues)
    wanted = len(buckets) >= 2 and (
        mode == "sections" or (mode == "auto" and len(issues) > AUTO_GROUP_OVER)
    )
    fits = len(issues) <= room
    if fits and not wanted:
        return tuple(issues), None
    chunks = [
        _Chunk(name, items[i : i + MAX_SUB_ISSUES])
        for name, items in buckets.items()
        for i in range(0, len(items), MAX_SUB_ISSUES)
    ]
    if len(chunks) > room:  # too many sections: fall back to plain chunks of 100
        chunks = [
            _Chunk(f"Part {n + 1}", tuple(issues[i : i + MAX_SUB_ISSUES]))
            for n, i in enumerate(range(0, len(issues), MAX_SUB_ISSUES))
        ]
    shaped, parents = _grouped(issues, chunks, parent=parent, by_limit=not fits)
    if not parents:  # every section has a single issue: nothing to group
        return tuple(issues), None
    return shaped, _grouped_note(
        total=len(issues), parents=parents, room=room, parent=parent, mode=mode, fits=fits
    )


def group_for_sub_issue_limit(
    issues: Sequence[PlannedIssue], *, room: int, parent: int
) -> tuple[tuple[PlannedIssue, ...], str | None]:
    """Fit the plan under a parent that can take ``room`` more sub-issues, flat if it fits."""
    return shape_plan(issues, mode="flat", room=room, parent=parent)


def _sections(issues: Sequence[PlannedIssue]) -> dict[str, tuple[PlannedIssue, ...]]:
    buckets: dict[str, list[PlannedIssue]] = {}
    for issue in issues:
        buckets.setdefault(issue.group or "Other work", []).append(issue)
    return {name: tuple(items) for name, items in buckets.items()}


def _grouped(
    issues: Sequence[PlannedIssue], chunks: Sequence[_Chunk], *, parent: int, by_limit: bool
) -> tuple[tuple[PlannedIssue, ...], int]:
    """One parent issue per chunk of two or more issues; returns the plan and how many."""
    taken = {i.title.casefold() for i in issues}
    keys = {i.key for i in issues}
    units: list[tuple[PlannedIssue, ...]] = []
    heads: list[PlannedIssue] = []
    for chunk in chunks:
        if len(chunk.items) == 1:
            units.append(chunk.items)
            continue
        head = PlannedIssue(
            key=_free_key(f"g{len(heads) + 1}", keys),
            title=_unique_title(_chunk_title(chunk, chunks), taken),
            body=_group_body(chunk, parent=parent, by_limit=by_limit),
            group=chunk.name,
        )
        heads.append(head)
        units.append((head, *(replace(item, parent_key=head.key) for item in chunk.items)))
    ordered = _in_dependency_order(units)
    if ordered is None:  # sections depend on each other both ways: parents first, then the plan
        placed = {i.key: i for unit in units for i in unit}
        ordered = [*heads, *(placed[i.key] for i in issues)]
    return tuple(ordered), len(heads)


TITLE_LIMIT = 79


def _chunk_title(chunk: _Chunk, chunks: Sequence[_Chunk]) -> str:
    """The section's name, and what it holds: "Features: `kiln run`, Local cache, …"."""
    same = [c for c in chunks if c.name == chunk.name]
    name = chunk.name if len(same) == 1 else f"{chunk.name} (part {same.index(chunk) + 1})"
    parts = _sub_sections(chunk)
    if len(parts) < 2:  # its issues are the section's own items: they name themselves
        return _unnumbered(name)
    name, parts = _unnumbered(name), [_unnumbered(part) for part in parts]
    title = f"{name}: {', '.join(parts)}"
    if len(title) <= TITLE_LIMIT:
        return title
    cut = title[: TITLE_LIMIT - 1]
    return cut[: cut.rfind(", ")] + ", …" if ", " in cut[len(name) :] else name


def _unnumbered(heading: str) -> str:
    """ "2.3 Configuration Parser" → "Configuration Parser"."""
    return re.sub(r"^(?:\d+(?:\.\d+)*[.)]?|[A-Z][.)])\s+", "", heading) or heading


def _sub_sections(chunk: _Chunk) -> list[str]:
    """The sections below the chunk's that its issues come from, in order ("A > B > C" of
    group "B" → "C")."""
    found: list[str] = []
    for item in chunk.items:
        for cover in item.covers[:1]:
            path = [part.strip() for part in cover.split(" > ")]
            if chunk.name in path and path.index(chunk.name) + 1 < len(path):
                found.append(path[path.index(chunk.name) + 1])
    return list(dict.fromkeys(found))


def _group_body(chunk: _Chunk, *, parent: int, by_limit: bool) -> str:
    if by_limit:
        return (
            f"Groups the {len(chunk.items)} issues planned for “{chunk.name}” of #{parent}, so "
            f"the plan fits GitHub's limit of {MAX_SUB_ISSUES} sub-issues per issue."
        )
    return (
        f"The {len(chunk.items)} issues planned from the “{chunk.name}” section of #{parent} "
        "are this issue's sub-issues."
    )


def _grouped_note(
    *, total: int, parents: int, room: int, parent: int, mode: GroupMode, fits: bool
) -> str:
    if not fits:
        note = (
            f"The plan has {total} issues but #{parent} can take only {room} more "
            f"sub-issues, so they are grouped under {parents} section issues."
        )
        return note + (" `group: flat` cannot keep them flat." if mode == "flat" else "")
    why = "as `group: sections` asks" if mode == "sections" else f"over {AUTO_GROUP_OVER} issues"
    return (
        f"Grouped by top-level section ({why}): {parents} parent issues hold the {total} "
        f"issues. For a flat list under #{parent}, add `group: flat` to the spec."
    )


def _in_dependency_order(
    units: Sequence[tuple[PlannedIssue, ...]],
) -> list[PlannedIssue] | None:
    """The units kept whole, each after the units it depends on (otherwise in plan order);
    None when two units depend on each other."""
    owner = {issue.key: n for n, unit in enumerate(units) for issue in unit}
    needs = [
        {owner[d] for issue in unit for d in issue.depends_on if d in owner} - {n}
        for n, unit in enumerate(units)
    ]
    done: list[int] = []
    while len(done) < len(units):
        ready = next(
            (n for n in range(len(units)) if n not in done and needs[n] <= set(done)), None
        )
        if ready is None:
            return None
        done.append(ready)
    return [issue for n in done for issue in units[n]]


def _free_key(key: str, taken: set[str]) -> str:
    while key in taken:
        key += "g"
    taken.add(key)
    return key


def _unique_title(title: str, taken: set[str]) -> str:
    candidate, n = title, 2
    while candidate.casefold() in taken:
        candidate, n = f"{title} ({n})", n + 1
    taken.add(candidate.casefold())
    return candidate


def render_mermaid(issues: Sequence[PlannedIssue], *, limit: int = 60) -> str:
    """A Mermaid flowchart of the plan's tree and "blocked by" edges, or "" when flat."""
    has_edges = any(i.depends_on or i.parent_key for i in issues)
    if not has_edges or len(issues) > limit:
        return ""
    lines = ["```mermaid", "graph TD"]
    for index, issue in enumerate(issues, start=1):
        label = issue.title.replace('"', "'").replace("`", "'")[:50]
        lines.append(f'  i{issue.key}["{index}. {label}"]')
    for issue in issues:
        if issue.parent_key:
            lines.append(f"  i{issue.parent_key} --- i{issue.key}")
        lines.extend(f"  i{dep} -->|blocks| i{issue.key}" for dep in issue.depends_on)
    lines.append("```")
    return "\n".join(lines)


def label_color(name: str) -> str:
    """A stable, readable colour for a label the bot creates."""
    palette = ("1d76db", "0e8a16", "5319e7", "b60205", "d93f0b", "fbca04", "006b75", "c5def5")
    return palette[hashlib.sha256(name.casefold().encode()).digest()[0] % len(palette)]
