"""The Markdown the bot writes reads well on GitHub (~760 px comments), through the Action."""

from __future__ import annotations

import re

from tests.conftest import TRIGGER, Harness
from tests.test_conversation import DRY

WIDTH = 100  # characters of visible text per table row that fit ~760 px


def _visible(row: str) -> str:
    """What a table row shows: link targets and code marks take no width."""
    return re.sub(r"\]\([^)]*\)", "]", row).replace("`", "")


def _tables(body: str) -> list[list[str]]:
    tables, current = [], []
    for line in body.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def test_the_preview_summary_column_is_plain_prose_not_markup_or_the_title(gh: Harness) -> None:
    issue, _ = gh.open_issue(DRY)
    preview = gh.last_reply(issue["number"])
    rows = [r for r in _tables(preview)[0][2:]]
    assert rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        title, summary = cells[1], cells[3]
        assert "**" not in summary and "Spec section" not in summary, row
        assert summary.casefold() != title.casefold(), row


def test_status_fits_the_comment_width_with_one_time_format(gh: Harness) -> None:
    issue, first = gh.open_issue(DRY)
    gh.comment(issue["number"], f"{TRIGGER} confirm")
    gh.comment(issue["number"], f"{TRIGGER} status")
    table = _tables(gh.last_reply(issue["number"]))[0]
    assert table[0].count("|") - 1 <= 5
    assert all(len(_visible(row)) <= WIDTH for row in table), table
    gh.comment(issue["number"], f"{TRIGGER} status {first.outputs['run-id']}")
    one = gh.last_reply(issue["number"])
    stamps = re.findall(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?Z?(?: UTC)?", table[2] + one)
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", s) for s in stamps)


def test_help_keeps_the_option_reference_folded(gh: Harness) -> None:
    issue, _ = gh.open_issue("Just an issue.")
    gh.comment(issue["number"], f"{TRIGGER} help")
    reply = gh.last_reply(issue["number"])
    folded = reply.split("<details><summary>Spec options</summary>", 1)
    assert len(folded) == 2 and "| `count` |" in folded[1] and "| `count` |" not in folded[0]


def test_a_decided_preview_no_longer_asks_for_a_decision(gh: Harness) -> None:
    for verb, heading in (("confirm", "▶️ Confirmed by `alice`"), ("cancel", "🚫 Cancelled by")):
        issue, _ = gh.open_issue(DRY)
        preview_id = gh.bot_comments(issue["number"])[0]["id"]
        gh.comment(issue["number"], f"{TRIGGER} {verb}")
        preview = next(c for c in gh.bot_comments(issue["number"]) if c["id"] == preview_id)
        assert heading in preview["body"], verb
        assert "waiting for confirmation" not in preview["body"]
        assert "**To create them**" not in preview["body"]
        assert "#issuecomment-" in preview["body"]
