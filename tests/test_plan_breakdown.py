"""Respecting the author's breakdown (#12): stories, descriptive bullets, spec-level criteria."""

from __future__ import annotations

import re

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


STORIES_AND_FEATURES = (
    "# PRD: Presence board\n\n"
    "## User stories\n"
    "### Story 1: Stay current without reloading\n"
    "- **Story:** As a lead, I want the board to update by itself so that I trust it.\n"
    "- **Acceptance:**\n"
    "  - The board refreshes on a 30-second polling interval while the tab is visible.\n"
    "  - When the tab is hidden, polling pauses.\n"
    "- **Benefit:** the board can stay open all day.\n"
    "### Story 2: See coverage against the schedule\n"
    "- **Story:** As a lead, I want available against scheduled people so that I see gaps.\n"
    "- **Acceptance:**\n"
    "  - A coverage bar shows available / scheduled for the current hour.\n"
    "  - The scheduled count refreshes on the same 30-second polling interval as statuses.\n"
    "### Story 3: Change my own status\n"
    "- **Story:** As an agent, I want to set my status from the board so that it stays true.\n"
    "- **Acceptance:**\n  - My card has a status menu.\n"
    "\n## Features\n"
    "### Live updates\n"
    "The board uses a 30-second polling interval against the presence endpoint.\n\n"
    "- Polling pauses when the page is hidden.\n- Unchanged responses return 304.\n"
    "### Coverage bar\n"
    "- The bar shows available people against scheduled people.\n"
    "- Scheduled counts come from the schedules endpoint.\n"
    "### Status grouping\n"
    "- Groups appear in the fixed order Available, Busy, Away.\n"
    "- Within a group, members are sorted by time in status, longest first.\n"
    '- Empty groups are collapsed to a single line such as "Away (0)".\n'
)


def test_a_story_that_restates_a_feature_is_one_issue_with_it_in_the_storys_place() -> None:
    plan = plan_for(STORIES_AND_FEATURES)
    assert [i.title for i in plan.issues] == [
        "Live updates: stay current without reloading",
        "Coverage bar: see coverage against the schedule",
        "Story 3: Change my own status",
        "Status grouping",
    ]
    live = plan.issues[0].body
    assert "> **Spec section:** PRD: Presence board › Features › Live updates" in live
    assert "**Also in the spec:** User stories › Story 1: Stay current without reloading" in live
    assert "The board uses a 30-second polling interval against the presence endpoint." in live
    assert "#### User story" in live and "the board can stay open all day" in live
    assert "- [ ] When the tab is hidden, polling pauses." in live


def test_reusing_what_another_issue_states_depends_on_that_issue() -> None:
    live, coverage, status, grouping = plan_for(STORIES_AND_FEATURES).issues
    assert coverage.depends_on == (live.key,)
    assert status.depends_on == grouping.depends_on == ()


def test_a_story_that_names_no_feature_stays_its_own_issue() -> None:
    text = STORIES_AND_FEATURES.split("\n## Features\n")[0] + "\n## Export\n- CSV per team.\n"
    titles = [i.title for i in plan_for(text).issues]
    assert titles == [
        "Story 1: Stay current without reloading",
        "Story 2: See coverage against the schedule",
        "Story 3: Change my own status",
        "Export: CSV per team",
    ]


def test_the_introduction_quoted_in_every_issue_is_prose_not_a_table_or_contents() -> None:
    long_row = "| **Owner** | Priya Raman, product manager of the presence team since spring |\n"
    text = (
        "# PRD: Presence board\n\n| | |\n| --- | --- |\n" + long_row * 4 + "\n"
        "- [Summary](#summary)\n- [Export](#export)\n\n"
        "## Summary\nTeams find out who is available by asking in chat. " * 3 + "\n\n"
        "## Export\n- CSV per team.\n"
    )
    body = plan_for(text).issues[0].body
    assert "> Teams find out who is available by asking in chat." in body
    assert "| --- |" not in body and "](#summary)" not in body


def test_items_that_finish_the_sentence_before_them_are_one_feature() -> None:
    text = (
        "## Уведомления\nПриложение присылает push-уведомления:\n\n"
        "- за два часа до занятия, на которое записан участник;\n"
        "- когда участник записан из листа ожидания;\n"
        "- когда занятие отменено клубом.\n\n"
        "## Reminders\nThe app sends an e-mail:\n\n- the day before a booking;\n- an hour before.\n"
    )
    plan = plan_for(text)
    assert len(plan.issues) == 2
    assert "- когда занятие отменено клубом." in plan.issues[0].body
    assert "- an hour before." in plan.issues[1].body


def test_rules_about_named_fields_are_the_checklist_of_one_issue() -> None:
    text = (
        "## The LogBudget API\nA namespaced object with two fields and a status.\n\n"
        "- `perNodeBytes` must be at least 10 MiB, so that a typo does not delete every log.\n"
        "- `lowWaterPercent` must be between 10 and 95.\n"
        "- `metadata.name` must be `default`; any other name is rejected.\n"
    )
    assert [i.title for i in plan_for(text).issues] == ["The LogBudget API"]


def test_endpoints_stay_one_issue_each() -> None:
    text = (
        "## Billing API\nThe API the pricing page uses.\n\n"
        "- `GET /plans` lists the public plans with prices.\n"
        "- `POST /subscriptions` starts a subscription.\n"
        "- `DELETE /subscriptions/{id}` cancels at the end of the period.\n"
    )
    assert len(plan_for(text).issues) == 3


def test_sentences_in_another_language_describe_a_feature_and_infinitives_are_tasks() -> None:
    rules = (
        "## Вход\nВход выполняется по номеру телефона и коду из SMS.\n\n"
        "- Код состоит из шести цифр и действует пять минут.\n"
        "- После входа сессия живёт тридцать дней и продлевается при использовании.\n"
        "- Записаться можно не раньше чем за семь дней до начала занятия.\n"
    )
    tasks = (
        "## Вход\nЧто нужно сделать.\n\n"
        "- Добавить вход по номеру телефона и коду из SMS.\n"
        "- Настроить отправку SMS через шлюз оператора связи.\n"
        "- Ограничить число запросов кода пятью в час.\n"
    )
    assert len(plan_for(rules).issues) == 1
    assert len(plan_for(tasks).issues) == 3


def test_a_heading_that_names_one_thing_keeps_its_items_as_its_checklist() -> None:
    text = (
        "### `kiln run`\n`kiln run <task_id>` loads the workspace and runs the targets.\n\n"
        "- `kiln run` with no argument lists the available tasks.\n"
        "- `--jobs N` limits parallelism.\n- `--dry-run` prints the tasks that would run.\n"
    )
    (issue,) = plan_for(text).issues
    assert issue.title == "`kiln run <task_id>` loads the workspace and runs the targets"
    assert "- `--dry-run` prints the tasks that would run." in issue.body


def test_signatures_and_long_sentences_describe_the_api_of_their_section() -> None:
    text = (
        "## Remaining time\nWhat a deadline can tell.\n\n"
        "- `pub fn remaining(self) -> Duration`: the time until the deadline, or zero.\n"
        "- `pub fn has_passed(self) -> bool`: true when `remaining()` would be zero.\n"
        "- Arithmetic saturates at the far end instead of panicking, so adding a long duration "
        "to a deadline is always safe.\n"
    )
    assert [i.title for i in plan_for(text).issues] == ["Remaining time"]


def test_fitting_a_count_names_the_section_merged_whole_never_and_n_more() -> None:
    features = "".join(f"### Feature number {n}\nBuild feature {n} of the app.\n" for n in range(8))
    text = "count: 2\n\n## Set-up\nCreate the repository and CI.\n## Features\n" + features
    plan = plan_for(text)
    titles = [i.title for i in plan.issues]
    assert titles[1].startswith("Features: Feature number 0, Feature number 1, Feature number")
    assert not any(re.search(r"and \d+ more", t) for t in titles)
    assert plan.notes[-1].startswith(
        "Merged related items into 2 issues, as count asks (9 found): “Feature number 0” with "
        "“Feature number 1”, “Feature number 2”,"
    )


def test_a_count_larger_than_the_spec_never_cuts_a_sections_prose_into_sentences() -> None:
    text = (
        "count: 6\n\n## Deadlines\nA deadline is a moment in the future. You pass it to every "
        "step of the operation. And then each step asks how much time is left.\n\n"
        "It never goes backwards, because it uses the monotonic clock of the process.\n"
        "## Sockets\nRead and write deadlines for sockets.\n"
    )
    plan = plan_for(text)
    assert len(plan.issues) == 2
    assert plan.notes[-1] == "The spec supports 2 distinct issues; asked for 6."
