"""Benchmark: how good the offline planner's plans are on long, real-world-shaped specs (#12).

Plans every spec of ``tests/specs/`` offline and scores the plan against the spec's
``.expect.yaml`` (the schema is in ``tests/specs/README.md``): how many issues come from text
that is not work, whether the acceptance criteria reach an issue, whether done items, repeated
requirements, merged neighbours, page chrome or one-line issues show up, and whether a spec that
orders its work gets dependency edges. Prints one Markdown table; no AI, no network.

    python benchmarks/bench_plan_quality.py
    python benchmarks/bench_plan_quality.py --details   # the offending titles under the table
    python benchmarks/bench_plan_quality.py --json      # machine-readable scores
"""

from __future__ import annotations

import argparse
import bisect
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

# This checkout's planner, not a copy installed in site-packages (the script's own directory,
# not the checkout, is first on sys.path).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from openproducer.hierarchy import MAX_SUB_ISSUES, shape_plan
from openproducer.model import Plan, PlannedIssue
from openproducer.planning.offline import build_offline_plan
from openproducer.spec import parse_spec

SPECS = Path(__file__).resolve().parent.parent / "tests" / "specs"
SPEC_SUFFIXES = (".md", ".rst")
MAX_ISSUES = 100
TRIGGER = "@TheOpenProducerBot"

NON_WORK_TARGET = 0.05  # issue #12: under 5 % of the issues from text that is not work
ONE_LINE_WORDS = 30  # a single paragraph or item up to this long is a one-line issue
SIMILAR_TITLES = 0.8  # token overlap (Jaccard) from which two titles are near-duplicates
SIMILAR_MIN_TOKENS = 4
LOCATE_MIN_CHARS = 12  # shorter text is too common to place an issue in the spec by it

Kind = Literal["work", "not_work", "neutral"]
KINDS: tuple[Kind, ...] = ("work", "not_work", "neutral")
PHRASE_KEYS = ("acceptance", "done", "duplicates", "never_titles")

# --------------------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Expectation:
    """What a good plan of one spec must respect (``tests/specs/README.md``)."""

    work: tuple[str, ...] = ()
    not_work: tuple[str, ...] = ()
    neutral: tuple[str, ...] = ()
    acceptance: tuple[str, ...] = ()
    done: tuple[str, ...] = ()
    duplicates: tuple[str, ...] = ()
    never_titles: tuple[str, ...] = ()
    ordered: bool = False

    def sections(self) -> dict[str, Kind]:
        """Every listed section and its kind."""
        return {entry: kind for kind in KINDS for entry in getattr(self, kind)}


def parse_expectation(data: object) -> Expectation:
    """An expectation from loaded YAML; ``ValueError`` names what is wrong."""
    if data is None:
        return Expectation()
    if not isinstance(data, Mapping):
        raise ValueError("an expectation file holds a mapping of keys to lists")
    known = {*KINDS, *PHRASE_KEYS, "ordered"}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ValueError(f"unknown keys {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    ordered = data.get("ordered", False)
    if not isinstance(ordered, bool):
        raise ValueError("ordered must be true or false")
    lists = {key: _strings(data, key) for key in (*KINDS, *PHRASE_KEYS)}
    return Expectation(**lists, ordered=ordered)


def _strings(data: Mapping[Any, Any], key: str) -> tuple[str, ...]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{key} must be a list of non-empty strings")
    return tuple(value)


def load_expectation(path: Path) -> Expectation:
    return parse_expectation(yaml.safe_load(path.read_text(encoding="utf-8")))


def corpus(directory: Path = SPECS) -> list[tuple[str, Path, Path]]:
    """(name, spec file, expectation file) of every spec in ``directory``, sorted by name."""
    found = []
    for path in sorted(directory.iterdir()):
        if path.suffix in SPEC_SUFFIXES and path.name != "README.md":
            found.append((path.stem, path, path.with_name(path.stem + ".expect.yaml")))
    return found


# --------------------------------------------------------------------------- text


def normalise(text: str) -> str:
    """Text for phrase matching: case, runs of whitespace, ``*`` and backticks ignored."""
    return " ".join(re.sub(r"[*`]", "", text).casefold().split())


_NUMBERING = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[A-Z][.)])\s+")


def heading_key(text: str) -> str:
    """A heading as compared: no ``#`` marks, emphasis, backticks, trailing colon, numbering."""
    text = re.sub(r"^\s{0,3}#{1,6}\s+|\s+#+\s*$", "", text.strip())
    text = re.sub(r"[*`]", "", text).strip().strip("_").strip().rstrip(":：").strip()
    return normalise(_NUMBERING.sub("", text))


def split_path(entry: str) -> tuple[str, ...]:
    """``"A > B"`` or ``"A › B"`` as its parts."""
    return tuple(part.strip() for part in re.split(r"\s+[>›]\s+", entry) if part.strip())


def find_heading(text: str, entry: str) -> int | None:
    """0-based line of the section ``entry`` names in ``text``, or None when it is not there.

    A single name is its last occurrence (a table of contents lists it first); each further part
    of a path is its first occurrence after the previous part."""
    keys = [heading_key(line) for line in text.split("\n")]
    parts = [heading_key(part) for part in split_path(entry)]
    if not parts:
        return None
    found = [i for i, key in enumerate(keys) if key == parts[0]]
    if not found:
        return None
    line = found[-1]
    for part in parts[1:]:
        following = next((i for i in range(line + 1, len(keys)) if keys[i] == part), None)
        if following is None:
            return None
        line = following
    return line


def locate_sections(text: str, expectation: Expectation) -> list[tuple[int, str]]:
    """(line, entry) of every listed section found in ``text``, in the order of the text."""
    located = ((find_heading(text, entry), entry) for entry in expectation.sections())
    return sorted((line, entry) for line, entry in located if line is not None)


@dataclass(frozen=True)
class SpecIndex:
    """The spec's text flattened for phrase search, with where each line starts."""

    flat: str
    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SpecIndex:
        starts: list[int] = []
        parts: list[str] = []
        position = 0
        for line in text.split("\n"):
            starts.append(position)
            flat = normalise(line)
            parts.append(flat)
            position += len(flat) + (1 if flat else 0)
        return cls(" ".join(p for p in parts if p), tuple(starts))

    def line_of(self, needle: str) -> int | None:
        """0-based line where ``needle`` (normalised) first occurs."""
        found = self.flat.find(normalise(needle)) if normalise(needle) else -1
        if found < 0:
            return None
        return bisect.bisect_right(self.starts, found) - 1


# --------------------------------------------------------------------------- issue text

_BREADCRUMB = re.compile(r"^>\s*\**Spec section:?\**:?\s*(?P<where>.+)$", re.MULTILINE)
_LABEL_BLOCK = re.compile(r"^\*\*[^*\n]+:\*\*")
_MARKER = re.compile(r"^\s*(?:>\s*)*(?:(?:[-*+]|\d{1,9}[.)])\s+)?(?:\[[ xX]\]\s*)?")


def issue_paths(issue: PlannedIssue) -> tuple[tuple[str, ...], ...]:
    """The section paths an issue names: its ``covers``, else its body's breadcrumb."""
    if issue.covers:
        return tuple(split_path(cover) for cover in issue.covers)
    match = _BREADCRUMB.search(issue.body)
    return (split_path(match["where"]),) if match else ()


def task_text(issue: PlannedIssue) -> str:
    """The issue's own task: after ``### Task`` up to the next heading or appended context
    block, or the body without quoted lines when it has no ``### Task``."""
    found = _part(issue.body, "Task")
    if found is None:
        lines = issue.body.split("\n")
        return "\n".join(line for line in lines if not line.lstrip().startswith(">")).strip()
    return found


def own_text(issue: PlannedIssue) -> str:
    """What the issue itself asks for: its title, task and acceptance criteria (no context)."""
    parts = (issue.title, task_text(issue), _part(issue.body, "Acceptance criteria") or "")
    return "\n".join(parts)


def _part(body: str, heading: str) -> str | None:
    """The text under ``### heading`` up to the next heading or a ``**Label:**`` block after
    it; None when the body has no such heading."""
    lines = body.split("\n")
    wanted = "### " + heading.casefold()
    start = next((i for i, line in enumerate(lines) if line.strip().casefold() == wanted), None)
    if start is None:
        return None
    kept: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("#") or (_LABEL_BLOCK.match(line) and any(k.strip() for k in kept)):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def content_blocks(text: str) -> list[str]:
    """Paragraphs and list items of ``text``, wrapped lines joined; headings left out."""
    blocks: list[list[str]] = []
    fresh = True
    for line in text.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            fresh = True
            continue
        if fresh or re.match(r"^\s*(?:[-*+]|\d{1,9}[.)])\s", line):
            blocks.append([])
        blocks[-1].append(line.strip())
        fresh = False
    return [" ".join(block) for block in blocks]


def _locators(issue: PlannedIssue) -> list[str]:
    """Pieces of the issue that should be found verbatim in the spec: the title (what the issue
    is about), without a section prefix or suffix, then the start of its task."""
    title = issue.title.rstrip("…").strip()
    found = [title, title.rsplit(": ", 1)[-1], re.sub(r"\s+\([^)]*\)$", "", title)]
    found += [_MARKER.sub("", block)[:120] for block in content_blocks(task_text(issue))[:1]]
    return [piece for piece in found if len(normalise(piece)) >= LOCATE_MIN_CHARS]


# --------------------------------------------------------------------------- sources


def _match_end(path: Sequence[str], entry: str) -> int | None:
    """How deep into ``path`` the listed section ``entry`` ends, when the path is at or below it."""
    want = [heading_key(part) for part in split_path(entry)]
    have = [heading_key(part) for part in path]
    ends = [
        start + len(want)
        for start in range(len(have) - len(want) + 1)
        if have[start : start + len(want)] == want
    ]
    return max(ends) if ends else None


def section_of_path(path: Sequence[str], entries: Iterable[str]) -> str | None:
    """The deepest listed section that ``path`` is at or below."""
    matches = [(end, entry) for entry in entries if (end := _match_end(path, entry)) is not None]
    return max(matches)[1] if matches else None


def section_at(located: Sequence[tuple[int, str]], line: int) -> str | None:
    """The nearest listed section whose heading is at or above ``line``."""
    above = [entry for start, entry in located if start <= line]
    return above[-1] if above else None


@dataclass(frozen=True)
class Source:
    """Where one issue comes from: its listed section (if any) and every section it touches."""

    section: str | None
    touched: frozenset[str]


def issue_source(
    issue: PlannedIssue,
    *,
    expectation: Expectation,
    index: SpecIndex,
    located: Sequence[tuple[int, str]],
) -> Source:
    entries = list(expectation.sections())
    paths = issue_paths(issue)
    touched = {s for path in paths if (s := section_of_path(path, entries)) is not None}
    primary = section_of_path(paths[0], entries) if paths else None
    if primary is None:
        lines = (index.line_of(piece) for piece in _locators(issue))
        line = next((found for found in lines if found is not None), None)
        primary = section_at(located, line) if line is not None else None
    touched |= {primary} if primary else set()
    return Source(primary, frozenset(touched))


def _under(section: str, entry: str) -> bool:
    return _match_end(split_path(section), entry) is not None or section == entry


# --------------------------------------------------------------------------- measures


def non_work_issues(sources: Sequence[Source], expectation: Expectation) -> list[int]:
    """Indexes of the issues whose section is a ``not_work`` section (or below one)."""
    kinds = expectation.sections()
    return [i for i, s in enumerate(sources) if s.section and kinds[s.section] == "not_work"]


def work_reached(sources: Sequence[Source], expectation: Expectation) -> list[str]:
    """The ``work`` sections that no issue comes from (they, or a section below them)."""
    touched = {section for source in sources for section in source.touched}
    return [w for w in expectation.work if not any(_under(t, w) for t in touched)]


def phrase_in(phrase: str, text: str) -> bool:
    return normalise(phrase) in normalise(text)


def acceptance_missing(issues: Sequence[PlannedIssue], phrases: Iterable[str]) -> list[str]:
    """The acceptance phrases no issue's title or body carries."""
    texts = [issue.title + "\n" + issue.body for issue in issues]
    return [p for p in phrases if not any(phrase_in(p, text) for text in texts)]


def done_planned(issues: Sequence[PlannedIssue], phrases: Iterable[str]) -> list[str]:
    """The done items that an issue's title names."""
    return [p for p in phrases if any(_title_names(issue.title, p) for issue in issues)]


def _title_names(title: str, phrase: str) -> bool:
    """The title contains the phrase, or was shortened ("…") from text that starts like it."""
    if phrase_in(phrase, title):
        return True
    if not title.endswith("…"):
        return False
    shown = (normalise(t.rstrip("…")) for t in (title, title.rsplit(": ", 1)[-1]))
    return any(len(s) >= LOCATE_MIN_CHARS and s in normalise(phrase) for s in shown)


_REUSE = re.compile(r"(?i)\bthe same\s+(?P<what>[^.;:\n]{3,80}?)\s+as\b")


def phrase_clusters(issues: Sequence[PlannedIssue], phrases: Iterable[str]) -> dict[str, list[str]]:
    """For each repeated-requirement phrase that more than one issue asks for (in its title, task
    or acceptance criteria), those issues' keys.

    An issue that only refers to the requirement ("the same 30-second polling interval as
    statuses") and depends on an issue that asks for it is cross-referenced, not a repeat."""
    clusters = {}
    for phrase in phrases:
        asking = {i.key for i in issues if phrase_in(phrase, _REUSE.sub(" ", own_text(i)))}
        keys = [
            issue.key
            for issue in issues
            if issue.key in asking
            or (phrase_in(phrase, own_text(issue)) and not asking & set(issue.depends_on))
        ]
        if len(keys) > 1:
            clusters[phrase] = keys
    return clusters


def _title_tokens(title: str) -> frozenset[str]:
    core = re.sub(r"\s+\([^)]*\)$", "", title.rstrip("…"))
    return frozenset(re.findall(r"\w+", core.casefold()))


def similar_titles(first: str, second: str) -> bool:
    """Near-duplicates: equal once normalised, or sharing most of their words."""
    a, b = _title_tokens(first), _title_tokens(second)
    if not a or not b:
        return False
    if a == b:
        return True
    if min(len(a), len(b)) < SIMILAR_MIN_TOKENS:
        return False
    return len(a & b) / len(a | b) >= SIMILAR_TITLES


def title_clusters(issues: Sequence[PlannedIssue]) -> list[list[str]]:
    """Groups (keys) of issues whose titles are near-duplicates of each other."""
    group = list(range(len(issues)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, first in enumerate(issues):
        for j in range(i + 1, len(issues)):
            if similar_titles(first.title, issues[j].title):
                group[root(j)] = root(i)
    members: dict[int, list[str]] = {}
    for i, issue in enumerate(issues):
        members.setdefault(root(i), []).append(issue.key)
    return [keys for keys in members.values() if len(keys) > 1]


_MERGED = re.compile(r"\band \d+ more\b|…\s*(?:and|\+)\s|\s\+\s", re.IGNORECASE)


def merged_titles(issues: Sequence[PlannedIssue]) -> list[str]:
    """Titles that join neighbours: "… and 3 more", "…and", " + "."""
    return [issue.title for issue in issues if _MERGED.search(_without_code(issue.title))]


def _without_code(title: str) -> str:
    """The title without its inline code spans (``a + b`` in code joins nothing)."""
    return re.sub(r"(`+)(?:(?!\1).)+\1", "`…`", title)


def one_line(issue: PlannedIssue) -> bool:
    """The task is one paragraph or item of at most ``ONE_LINE_WORDS`` words."""
    blocks = content_blocks(task_text(issue))
    return len(blocks) <= 1 and sum(len(b.split()) for b in blocks) <= ONE_LINE_WORDS


def junk_title(title: str, phrases: Iterable[str]) -> bool:
    """A title with the trigger, a listed phrase, a heading word alone ("Observability"), or
    inline code that lost its text (``kiln run <task_id>`` whose ``<task_id>`` was taken for an
    HTML tag)."""
    if TRIGGER.casefold() in title.casefold() or any(phrase_in(p, title) for p in phrases):
        return True
    if re.fullmatch(r"[^\W\d_][\w'’-]*", title.strip()):
        return True
    code = re.split(r"`+", title)[1::2] if title.count("`") >= 2 else []
    return any(not span.strip() or span != span.rstrip() for span in code)


def dependency_edges(issues: Sequence[PlannedIssue]) -> int:
    return sum(len(issue.depends_on) for issue in issues)


def parents(issues: Sequence[PlannedIssue]) -> int:
    """Issues of the plan that other issues have as their parent (epics)."""
    keys = {issue.key for issue in issues}
    return len({i.parent_key for i in issues if i.parent_key in keys})


def epics(issues: Sequence[PlannedIssue]) -> int:
    """The parent issues the plan gets on GitHub by default (``group: auto``, an empty spec
    issue); the other measures score the plan's own issues, without them."""
    shaped, _ = shape_plan(issues, mode="auto", room=MAX_SUB_ISSUES, parent=1)
    return parents(shaped)


# --------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class Score:
    """One spec's plan, measured; the lists say what missed, for ``--details`` and ``--json``."""

    spec: str
    issues: int
    work: int
    work_missing: tuple[str, ...]
    non_work: tuple[str, ...]  # titles of issues from not-work sections
    acceptance: int
    acceptance_missing: tuple[str, ...]
    done_planned: tuple[str, ...]
    phrase_clusters: dict[str, list[str]]
    title_clusters: tuple[tuple[str, ...], ...]  # titles of near-duplicate issues
    merged: tuple[str, ...]
    one_line: tuple[str, ...]
    edges: int
    ordered: bool
    epics: int
    junk: tuple[str, ...]
    unplaced: tuple[str, ...] = ()  # titles of issues whose section could not be told
    halved: tuple[str, ...] = ()  # merged titles of the plan asked for half as many issues

    @property
    def non_work_share(self) -> float:
        return len(self.non_work) / self.issues if self.issues else 0.0

    @property
    def acceptance_share(self) -> float | None:
        if not self.acceptance:
            return None
        return 1 - len(self.acceptance_missing) / self.acceptance

    @property
    def clusters(self) -> int:
        return len(self.phrase_clusters) + len(self.title_clusters)


def score_plan(name: str, text: str, plan: Plan, expectation: Expectation) -> Score:
    """Measure ``plan`` of the spec ``text`` against ``expectation``."""
    issues = plan.issues
    index = SpecIndex.of(text)
    located = locate_sections(text, expectation)
    sources = [
        issue_source(issue, expectation=expectation, index=index, located=located)
        for issue in issues
    ]
    titles = {issue.key: issue.title for issue in issues}
    return Score(
        spec=name,
        issues=len(issues),
        work=len(expectation.work),
        work_missing=tuple(work_reached(sources, expectation)),
        non_work=tuple(issues[i].title for i in non_work_issues(sources, expectation)),
        acceptance=len(expectation.acceptance),
        acceptance_missing=tuple(acceptance_missing(issues, expectation.acceptance)),
        done_planned=tuple(done_planned(issues, expectation.done)),
        phrase_clusters=phrase_clusters(issues, expectation.duplicates),
        title_clusters=tuple(tuple(titles[k] for k in keys) for keys in title_clusters(issues)),
        merged=tuple(merged_titles(issues)),
        one_line=tuple(issue.title for issue in issues if one_line(issue)),
        edges=dependency_edges(issues),
        ordered=expectation.ordered,
        epics=epics(issues),
        junk=tuple(i.title for i in issues if junk_title(i.title, expectation.never_titles)),
        unplaced=tuple(i.title for i, s in zip(issues, sources, strict=True) if not s.section),
    )


def plan_offline(text: str, *, max_issues: int = MAX_ISSUES) -> Plan:
    spec = parse_spec(text, max_issues=max_issues)
    if spec.errors:
        raise SystemExit(f"the spec has option errors: {spec.errors}")
    return build_offline_plan(spec, max_issues=max_issues)


def score_corpus(directory: Path = SPECS, *, max_issues: int = MAX_ISSUES) -> list[Score]:
    scores = []
    for name, spec_path, expect_path in corpus(directory):
        text = spec_path.read_text(encoding="utf-8")
        plan = plan_offline(text, max_issues=max_issues)
        score = score_plan(name, text, plan, load_expectation(expect_path))
        half = plan_offline(f"count: {max(2, len(plan.issues) // 2)}\n\n{text}")
        scores.append(replace(score, halved=tuple(merged_titles(half.issues))))
    return scores


# --------------------------------------------------------------------------- table

MISS = " ❌"
# (measure, its target): one table row each; the specs are the columns, so the table stays
# narrow (about 760 px) however many measures there are.
ROWS = (
    ("issues", ""),
    ("work reached", "all"),
    ("non-work", "< 5 %"),
    ("acceptance", "all"),
    ("done planned", "0"),
    ("duplicate clusters", "0"),
    ("merged titles", "0"),
    ("… at half the count", "0"),
    ("one-line issues", ""),
    ("dependency edges", "≥ 1 if ordered"),
    ("epics", ""),
    ("junk titles", "0"),
)
LEGEND = (
    "❌ misses its target. **work reached**: work sections some issue comes from. "
    "**non-work**: share of issues from text that is not work. **acceptance**: share of the "
    "acceptance criteria carried into some issue. **done planned**: ticked items planned as "
    "issues. **duplicate clusters**: a requirement asked for by several issues, or "
    "near-identical titles. **merged titles**: titles joining neighbours (“and 3 more”, “…and”, "
    "“ + ”); **… at half the count**: the same, planned with `count` at half the issues (merged to "
    "fit). **one-line issues**: a task of one short paragraph or item. **dependency edges**: "
    "the sum of `depends_on`; a spec that orders its work needs at least one. **epics**: parent "
    "issues the plan gets by default (one per top-level section, over 20 issues). "
    "**junk titles**: page chrome, diagram source, template labels, out-of-scope items, the "
    "trigger, a heading word alone or a lost placeholder in a title."
)
TARGET = (
    "Target (#12): non-work under 5 %, every acceptance criterion carried, no duplicate "
    "clusters, no merged-neighbour titles, dependency edges for every spec that orders its "
    "work; and no done items or junk titles, every work section reached."
)


def _percent(value: float) -> str:
    return f"{round(value * 100)}%"


def _cell(text: str, *, miss: bool) -> str:
    return text + (MISS if miss else "")


def render_cells(score: Score) -> list[str]:
    """One spec's column of the table, in the order of ``ROWS``."""
    accept = score.acceptance_share
    reached = score.work - len(score.work_missing)
    return [
        str(score.issues),
        _cell(f"{reached}/{score.work}", miss=bool(score.work_missing)),
        _cell(_percent(score.non_work_share), miss=score.non_work_share >= NON_WORK_TARGET),
        "—" if accept is None else _cell(_percent(accept), miss=accept < 1),
        _cell(str(len(score.done_planned)), miss=bool(score.done_planned)),
        _cell(str(score.clusters), miss=score.clusters > 0),
        _cell(str(len(score.merged)), miss=bool(score.merged)),
        _cell(str(len(score.halved)), miss=bool(score.halved)),
        str(len(score.one_line)),
        _cell(str(score.edges), miss=score.ordered and score.edges == 0),
        str(score.epics),
        _cell(str(len(score.junk)), miss=bool(score.junk)),
    ]


def _heading(score: Score) -> str:
    """A spec's column heading: short, and free to wrap at its spaces."""
    name = score.spec.removesuffix("_like").replace("_", " ")
    return name + (" (ordered)" if score.ordered else "")


def render_table(scores: Sequence[Score]) -> str:
    """The scores as one Markdown table (a row per measure, a column per spec), its legend
    and the target line."""
    columns = [render_cells(score) for score in scores]
    lines = [
        "| measure | target | " + " | ".join(_heading(s) for s in scores) + " |",
        "|---|---|" + "---:|" * len(scores),
    ]
    for row, (measure, target) in enumerate(ROWS):
        cells = [column[row] for column in columns]
        lines.append(f"| {measure} | {target} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", LEGEND, "", TARGET])


def render_details(scores: Sequence[Score]) -> str:
    """What missed, per spec, for the next engineer."""
    out: list[str] = []
    for score in scores:
        out += ["", f"### {score.spec}"]
        for label, values in _detail_lists(score):
            if values:
                out.append(f"- {label}: " + "; ".join(values))
    return "\n".join(out)


def _detail_lists(score: Score) -> list[tuple[str, Sequence[str]]]:
    phrases = [f"{p!r} in issues {', '.join(keys)}" for p, keys in score.phrase_clusters.items()]
    titles = [" ≈ ".join(repr(t) for t in cluster) for cluster in score.title_clusters]
    return [
        ("work not reached", score.work_missing),
        ("from non-work", score.non_work),
        ("acceptance not carried", score.acceptance_missing),
        ("done but planned", score.done_planned),
        ("repeated requirement", phrases),
        ("near-duplicate titles", titles),
        ("merged titles", score.merged),
        ("merged titles at half the count", score.halved),
        ("junk titles", score.junk),
        ("section unknown", score.unplaced),
    ]


def render_json(scores: Sequence[Score]) -> str:
    rows = []
    for score in scores:
        row = asdict(score)
        row.update(
            non_work_share=score.non_work_share,
            acceptance_share=score.acceptance_share,
            clusters=score.clusters,
        )
        rows.append(row)
    return json.dumps({"target": TARGET, "specs": rows}, ensure_ascii=False, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    parser.add_argument("--details", action="store_true", help="list what missed, per spec")
    parser.add_argument("--specs", type=Path, default=SPECS, help="the corpus directory")
    parser.add_argument("--max-issues", type=int, default=MAX_ISSUES)
    args = parser.parse_args(argv)
    scores = score_corpus(args.specs, max_issues=args.max_issues)
    if args.json:
        print(render_json(scores))
        return 0
    print(render_table(scores))
    if args.details:
        print(render_details(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
