"""Tests for the offline planner: real-looking specs in, issue titles and bodies out."""

from __future__ import annotations

from pathlib import Path

import pytest

from openproducer import PlanError
from openproducer.model import Plan, Spec
from openproducer.planning.offline import build_offline_plan
from openproducer.spec import parse_spec

SPECS = Path(__file__).parent / "data" / "specs"
EXAMPLE = Path(__file__).parent.parent / "openproducer" / "examples" / "spec.md"


def plan_for(text: str, *, max_issues: int = 100) -> Plan:
    spec = parse_spec(text, max_issues=max_issues)
    assert spec.errors == ()
    return build_offline_plan(spec, max_issues=max_issues)


def titles(plan: Plan) -> list[str]:
    return [issue.title for issue in plan.issues]


def read(name: str) -> str:
    return (SPECS / name).read_text()


# --------------------------------------------------------------------------- whole specs

EXPECTED_TITLES = {
    "five_sections_checklist.md": [
        "Authentication: Users sign in with email and password",
        "Task list",
        "Launch checklist: Write the README",
        "Set up CI on GitHub Actions",
        "Launch checklist: Add error tracking",
        "Configure nightly database backups",
        "Notifications: Send an e-mail when a task is assigned to someone…",
        "A settings page where users change their name, password and notification…",
    ],
    "nested_headings.md": [
        "Backend: Webhooks",
        "`GET /plans` lists the public plans with prices in the customer's currency",
        "`POST /subscriptions` starts a subscription, with an optional coupon",
        "`DELETE /subscriptions/{id}` cancels at the end of the period",
        "Frontend: Pricing page",
        "Frontend: Billing settings",
    ],
    "numbered_with_criteria.md": [
        "Welcome screen that asks for the team name",
        "Invite teammates by e-mail (skippable)",
        "Create a sample project with three example tasks",
        "Show a checklist widget on the dashboard until all steps are done",
        "Analytics: Track each onboarding step as an event so we can see where people…",
    ],
    "single_list.md": [
        "Dark mode colors are wrong on the settings page",
        "The export button does nothing on Safari 16",
        "Search results are not paginated",
        "Typing fast in the editor drops characters",
        "The favicon is missing on the login page",
    ],
    "paragraphs.md": [
        "We need a way for customers to export all of their data as a ZIP file from…",
        "When the export is ready we send an e-mail with a download link that expires…",
        "Finally, admins should see a log of every export in the audit trail…",
    ],
    "one_paragraph.md": [
        'Add a "Copy link" button next to every comment so people can share a direct…',
    ],
    "german.md": [
        "Anmeldung mit E-Mail-Adresse und Einmal-Code",
        "Kundenportal: Formular für Adressänderungen",
        "Upload für Nachweise (PDF, JPG, höchstens 10 MB)",
        "Statusseite für offene Anträge",
    ],
    "japanese.md": [
        "ログイン: 社員はシングルサインオンでログインする",
        "経費精算の申請フォーム",
        "休暇申請と上長による承認",
        "申請状況の一覧画面",
    ],
    "html_tags.md": [
        "Users can save a recipe to a personal cookbook",
        "Recipes can be scaled to a different number of servings",
        "Ingredients are converted between metric and imperial units",
    ],
    "tables_and_code.md": ["Configuration file", "Exit codes", "Shell completion"],
    "emphasis_headings.md": [
        "Add a `/v2/feed` endpoint with cursor pagination",
        "Rate-limit login attempts per device",
        "Pull-to-refresh on the feed",
        "Offline mode that shows the last 50 cached posts",
        "Release: Prepare the store listing, screenshots for both platforms and the…",
    ],
    "long_lines.md": [
        "Implement an automated nightly job that permanently deletes soft-deleted…",
        "Add a per-tenant retention override that administrators can configure between…",
        "Document the retention policy for the legal team",
    ],
    "metadata_header.md": ["Password reset", "Account lockout"],
    "setext_headings.md": [
        "Index titles, descriptions and comments within five seconds of a change",
        "Query syntax",
    ],
    "options_top.md": ["Welcome e-mail and Product tour", "Empty states", "Sample data"],
    "options_yaml.md": [
        "Migrate api to structured logging",
        "Migrate worker to structured logging",
        "Migrate scheduler to structured logging",
    ],
}


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED_TITLES.items()))
def test_titles_of_spec_files(name: str, expected: list[str]) -> None:
    assert titles(plan_for(read(name))) == expected


def test_every_spec_file_has_a_plan() -> None:
    assert sorted(EXPECTED_TITLES) == sorted(p.name for p in SPECS.glob("*.md"))


@pytest.mark.parametrize("path", [*sorted(SPECS.glob("*.md")), EXAMPLE], ids=lambda p: p.name)
def test_plan_invariants(path: Path) -> None:
    plan = plan_for(path.read_text())
    assert plan.planner == "offline"
    assert plan.issues
    assert [i.key for i in plan.issues] == [str(n) for n in range(1, len(plan.issues) + 1)]
    folded = [t.casefold() for t in titles(plan)]
    assert len(set(folded)) == len(folded)
    for issue in plan.issues:
        assert issue.title.strip() and "\n" not in issue.title
        assert len(issue.title) < 80
        assert "#1" not in issue.title and "task 1" not in issue.title.lower()
        assert issue.body.strip()
        assert issue.labels == ()
        assert issue.size in ("S", "M", "L")
        assert all(int(dep) < int(issue.key) for dep in issue.depends_on)
    assert plan.uncovered == ()


def test_five_sections_with_a_four_item_checklist_make_eight_issues() -> None:
    text = "\n" + read("five_sections_checklist.md")  # the trigger line, emptied in place
    plan = plan_for(text)
    assert len(plan.issues) == 8
    without_title = text.replace("# Team Tasks\n", "")
    assert titles(plan_for(without_title)) == titles(plan)


def test_the_example_spec_makes_a_convincing_plan() -> None:
    plan = plan_for(EXAMPLE.read_text())
    assert 10 <= len(plan.issues) <= 15
    assert titles(plan)[:3] == [
        "Accounts and teams",
        "Save a link with a URL, a title and an optional note",
        "Bookmarklet that saves the page currently open in the browser",
    ]
    assert any(note.startswith('Not planned, as "Out of scope" says') for note in plan.notes)


# --------------------------------------------------------------------------- bodies


def test_item_body_has_context_text_and_sub_items_as_criteria() -> None:
    plan = plan_for(read("nested_headings.md"))
    delete = plan.issues[3]
    assert delete.covers == ("Billing v2 > Backend > Plans API",)
    assert delete.group == "Backend"
    assert "> **Spec section:** Billing v2 › Backend › Plans API" in delete.body
    assert "This spec replaces the Stripe integration" in delete.body  # the preamble
    assert "**Context (Backend):**" in delete.body
    assert "All billing logic moves into the `billing` service." in delete.body
    assert (
        "### Task\n\n`DELETE /subscriptions/{id}` cancels at the end of the period" in delete.body
    )
    assert "### Acceptance criteria\n\n- [ ] cancelling twice is not an error\n" in delete.body


def test_acceptance_criteria_section_attaches_to_its_section() -> None:
    plan = plan_for(read("nested_headings.md"))
    webhooks = plan.issues[0]
    assert "- [ ] Replaying the same event twice has no effect" in webhooks.body
    assert "Billing v2 > Backend > Webhooks > Acceptance criteria" in webhooks.covers
    assert "Verify the signature on every request" in webhooks.body
    assert all("Replaying" not in issue.body for issue in plan.issues[1:])


def test_global_acceptance_criteria_attach_to_every_issue() -> None:
    plan = plan_for(read("german.md"))
    for issue in plan.issues:
        assert "- [ ] Alle Seiten erfüllen WCAG 2.1 AA" in issue.body
    assert plan.notes == ('"Hintergrund" was read as context for the issues, not as work to do.',)


def test_criteria_from_intro_lines_ac_lines_and_done_when() -> None:
    plan = plan_for(read("numbered_with_criteria.md"))
    welcome, analytics = plan.issues[0], plan.issues[-1]
    assert "- [ ] the name is required and at most 60 characters" in welcome.body
    assert "- [ ] A new user reaches the dashboard in under 2 minutes" in welcome.body
    assert "Acceptance criteria:" not in welcome.body
    assert "- [ ] The funnel report shows all four steps" in analytics.body
    assert "- [ ] The events show up in the weekly product dashboard." in analytics.body
    assert "AC:" not in analytics.body


def test_out_of_scope_and_background_are_notes_not_issues() -> None:
    plan = plan_for(read("nested_headings.md"))
    assert plan.notes == (
        '"Background" was read as context for the issues, not as work to do.',
        'Not planned, as "Out of scope" says: Tax calculation for countries outside the EU; '
        "Usage-based pricing",
    )
    assert not any("Background" in t or "scope" in t.lower() for t in titles(plan))


def test_context_tags_inform_issues_and_constraints_apply_to_all() -> None:
    plan = plan_for(read("html_tags.md"))
    for issue in plan.issues:
        assert "We are a two-person team building a recipe sharing site." in issue.body
        assert "**Constraints:** No new JavaScript frameworks." in issue.body
        assert "<context>" not in issue.body


def test_code_blocks_and_tables_stay_verbatim() -> None:
    plan = plan_for(read("tables_and_code.md"))
    assert '# this is a comment, not a heading\n[defaults]\nregion = "eu-west-1"' in (
        plan.issues[0].body
    )
    assert "| 2    | invalid arguments  |" in plan.issues[1].body


def test_paragraph_issues_keep_their_full_text() -> None:
    plan = plan_for(read("paragraphs.md"))
    assert "it has to run in the background because large accounts" in plan.issues[0].body
    long_title = titles(plan)[0]
    assert long_title.endswith("…") and len(long_title) < 80


def test_text_before_the_first_heading_is_never_an_issue() -> None:
    text = (
        "Some preamble about the product.\n\n- [ ] not a task\n- [ ] nor this\n\n"
        "## Real work\nDo it."
    )
    plan = plan_for(text)
    assert titles(plan) == ["Real work"]
    assert "Some preamble about the product." in plan.issues[0].body


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "## Auth\n- [ ] Add login form\n- [x] Add logout",
            ["Auth: Add login form", "Auth: Add logout"],
        ),
        (
            "## Auth\n1) Add login form\n2) Reset passwords by e-mail link",
            ["Auth: Add login form", "Reset passwords by e-mail link"],
        ),
        (
            "## Auth\n+ **Login** form\n+ [Logout](https://example.com/logout).",
            ["Auth: Login form", "Auth: Logout"],
        ),
        (
            "## Search\nSearch must be fast and must cover titles, descriptions and comments of "
            "every task, for every team member who can see the project.\n\n- p95 under 200 ms\n"
            "- typo tolerant",
            ["Search must be fast and must cover titles, descriptions and comments of every…"],
        ),
        ("## Tasks\n- [ ] Write docs\n- [ ] Ship it", ["Write docs", "Ship it"]),
        (
            "# Product\n## Tasks\n- [ ] Write docs\n- [ ] Ship it",
            ["Product: Write docs", "Product: Ship it"],
        ),
        (
            "## Billing\n### Tasks\n- [ ] Write docs\n- [ ] Ship it",
            ["Billing: Write docs", "Billing: Ship it"],
        ),
        (
            "## Backend\nAll in Go.\n### API\nREST.\n### Jobs\nCron.",
            ["Backend: API", "Backend: Jobs"],
        ),
        (
            "## Backend\n- [ ] Pick a queue\n- [ ] Pick a DB\n### API\nREST endpoints for tasks.",
            ["Backend: Pick a queue", "Backend: Pick a DB", "Backend: API"],
        ),
        ("## Empty heading\n## Another one", ["Empty heading", "Another one"]),
        (
            "## Background\nWe sell shoes.\n## Notes\nBe quick.",
            ["Background: We sell shoes", "Notes"],
        ),
        ("Just one line", ["Just one line"]),
        ("- only\n- a list", ["Only", "A list"]),
        ("<!-- hidden -->\nVisible text.", ["Visible text"]),
    ],
)
def test_structures(text: str, expected: list[str]) -> None:
    assert titles(plan_for(text)) == expected


def test_mixed_prose_and_short_list_is_one_issue_with_the_list_in_the_body() -> None:
    plan = plan_for(
        "## Search\nSearch must be fast and must cover titles, descriptions and comments of "
        "every task, for every team member who can see the project.\n\n- p95 under 200 ms\n"
        "- typo tolerant"
    )
    assert "- p95 under 200 ms\n- typo tolerant" in plan.issues[0].body


@pytest.mark.parametrize("text", ["", "   \n\n", "<!-- just a comment -->"])
def test_empty_spec_is_a_plan_error(text: str) -> None:
    with pytest.raises(PlanError, match="The spec is empty"):
        build_offline_plan(Spec(text=text))


def test_titles_are_unique_and_told_apart_by_section() -> None:
    text = (
        "## Web\n- [ ] Add login\n- [ ] Add login\n- [ ] Write docs\n"
        "## Mobile\n- [ ] Write docs\n- [ ] Add logout\n"
        "## Web\nMore web things to do later."
    )
    plan = plan_for(text)
    assert titles(plan) == [
        "Web: Add login",
        "Web: Write docs",
        "Mobile: Write docs",
        "Mobile: Add logout",
        "More web things to do later",
    ]
    assert plan.issues[0].body.count("Add login") == 1  # an identical repeat is one issue


def test_identical_sections_get_distinct_titles() -> None:
    plan = plan_for("## Deploy\nTo staging.\n## Deploy\nTo production.\n## Deploy\nTo the edge.")
    folded = [t.casefold() for t in titles(plan)]
    assert len(set(folded)) == 3
    assert titles(plan)[0] == "Deploy"
    assert all("#" not in t for t in titles(plan))


def test_very_long_heading_and_item_are_shortened_at_a_word_boundary() -> None:
    heading = "Make " + "very " * 30 + "long things work"
    plan = plan_for(f"## {heading}\nText.")
    title = titles(plan)[0]
    assert title.startswith("Make very very") and title.endswith("very…")
    assert len(title) < 80
    assert heading in plan.issues[0].body or heading == plan.issues[0].covers[0]
    assert heading in plan.issues[0].covers[0]


def test_dependencies_named_explicitly() -> None:
    text = (
        "## Steps\n- [ ] Create the database schema\n- [ ] Write the importer\n\n"
        "## Rollout\nStart the rollout after the Write the importer step is done."
    )
    plan = plan_for(text)
    assert [i.depends_on for i in plan.issues] == [(), (), ("2",)]


# --------------------------------------------------------------------------- options


def test_template_and_components() -> None:
    text = (
        "```yaml\ntemplate: |\n  Migrate {component} ({index})\n  - [ ] switch {component}\n"
        "components: [api, worker]\n```\n\nMove every service to structured logs."
    )
    plan = plan_for(text)
    assert titles(plan) == ["Migrate api (1)", "Migrate worker (2)"]
    body = plan.issues[1].body
    assert "- [ ] switch worker" in body
    assert "Move every service to structured logs." in body
    assert plan.issues[1].group == "worker"


def test_components_without_template() -> None:
    plan = plan_for("components: Billing, Search\n\nAudit each area for slow queries.")
    assert titles(plan) == ["Billing", "Search"]
    assert "Audit each area for slow queries." in plan.issues[0].body
    assert "**Component:** Billing" in plan.issues[0].body


def test_count_is_not_used_with_components() -> None:
    plan = plan_for("components: a, b\ncount: 5\n\nSpec.")
    assert len(plan.issues) == 2
    assert plan.notes == ("count 5 was not used: there is one issue per component (2).",)


def test_long_spec_is_folded_in_component_issues() -> None:
    plan = plan_for("components: a\n\n" + "A long paragraph. " * 120)
    assert "<details><summary>The spec</summary>" in plan.issues[0].body


def test_template_without_components_is_added_to_every_issue() -> None:
    plan = plan_for("template: Check the docs for {component}\n\n## Auth\nLogin.\n## Billing\nPay.")
    assert titles(plan) == ["Auth", "Billing"]
    assert "Check the docs for Billing" in plan.issues[1].body
    assert plan.notes[-1].startswith("The template was added to every issue")


def test_count_merges_within_a_section_first() -> None:
    plan = plan_for("count: 3\n\n" + read("five_sections_checklist.md"))
    assert titles(plan) == [
        "Authentication: Users sign in with email and password",
        "Task list and Launch checklist",
        "Notifications and Settings",
    ]
    assert plan.notes == (
        "Merged related items into 3 issues, as count asks (8 found): “Task list” with "
        "“Launch checklist”; “Notifications” with “Settings”.",
    )
    merged = plan.issues[1].body
    assert "#### Launch checklist: Write the README" in merged
    assert "Configure nightly database backups" in merged


def test_count_merge_lists_items_when_part_of_a_section() -> None:
    plan = plan_for("count: 7\n\n" + read("five_sections_checklist.md"))
    assert titles(plan)[2] == "Launch checklist: Write the README and Set up CI on GitHub Actions"


def test_count_splits_items_by_sub_items() -> None:
    plan = plan_for("count: 7\n\n" + read("numbered_with_criteria.md"))
    assert titles(plan)[:3] == [
        "Welcome screen that asks for the team name",
        "The name is required and at most 60 characters",
        "Pressing Enter submits the form",
    ]
    assert "**Part of:** Welcome screen that asks for the team name" in plan.issues[1].body
    assert plan.notes == ()


def test_count_splits_paragraphs_into_sentences() -> None:
    plan = plan_for("count: 5\n\n" + read("paragraphs.md"))
    assert len(plan.issues) == 5
    assert (
        titles(plan)[1] == "The export should include projects, tasks, comments and uploaded files…"
    )


def test_count_the_spec_cannot_support_is_a_note_not_filler() -> None:
    plan = plan_for("count: 20\n\n## Export\nExport tasks as CSV.\n## Import\nImport them again.")
    assert titles(plan) == ["Export tasks as CSV", "Import them again"]
    assert plan.notes == ("The spec supports 2 distinct issues; asked for 20.",)


def test_max_issues_merges_down_with_a_note() -> None:
    text = "## Chores\n" + "\n".join(
        f"- [ ] Rename module number {n} to its new name" for n in range(12)
    )
    plan = plan_for(text, max_issues=5)
    assert len(plan.issues) == 5
    (note,) = plan.notes
    assert note.startswith(
        "The spec has 12 items; related ones were merged to stay within the limit of 5 issues: "
        "“Rename module number 0 to its new name” with “Rename module number 1 to its new name”"
    )
    assert note.endswith("“Rename module number 11 to its new name”.")
    assert note.count(" with ") == 5  # one clause per merged issue
    assert all(len(t) < 80 for t in titles(plan))
    assert sum(issue.body.count("- [ ] ") == 0 for issue in plan.issues) == 5


def test_criteria_sub_headings_attach_to_the_sections_they_name() -> None:
    text = (
        "# App\n## Login\nUsers log in.\n## Signup\nUsers sign up.\n"
        "## Acceptance criteria\nAll pages load in 1s.\n### Login\n- fast\n"
        "### Signup\n- e-mail confirmed\n## Acceptance criteria (Reports)\n- PDF opens\n"
        "## Overview of modules\nThe app has modules.\n### Reports\nWeekly PDF reports."
    )
    plan = plan_for(text)
    assert titles(plan) == ["Login: Users log in", "Signup: Users sign up", "Weekly PDF reports"]
    criteria = [i.body.split("### Acceptance criteria\n\n")[1] for i in plan.issues]
    assert criteria == [
        "- [ ] fast\n- [ ] All pages load in 1s.\n",
        "- [ ] e-mail confirmed\n- [ ] All pages load in 1s.\n",
        "- [ ] PDF opens\n- [ ] All pages load in 1s.\n",
    ]
    assert plan.issues[0].covers == (
        "App > Login",
        "App > Acceptance criteria",
        "App > Acceptance criteria > Login",
    )
    assert "**Context (Overview of modules):** The app has modules." in plan.issues[2].body


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<context>\nWe build a todo app.\n</context>", ["We build a todo app"]),
        ("```python\nprint('x')\n```", ["Print('x')"]),
        ("- [ ] **Fix** the [docs](http://x).", ["Fix the docs"]),
        ("1. Only one step", ["Only one step"]),
        ("---", ["Work from the spec"]),
    ],
)
def test_degenerate_specs_still_make_one_titled_issue(text: str, expected: list[str]) -> None:
    assert titles(plan_for(text)) == expected
