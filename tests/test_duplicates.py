"""Duplicate detection reads markers from listed issues: never one request per issue."""

from __future__ import annotations

import re

from openproducer.dedup import content_hash
from openproducer.model import PlannedIssue
from openproducer.render import render_issue_body
from tests.conftest import BOT, REPO, TRIGGER, Harness

EARLIER_RUN = "run_20260101_000000_AbCdEfGh"

SPEC = f"{TRIGGER}\n\n## Export\n- [ ] Export invoices as CSV\n- [ ] Export invoices as PDF\n"


def _earlier_body(index: int) -> str:
    """The body an earlier run gave its issue, footer and marker included."""
    item = PlannedIssue(key=f"i{index}", title=f"Earlier {index}", body=f"Earlier work {index}.")
    return str(
        render_issue_body(
            item, parent=1, run_id=EARLIER_RUN, index=index, total=150, content=content_hash(item)
        )
    )


def test_a_spawn_among_150_earlier_bot_issues_costs_a_few_list_requests(gh: Harness) -> None:
    for index in range(150):
        gh.emu.create_issue(REPO, author=BOT, title=f"Earlier {index}", body=_earlier_body(index))
    gh.emu.reset_requests()
    issue, result = gh.open_issue(SPEC)
    assert result.outputs["status"] == "completed", result.log
    assert len(gh.created(issue["number"])) == 2
    spec_issue = f"/repos/{REPO}/issues/{issue['number']}"
    single_reads = [
        r
        for r in gh.emu.requests
        if r.method == "GET"
        and re.fullmatch(rf"/repos/{REPO}/issues/\d+", r.path)
        and r.path != spec_issue
    ]
    assert single_reads == [], [r.path for r in single_reads][:5]
    assert len(gh.emu.requests) < 25
