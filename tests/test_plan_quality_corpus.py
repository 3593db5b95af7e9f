"""The plan-quality corpus is well-formed, and the benchmark's scoring functions count right.

The figures themselves are not tested: ``python benchmarks/bench_plan_quality.py`` prints them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from openproducer.model import Plan, PlannedIssue
from openproducer.spec import parse_spec

ROOT = Path(__file__).resolve().parent.parent
SPECS = Path(__file__).resolve().parent / "specs"
SHAPES = {
    "kep_like",
    "rfc_like",
    "pep_like",
    "prd_user_stories",
    "roadmap_mvp",
    "web_paste",
    "non_english",
}


def _load_benchmark() -> ModuleType:
    """The benchmark module by path: ``benchmarks/`` is a folder of scripts, not a package."""
    path = ROOT / "benchmarks" / "bench_plan_quality.py"
    spec = importlib.util.spec_from_file_location("bench_plan_quality", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()
CORPUS = bench.corpus(SPECS)
NAMES = [name for name, _, _ in CORPUS]


def issue(key: str, title: str, body: str = "", **fields: Any) -> PlannedIssue:
    return PlannedIssue(key=key, title=title, body=body, **fields)


def plan(*issues: PlannedIssue) -> Plan:
    return Plan(issues=issues, planner="offline")


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_has_every_shape() -> None:
    assert set(NAMES) == SHAPES


@pytest.mark.parametrize(("name", "spec_path", "expect_path"), CORPUS, ids=NAMES)
def test_spec_is_a_long_valid_spawn(name: str, spec_path: Path, expect_path: Path) -> None:
    text = spec_path.read_text(encoding="utf-8")
    first = next(line for line in text.split("\n") if line.strip())
    assert "@TheOpenProducerBot" in first
    assert 1400 <= len(text.split()) <= 6500
    assert parse_spec(text, max_issues=100).errors == ()
    assert expect_path.exists(), f"{name} has no {expect_path.name}"


def test_the_kep_is_the_longest() -> None:
    words = {name: len(path.read_text(encoding="utf-8").split()) for name, path, _ in CORPUS}
    assert max(words, key=words.__getitem__) == "kep_like"


@pytest.mark.parametrize(("name", "spec_path", "expect_path"), CORPUS, ids=NAMES)
def test_every_listed_section_is_a_heading_of_the_spec(
    name: str, spec_path: Path, expect_path: Path
) -> None:
    text = spec_path.read_text(encoding="utf-8")
    expectation = bench.load_expectation(expect_path)
    entries = [e for kind in bench.KINDS for e in getattr(expectation, kind)]
    assert len(entries) == len(set(entries)), "a section is listed under two kinds"
    missing = [entry for entry in entries if bench.find_heading(text, entry) is None]
    assert missing == []
    assert expectation.work and expectation.not_work


@pytest.mark.parametrize(("name", "spec_path", "expect_path"), CORPUS, ids=NAMES)
def test_every_phrase_is_in_the_spec(name: str, spec_path: Path, expect_path: Path) -> None:
    text = spec_path.read_text(encoding="utf-8")
    expectation = bench.load_expectation(expect_path)
    phrases = [p for key in bench.PHRASE_KEYS for p in getattr(expectation, key)]
    assert [p for p in phrases if not bench.phrase_in(p, text)] == []
    flat = bench.normalise(text)
    assert [p for p in expectation.duplicates if flat.count(bench.normalise(p)) < 2] == []
    ticked = [line for line in text.split("\n") if re.match(r"^\s*(?:- )?\[[xX]\]", line)]
    assert [p for p in expectation.done if not any(bench.phrase_in(p, t) for t in ticked)] == []


def test_an_expectation_with_an_unknown_key_or_a_bad_value_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown keys notwork"):
        bench.parse_expectation({"notwork": ["Alternatives"]})
    with pytest.raises(ValueError, match="ordered"):
        bench.parse_expectation({"ordered": "yes"})
    with pytest.raises(ValueError, match="acceptance"):
        bench.parse_expectation({"acceptance": "exports finish"})
    assert bench.parse_expectation(None) == bench.Expectation()


# --------------------------------------------------------------------------- headings

PAGE = """Table of contents
1. Entry Points
2.3 Configuration Parser

1. Entry Points

Text.

2.3 Configuration Parser

The parser.

## Design

### **Alternatives**:

Abstract
========
"""


@pytest.mark.parametrize(
    ("entry", "line"),
    [
        ("1. Entry Points", 4),  # the last occurrence, not the table of contents
        ("Configuration Parser", 8),  # numbering ignored
        ("Design > Alternatives", 14),  # marks, emphasis and colon ignored
        ("Abstract", 16),  # an underlined (setext, reStructuredText) heading
        ("Design > Entry Points", None),  # no "Entry Points" after "Design"
        ("Rollout", None),
    ],
)
def test_find_heading(entry: str, line: int | None) -> None:
    assert bench.find_heading(PAGE, entry) == line


# --------------------------------------------------------------------------- non-work share

SPEC = """# Design

## API

Build the `GET /items` endpoint.

## Alternatives

We could poll instead of pushing updates.

## Rejected

### Webhooks

Too much set-up.
"""
EXPECT = bench.Expectation(work=("Design", "API"), not_work=("Alternatives", "Design > Rejected"))


def score(*issues: PlannedIssue, expectation: Any = EXPECT, text: str = SPEC) -> Any:
    return bench.score_plan("tiny", text, plan(*issues), expectation)


def test_an_issue_from_alternatives_is_all_non_work() -> None:
    result = score(issue("1", "Poll instead", covers=("Design > Alternatives",)))
    assert result.non_work_share == 1.0
    assert result.work_missing == ("Design", "API")


def test_the_deepest_listed_section_decides() -> None:
    result = score(
        issue("1", "Items endpoint", covers=("Design > API",)),
        issue("2", "Webhooks", covers=("Design > Rejected > Webhooks",)),
    )
    assert result.non_work == ("Webhooks",)
    assert result.non_work_share == 0.5
    assert result.work_missing == ()


def test_the_breadcrumb_names_the_section_when_covers_is_empty() -> None:
    body = "> **Spec section:** Design › Alternatives\n\n### Task\n\nPoll."
    assert score(issue("1", "Poll", body)).non_work_share == 1.0


def test_an_issue_without_a_section_is_placed_by_its_text() -> None:
    body = "> **From the spec**\n\n### Task\n\nWe could poll instead of pushing updates."
    result = score(issue("1", "Polling", body), issue("2", "Build it", "Build the `GET /items`"))
    assert result.non_work == ("Polling",)
    assert result.unplaced == ()


def test_an_issue_from_an_unlisted_place_counts_neither_way() -> None:
    result = score(issue("1", "Something else entirely", covers=("Glossary",)))
    assert result.non_work_share == 0.0
    assert result.unplaced == ("Something else entirely",)


# --------------------------------------------------------------------------- phrases


def test_acceptance_is_found_ignoring_case_whitespace_and_markup() -> None:
    issues = [issue("1", "Export", "- [ ] Exports  finish\n  within **30 seconds**")]
    missing = bench.acceptance_missing(issues, ["exports finish within 30 seconds", "CSV"])
    assert missing == ["CSV"]


def test_a_done_item_counts_when_a_title_names_it() -> None:
    issues = [
        issue("1", "Set up the repository"),
        issue("2", "Launch: Write the README for the…"),
        issue("3", "Release", "- [x] Tag the release"),
        issue("4", "Design details"),
    ]
    done = [
        "Set up the repository",
        "Write the README for the first release",
        "Tag the release",
        "Design details written down for review",
    ]
    assert bench.done_planned(issues, done) == done[:2]


def test_a_requirement_asked_for_by_two_issues_is_a_cluster() -> None:
    quoted = "> Poll on a 30-second polling interval.\n\n"
    task = "### Task\n\n"
    criteria = "\n\n### Acceptance criteria\n\n- [ ] "
    appended = "\n\n**Constraints:**\n\n"
    issues = [
        issue("1", "Poll", task + "Use a 30-second polling interval."),
        issue("2", "Bar", task + "Draw it." + criteria + "30-second polling interval"),
        issue(
            "3", "Cards", quoted + task + "Draw cards." + appended + "30-second polling interval"
        ),
    ]
    clusters = bench.phrase_clusters(issues, ["30-second polling interval", "export"])
    assert clusters == {"30-second polling interval": ["1", "2"]}


def test_reusing_a_requirement_is_a_cross_reference_when_the_issue_depends_on_it() -> None:
    task = "### Task\n\n"
    reuse = task + "Refresh on the same 30-second polling interval as statuses."
    issues = [
        issue("1", "Poll", task + "Use a 30-second polling interval."),
        issue("2", "Bar", reuse, depends_on=("1",)),
        issue("3", "Cards", reuse),
    ]
    clusters = bench.phrase_clusters(issues, ["30-second polling interval"])
    assert clusters == {"30-second polling interval": ["1", "3"]}


@pytest.mark.parametrize(
    ("first", "second", "similar"),
    [
        ("Export invoices as CSV", "export invoices as CSV", True),
        ("Export invoices as CSV", "Export invoices as CSV (Billing)", True),
        ("Export invoices as CSV files now", "Export the invoices as CSV files now", True),
        ("Export invoices as CSV", "Export invoices as PDF", False),
        ("Metrics", "Metrics endpoint", False),
    ],
)
def test_similar_titles(first: str, second: str, similar: bool) -> None:
    assert bench.similar_titles(first, second) is similar


def test_near_duplicate_titles_form_one_cluster() -> None:
    issues = [issue("1", "Add login"), issue("2", "Add logout"), issue("3", "add login")]
    assert bench.title_clusters(issues) == [["1", "3"]]


@pytest.mark.parametrize(
    ("title", "merged"),
    [
        ("Foo and 2 more", True),
        ("Export: CSV, PDF and 11 more", True),
        ("Cards + coverage bar", True),
        ("Set up CI…and the README", True),
        ("Set up CI… and the README", True),
        ("Import and export", False),
        ("`a + b` saturates", False),
    ],
)
def test_merged_titles(title: str, merged: bool) -> None:
    assert bool(bench.merged_titles([issue("1", title)])) is merged


@pytest.mark.parametrize(
    ("body", "short"),
    [
        ("> **Spec section:** A\n> intro\n\n### Task\n\nThe card shows the avatar.", True),
        ("### Task\n\nThe card shows\nthe avatar.\n\n**Context:** more", True),
        ("### Task\n\n- Draw the card.\n- Draw the pill.", False),
        ("### Task\n\nFirst paragraph.\n\nSecond paragraph.", False),
        ("### Task\n\n" + "word " * 31, False),
        ("Just a line", True),
    ],
)
def test_one_line(body: str, short: bool) -> None:
    assert bench.one_line(issue("1", "T", body)) is short


@pytest.mark.parametrize(
    ("title", "junk"),
    [
        ("Skip to content", True),  # a listed phrase
        ("@TheOpenProducerBot please plan this", True),  # the trigger line
        ("Keep a shim that calls `kiln run `…", True),  # `<task_id>` taken for a tag
        ("Run ``", True),
        ("The ``DeprecationInfo`` record", False),
        ("Add `kiln run` and `kiln watch`", False),
        ("Observability", True),  # a heading word alone
        ("Профиль", True),
        ("Observability: export Prometheus metrics", False),
        ("`presence_board_viewed`", False),
    ],
)
def test_junk_title(title: str, junk: bool) -> None:
    assert bench.junk_title(title, ["skip to content"]) is junk


def test_edges_and_epics() -> None:
    issues = [
        issue("1", "Epic"),
        issue("2", "Model", parent_key="1"),
        issue("3", "API", depends_on=("2",), parent_key="1"),
        issue("4", "CLI", depends_on=("2", "3"), parent_key="9"),
    ]
    assert bench.dependency_edges(issues) == 3
    assert bench.parents(issues) == 1


# --------------------------------------------------------------------------- the table


def test_the_table_marks_each_cell_that_misses_its_target() -> None:
    expectation = bench.Expectation(
        work=("API",), not_work=("Alternatives",), acceptance=("GET /items",), ordered=True
    )
    result = score(
        issue("1", "Poll and 2 more", covers=("Design > Alternatives",)),
        issue("2", "Add items", "Build the GET /items endpoint.", covers=("Design > API",)),
        expectation=expectation,
    )
    cells = bench.render_cells(result)
    assert cells == ["2", "1/1", "50% ❌", "100%", "0", "0", "1 ❌", "0", "2", "0 ❌", "0", "0"]
    halved = bench.render_cells(replace(result, halved=("Poll and 2 more",)))
    assert halved[7] == "1 ❌"
    assert len(cells) == len(bench.ROWS)
    unordered = bench.render_cells(bench.score_plan("tiny", SPEC, plan(), bench.Expectation()))
    assert unordered[8] == "0" and unordered[3] == "—"
    table = bench.render_table([result]).split("\n")
    assert table[0] == "| measure | target | tiny (ordered) |"
    assert table[4] == "| non-work | < 5 % | 50% ❌ |"


def test_the_benchmark_prints_json_for_the_whole_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--json", "--specs", str(SPECS)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [row["spec"] for row in printed["specs"]] == NAMES
    assert "Target" in printed["target"]
