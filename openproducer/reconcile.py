"""Reconcile a spec's issues with a new plan of the same spec (pure).

The bot's issues of a spec are *tracked* items: a planned item, the issue it became, and hashes
of the exact title and text the bot wrote there (kept in the signed run state, never read from
the issue). A new plan is matched against them by stable keys: the spec section an item comes
from and its normalised title, then, within a section, by similarity, so a reworded bullet is a
change and not a delete plus a create. Each match becomes one `Change` (or none when the item is
the same); what the bot wrote being different from the issue now means a person edited it, and
then the bot only proposes a comment. A matched item whose dependencies now name other issues
gets a `relink` change too: its "blocked by" links follow the plan, whatever its text.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from openproducer.dedup import body_hash, content_hash
from openproducer.model import PlannedIssue
from openproducer.render import issue_head
from openproducer.safety import clean_body, clean_title, neutralize
from openproducer.state import Change, Tracked

# A match within one section needs this similarity of titles or of task text (0..1); across
# sections (a renamed heading) the task text alone must be this close.
SAME_SECTION = 0.6
ANY_SECTION = 0.85
DIFF_LINES = 12


@dataclass(frozen=True)
class Reconciliation:
    changes: tuple[Change, ...]
    tracked: tuple[Tracked, ...]  # the new plan's items, as known before applying
    unchanged: int
    already_closed: tuple[int, ...] = ()  # removed items whose issue someone closed already
    missing: tuple[int, ...] = ()  # tracked issues GitHub no longer has

    @property
    def empty(self) -> bool:
        return not self.changes


@dataclass(frozen=True)
class IssueNow:
    """What the issue shows now (title, full body, open or closed)."""

    title: str
    body: str
    state: str = "open"


# -- keys and matching -----------------------------------------------------------------------


def normal_title(title: str) -> str:
    words = re.findall(r"\w+", title.casefold())
    return " ".join(words)


def section_of(item: PlannedIssue) -> str:
    return (item.covers[0] if item.covers else item.group or "").casefold().strip()


def stable_key(item: PlannedIssue) -> tuple[str, str]:
    """The spec section the item comes from, and its normalised title."""
    return section_of(item), normal_title(item.title)


def task_text(body: str) -> str:
    """The part of a planned body that is the item's own: quoted context is left out."""
    lines = [line for line in body.splitlines() if not line.lstrip().startswith(">")]
    return " ".join(" ".join(lines).casefold().split())


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0


def match_plans(old: Sequence[PlannedIssue], new: Sequence[PlannedIssue]) -> dict[str, str]:
    """new key -> old key, for the items that are the same item in both plans.

    Exact stable keys first, then the closest pairs within a section, then (for a renamed
    section) pairs whose titles or task text are nearly the same.
    """
    matched: dict[str, str] = {}
    by_key: dict[tuple[str, str], list[str]] = {}
    for item in old:
        by_key.setdefault(stable_key(item), []).append(item.key)
    for item in new:
        keys = by_key.get(stable_key(item))
        if keys:
            matched[item.key] = keys.pop(0)
    left_old = [i for i in old if i.key not in set(matched.values())]
    left_new = [i for i in new if i.key not in matched]
    matched.update(_closest(left_old, left_new, same_section=True))
    left_old = [i for i in left_old if i.key not in set(matched.values())]
    left_new = [i for i in left_new if i.key not in matched]
    matched.update(_closest(left_old, left_new, same_section=False))
    return matched


def _closest(
    old: Sequence[PlannedIssue], new: Sequence[PlannedIssue], *, same_section: bool
) -> dict[str, str]:
    scored = []
    for n in new:
        for o in old:
            if same_section and section_of(n) != section_of(o):
                continue
            title = _similarity(normal_title(n.title), normal_title(o.title))
            task = _similarity(task_text(n.body), task_text(o.body))
            score = max(title, task) if same_section else task
            if score >= (SAME_SECTION if same_section else ANY_SECTION):
                scored.append((score, n.key, o.key))
    pairs: dict[str, str] = {}
    for _, new_key, old_key in sorted(scored, key=lambda s: -s[0]):
        if new_key not in pairs and old_key not in pairs.values():
            pairs[new_key] = old_key
    return pairs


# -- what the bot wrote ----------------------------------------------------------------------

_BLOCKED_TRAILER = re.compile(r"\n\nBlocked by #\d+(?:, #\d+)*\s*$")


def head_hash(body: str) -> str:
    """A hash of the text above the bot's footer, as the bot writes it.

    The "Blocked by" line the bot adds is left out (it follows the links, not the spec), and
    the text is cleaned as every outgoing body is (a fixed point), so the hash of what the bot
    sent equals the hash of what GitHub stores.
    """
    head = _BLOCKED_TRAILER.sub("", issue_head(body).rstrip())
    return body_hash(neutralize(clean_body(head)))


def planned_head(item: PlannedIssue) -> str:
    """The text above the footer the creation loop writes for ``item`` (see `render_issue_body`)."""
    return neutralize(item.body.strip()) or "_No description._"


def shown_title(title: str) -> str:
    return neutralize(clean_title(title))


def blocked_line(body: str) -> str:
    """The "Blocked by #…" line the bot wrote at the end of the text, or ""."""
    found = _BLOCKED_TRAILER.search(issue_head(body).rstrip())
    return found.group().strip() if found else ""


def person_edited(now: IssueNow, tracked: Tracked) -> bool:
    """Whether the issue's title or text differs from what the bot last wrote there."""
    return now.title != tracked.title or head_hash(now.body) != tracked.head


# -- classifying -----------------------------------------------------------------------------


def plan_changes(
    *,
    old: Sequence[PlannedIssue],
    tracked: Mapping[str, Tracked],
    new: Sequence[PlannedIssue],
    now: Mapping[int, IssueNow],
) -> Reconciliation:
    """What it takes to bring the tracked issues in step with ``new``.

    ``now`` holds the tracked issues as GitHub has them; one missing from it is gone (deleted
    or transferred) and is left alone.
    """
    matches = match_plans(old, new)
    old_items = {item.key: item for item in old}
    changes: list[Change] = []
    relinks: list[Change] = []
    links = Links(matches=matches, tracked=tracked, now=now, new_titles=_titles(new))
    carried: list[Tracked] = []
    unchanged = 0
    missing: list[int] = []
    for item in new:
        old_key = matches.get(item.key)
        known = tracked.get(old_key or "")
        if old_key is None:
            changes.append(Change("create", item.key, title=item.title))
            carried.append(Tracked(item.key))
            continue
        carried.append(_rekeyed(known, item.key))
        before = old_items[old_key]
        same = content_hash(before) == content_hash(item)
        relink = links.relink(before, item, known)
        if known is None or not known.number or (same and relink is None):
            unchanged += 1
            continue
        if known.number not in now:
            missing.append(known.number)
            continue
        if relink is not None:
            relinks.append(relink)
        if same:
            continue
        op = "comment" if person_edited(now[known.number], known) else "update"
        changes.append(
            Change(
                op,
                item.key,
                number=known.number,
                id=known.id,
                title=item.title,
                was=before.title if before.title != item.title else "",
                diff=render_diff(before, item),
            )
        )
    closing, closed = _removed(old, set(matches.values()), tracked, now)
    return Reconciliation(
        changes=(*changes, *relinks, *closing),
        tracked=tuple(carried),
        unchanged=unchanged,
        already_closed=closed,
        missing=tuple(missing),
    )


def _titles(items: Iterable[PlannedIssue]) -> dict[str, str]:
    return {item.key: item.title for item in items}


@dataclass(frozen=True)
class Links:
    """The "blocked by" links of matched items: as the old plan made them, as the new wants.

    A dependency is an issue: the old plan's by its tracked id, the new plan's through the
    match to the old item (or, for an item still to be created, by its key).
    """

    matches: Mapping[str, str]  # new key -> old key
    tracked: Mapping[str, Tracked]  # by old key
    now: Mapping[int, IssueNow]
    new_titles: Mapping[str, str]  # by new key

    def relink(
        self, before: PlannedIssue, item: PlannedIssue, known: Tracked | None
    ) -> Change | None:
        """The change that gives ``known`` the links ``item`` asks for, None when it has them."""
        if known is None or not known.number:
            return None
        had = self.issues(before.depends_on)
        wants = [w for w in map(self.wanted, dict.fromkeys(item.depends_on)) if w]
        ids = {w for w in wants if isinstance(w, int)}
        if ids == {t.id for t in had} and len(ids) == len(wants):
            return None
        shown = [f"#{t.number}" for t in had]
        wanted = [f"#{self._number(w)}" if isinstance(w, int) else w for w in wants]
        diff = [f"-Blocked by {', '.join(shown)}"] if shown else []
        diff += [f"+Blocked by {', '.join(wanted)}"] if wanted else []
        return Change(
            "relink",
            item.key,
            number=known.number,
            id=known.id,
            title=item.title,
            diff="\n".join(diff),
            blockers=tuple(t.id for t in had),
        )

    def issues(self, old_keys: Iterable[str]) -> list[Tracked]:
        """The tracked issues of old keys that GitHub still has, each once."""
        found = [self.tracked.get(key) for key in dict.fromkeys(old_keys)]
        return [t for t in found if t and t.id and t.number in self.now]

    def wanted(self, new_key: str) -> int | str:
        """A new dependency's issue id, or the title of the item that will be created (0 for
        an issue GitHub no longer has, or none: no link to make)."""
        old_key = self.matches.get(new_key)
        if old_key is None:
            return f"“{self.new_titles.get(new_key, new_key)}” (new)"
        found = self.issues([old_key])
        return found[0].id if found else 0

    def _number(self, issue_id: int) -> int:
        return next((t.number for t in self.tracked.values() if t.id == issue_id), 0)


def _rekeyed(known: Tracked | None, key: str) -> Tracked:
    if known is None:
        return Tracked(key)
    return Tracked(key, known.number, known.id, known.title, known.head, known.parent, known.origin)


def _removed(
    old: Iterable[PlannedIssue],
    kept: set[str],
    tracked: Mapping[str, Tracked],
    now: Mapping[int, IssueNow],
) -> tuple[list[Change], tuple[int, ...]]:
    closing: list[Change] = []
    closed: list[int] = []
    for item in old:
        known = tracked.get(item.key)
        if item.key in kept or known is None or known.number not in now:
            continue
        if now[known.number].state == "closed":
            closed.append(known.number)
            continue
        title = now[known.number].title
        closing.append(
            Change("close", "", number=known.number, id=known.id, title=title, parent=known.parent)
        )
    return closing, tuple(closed)


def render_diff(old: PlannedIssue, new: PlannedIssue) -> str:
    """A few lines of unified diff of the title and body, each cut to fit a comment's width."""
    before = [f"# {old.title}", *old.body.strip().splitlines()]
    after = [f"# {new.title}", *new.body.strip().splitlines()]
    lines = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if not line.startswith(("---", "+++", "@@"))
    ]
    shown = [_cut(line, 100) for line in lines[:DIFF_LINES]]
    if len(lines) > DIFF_LINES:
        shown.append(f"… {len(lines) - DIFF_LINES} more changed lines")
    return "\n".join(shown)


def _cut(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"
