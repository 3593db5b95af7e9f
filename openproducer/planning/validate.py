"""Validate any plan before it can become issues (pure).

Every planner's output passes through `validate_plan`: the limits stated in the prompt are
enforced here, so nothing the spec or the model says can lift them. Problems that can be
repaired are repaired and reported in `Plan.notes`; a plan left with no issues is an error.

- at most ``max_issues`` issues (extra ones are cut, with a note), keys "1", "2", ... in order;
- titles: one visible line (no controls or bidirectional overrides), at most 256 characters,
  unique ignoring case; a title with nothing visible is taken from the body's first line;
- bodies: no control or bidirectional formatting characters (tabs and newlines stay);
- bodies: at most 60 000 characters, leaving room for the footer the engine adds
  (GitHub rejects issue bodies over 65 536 characters);
- dependencies: only on EARLIER issues, which also rules out cycles; others are dropped, or,
  with ``reorder`` (the AI planner's merged parts), the issues are sorted topologically so
  that every dependency comes first, and a cycle is broken (with a note) at its latest edge;
- labels: trimmed, at most 50 characters (GitHub's limit), at most 10 per issue;
- `neutralize` on every generated string: no @-mentions, trigger or hidden markers survive;
- coverage: the spec sections no issue covers end up in `Plan.uncovered`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from openproducer import AIPlanningError, PlanError, safety
from openproducer.model import Plan, PlannedIssue, Section
from openproducer.planning.schema import IssueDraft
from openproducer.safety import neutralize

MAX_TITLE = 256
MAX_BODY = 60_000
MAX_LABEL = 50
MAX_LABELS = 10
MAX_NOTE = 500
MAX_NOTES = 20
TRUNCATED_BODY = "\n\n_(truncated)_"
_SIZES = ("S", "M", "L")
_STOPWORDS = frozenset({"a", "an", "and", "the", "of", "for", "to", "in", "on", "with", "by", "or"})


@dataclass(frozen=True)
class _Draft:
    """A draft from any planner, in one shape; ``ref`` is what dependencies call it."""

    ref: str
    title: str
    body: str
    labels: tuple[str, ...]
    depends_on: tuple[str, ...]
    size: str | None
    covers: tuple[str, ...]
    group: str | None


def validate_plan(
    drafts: Sequence[IssueDraft | PlannedIssue],
    *,
    max_issues: int,
    sections: Sequence[Section],
    planner: str,
    notes: Iterable[str] = (),
    reorder: bool = False,
) -> Plan:
    """A `Plan` that satisfies every rule above, built from AI drafts or planned issues.

    Raises `AIPlanningError(kind="invalid_answer")` (or `PlanError` for the offline planner)
    when no issue is left.
    """
    if not drafts:
        _raise_empty(planner)
    found = [_as_draft(d, position) for position, d in enumerate(drafts, start=1)]
    order_notes: list[str] = []
    if reorder:
        found, order_notes = sort_topologically(found)
    kept, cut_notes = cut_to_limit(found, max_issues=max(1, max_issues))
    deps, dep_notes = resolve_dependencies(kept, proposed=len(found))
    titles = unique_titles([clean_title(d.title, body=d.body, position=i) for i, d in _num(kept)])
    issues = [
        _build_issue(d, key=str(i), title=titles[i - 1], deps=deps[i - 1], sections=sections)
        for i, d in _num(kept)
    ]
    uncovered = find_uncovered(sections, issues)
    # The validator's own notes first: the note cap must never hide that a plan was cut.
    all_notes = [*cut_notes, *order_notes, *dep_notes, *_body_notes(kept), *notes]
    return Plan(
        issues=tuple(issues),
        planner=planner,
        notes=clean_notes(all_notes),
        uncovered=uncovered,
    )


def revalidate(plan: Plan, *, max_issues: int, sections: Sequence[Section]) -> Plan:
    """`validate_plan` on a finished plan (e.g. the offline planner's), keeping its usage."""
    checked = validate_plan(
        plan.issues,
        max_issues=max_issues,
        sections=sections,
        planner=plan.planner,
        notes=plan.notes,
    )
    return dataclasses.replace(checked, usage=plan.usage)


def _raise_empty(planner: str) -> None:
    if planner == "offline":
        raise PlanError("the plan has no issues")
    raise AIPlanningError("the answer contains no issues", kind="invalid_answer")


def _num(drafts: Sequence[_Draft]) -> Iterable[tuple[int, _Draft]]:
    return enumerate(drafts, start=1)


def _as_draft(item: IssueDraft | PlannedIssue, position: int) -> _Draft:
    if isinstance(item, PlannedIssue):
        return _Draft(
            ref=item.key,
            title=item.title,
            body=item.body,
            labels=item.labels,
            depends_on=item.depends_on,
            size=item.size,
            covers=item.covers,
            group=item.group,
        )
    return _Draft(
        ref=str(position),
        title=item.title,
        body=item.body,
        labels=tuple(item.labels),
        depends_on=tuple(str(n) for n in item.depends_on),
        size=item.size,
        covers=tuple(item.covers),
        group=None,
    )


def sort_topologically(drafts: Sequence[_Draft]) -> tuple[list[_Draft], list[str]]:
    """The drafts reordered so that each comes after what it depends on (stable otherwise).

    A cycle is broken by dropping, within it, the edge of the earliest-placed draft that
    points to a later one; the note names the issues. Unknown references are left for
    `resolve_dependencies` to drop.
    """
    index = {d.ref.strip().lstrip("#"): i for i, d in enumerate(drafts)}
    deps = [
        {index[k] for k in (dep.strip().lstrip("#") for dep in d.depends_on) if k in index} - {i}
        for i, d in enumerate(drafts)
    ]
    placed: list[int] = []
    done: set[int] = set()
    broken: list[str] = []
    while len(placed) < len(drafts):
        ready = next((i for i in range(len(drafts)) if i not in done and deps[i] <= done), None)
        if ready is None:  # a cycle: release the earliest waiting draft from its pending edges
            ready = next(i for i in range(len(drafts)) if i not in done)
            broken.append(drafts[ready].title)
            deps[ready] &= done
        placed.append(ready)
        done.add(ready)
    result = [drafts[i] for i in placed]
    if broken:
        cut = [dataclasses.replace(d, depends_on=_known(d, drafts, placed)) for d in result]
        names = ", ".join(f"“{clip(t, 60)}”" for t in broken)
        note = f"Broke a dependency cycle: {names} no longer waits for the issues after it."
        return cut, [note]
    return result, []


def _known(draft: _Draft, drafts: Sequence[_Draft], placed: Sequence[int]) -> tuple[str, ...]:
    """The draft's dependencies that come before it in the new order (and unknown ones)."""
    position = {drafts[i].ref.strip().lstrip("#"): n for n, i in enumerate(placed)}
    mine = position[draft.ref.strip().lstrip("#")]
    return tuple(
        dep for dep in draft.depends_on if position.get(dep.strip().lstrip("#"), -1) < mine
    )


def cut_to_limit(drafts: list[_Draft], *, max_issues: int) -> tuple[list[_Draft], list[str]]:
    if len(drafts) <= max_issues:
        return drafts, []
    note = (
        f"The planner proposed {len(drafts)} issues; only the first {max_issues} were kept "
        f"(the limit for this run is {max_issues})."
    )
    return drafts[:max_issues], [note]


def resolve_dependencies(
    drafts: Sequence[_Draft], *, proposed: int
) -> tuple[list[tuple[str, ...]], list[str]]:
    """Each draft's dependencies as plan keys, keeping only edges to earlier issues.

    A dependency on an issue that was cut by the limit is dropped silently (the cut has its
    own note); one that points nowhere, to itself or forward is dropped with a note.
    """
    index = {d.ref.strip().lstrip("#"): i for i, d in enumerate(drafts)}
    resolved: list[tuple[str, ...]] = []
    dropped = 0
    for i, draft in enumerate(drafts):
        keys: dict[str, None] = {}
        for dep in draft.depends_on:
            target = index.get(dep.strip().lstrip("#"))
            if target is not None and target < i:
                keys.setdefault(str(target + 1), None)
            elif target is not None or not _cut(dep, kept=len(drafts), proposed=proposed):
                dropped += 1
        resolved.append(tuple(sorted(keys, key=int)))
    notes = []
    if dropped:
        notes.append(
            f"Dropped {dropped} dependenc{'y' if dropped == 1 else 'ies'} that did not point to "
            "an earlier issue of the plan."
        )
    return resolved, notes


def _cut(dep: str, *, kept: int, proposed: int) -> bool:
    number = dep.strip().lstrip("#")
    return number.isdigit() and kept < int(number) <= proposed


def clean_title(raw: str, *, body: str, position: int) -> str:
    """One line, no Markdown heading marks, neutralized, non-empty, at most 256 characters."""
    title = one_line(raw).lstrip("#").strip()
    if not safety.is_visible(title):
        lines = (one_line(line).strip("#-*> \t") for line in body.splitlines())
        title = next((line for line in lines if safety.is_visible(line)), f"Issue {position}")
    return clip(title, MAX_TITLE)


def one_line(text: str) -> str:
    """One visible line, neutralized after joining (joined lines can re-pair backticks)."""
    return neutralize(safety.clean_title(text))


def clip(text: str, limit: int, *, suffix: str = "…") -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(suffix)].rstrip() + suffix


def unique_titles(titles: Sequence[str]) -> list[str]:
    """Disambiguate repeated titles (ignoring case) with " (2)", " (3)", ..."""
    seen: set[str] = set()
    result = []
    for title in titles:
        candidate, n = title, 1
        while candidate.casefold() in seen:
            n += 1
            suffix = f" ({n})"
            candidate = clip(title, MAX_TITLE - len(suffix), suffix="") + suffix
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def clean_body(body: str) -> str:
    # Again after the cut: a removed closing backtick can make an earlier mention live.
    text = neutralize(safety.clean_body(body)).strip()
    return neutralize(clip(text, MAX_BODY, suffix=TRUNCATED_BODY))


def _body_notes(drafts: Sequence[_Draft]) -> list[str]:
    long = [
        str(i)
        for i, d in _num(drafts)
        if len(neutralize(safety.clean_body(d.body)).strip()) > MAX_BODY
    ]
    if not long:
        return []
    return [f"Shortened the body of issue(s) {', '.join(long)} to {MAX_BODY} characters."]


def clean_labels(labels: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for label in labels:
        name = clip(one_line(label), MAX_LABEL, suffix="")
        if name:
            seen.setdefault(name.casefold(), name)
    return tuple(seen.values())[:MAX_LABELS]


def clean_size(size: str | None) -> str | None:
    value = (size or "").strip().upper()
    return value if value in _SIZES else None


def clean_notes(notes: Iterable[str]) -> tuple[str, ...]:
    cleaned = (clip(one_line(note), MAX_NOTE) for note in notes)
    return tuple(dict.fromkeys(n for n in cleaned if n))[:MAX_NOTES]


def _build_issue(
    draft: _Draft,
    *,
    key: str,
    title: str,
    deps: tuple[str, ...],
    sections: Sequence[Section],
) -> PlannedIssue:
    matched = match_covers(draft.covers, sections)
    named = [path_name(s) for s in matched] if sections else list(draft.covers)
    covers = tuple(dict.fromkeys(c for c in (one_line(n) for n in named) if c))
    group = draft.group or (top_section(matched[0], sections) if matched else None)
    return PlannedIssue(
        key=key,
        title=title,
        body=clean_body(draft.body),
        labels=clean_labels(draft.labels),
        depends_on=deps,
        size=clean_size(draft.size),
        covers=covers,
        group=neutralize(group) if group else None,
    )


def top_section(section: Section, sections: Sequence[Section]) -> str:
    """The top-level section ``section`` is in, below a title heading that holds them all."""
    titled = len(section.path) > 1 and all(s.path[0] == section.path[0] for s in sections)
    return section.path[1] if titled else section.path[0]


def path_name(section: Section) -> str:
    return " > ".join(section.path)


def normalize_heading(text: str) -> str:
    """Lower case, Markdown and punctuation removed, single spaces."""
    return " ".join(re.sub(r"[^\w\s>]", " ", text.casefold()).replace("_", " ").split())


def match_covers(covers: Iterable[str], sections: Sequence[Section]) -> list[Section]:
    """The sections named in ``covers``, by full path ("A > B") or by heading title."""
    wanted = {normalize_heading(c) for c in covers} - {""}
    wanted |= {w.rsplit(">", 1)[-1].strip() for w in wanted}
    found = []
    for section in sections:
        full = normalize_heading(path_name(section))
        if full in wanted or normalize_heading(section.title) in wanted:
            found.append(section)
    return found


def find_uncovered(sections: Sequence[Section], issues: Sequence[PlannedIssue]) -> tuple[str, ...]:
    """Sections with content that no issue covers, directly or through a parent or child.

    An issue covers a section when it names it in ``covers`` or, as a fallback, when every
    significant word of the section's heading appears in the issue's title.
    """
    covered = {c for issue in issues for c in issue.covers}
    words = [_significant(issue.title) for issue in issues]
    direct = {
        path_name(s)
        for s in sections
        if one_line(path_name(s)) in covered or _title_match(_significant(s.title), words)
    }
    from openproducer.planning.roles import section_kind  # context, notes, out of scope

    result = []
    for section in sections:
        name = path_name(section)
        related = any(_related(name, other) for other in direct)
        context = any(section_kind(title) != "work" for title in section.path)
        if not related and not context and _has_content(section, sections):
            result.append(name)
    return tuple(result)


def _significant(text: str) -> frozenset[str]:
    return frozenset(w for w in normalize_heading(text).split() if w not in _STOPWORDS)


def _title_match(heading: frozenset[str], titles: Iterable[frozenset[str]]) -> bool:
    return bool(heading) and any(heading <= title for title in titles)


def _related(name: str, other: str) -> bool:
    return name == other or name.startswith(other + " > ") or other.startswith(name + " > ")


def _has_content(section: Section, sections: Sequence[Section]) -> bool:
    has_children = any(
        len(s.path) > len(section.path) and s.path[: len(section.path)] == section.path
        for s in sections
    )
    return bool(section.body.strip()) or not has_children
