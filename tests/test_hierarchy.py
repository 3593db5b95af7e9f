"""Native hierarchy: sub-issues, blocked-by links, the 100-child limit, and old servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from openproducer.hierarchy import shape_plan
from openproducer.model import GroupMode, PlannedIssue
from openproducer.sandbox import GitHubEmulator
from tests.conftest import REPO, TRIGGER, Harness
from tests.fakes.ai_server import openai_reply, serve_ai

SPEC = f"""{TRIGGER}

## Checkout
Customers pay for their cart with a card, see a receipt and get an e-mail.
"""


def _ai_plan(n: int) -> str:
    issues = [
        {
            "title": f"Checkout step {i}: part of the payment flow",
            "body": f"## Context\nStep {i}.\n## What to do\nBuild it.\n"
            "## Acceptance criteria\n- [ ] works",
            "labels": ["checkout"],
            "depends_on": [i - 1] if i > 1 else [],
            "size": "S",
            "covers": ["Checkout"],
        }
        for i in range(1, n + 1)
    ]
    if n > 5:
        issues[5]["depends_on"] = [1, 3]
    return json.dumps({"issues": issues, "notes": []})


def test_ai_plan_with_dependencies_becomes_sub_issues_with_blocked_by_links(
    gh: Harness,
) -> None:
    with serve_ai() as ai:
        ai.queue(openai_reply(_ai_plan(12)))
        issue, result = gh.open_issue(
            SPEC, ai_provider="openai", ai_api_key="sk-test", ai_base_url=ai.openai_url
        )
        assert len(ai.requests) == 1
    assert result.outputs["status"] == "completed", result.log
    parent = issue["number"]
    created = sorted(gh.created(parent), key=lambda i: i["number"])
    assert len(created) == 12
    children = gh.emu.sub_issues(REPO, parent)
    assert sorted(c["number"] for c in children) == [i["number"] for i in created]
    by_title = {i["title"]: i for i in created}
    sixth = by_title["Checkout step 6: part of the payment flow"]
    blockers = {b["number"] for b in gh.emu.blocked_by(REPO, sixth["number"])}
    assert blockers == {created[0]["number"], created[2]["number"]}
    for item in created[1:]:
        for blocker in gh.emu.blocked_by(REPO, item["number"]):
            assert blocker["number"] < item["number"]  # every dependency existed first
            assert f"#{blocker['number']}" in item["body"]  # and is written in the body too
    assert json.loads(result.outputs["ai-usage"])["prompt_tokens"] > 0

    rolled = gh.comment(parent, f"{TRIGGER} rollback last")
    assert rolled.outputs["status"] == "rolled_back"
    assert gh.emu.sub_issues(REPO, parent) == []
    assert gh.emu.blocked_by(REPO, sixth["number"]) == []
    assert "sub-issue and dependency link" in gh.last_reply(parent)


def test_confirm_makes_no_ai_request(gh: Harness) -> None:
    with serve_ai() as ai:
        ai.queue(openai_reply(_ai_plan(4)))
        ai_inputs = {"ai_provider": "openai", "ai_api_key": "sk-test", "ai_base_url": ai.openai_url}
        issue, preview = gh.open_issue(SPEC, dry_run="true", **ai_inputs)
        assert preview.outputs["status"] == "pending", preview.log
        confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm", **ai_inputs)
        assert len(ai.requests) == 1
    assert confirmed.outputs["status"] == "completed"
    assert len(gh.created(issue["number"])) == 4


def test_a_130_issue_plan_respects_the_100_child_limit(gh: Harness) -> None:
    sections = "\n".join(
        f"## Area {a}\n" + "\n".join(f"- Task {a}.{i} for area {a}" for i in range(n))
        for a, n in (("A", 50), ("B", 40), ("C", 40))
    )
    issue, _ = gh.open_issue(f"{TRIGGER}\n{sections}", max_issues="150")
    assert "grouped under 3 section issues" in gh.last_reply(issue["number"])
    confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm", max_issues="150")
    assert confirmed.outputs["status"] == "completed", confirmed.log
    top = gh.emu.sub_issues(REPO, issue["number"])
    assert len(top) == 3
    assert sorted(len(gh.emu.sub_issues(REPO, g["number"])) for g in top) == [40, 40, 50]


def test_without_the_endpoints_the_run_completes_with_text_links(tmp_path: Path) -> None:
    with GitHubEmulator(sub_issues=False, dependencies=False) as emu:
        gh = Harness(emu, tmp_path)
        gh.user("alice")
        with serve_ai() as ai:
            ai.queue(openai_reply(_ai_plan(6)))
            issue, result = gh.open_issue(
                SPEC, ai_provider="openai", ai_api_key="sk-test", ai_base_url=ai.openai_url
            )
        assert result.outputs["status"] == "completed", result.log
        created = sorted(gh.created(issue["number"]), key=lambda i: i["number"])
        assert len(created) == 6
        assert f"Blocked by #{created[0]['number']}" in created[1]["body"]
        summary = gh.bot_comments(issue["number"])[0]["body"]
        assert all(f"- [ ] #{i['number']}" in summary for i in created)
        assert summary.count("no sub-issues API") == 1


# Three top-level work sections, 25 tasks, and an order that crosses the sections.
CALENDAR = """# Team calendar

Shared calendars for small teams: people book rooms and see each other's time off. Build it in
this order: first the events table, then the overlapping room bookings check, and then the week
view with one column per day.

## Storage
- [ ] Add a `calendars` table with owner, time zone and colour
- [ ] Add an `events` table with start, end, recurrence rule and location
- [ ] Add a `rooms` table with capacity and the floor it is on
- [ ] Store time-off entries per person, with half-day granularity
- [ ] Migrate the existing holiday spreadsheet into time-off entries
- [ ] Index events by calendar and start time for week views
- [ ] Keep a change history of every event for audit
- [ ] Back up the database every hour to object storage
- [ ] Purge events older than three years every night

## API
- [ ] Expose `GET /calendars/<id>/events` with a date range filter
- [ ] Expose `POST /events` that rejects overlapping room bookings
- [ ] Expose `PATCH /events/<id>` for moving and resizing an event
- [ ] Expose `DELETE /events/<id>` that notifies attendees
- [ ] Expand recurring events on read, up to one year ahead
- [ ] Return time-off entries alongside events for a team view
- [ ] Rate-limit writes to 30 per minute per user
- [ ] Publish an iCalendar feed per calendar behind a secret link
- [ ] Document every endpoint in the OpenAPI file

## Web app
- [ ] Show a week view with one column per day
- [ ] Drag an event to move it, drag its edge to resize it
- [ ] Book a room from a list filtered by capacity
- [ ] Show team members' time off as grey bands
- [ ] Let people subscribe to a calendar's iCalendar feed
- [ ] Remember the last view (day, week, month) per person
- [ ] Work with the keyboard alone: arrows move, Enter opens
"""


def _by_title(gh: Harness) -> dict[str, dict[str, object]]:
    return {i["title"]: i for i in gh.emu.issues(REPO)}


def test_a_25_issue_plan_over_3_sections_is_grouped_one_parent_per_section(gh: Harness) -> None:
    issue, result = gh.open_issue(f"{TRIGGER}\n{CALENDAR}")
    assert result.outputs["status"] == "completed", result.log
    top = gh.emu.sub_issues(REPO, issue["number"])
    assert [t["title"] for t in top] == ["Storage", "API", "Web app"]
    sizes = [len(gh.emu.sub_issues(REPO, t["number"])) for t in top]
    assert sizes == [9, 9, 7]
    reply = gh.last_reply(issue["number"])
    assert "Grouped by top-level section" in reply and "`group: flat`" in reply
    titles = _by_title(gh)
    week = titles["Show a week view with one column per day"]["number"]
    post = titles["Expose `POST /events` that rejects overlapping room bookings"]["number"]
    assert [b["number"] for b in gh.emu.blocked_by(REPO, week)] == [post]  # across sections


def test_group_flat_keeps_a_large_plan_under_the_spec_issue(gh: Harness) -> None:
    issue, result = gh.open_issue(f"{TRIGGER}\ngroup: flat\n\n{CALENDAR}")
    assert result.outputs["status"] == "completed", result.log
    top = gh.emu.sub_issues(REPO, issue["number"])
    assert len(top) == 25
    assert "Grouped" not in gh.last_reply(issue["number"])


def test_the_group_input_chooses_when_the_spec_does_not(gh: Harness) -> None:
    issue, result = gh.open_issue(f"{TRIGGER}\n{CALENDAR}", group="flat")
    assert result.outputs["status"] == "completed", result.log
    assert len(gh.emu.sub_issues(REPO, issue["number"])) == 25


def test_an_unknown_group_input_fails_the_job(gh: Harness) -> None:
    _, result = gh.open_issue(f"{TRIGGER}\n{CALENDAR}", group="tree")
    assert result.code != 0
    assert "`group` must be one of auto, sections, flat" in result.log
    assert gh.emu.sub_issues(REPO, 1) == []


def test_a_10_issue_plan_stays_flat_and_group_sections_groups_it(gh: Harness) -> None:
    small = "\n".join(
        line for line in CALENDAR.splitlines() if not line.startswith("- [ ]") or "table" in line
    )
    small += "\n- [ ] Show a month view\n- [ ] Print a week on one page\n"
    issue, result = gh.open_issue(f"{TRIGGER}\n{small}", dry_run="true")
    assert result.outputs["status"] == "pending", result.log
    preview = gh.last_reply(issue["number"])
    assert "↳" not in preview and "Grouped" not in preview
    confirmed = gh.comment(issue["number"], f"{TRIGGER} confirm")
    assert len(gh.emu.sub_issues(REPO, issue["number"])) == len(
        json.loads(confirmed.outputs["created-issues"])
    )

    issue, result = gh.open_issue(f"{TRIGGER}\ngroup: sections\n{small}", dry_run="true")
    preview = gh.last_reply(issue["number"])
    assert "as `group: sections` asks" in preview and "↳" in preview


def _issue(key: str, group: str, *depends_on: str) -> PlannedIssue:
    return PlannedIssue(key=key, title=f"Task {key}", body="", group=group, depends_on=depends_on)


@pytest.mark.parametrize(
    ("mode", "size", "grouped"),
    [
        ("auto", 21, True),
        ("auto", 20, False),
        ("sections", 4, True),
        ("flat", 60, False),
    ],
)
def test_when_a_plan_is_grouped(mode: GroupMode, size: int, grouped: bool) -> None:
    issues = [_issue(str(n), "AB"[n % 2]) for n in range(size)]
    shaped, note = shape_plan(issues, mode=mode, room=100, parent=7)
    assert (note is not None) == grouped
    assert len(shaped) == size + (2 if grouped else 0)


def test_one_section_or_single_issue_sections_stay_flat() -> None:
    alone = [_issue(str(n), "Only") for n in range(30)]
    assert shape_plan(alone, mode="auto", room=100, parent=7) == (tuple(alone), None)
    singles = [_issue(str(n), f"Section {n}") for n in range(30)]
    assert shape_plan(singles, mode="sections", room=100, parent=7) == (tuple(singles), None)
    mixed = [*[_issue(str(n), "Big") for n in range(25)], _issue("x", "Small")]
    shaped, _ = shape_plan(mixed, mode="auto", room=100, parent=7)
    assert [i.parent_key for i in shaped if i.key == "x"] == [None]
    assert sum(i.parent_key is None for i in shaped) == 2  # the "Big" parent and "x"


def test_sections_move_after_the_sections_they_depend_on() -> None:
    issues = [
        *[_issue(f"u{n}", "Web", *(["d0"] if n == 0 else [])) for n in range(11)],
        *[_issue(f"d{n}", "Data") for n in range(11)],
    ]
    issues = [issues[11], *issues[:11], *issues[12:]]  # d0 first: it comes before its user
    shaped, _ = shape_plan(issues, mode="auto", room=100, parent=7)
    assert [i.title for i in shaped if i.parent_key is None] == ["Data", "Web"]
    _assert_dependencies_first(shaped)


def test_sections_that_depend_on_each_other_keep_every_dependency_first() -> None:
    issues = [
        _issue("a1", "A"),
        _issue("b1", "B", "a1"),
        _issue("a2", "A", "b1"),
        _issue("b2", "B"),
        *[_issue(f"c{n}", "C") for n in range(20)],
    ]
    shaped, _ = shape_plan(issues, mode="auto", room=100, parent=7)
    assert [i.title for i in shaped[:3]] == ["A", "B", "C"]  # parents first, then the plan
    assert [i.key for i in shaped[3:7]] == ["a1", "b1", "a2", "b2"]
    _assert_dependencies_first(shaped)


def _assert_dependencies_first(shaped: tuple[PlannedIssue, ...]) -> None:
    seen: set[str] = set()
    for issue in shaped:
        assert set(issue.depends_on) <= seen and (
            issue.parent_key is None or issue.parent_key in seen
        )
        seen.add(issue.key)


def test_a_parent_issue_names_its_section_and_the_sub_sections_it_holds() -> None:
    def item(key: str, cover: str) -> PlannedIssue:
        return PlannedIssue(key, f"Task {key}", "", group=cover.split(" > ")[1], covers=(cover,))

    issues = [
        *(item(f"f{n}", f"Spec > 2. Features > 2.{n} Feature number {n}") for n in range(1, 9)),
        *(item(f"o{n}", "Spec > Operations") for n in range(1, 3)),
    ]
    shaped, _ = shape_plan(issues, mode="sections", room=100, parent=1)
    assert [i.title for i in shaped if i.parent_key is None] == [
        "Features: Feature number 1, Feature number 2, Feature number 3, …",
        "Operations",  # its issues are the section's own items
    ]
