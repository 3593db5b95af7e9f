"""Section roles (#12): which headings are context, not planned, criteria or work."""

from __future__ import annotations

import pytest

from openproducer.planning.offline import build_offline_plan
from openproducer.planning.roles import section_kind
from openproducer.spec import parse_spec


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Abstract", "reference"),
        ("Motivation", "reference"),
        ("Rationale and alternatives", "reference"),
        ("6. Alternatives Considered", "reference"),
        ("Prior art", "reference"),
        ("Unresolved questions", "reference"),
        ("Future possibilities", "reference"),
        ("Implementation History", "reference"),
        ("Production Readiness Review Questionnaire", "reference"),
        ("Release Signoff Checklist", "reference"),
        ("Risks and Mitigations", "reference"),
        ("Copyright", "reference"),
        ("Footnotes", "reference"),
        ("Does the feature change any default behaviour?", "reference"),
        ("Предпосылки", "reference"),
        ("Альтернативы", "reference"),
        ("Критерии приёмки", "criteria"),
        ("Глоссарий", "reference"),
        ("Riesgos", "reference"),
        ("Offene Fragen", "reference"),
        ("Questions ouvertes", "reference"),
        ("代替案", "reference"),
        ("替代方案", "reference"),
        ("Non-Goals", "scope"),
        ("No objetivos", "scope"),
        ("Overview", "context"),
        ("Non-functional requirements", "constraints"),
        ("Нефункциональные требования", "constraints"),
        ("Nicht-funktionale Anforderungen", "constraints"),
        ("非機能要件", "constraints"),
        ("Kubelet accounting", "work"),
        ("Профиль", "work"),
    ],
)
def test_section_roles(title: str, kind: str) -> None:
    assert section_kind(title) == kind


def plan_titles(text: str) -> list[str]:
    return [i.title for i in build_offline_plan(parse_spec(text)).issues]


def test_reference_sections_are_never_walked_even_with_sub_sections() -> None:
    text = (
        "## Rationale and alternatives\nWhy.\n### Use a queue\nWe could.\n### Do nothing\nNo.\n"
        "## Design\n### Parser\nParse the file.\n### Runner\nRun the steps."
    )
    assert plan_titles(text) == ["Design: Parser", "Design: Runner"]


def test_non_goals_nested_in_context_are_said() -> None:
    text = "## Motivation\nWhy.\n### Non-Goals\n- Billing\n## Build\n### Parser\nParse it."
    plan = build_offline_plan(parse_spec(text))
    assert 'Not planned, as "Non-Goals" says: Billing' in plan.notes
    assert [i.title for i in plan.issues] == ["Build: Parser"]


def test_questionnaire_questions_are_context() -> None:
    text = (
        "## Work\n### API\nAdd the endpoint.\n## Readiness\n### How is it turned off?\n"
        "With the flag.\n### Does it add API calls?\nNo."
    )
    assert plan_titles(text) == ["Work: API"]


def test_first_person_stories_without_criteria_are_context() -> None:
    story = (
        "I run a platform team that hosts hundreds of namespaces on shared nodes, and I want "
        "noisy tenants trimmed on the nodes where they run instead of paging my on-call."
    )
    text = f"## User stories\n### Story 1\n{story}\n## Design\n### Budget API\nAdd the API type."
    assert plan_titles(text) == ["Design: Budget API"]


def test_a_proposal_without_work_sections_is_context() -> None:
    text = "## Proposal\nWe add budgets.\n## Design\n### Budget API\nAdd the API type."
    assert plan_titles(text) == ["Design: Budget API"]
