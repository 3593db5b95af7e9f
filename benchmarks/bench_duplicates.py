"""Benchmark: requests for one spawn in a repository with many earlier bot issues.

Duplicate detection reads the markers of the bot's earlier issues. This prints how many requests
one 2-issue spawn makes against the local GitHub when the repository already holds 0, 150 and
1,000 issues the bot created, and which endpoints they went to.

    python benchmarks/bench_duplicates.py
    python benchmarks/bench_duplicates.py --earlier 0,150,1000,3000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter

from common import add_repo, spawn

from openproducer.dedup import content_hash
from openproducer.model import PlannedIssue
from openproducer.render import render_issue_body
from openproducer.sandbox import GitHubEmulator

REPO = "bench/specs"
BOT = "github-actions[bot]"
EARLIER_RUN = "run_20260101_000000_AbCdEfGh"
SPEC = (
    "@TheOpenProducerBot\n\n## Export\n- [ ] Export invoices as CSV\n- [ ] Export invoices as PDF\n"
)


def earlier_body(index: int) -> str:
    """The body an earlier run gave its issue, footer and marker included."""
    item = PlannedIssue(key=f"i{index}", title=f"Earlier {index}", body=f"Earlier work {index}.")
    return str(
        render_issue_body(
            item, parent=1, run_id=EARLIER_RUN, index=index, total=1000, content=content_hash(item)
        )
    )


def run_once(earlier: int) -> tuple[int, Counter[str]]:
    with GitHubEmulator() as emu, tempfile.TemporaryDirectory() as tmp:
        repository = add_repo(emu, REPO)
        emu.create_issue(REPO, author="alice", title="Old spec", body="An older spec.")
        for index in range(earlier):
            emu.create_issue(REPO, author=BOT, title=f"Earlier {index}", body=earlier_body(index))
        spawn(emu, repository, body=SPEC, workdir=tmp, rate_limit_per_minute="100000")
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
