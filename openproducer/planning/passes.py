"""Planning a spec too large for one request, in passes that fit (pure).

1. The outline (`build_outline` from the AI's `OutlineAnswer`, or `build_offline_outline`):
   the spec's top-level units sorted into work (grouped in epics, in build order, with an
   issue estimate each), context (sent with every part) and skipped.
2. The parts (`build_parts`): one per epic, with an issue budget shared out by the epics'
   estimates (`share_budget`), not by their length; a part too large for one request is split
   at its sub-headings (`split_part`), recursively.
3. The merge (`merge_parts`): per-part answers in outline order, near-duplicate titles merged,
   dependencies across parts added from the outline's order and from titles a body names.

The I/O (requests, retries, threads) is in `ai.py`; everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from openproducer.model import Section
from openproducer.planning.prompt import render_section, split_level
from openproducer.planning.schema import IssueDraft, OutlineAnswer, PlanAnswer
from openproducer.planning.validate import normalize_heading, path_name

_STOPWORDS = frozenset(
    {"a", "an", "and", "the", "of", "for", "to", "in", "on", "with", "by", "or", "add"}
)
NEAR_DUPLICATE = 0.75  # token overlap (Jaccard) at which two titles are one issue
DIGEST_LINES = (3, 2, 1, 0)  # first lines of each section kept, tried in this order


@dataclass(frozen=True)
class Unit:
    """A top-level part of the spec: a heading and everything below it."""

    title: str  # the heading's path, "A > B"
    sections: tuple[Section, ...]
    kind: str  # "work", "context" or "skip"


@dataclass(frozen=True)
class Epic:
    title: str
    units: tuple[Unit, ...]
    estimate: int  # issues the outline expects
    after: tuple[int, ...] = ()  # 0-based positions of earlier epics


@dataclass(frozen=True)
class Outline:
    epics: tuple[Epic, ...]
    context: tuple[Section, ...]  # sent with every part
    skipped: tuple[str, ...]  # unit titles planned as no issue
    source: str  # "ai" or "offline"

    def context_text(self) -> str:
        return "\n\n".join(render_section(s) for s in self.context)


@dataclass(frozen=True)
class Part:
    """One request's worth of spec: sections of one epic and their share of the issues."""

    order: tuple[int, ...]  # sorts parts in plan order; children extend their parent's
    title: str
    sections: tuple[Section, ...]
    epic: int
    estimate: int  # issues expected
    budget: int  # issues allowed

    @property
    def text(self) -> str:
        return "\n\n".join(render_section(s) for s in self.sections)


# ---------------------------------------------------------------------------- outline


def split_units(
    sections: Sequence[Section],
) -> tuple[list[Section], list[tuple[str, list[Section]]]]:
    """The preamble (sections above the split level) and the units, as `split_spec` splits."""
    depth, heads = split_level(sections)
    preamble = [s for s in sections if len(s.path) < depth]
    units = [(" > ".join(h), [s for s in sections if s.path[:depth] == h]) for h in heads]
    return preamble, units


def unit_kind(sections: Sequence[Section]) -> str:
    """ "skip" for out-of-scope units, "context" for background, else "work"."""
    from openproducer.planning.roles import section_kind

    head = section_kind(sections[0].title)
    if head == "scope":
        return "skip"
    if head in ("reference", "criteria"):
        return "context"
    start = len(sections[0].path) - 1
    for section in sections:
        kinds = {section_kind(t) for t in section.path[start:]}
        allowed = kinds <= {"work", "context", "notes", "constraints"}
        if allowed and "work" in kinds and section.body.strip():
            return "work"
    return "work" if head == "work" else "context"


def build_units(sections: Sequence[Section]) -> tuple[list[Section], list[Unit]]:
    preamble, found = split_units(sections)
    return preamble, [Unit(title, tuple(s), unit_kind(s)) for title, s in found]


def build_offline_outline(
    sections: Sequence[Section], *, estimate: Callable[[Sequence[Section]], int]
) -> Outline:
    """The outline from the headings alone: one epic per work unit, in spec order."""
    preamble, units = build_units(sections)
    context = [*preamble, *(s for u in units if u.kind == "context" for s in u.sections)]
    epics = [Epic(u.title, (u,), max(1, estimate(u.sections))) for u in units if u.kind == "work"]
    skipped = tuple(u.title for u in units if u.kind == "skip")
    return Outline(tuple(epics), tuple(context), skipped, "offline")


def build_outline(
    answer: OutlineAnswer,
    sections: Sequence[Section],
    *,
    estimate: Callable[[Sequence[Section]], int],
) -> Outline:
    """The AI's outline mapped onto the spec's units; units it did not name keep their kind."""
    preamble, units = build_units(sections)
    context = list(preamble)
    skipped: list[str] = []
    members: list[list[Unit]] = [[] for _ in answer.epics]
    loose: list[Unit] = []
    for unit in units:
        names = _unit_names(unit)
        epic = next((i for i, e in enumerate(answer.epics) if names & _names(e.sections)), None)
        if names & _names(answer.skip) and epic is None:
            skipped.append(unit.title)
        elif names & _names(answer.context) and epic is None:
            context.extend(unit.sections)
        elif epic is not None:
            members[epic].append(unit)
        elif unit.kind == "work":
            loose.append(unit)
        elif unit.kind == "context":
            context.extend(unit.sections)
        else:
            skipped.append(unit.title)
    kept = [i for i, m in enumerate(members) if m]
    renumber = {old: new for new, old in enumerate(kept)}
    epics = [
        Epic(
            answer.epics[i].title.strip() or members[i][0].title,
            tuple(members[i]),
            max(1, answer.epics[i].issues),
            tuple(
                renumber[d - 1]
                for d in answer.epics[i].depends_on
                if d - 1 in renumber and d - 1 < i
            ),
        )
        for i in kept
    ]
    epics += [Epic(u.title, (u,), max(1, estimate(u.sections))) for u in loose]
    return Outline(tuple(epics), tuple(context), tuple(skipped), "ai")


def _unit_names(unit: Unit) -> set[str]:
    names = {normalize_heading(unit.title)}
    for section in unit.sections:
        names |= {normalize_heading(section.title), normalize_heading(path_name(section))}
    return names - {""}


def _names(headings: Sequence[str]) -> set[str]:
    found = {normalize_heading(h) for h in headings}
    return (found | {h.rsplit(">", 1)[-1].strip() for h in found}) - {""}


def build_digest(sections: Sequence[Section], *, lines: int) -> str:
    """The spec as headings and the first ``lines`` non-empty lines of each section."""
    blocks = []
    for section in sections:
        kept = [line for line in section.body.splitlines() if line.strip()][:lines]
        heading = f"{'#' * max(1, min(section.level, 6))} {section.title}"
        blocks.append("\n".join([heading, *kept]))
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------------- parts


def share_budget(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` issue slots over parts in proportion to ``weights`` (largest remainder).

    Every part gets at least one slot; the shares add up to ``total`` (or to the number of
    parts, when there are more parts than slots).
    """
    if not weights:
        return []
    weights = [max(1, w) for w in weights]
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [max(1, int(x)) for x in exact]
    while sum(shares) > max(total, len(weights)):
        shares[max(range(len(shares)), key=lambda i: shares[i] - exact[i])] -= 1
    by_remainder = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: max(0, total - sum(shares))]:
        shares[i] += 1
    return shares


def build_parts(outline: Outline, *, total: int) -> list[Part]:
    """One part per epic, its budget shared out of ``total`` by the epics' estimates."""
    budgets = share_budget(total, [e.estimate for e in outline.epics])
    return [
        Part(
            order=(n,),
            title=epic.units[0].title if len(epic.units) == 1 else epic.title,
            sections=tuple(s for u in epic.units for s in u.sections),
            epic=n,
            estimate=min(epic.estimate, budget),
            budget=budget,
        )
        for n, (epic, budget) in enumerate(zip(outline.epics, budgets, strict=True))
    ]


def split_part(part: Part) -> list[Part]:
    """``part`` split at its next heading level (or in halves); [] when it cannot be split."""
    groups = _heading_groups(part.sections)
    if len(groups) < 2:
        if len(part.sections) < 2:
            return []
        half = len(part.sections) // 2
        groups = [list(part.sections[:half]), list(part.sections[half:])]
    sizes = [sum(len(render_section(s)) for s in g) for g in groups]
    budgets = share_budget(part.budget, sizes)
    estimates = share_budget(part.estimate, sizes)
    return [
        replace(
            part,
            order=(*part.order, n),
            title=path_name(group[0]) if len(group[0].path) else part.title,
            sections=tuple(group),
            estimate=min(estimate, budget),
            budget=budget,
        )
        for n, (group, budget, estimate) in enumerate(zip(groups, budgets, estimates, strict=True))
    ]


def _heading_groups(sections: Sequence[Section]) -> list[list[Section]]:
    """Sections grouped below their deepest common heading; that heading joins the first."""
    common = len(sections[0].path)
    for section in sections[1:]:
        common = min(common, _shared(sections[0].path, section.path))
    groups: dict[tuple[str, ...], list[Section]] = {}
    lead: list[Section] = []
    for section in sections:
        if len(section.path) <= common:
            lead.append(section)
        else:
            groups.setdefault(section.path[: common + 1], []).append(section)
    found = list(groups.values())
    if found and lead:
        found[0] = [*lead, *found[0]]
    return found or [lead]


def _shared(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


# ---------------------------------------------------------------------------- merge


def merge_parts(
    results: Sequence[tuple[Part, PlanAnswer]], *, after: Sequence[tuple[int, ...]]
) -> PlanAnswer:
    """One answer from the parts' answers, in part order (``after``: each epic's earlier ones).

    A draft whose title is a near-duplicate of an earlier one is merged into it (its covers
    and labels join the earlier draft's; dependencies on it move there). A part's first
    independent draft depends on the last draft of each epic the outline puts before it, and
    a draft whose body names an earlier part's title depends on that draft.
    """
    merged: list[IssueDraft] = []
    keys: list[frozenset[str]] = []
    epic_of: list[int] = []
    notes: list[str] = []
    for part, answer in sorted(results, key=lambda r: r[0].order):
        local: dict[int, int] = {}  # 1-based position in the part -> 0-based merged index
        first_of_part = len(merged)
        for position, draft in enumerate(answer.issues, start=1):
            key = title_key(draft.title)
            twin = next((i for i, k in enumerate(keys) if near_duplicate(k, key)), None)
            if twin is not None:
                merged[twin] = _absorb(merged[twin], draft)
                local[position] = twin
                continue
            deps = {local[d] + 1 for d in draft.depends_on if d in local}
            if not draft.depends_on and position == 1 and not any(part.order[1:]):
                deps |= {_last_of(epic_of, e) + 1 for e in after[part.epic] if e in epic_of}
            deps |= _named(draft.body, merged[:first_of_part])
            covers = draft.covers or [part.title]
            merged.append(draft.model_copy(update={"depends_on": sorted(deps), "covers": covers}))
            keys.append(key)
            epic_of.append(part.epic)
            local[position] = len(merged) - 1
        notes.extend(answer.notes)
    return PlanAnswer(issues=merged, notes=list(dict.fromkeys(notes)))


def title_key(title: str) -> frozenset[str]:
    words = re.sub(r"[^\w\s]", " ", title.casefold()).split()
    return frozenset(w for w in words if w not in _STOPWORDS)


def near_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return a == b or (min(len(a), len(b)) >= 3 and len(a & b) / len(a | b) >= NEAR_DUPLICATE)


def _absorb(kept: IssueDraft, twin: IssueDraft) -> IssueDraft:
    return kept.model_copy(
        update={
            "covers": list(dict.fromkeys([*kept.covers, *twin.covers])),
            "labels": list(dict.fromkeys([*kept.labels, *twin.labels])),
        }
    )


def _last_of(epic_of: Sequence[int], epic: int) -> int:
    return max(i for i, e in enumerate(epic_of) if e == epic)


def _named(body: str, earlier: Sequence[IssueDraft]) -> set[int]:
    """1-based positions of earlier drafts whose (long enough) title the body quotes."""
    text = " ".join(body.casefold().split())
    return {
        i + 1
        for i, d in enumerate(earlier)
        if len(d.title) >= 16 and " ".join(d.title.casefold().split()) in text
    }


def fit_parts(
    parts: Sequence[Part], *, fits: Callable[[Part], bool], per_request: int
) -> list[Part]:
    """Parts split at their sub-headings until each fits one request (or cannot be split).

    A part that fits in input but expects more issues than one answer can hold is split too;
    one that cannot be split asks for at most ``per_request`` issues.
    """
    done: list[Part] = []
    todo = list(parts)
    while todo:
        part = todo.pop(0)
        if fits(part) and part.estimate <= per_request:
            done.append(part)
            continue
        children = split_part(part)
        if children:
            todo[:0] = children
        else:
            done.append(replace(part, estimate=min(part.estimate, per_request)))
    return done
