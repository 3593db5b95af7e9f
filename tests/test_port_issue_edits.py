"""The port's issue read, edit and reopen, over real HTTP to the local GitHub."""

from __future__ import annotations

import pytest

from openproducer import GitHubError
from openproducer.github import GitHubPort
from openproducer.outbound import Outbound
from openproducer.safety import Scrubber
from openproducer.sandbox import GitHubEmulator

REPO = "acme/widgets"


@pytest.fixture
def port(emulator: GitHubEmulator) -> GitHubPort:
    emulator.add_repo(REPO)
    emulator.add_user("alice")
    emulator.set_permission(REPO, "alice", "write")
    return GitHubPort(
        token=emulator.token_for("alice"),
        repo=REPO,
        api_url=emulator.base_url,
        writes_per_minute=100000,
        outbound=Outbound(Scrubber(("s3cret-value",))),
    )


def test_read_edit_and_reopen(port: GitHubPort, emulator: GitHubEmulator) -> None:
    number = emulator.create_issue(REPO, author="alice", title="Old", body="old body")["number"]
    assert port.issue(number).body == "old body"

    after = port.edit_issue(
        number, body="Ask @bob, key s3cret-value", hidden=["<!-- openproducer:notice kept -->"]
    )
    stored = emulator.issue(REPO, number)
    assert after.body == stored["body"]
    assert "@bob" not in stored["body"] and "s3cret-value" not in stored["body"]
    assert stored["body"].endswith("<!-- openproducer:notice kept -->")
    assert stored["title"] == "Old"  # only what is given is replaced

    port.edit_issue(number, title="New title")
    assert emulator.issue(REPO, number)["title"] == "New title"
    assert "Ask" in emulator.issue(REPO, number)["body"]

    port.close_issue(number)
    port.reopen_issue(number)
    assert port.issue(number).state == "open"


def test_missing_issue_and_invisible_title(port: GitHubPort, emulator: GitHubEmulator) -> None:
    with pytest.raises(GitHubError) as missing:
        port.issue(999)
    assert missing.value.status == 404
    number = emulator.create_issue(REPO, author="alice", title="Kept", body="")["number"]
    with pytest.raises(GitHubError):
        port.edit_issue(number, title="\u200b\u202e")
    assert emulator.issue(REPO, number)["title"] == "Kept"
