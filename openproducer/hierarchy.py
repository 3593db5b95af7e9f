"""The shape of a run on GitHub: sub-issue tree and dependency graph (pure).

GitHub allows 100 sub-issues per parent, closed ones included, and 8 levels of nesting:
https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/adding-sub-issues
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from openproducer.model import PlannedIssue

MAX_SUB_ISSUES = 100


def group_for_sub_issue_limit(
    issues: Sequence[PlannedIssue], *, room: int, parent: int
) -> tuple[tuple[PlannedIssue, ...], str | None]:
    """Fit the plan under a parent that can take ``room`` more sub-issues.

    When the plan does not fit, one grouping issue per spec section (chunks of at most 100)
    holds the section's issues, and the grouping issues become the parent's sub-issues.
    Returns the plan (grouping issues placed before their children) and a note, if grouped.
    """
    if len(issues) <= room:
        return tuple(issues), None
    buckets: dict[str, list[PlannedIssue]] = {}
    for issue in issues:
        buckets.setdefault(issue.group or "Other work", []).append(issue)
    chunks = [
        (name, items[i : i + MAX_SUB_ISSUES])
        for name, items in buckets.items()
        for i in range(0, len(items), MAX_SUB_ISSUES)
    ]
    if len(chunks) > room:  # too many sections: fall back to plain chunks of 100
        chunks = [
            (f"Part {n + 1}", list(issues[i : i + MAX_SUB_ISSUES]))
            for n, i in enumerate(range(0, len(issues), MAX_SUB_ISSUES))
        ]
    taken = {i.title.casefold() for i in issues}
    result: list[PlannedIssue] = []
    for index, (name, items) in enumerate(chunks, start=1):
        title = _unique_title(
            name
            if sum(n == name for n, _ in chunks) == 1
            else f"{name} (part {sum(n == name for n, _ in chunks[:index])})",
            taken,
        )
        key = f"g{index}"
        body = (
            f"Groups the {len(items)} issues planned for “{name}” of #{parent}, so the plan "
            f"fits GitHub's limit of {MAX_SUB_ISSUES} sub-issues per issue."
        )
        result.append(PlannedIssue(key=key, title=title, body=body, group=name))
        result.extend(replace(item, parent_key=key) for item in items)
    note = (
        f"The plan has {len(issues)} issues but #{parent} can take only {room} more "
        f"sub-issues, so they are grouped under {len(chunks)} section issues."
    )
    return tuple(result), note


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
