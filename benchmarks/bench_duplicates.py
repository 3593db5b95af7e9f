"""Benchmark: requests for one spawn in a repository with many earlier bot issues.

Duplicate detection reads the markers of the bot's earlier issues. This prints how many requests
one 2-issue spawn makes against the local GitHub when the repository already holds 0, 150 and
1,000 issues the bot created, and which endpoints they went to.

    python benchmarks/bench_duplicates.py
    python benchmarks/bench_duplicates.py --earlier 0,150,1000,3000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from openproducer.action import main as action_main
from openproducer.demo import action_env, event_payload
from openproducer.sandbox import GitHubEmulator

REPO = "bench/specs"
BOT = "github-actions[bot]"
SPEC = (
    "@TheOpenProducerBot\n\n## Export\n- [ ] Export invoices as CSV\n- [ ] Export invoices as PDF\n"
)


def earlier_body(index: int) -> str:
    """The body of an issue an earlier run created, with the footer and marker it carries."""
    return (
        f"Earlier work item {index}.\n\n---\n<sub>Part of #1 · item {index} of 1000 · planned by "
        "OpenProducer run `run_20260101_000000_AbCdEfGh`</sub>\n"
        f"<!-- openproducer:item run=run_20260101_000000_AbCdEfGh key=i{index} "
        f"hash={index:016x} body={index:016x} -->"
    )


def run_once(earlier: int) -> tuple[int, Counter[str]]:
    with GitHubEmulator() as emu, tempfile.TemporaryDirectory() as tmp:
        repository = emu.add_repo(REPO)
        sender = emu.add_user("alice")
        emu.set_permission(REPO, "alice", "write")
        emu.create_issue(REPO, author="alice", title="Old spec", body="An older spec.")
        for index in range(earlier):
            emu.create_issue(
                REPO, author=BOT, title=f"Earlier item {index}", body=earlier_body(index)
            )
        issue = emu.create_issue(REPO, author="alice", title="Spec", body=SPEC)
        path = Path(tmp, "event.json")
        path.write_text(
            json.dumps(event_payload("opened", issue=issue, repository=repository, sender=sender))
        )
        env = action_env(
            emu,
            event_name="issues",
            event_path=str(path),
            repo=REPO,
            workdir=tmp,
            token=emu.actions_token(),
            rate_limit_per_minute="100000",
        )
        emu.reset_requests()
        with contextlib.redirect_stdout(io.StringIO()):
            code = action_main(env)
        assert code == 0, "the spawn failed"
        kinds = Counter(f"{r.method} {_route(r.path)}" for r in emu.requests)
        return len(emu.requests), kinds


def _route(path: str) -> str:
    parts = path.split("?")[0].split("/")
    return "/".join("{n}" if part.isdigit() else part for part in parts[4:]) or "/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--earlier", default="0,150,1000")
    args = parser.parse_args()
    print("| earlier bot issues | requests for a 2-issue spawn | busiest endpoint |")
    print("|---:|---:|---|")
    for earlier in (int(n) for n in args.earlier.split(",")):
        total, kinds = run_once(earlier)
        route, count = kinds.most_common(1)[0]
        print(f"| {earlier} | {total} | `{route}` ×{count} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
