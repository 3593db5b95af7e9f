"""Dependency edges from the order a spec gives its work (#12)."""

from __future__ import annotations

import pytest

from openproducer.model import Plan
from openproducer.planning.dependencies import foundations_first, match_step, ordered_steps, words
from openproducer.planning.offline import build_offline_plan
from openproducer.spec import parse_spec


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        (
            "The work lands in order: first the parser, then the runner, and only then the report.",
            ["the parser", "the runner", "the report"],
        ),
        (
            "MVP: 1) project set-up, 2) the data model, 3) the executor.",
            ["project set-up", "the data model", "the executor"],
        ),
        ("Local caching of outputs, then watch mode.", ["Local caching of outputs", "watch mode"]),
        ("Steps 2) and 1) are out of order.", []),
        ("Nothing is ordered here.", []),
    ],
)
def test_ordered_steps(text: str, steps: list[str]) -> None:
    assert ordered_steps(text) == steps


def test_a_step_names_the_issue_sharing_its_first_word() -> None:
    names = [words("Kubelet accounting"), words("Enforcement and deletion order")]
    assert match_step("enforcement on top of the accounting", names) == 1
    assert match_step("caching", [words("Local cache")]) == 0
    assert match_step("unrelated words", names) is None


def edges(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {issue.title: issue.depends_on for issue in plan.issues if issue.depends_on}


def test_first_then_prose_orders_the_sections() -> None:
    text = (
        "## Plan\nFirst the data model, then the executor, then the command line.\n"
        "## Data model\nTables for tasks.\n## Executor\nRuns tasks.\n## Command line\nThe CLI."
    )
    plan = build_offline_plan(parse_spec(text))
    assert edges(plan) == {"Executor": ("2",), "Command line": ("3",)}


def test_a_numbered_roadmap_list_orders_its_items() -> None:
    text = (
        "## Overview\nA file sync tool.\n\n## Roadmap\n1. Storage layer\n2. Sync engine\n"
        "3. Conflict resolution"
    )
    plan = build_offline_plan(parse_spec(text))
    assert edges(plan) == {"Roadmap: Sync engine": ("1",), "Roadmap: Conflict resolution": ("2",)}


def test_edges_point_to_earlier_issues_only() -> None:
    text = (
        "## Executor\nRuns tasks.\n## Data model\nTables.\n"
        "## Order\nFirst the data model, then the executor."
    )
    plan = build_offline_plan(parse_spec(text))
    for issue in plan.issues:
        assert all(int(key) < int(issue.key) for key in issue.depends_on)


def test_foundations_come_first_when_the_spec_says_so() -> None:
    text = (
        "## Executor\nRuns tasks.\n## Data model\nTables for tasks.\n"
        "## Order\nFirst the data model, then the executor."
    )
    plan = build_offline_plan(parse_spec(text))
    assert [i.title for i in plan.issues][:2] == ["Data model", "Executor"]
    assert plan.issues[1].depends_on == ("1",)


def test_foundations_move_just_ahead_of_what_needs_them() -> None:
    assert foundations_first(4, {(2, 0)}) == [2, 0, 1, 3]
    assert foundations_first(3, {(0, 1), (1, 0)}) == [1, 0, 2]
    assert foundations_first(3, set()) == [0, 1, 2]


ROADMAP = (
    "## Roadmap\n"
    "**MVP:** 1) the data model, 2) the executor, 3) the run command.\n\n"
    "**Phase 2:** local caching of outputs, then watch mode.\n\n"
    "**Phase 3:** a remote cache shared with CI, and a graph command for the task graph.\n\n"
    "## Data model\nTables for tasks.\n## Executor\nRuns tasks.\n## Run command\nThe CLI.\n"
    "## Local cache\nOutputs are kept per fingerprint.\n## Watch mode\nRe-runs on change.\n"
    "## Remote cache\nShared between machines.\n## Graph command\nDraws the task graph.\n"
)


def test_each_phase_of_a_roadmap_follows_the_one_before() -> None:
    plan = build_offline_plan(parse_spec(ROADMAP))
    keys = {issue.title.split(":")[0]: issue.key for issue in plan.issues}
    deps = {issue.title.split(":")[0]: issue.depends_on for issue in plan.issues}
    assert deps["Local cache"] == (keys["Run command"],)  # Phase 2 after the MVP
    assert deps["Watch mode"] == (keys["Local cache"],)
    assert deps["Remote cache"] == deps["Graph command"] == (keys["Watch mode"],)


def test_has_to_settle_before_orders_the_work() -> None:
    text = (
        "## Local cache\nOutputs per fingerprint.\n## Data model\nTables for tasks.\n"
        "## Order of work\nThe cache is keyed by the fingerprint, so the data model has to "
        "settle before caching starts.\n"
    )
    plan = build_offline_plan(parse_spec(text))
    assert [i.title.split(":")[0] for i in plan.issues][:2] == ["Data model", "Local cache"]
    assert plan.issues[1].depends_on == ("1",)


def test_then_in_a_features_own_description_is_its_behaviour_not_an_order() -> None:
    text = (
        "## Watch mode\n`kiln watch` runs the target, then watches the inputs of every task.\n"
        "## Exit codes\nThe exit code is 0 when every target succeeded.\n"
        "## Task inputs\nEach task lists the inputs it reads.\n"
    )
    assert edges(build_offline_plan(parse_spec(text))) == {}
