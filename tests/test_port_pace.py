"""The port's write pace: writes start a fixed spacing apart, start to start (#15)."""

from __future__ import annotations

from itertools import pairwise

from openproducer.github import GitHubPort
from openproducer.sandbox import GitHubEmulator

REPO = "acme/widgets"


def test_writes_start_a_spacing_apart_and_their_latency_does_not_add_to_it() -> None:
    with GitHubEmulator(latency=0.4) as emu:
        emu.add_repo(REPO)
        emu.add_user("alice")
        emu.set_permission(REPO, "alice", "write")
        number = emu.create_issue(REPO, author="alice", title="Spec", body="")["number"]
        port = GitHubPort(
            token=emu.token_for("alice"), repo=REPO, api_url=emu.base_url, writes_per_minute=120
        )
        emu.reset_requests()
        for index in range(5):
            port.post_comment(number, f"note {index}")
        starts = [r.time for r in emu.requests if r.creates_content]
    assert len(starts) == 5
    gaps = [later - earlier for earlier, later in pairwise(starts)]
    assert min(gaps) >= 0.5 - 0.01  # 120 a minute: never closer than 0.5 s
    # Start to start, the 0.4 s answer overlaps the spacing. Spaced from the end of each
    # write (PyGithub's `seconds_between_writes`), every gap would be 0.9 s or more.
    assert sorted(gaps)[len(gaps) // 2] < 0.75
