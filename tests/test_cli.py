"""The `openproducer` command: every terminal verb against the local GitHub, and its errors."""

from __future__ import annotations

import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openproducer.cli import (
    IssueFacts,
    build_terminal_event,
    exit_code,
    gh_hostname,
    main,
    parse_issue_ref,
)
from openproducer.sandbox import Fault, GitHubEmulator
from tests.conftest import REPO, TRIGGER

SPEC = f"""{TRIGGER}

We are building a checkout for the webshop.

## Payments
- [ ] Pay by card
- [ ] Pay by invoice
- [ ] Send a receipt by e-mail
"""
NO_TOKEN = (
    "openproducer: No GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token with issues "
    "access, or log in with `gh auth login`.\n"
)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def run_id(self) -> str:
        found = re.search(r"run (run_\w+)", self.err)
        assert found, self.err
        return found.group(1)


@dataclass
class Terminal:
    """`openproducer` as alice types it, against the emulator, with no AI and no pacing."""

    emu: GitHubEmulator
    capsys: pytest.CaptureFixture[str]
    env: dict[str, str]

    def __call__(self, *argv: str, **env: str) -> Ran:
        code = main(list(argv), env={**self.env, **env})
        captured = self.capsys.readouterr()
        assert "Traceback" not in captured.err
        return Ran(code, captured.out, captured.err)

    def spec_issue(self, body: str = SPEC) -> int:
        number: int = self.emu.create_issue(REPO, author="alice", title="Checkout", body=body)[
            "number"
        ]
        return number

    def children(self, parent: int) -> list[dict[str, Any]]:
        return [
            i
            for i in self.emu.issues(REPO)
            if i["number"] != parent and f"Part of #{parent}" in (i["body"] or "")
        ]

    def writes(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.emu.requests if r.method != "GET"]


@pytest.fixture
def terminal(
    emulator: GitHubEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Terminal:
    emulator.add_repo(REPO)
    emulator.add_user("alice")
    emulator.set_permission(REPO, "alice", "write")
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {
        "PATH": str(empty),  # no `gh` to fall back on
        "GITHUB_TOKEN": emulator.token_for("alice"),
        "GITHUB_API_URL": emulator.base_url,
        "OPENPRODUCER_AI_PROVIDER": "none",
        "OPENPRODUCER_AI_CACHE_DIR": "off",
        "OPENPRODUCER_RATE_LIMIT_PER_MINUTE": "100000",
        "OPENPRODUCER_BACKOFF": "0.05",
        "OPENPRODUCER_SECONDARY_WAIT": "1",
    }
    return Terminal(emulator, capsys, env)


def fake_gh(directory: Path, script: str) -> Path:
    """A `gh` on PATH that records its arguments and runs ``script``."""
    gh = directory / "gh"
    gh.write_text(f'#!/bin/sh\necho "$@" > "${{0%/*}}/gh-args"\n{script}\n')
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    return directory / "gh-args"


# -- the verbs ---------------------------------------------------------------------------------


def test_spawn_creates_the_issues_and_prints_the_reply(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    ran = terminal("spawn", f"{REPO}#{number}")
    assert ran.code == 0, ran.err
    children = terminal.children(number)
    titles = sorted(i["title"] for i in children)
    assert len(titles) == 3 and "Pay by invoice" in titles[1], titles
    assert {i["user"]["login"] for i in children} == {"alice"}  # the token's user acts
    assert "Created 3 issues" in ran.out
    numbers = " ".join(f"#{i['number']}" for i in children)
    assert ran.err.endswith(
        f"openproducer: spawn → completed, run {ran.run_id}, issues {numbers}\n"
    )
    replies = terminal.emu.comments(REPO, number)
    assert len(replies) == 1 and replies[0]["user"]["login"] == "alice"
    assert "Created 3 issues" in replies[0]["body"] and ran.run_id in replies[0]["body"]
    assert terminal.emu.reactions(REPO, number) == []  # no comment to react to


def test_spawn_dry_run_previews_then_confirm_creates(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    preview = terminal("spawn", f"{REPO}#{number}", "--dry-run")
    assert preview.code == 0, preview.err
    assert "Preview: 3 issues planned" in preview.out
    assert "spawn → pending" in preview.err
    assert terminal.children(number) == []
    confirmed = terminal("confirm", f"{REPO}#{number}", preview.run_id)
    assert confirmed.code == 0, confirmed.err
    assert "Created 3 issues" in confirmed.out
    assert confirmed.run_id == preview.run_id
    assert len(terminal.children(number)) == 3


def test_cancel_drops_a_preview(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    preview = terminal("spawn", f"{REPO}#{number}", "--dry-run")
    cancelled = terminal("cancel", f"{REPO}#{number}")
    assert cancelled.code == 0, cancelled.err
    assert f"Run `{preview.run_id}` is cancelled" in cancelled.out
    assert "cancel → cancelled" in cancelled.err
    again = terminal("confirm", f"{REPO}#{number}")
    assert "Nothing to confirm" in again.out
    assert terminal.children(number) == []


def test_status_lists_the_runs_and_shows_one(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    empty = terminal("status", f"{REPO}#{number}")
    assert empty.code == 0 and "No runs yet" in empty.out
    spawned = terminal("spawn", f"{REPO}#{number}")
    listed = terminal("status", f"{REPO}#{number}")
    assert listed.code == 0, listed.err
    assert "Runs in this issue (1)" in listed.out and spawned.run_id in listed.out
    one = terminal("status", f"{REPO}#{number}", spawned.run_id)
    assert one.code == 0, one.err
    for child in terminal.children(number):
        assert f"#{child['number']}" in one.out
    assert f"status → completed, run {spawned.run_id}" in one.err
    missing = terminal("status", f"{REPO}#{number}", "run_20200101_000000_nothere0")
    assert missing.code == 0 and "No such run" in missing.out


def test_rollback_last_closes_the_issues(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    spawned = terminal("spawn", f"{REPO}#{number}")
    rolled = terminal("rollback", f"{REPO}#{number}", "last")
    assert rolled.code == 0, rolled.err
    assert f"Rolled back run `{spawned.run_id}`" in rolled.out
    children = terminal.children(number)
    assert [(i["state"], i["state_reason"]) for i in children] == [("closed", "not_planned")] * 3
    assert terminal.emu.sub_issues(REPO, number) == []
    nothing = terminal("rollback", f"{REPO}#{number}", "last")
    assert nothing.code == 0 and "Nothing left to roll back" in nothing.out


def test_the_issue_may_be_named_by_its_url(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    url = terminal.emu.issue(REPO, number)["html_url"]
    assert url == f"{terminal.emu.server_url}/{REPO}/issues/{number}"
    ran = terminal("spawn", url)
    assert ran.code == 0, ran.err
    assert len(terminal.children(number)) == 3


def test_a_reader_is_refused_and_nothing_is_created(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    terminal.emu.add_user("bob")
    terminal.emu.set_permission(REPO, "bob", "read")
    ran = terminal("spawn", f"{REPO}#{number}", GITHUB_TOKEN=terminal.emu.token_for("bob"))
    assert ran.code == 1
    # A reader may not read collaborator permissions (403), so the engine sees "unknown".
    assert "Not allowed" in ran.out and "`spawn` needs **write** access" in ran.out
    assert ran.err.endswith("openproducer: spawn → refused\n")
    assert terminal.children(number) == []
    assert terminal.writes() == [f"POST /repos/{REPO}/issues/{number}/comments"]


def test_an_invalid_spec_exits_1(terminal: Terminal) -> None:
    number = terminal.spec_issue(SPEC.replace(TRIGGER, f"count: 1000\n{TRIGGER}"))
    ran = terminal("spawn", f"{REPO}#{number}")
    assert ran.code == 1 and "spawn → invalid" in ran.err
    assert terminal.children(number) == []


def test_the_token_may_come_from_gh_token_or_the_github_cli(
    terminal: Terminal, tmp_path: Path
) -> None:
    number = terminal.spec_issue()
    token = terminal.emu.token_for("alice")
    ran = terminal("status", f"{REPO}#{number}", GITHUB_TOKEN="", GH_TOKEN=token)
    assert ran.code == 0, ran.err
    args = fake_gh(tmp_path / "bin", f"echo {token}")
    ran = terminal("status", f"{REPO}#{number}", GITHUB_TOKEN="")
    assert ran.code == 0, ran.err
    assert args.read_text().split() == [
        "auth",
        "token",
        "--hostname",
        gh_hostname(terminal.emu.base_url),
    ]
    assert token not in ran.out + ran.err


def test_a_github_failure_is_reported_in_the_thread_and_exits_1(terminal: Terminal) -> None:
    number = terminal.spec_issue()
    terminal.emu.inject(Fault("GET", rf"/issues/{number}/comments$", status=422, times=1))
    ran = terminal("status", f"{REPO}#{number}")
    assert ran.code == 1
    assert ran.err.splitlines()[-1].startswith(
        f"openproducer: GitHub answered 422 when trying to read the comments of #{number}"
    )
    replies = terminal.emu.comments(REPO, number)
    assert [c["user"]["login"] for c in replies] == ["alice"]
    assert "OpenProducer stopped with an error" in replies[0]["body"]


# -- one-line errors -------------------------------------------------------------------------


@pytest.mark.parametrize("gh", ["", "exit 1"], ids=["no gh", "gh not logged in"])
def test_no_token_says_how_to_get_one(terminal: Terminal, tmp_path: Path, gh: str) -> None:
    if gh:
        fake_gh(tmp_path / "bin", gh)
    ran = terminal("spawn", f"{REPO}#1", GITHUB_TOKEN="")
    assert (ran.code, ran.out, ran.err) == (2, "", NO_TOKEN)
    assert terminal.emu.requests == []


def test_run_without_a_token_fails_fast(terminal: Terminal, tmp_path: Path) -> None:
    started = time.monotonic()
    ran = terminal(
        "run", "--event", str(tmp_path / "event.json"), "--event-name", "issues", "--repo", REPO,
        GITHUB_TOKEN="",
    )  # fmt: skip
    assert (ran.code, ran.err) == (2, NO_TOKEN)
    assert time.monotonic() - started < 5
    assert terminal.emu.requests == []


@pytest.mark.parametrize(
    "reference", ["octo-org/specs", "specs#3", "octo-org/specs#0", "octo-org/specs#x", "#3"]
)
def test_a_malformed_reference_says_the_shape(terminal: Terminal, reference: str) -> None:
    ran = terminal("status", reference)
    assert ran.code == 2
    assert ran.err == (
        f"openproducer: `{reference}` is not an issue reference: write OWNER/REPO#N or "
        "https://github.com/OWNER/REPO/issues/N.\n"
    )
    assert terminal.emu.requests == []


def test_a_run_id_is_one_word(terminal: Terminal) -> None:
    ran = terminal("rollback", f"{REPO}#1", "run_1 and more")
    assert ran.code == 2
    assert ran.err.startswith("openproducer: `rollback` takes one run id such as ")


def test_a_bad_token_is_named_without_printing_it(terminal: Terminal) -> None:
    bad = "ghp_" + "x" * 36
    ran = terminal("spawn", f"{REPO}#1", GITHUB_TOKEN=bad)
    assert ran.code == 2
    assert ran.err == (
        "openproducer: GitHub rejected the token from GITHUB_TOKEN (401 Bad credentials): "
        "set a valid token, or log in again with `gh auth login`.\n"
    )
    assert bad not in ran.out + ran.err


def test_an_app_token_is_not_a_person(terminal: Terminal) -> None:
    ran = terminal("status", f"{REPO}#1", GITHUB_TOKEN=terminal.emu.actions_token())
    assert ran.code == 2
    assert ran.err.startswith("openproducer: The token from GITHUB_TOKEN belongs to an app, ")
    assert ran.err.count("\n") == 1


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("octo-org/nope#1", "GitHub has no repository octo-org/nope, or the token cannot see it"),
        (f"{REPO}#99", f"{REPO} has no issue #99"),
    ],
)
def test_a_missing_repository_or_issue_is_a_404(
    terminal: Terminal, reference: str, message: str
) -> None:
    terminal.spec_issue()
    ran = terminal("spawn", reference)
    assert ran.code == 2
    assert (
        ran.err == f"openproducer: {message} (404): check the reference and the token's access.\n"
    )
    assert terminal.writes() == []


def test_plan_names_a_missing_spec_file(terminal: Terminal, tmp_path: Path) -> None:
    missing = tmp_path / "missing.md"
    ran = terminal("plan", str(missing))
    assert ran.code == 2
    assert ran.err == (
        f"openproducer: Cannot read the spec file {missing}: No such file or directory. "
        "Give the path of a Markdown file.\n"
    )


# -- the verbs that need no GitHub -----------------------------------------------------------


def test_plan_prints_the_plan(terminal: Terminal, tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    spec.write_text(SPEC)
    ran = terminal("plan", str(spec), GITHUB_TOKEN="")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("3 issues planned by the offline planner:")
    assert "Payments: Pay by invoice" in ran.out


def test_demo_needs_no_token(terminal: Terminal) -> None:
    ran = terminal("demo", GITHUB_TOKEN="")
    assert ran.code == 0, ran.err
    assert "Issues created (" in ran.out


# -- pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "repo", "number", "api_url"),
    [
        ("octo-org/specs#12", "octo-org/specs", 12, ""),
        ("  octo-org/my.repo_2#3 ", "octo-org/my.repo_2", 3, ""),
        ("https://github.com/octo-org/specs/issues/12", "octo-org/specs", 12,
         "https://api.github.com"),
        ("https://github.com/octo-org/specs/issues/12#issuecomment-1", "octo-org/specs", 12,
         "https://api.github.com"),
        ("https://ghe.example.com/octo-org/specs/issues/7/", "octo-org/specs", 7,
         "https://ghe.example.com/api/v3"),
    ],
)  # fmt: skip
def test_parse_issue_ref(text: str, repo: str, number: int, api_url: str) -> None:
    ref = parse_issue_ref(text)
    assert (ref.repo, ref.number, ref.api_url) == (repo, number, api_url)


@pytest.mark.parametrize(
    ("api_url", "host"),
    [
        ("https://api.github.com", "github.com"),
        ("https://ghe.example.com/api/v3", "ghe.example.com"),
    ],
)
def test_gh_hostname(api_url: str, host: str) -> None:
    assert gh_hostname(api_url) == host


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("ok", 0),
        ("ignored", 0),
        ("pending", 0),
        ("creating", 0),
        ("completed", 0),
        ("cancelled", 0),
        ("rolled_back", 0),
        ("partial", 1),
        ("failed", 1),
        ("refused", 1),
        ("invalid", 1),
    ],
)
def test_exit_code(status: str, code: int) -> None:
    assert exit_code(status) == code


@pytest.mark.parametrize(
    ("verb", "argument", "comment"),
    [
        ("spawn", "", TRIGGER),  # a bare mention plans the issue body
        ("status", "", f"{TRIGGER} status"),
        ("rollback", "last", f"{TRIGGER} rollback last"),
    ],
)
def test_build_terminal_event(verb: str, argument: str, comment: str) -> None:
    issue = IssueFacts(number=4, id=44, title="Spec", body=SPEC, author="carol")
    event = build_terminal_event(
        verb=verb, argument=argument, trigger=TRIGGER, sender="alice", issue=issue, nonce="ab12"
    )
    assert (event.name, event.action, event.comment_id) == ("issue_comment", "created", None)
    assert (event.comment_body, event.sender, event.issue_author) == (comment, "alice", "carol")
    assert (event.origin, event.trigger_key) == ("terminal", "terminal:ab12")


def test_demo_is_a_labelled_tour_of_the_whole_conversation(terminal: Terminal) -> None:
    ran = terminal("demo", GITHUB_TOKEN="")
    assert ran.code == 0, ran.err
    steps = re.findall(r"^Step (\d): (.+)$", ran.out, flags=re.M)
    assert [n for n, _ in steps] == ["1", "2", "3", "4", "5"]
    for words in ("Preview:", "Created", "Part of #1", "Runs in this issue", "Rolled back run"):
        assert words in ran.out, words
    assert "GET /user" not in ran.out + ran.err and "::group::" not in ran.out


def test_demo_can_stop_after_the_spawn(terminal: Terminal) -> None:
    ran = terminal("demo", "--stop-after", "spawn", GITHUB_TOKEN="")
    assert ran.code == 0, ran.err
    assert "Step 1:" in ran.out and "Step 2:" not in ran.out and "Preview:" in ran.out


def test_plan_shows_the_section_issues_and_the_order(terminal: Terminal, tmp_path: Path) -> None:
    spec = tmp_path / "spec.md"
    areas = ("Backend", "Frontend")
    spec.write_text(
        "First the backend, then the frontend.\n\n"
        + "".join(
            f"## {area}\n" + "".join(f"- [ ] {area} task number {n}\n" for n in range(1, 12))
            for area in areas
        )
    )
    ran = terminal("plan", str(spec), GITHUB_TOKEN="")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("22 issues planned by the offline planner, under 2 section issues:")
    assert "  1. Backend\n  2.    Backend task number 1\n" in ran.out
    assert "Frontend task number 1  (after " in ran.out
    assert "note: Grouped by top-level section" in ran.out
