"""Rebuild runs from the marked issues they created, when their state comments are gone (pure).

Every issue the bot creates ends with a footer ("Part of #N · item i of n · …") and a hidden
item marker naming its run, plan key and hashes. Those are the source of truth: a moderator
deleting the bot's comments must not strand a run's issues. What the markers cannot tell
(the plan, the options, who asked, what was skipped) is said in the run's notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from openproducer.clock import iso
from openproducer.ports import IssueInfo
from openproducer.render import FOOTER_SEPARATOR, issue_head
from openproducer.state import CreatedIssue, RunState, parse_item_marker

_FOOTER = re.compile(r"(?P<parent>\d+) · item (?P<index>\d+) of (?P<total>\d+) ·")
_BLOCKED_BY = re.compile(r"^Blocked by ((?:#\d+(?:, )?)+)$", re.M)
_RUN_TIME = re.compile(r"run_(\d{8})_(\d{6})_[A-Za-z0-9]+")


@dataclass(frozen=True)
class Rebuilt:
    run: RunState
    planned: int  # the plan's size, from the footers ("item i of n")


def runs_from_markers(
    issues: Iterable[IssueInfo], *, parent: int, known: Mapping[str, RunState] | None = None
) -> dict[str, Rebuilt]:
    """Runs of ``parent`` that only their issues still record (``known`` ones are left out).

    ``issues`` must be the bot's own issues: anyone else's marker proves nothing.
    """
    found: dict[str, list[tuple[int, int, IssueInfo]]] = {}
    for info in issues:
        marker = parse_item_marker(info.body)
        footer = _FOOTER.match(info.body.rpartition(FOOTER_SEPARATOR)[2])
        if marker is None or footer is None or int(footer.group("parent")) != parent:
            continue
        if known and marker.run_id in known:
            continue
        index, total = int(footer.group("index")), int(footer.group("total"))
        found.setdefault(marker.run_id, []).append((index, total, info))
    return {run_id: _rebuild(run_id, parent, items) for run_id, items in found.items()}


def _rebuild(run_id: str, parent: int, items: list[tuple[int, int, IssueInfo]]) -> Rebuilt:
    items.sort(key=lambda item: (item[0], item[2].number))
    ids = {info.number: info.id for _, _, info in items}
    created = []
    for _, _, info in items:
        marker = parse_item_marker(info.body)
        assert marker is not None  # checked by the caller
        created.append(
            CreatedIssue(
                key=marker.key,
                number=info.number,
                id=info.id,
                title=info.title,
                hash=marker.hash,
                parent=parent,
                blocked_by=tuple(ids[n] for n in _blockers(info.body) if n in ids),
            )
        )
    closed = tuple(sorted(info.number for _, _, info in items if info.state == "closed"))
    total = max(t for _, t, _ in items)
    moment = parse_run_time(run_id)
    started = iso(moment) if moment else min(i.created_at for _, _, i in items)
    run = RunState(
        run_id=run_id,
        status="rolled_back" if len(closed) == len(created) else "completed",
        issue=parent,
        requester="",
        started_at=started,
        updated_at=max(i.updated_at for _, _, i in items),
        created=tuple(created),
        closed=closed,
        notes=(
            f"Rebuilt from the markers of its issues: the comment holding this run's state is "
            f"gone. It planned {total} issues and {len(created)} still carry its marker; its "
            "plan, options and requester are not known any more.",
        ),
    )
    return Rebuilt(run, total)


def _blockers(body: str) -> list[int]:
    match = _BLOCKED_BY.search(issue_head(body))
    return [int(n) for n in re.findall(r"\d+", match.group(1))] if match else []


def parse_run_time(run_id: str) -> datetime | None:
    """When a run started, from its id (``run_YYYYMMDD_HHMMSS_…``), or None if malformed."""
    match = _RUN_TIME.fullmatch(run_id)
    if not match:
        return None
    try:
        return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
