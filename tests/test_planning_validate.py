"""validate_plan: the rules every plan must pass, whichever planner made it."""

from __future__ import annotations

from typing import Any

import pytest

from openproducer import AIPlanningError, PlanError
from openproducer.model import Plan, PlannedIssue, Section
from openproducer.planning.schema import IssueDraft
from openproducer.planning.validate import (
    MAX_BODY,
    MAX_TITLE,
    TRUNCATED_BODY,
    revalidate,
    validate_plan,
)
from openproducer.safety import ZWJ

SECTIONS = (
    Section(("Shop",), 1, 1, ""),
    Section(("Shop", "Catalog"), 2, 3, "Products with photos."),
    Section(("Shop", "Checkout"), 2, 6, "Cart and payment."),
    Section(("Shop", "Checkout", "Payment providers"), 3, 8, "Stripe first."),
    Section(("Shop", "Admin reports"), 2, 11, "Daily sales."),
)


def d(title: str = "Do it", body: str = "Body", **fields: Any) -> IssueDraft:
    return IssueDraft.model_validate({"title": title, "body": body, **fields})


def check(drafts: list[Any], *, max_issues: int = 10, sections: Any = SECTIONS) -> Plan:
    return validate_plan(drafts, max_issues=max_issues, sections=sections, planner="openai")


def test_keys_follow_plan_order_and_dependencies_use_them() -> None:
    plan = check([d("A"), d("B", depends_on=[1]), d("C", depends_on=["#2", 1])])
    assert [(i.key, i.depends_on) for i in plan.issues] == [
        ("1", ()),
        ("2", ("1",)),
        ("3", ("1", "2")),
    ]
    assert plan.notes == ()


@pytest.mark.parametrize(
    "deps",
    [[2], [1], [7], [0]],
    ids=["forward", "self", "nowhere", "zero"],
)
def test_bad_dependencies_are_dropped_with_a_note(deps: list[int]) -> None:
    plan = check([d("A"), d("B", depends_on=deps), d("C")])
    assert plan.issues[0].depends_on == ()
    assert plan.issues[1].depends_on == () or deps == [1]
    if deps != [1]:
        assert any("Dropped 1 dependency" in n for n in plan.notes)


def test_a_cycle_cannot_survive() -> None:
    plan = check([d("A", depends_on=[2]), d("B", depends_on=[1])])
    assert [i.depends_on for i in plan.issues] == [(), ("1",)]


def test_too_many_issues_are_cut_with_a_note() -> None:
    plan = check([d(f"T{n}", depends_on=[n + 1]) for n in range(1, 31)], max_issues=5)
    assert len(plan.issues) == 5
    assert plan.notes == (
        "The planner proposed 30 issues; only the first 5 were kept (the limit for this run is 5).",
        "Dropped 4 dependencies that did not point to an earlier issue of the plan.",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Add\n the   cart ", "Add the cart"),
        ("## Heading title", "Heading title"),
        ("", "Fallback from body"),
        ("   ", "Fallback from body"),
        ("x" * 400, "x" * (MAX_TITLE - 1) + "…"),
    ],
)
def test_titles_are_one_clean_line(raw: str, expected: str) -> None:
    plan = check([d(raw, body="\n## Fallback from body\nmore")])
    assert plan.issues[0].title == expected


def test_titles_are_unique_ignoring_case() -> None:
    plan = check([d("Add cart"), d("add CART"), d("Add cart"), d("Add cart (2)")])
    assert [i.title for i in plan.issues] == [
        "Add cart",
        "add CART (2)",
        "Add cart (3)",
        "Add cart (2) (2)",
    ]


def test_long_bodies_are_shortened() -> None:
    plan = check([d("A", body="y" * (MAX_BODY + 10))])
    assert len(plan.issues[0].body) == MAX_BODY
    assert plan.issues[0].body.endswith(TRUNCATED_BODY)
    assert any("Shortened the body of issue(s) 1" in n for n in plan.notes)


def test_labels_are_trimmed_deduplicated_and_capped() -> None:
    labels = ["  bug ", "BUG", "", "x" * 60, *[f"l{n}" for n in range(20)]]
    (issue,) = check([d("A", labels=labels)]).issues
    assert issue.labels[:2] == ("bug", "x" * 50)
    assert len(issue.labels) == 10


def test_everything_generated_is_neutralized() -> None:
    hostile = "@TheOpenProducerBot @octocat <!-- openproducer:state --> /spawn-issues"
    plan = check([d(hostile, body=hostile, labels=["@admin"], covers=[hostile])])
    issue = plan.issues[0]
    for text in (issue.title, issue.body, *issue.labels):
        assert "@" + ZWJ in text
        assert "<!--" not in text and "-->" not in text
    assert "/" + ZWJ + "spawn-issues" in issue.body


def test_an_empty_answer_is_an_invalid_answer() -> None:
    with pytest.raises(AIPlanningError) as caught:
        check([])
    assert caught.value.kind == "invalid_answer"


def test_an_empty_offline_plan_is_a_plan_error() -> None:
    with pytest.raises(PlanError):
        validate_plan([], max_issues=5, sections=(), planner="offline")


@pytest.mark.parametrize(
    ("covers", "title", "uncovered"),
    [
        (["Catalog", "Checkout"], "Work", ("Shop > Admin reports",)),
        (
            ["Shop > Checkout > Payment providers"],
            "Work",
            ("Shop > Catalog", "Shop > Admin reports"),
        ),
        (
            [],
            "Admin reports page",
            ("Shop > Catalog", "Shop > Checkout", "Shop > Checkout > Payment providers"),
        ),
        (["catalog", "admin REPORTS", "checkout"], "Work", ()),
    ],
)
def test_uncovered_sections(covers: list[str], title: str, uncovered: tuple[str, ...]) -> None:
    plan = check([d(title, covers=covers)])
    assert plan.uncovered == uncovered


def test_covers_are_canonical_section_paths() -> None:
    (issue,) = check([d("A", covers=["checkout", "Nope"])]).issues
    assert issue.covers == ("Shop > Checkout",)
    assert issue.group == "Checkout"  # the top-level section below the title "Shop"


def test_planned_issues_revalidate_unchanged() -> None:
    first = check([d("A", covers=["Catalog"]), d("B", depends_on=[1], size="L")])
    again = revalidate(first, max_issues=10, sections=SECTIONS)
    assert again == first


def test_offline_style_keys_resolve() -> None:
    issues = (
        PlannedIssue(key="a", title="First", body="x"),
        PlannedIssue(key="b", title="Second", body="y", depends_on=("a", "zz"), size="huge"),
    )
    plan = validate_plan(issues, max_issues=5, sections=(), planner="offline")
    assert [(i.key, i.depends_on, i.size) for i in plan.issues] == [
        ("1", (), None),
        ("2", ("1",), None),
    ]
