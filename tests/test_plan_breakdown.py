"""Respecting the author's breakdown (#12): stories, descriptive bullets, spec-level criteria."""

from __future__ import annotations

from openproducer.model import Plan
from openproducer.planning.offline import RELEASE_TITLE, build_offline_plan
from openproducer.spec import parse_spec


def plan_for(text: str) -> Plan:
    return build_offline_plan(parse_spec(text))


def test_a_user_story_with_fields_is_one_issue_with_its_acceptance() -> None:
    text = (
        "## Stories\n### Story 1: Export\n"
        "- **Story:** As an admin, I want a CSV export so that I can report weekly.\n"
        "- **Acceptance:**\n  - The file has one row per member\n  - Dates are ISO 8601\n"
        "- **Benefit:** the report takes minutes.\n"
    )
    plan = plan_for(text)
    assert [i.title for i in plan.issues] == ["Story 1: Export"]
    body = plan.issues[0].body
    assert "- [ ] The file has one row per member\n- [ ] Dates are ISO 8601" in body
    assert "**Benefit:** the report takes minutes." in body


def test_bullets_describing_one_feature_are_its_checklist() -> None:
    text = (
        "## Member cards\n- The card shows the avatar or initials.\n"
        "- On hover, the card shows the member's queues.\n- Status pills carry a text label.\n"
    )
    plan = plan_for(text)
    assert [i.title for i in plan.issues] == ["Member cards"]
    assert "- On hover, the card shows the member's queues." in plan.issues[0].body


def test_commands_and_named_things_stay_one_issue_each() -> None:
    text = (
        "## Cards\n- Add the avatar\n- Show the queues\n\n"
        "## API\n- `GET /a` lists all\n- `POST /a` adds one"
    )
    assert len(plan_for(text).issues) == 4


def test_criteria_under_unnamed_sub_headings_go_to_the_issue_they_are_about() -> None:
    text = (
        "## Live updates\nThe board polls every 30 seconds.\n\n"
        "## Export\nA CSV export per team.\n\n"
        "## Acceptance criteria\n### Must have\n- [ ] The board polls every 30 seconds\n"
        "### Could have\n- [ ] CSV export of up to 31 days per team\n- [ ] Dark mode everywhere\n"
    )
    plan = plan_for(text)
    live, export, release = plan.issues
    assert "- [ ] The board polls every 30 seconds" in live.body
    assert "- [ ] CSV export of up to 31 days per team" in export.body
    assert release.title == RELEASE_TITLE
    assert "- [ ] Dark mode everywhere" in release.body
    assert "Dark mode" not in live.body + export.body


def test_author_notes_leave_titles() -> None:
    plan = plan_for("## Launch\n- [ ] Help article written [TBD: owner]\n- [ ] Notes drafted")
    assert plan.issues[0].title == "Launch: Help article written"
    assert "[TBD: owner]" in plan.issues[0].body


def test_a_parent_section_that_specifies_work_is_an_issue_too() -> None:
    long = " ".join(["The function builds a record and issues the warning."] * 12)
    text = (
        f"## Spec\n### The function\n{long}\n\n- one rule\n- another rule\n\n"
        "Any other category raises TypeError.\n\n#### Attaching records\nCopy the attribute."
    )
    titles = [i.title for i in plan_for(text).issues]
    assert titles == ["Spec: The function", "The function: Attaching records"]
