"""Benchmark: requests per created issue, write pace and secondary-limit hits.

Runs the Action on specs of 10, 50 and 150 issues, without and with dependencies (each item
of an area depends on the one before), against the local GitHub emulator with a
realistic per-request latency and GitHub's secondary limits (80 content-creating requests a
minute, 500 an hour) switched on, and prints one row per plan. "writes" are content-creating
requests as those limits count them: REST writes and GraphQL mutations.

    python benchmarks/bench_creation.py              # scaled 10x: minutes become 6 s
    python benchmarks/bench_creation.py --scale 1    # real time at the default pace (slow)
    python benchmarks/bench_creation.py --pace 30    # a slower ceiling
    python benchmarks/bench_creation.py --graphql off  # REST create-then-link

With ``--scale S`` the pace (`rate-limit-per-minute`, default 60), the emulator's limits, the
period of progress updates and the latency (0.3 s a request at scale 1) are all scaled by S,
so the ratios between them, and therefore the hits, stay as at scale 1; "wall at this pace"
projects the time a real run takes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from common import add_repo, spawn

from openproducer.handlers import create
from openproducer.sandbox import GitHubEmulator

REPO = "bench/specs"
DEFAULT_PACE = 60


def build_spec(count: int, *, dependencies: bool = False) -> str:
    """Checklists of 50; with ``dependencies``, one heading per item, each naming the one
    before in "Depends on …" (a chain of blocked-by edges within each area)."""
    sections = []
    for start in range(0, count, 50):
        numbers = range(start + 1, min(start + 50, count) + 1)
        if dependencies:
            items = "\n".join(
                f"### Build part {i} of the system\n"
                + (f"Depends on build part {i - 1} of the system.\n" if i > start + 1 else "")
                for i in numbers
            )
        else:
            items = "\n".join(f"- [ ] Build part {i} of the system" for i in numbers)
        sections.append(f"## Area {start // 50 + 1}\n{items}")
    return "@TheOpenProducerBot\n\n" + "\n\n".join(sections)


def run_once(
    count: int, *, scale: float, latency: float, pace: int, dependencies: bool, graphql: bool
) -> dict[str, float]:
    with (
        GitHubEmulator(
            graphql=graphql,
            latency=latency / scale,
            secondary_limit_per_minute=int(80 * scale),
            secondary_limit_per_hour=int(500 * scale),
        ) as emu,
        tempfile.TemporaryDirectory() as tmp,
    ):
        repository = add_repo(emu, REPO)
        started = time.monotonic()
        spawn(
            emu,
            repository,
            body=build_spec(count, dependencies=dependencies),
            workdir=tmp,
            max_issues="200",
            confirmation_threshold="200",
            rate_limit_per_minute=str(int(pace * scale)),
            hourly_writes=str(int(500 * scale)),
        )
        wall = time.monotonic() - started
        created = len(emu.issues(REPO)) - 1
        writes = [r for r in emu.requests if r.creates_content]
        edges = sum(len(emu.blocked_by(REPO, i["number"])) for i in emu.issues(REPO))
        return {
            "planned": count,
            "edges": edges,
            "created": created,
            "requests": len(emu.requests),
            "writes": len(writes),
            "hits": emu.secondary_limit_hits,
            "wall": wall,
            "wall_default": wall * scale,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per request at scale 1")
    parser.add_argument("--sizes", default="10,50,150")
    parser.add_argument("--pace", type=int, default=DEFAULT_PACE, help="writes/min at scale 1")
    parser.add_argument("--graphql", choices=("on", "off"), default="on")
    args = parser.parse_args()
    create.PROGRESS_SECONDS /= args.scale  # as many progress updates as at scale 1
    print(
        f"scale {args.scale:g}x, latency {args.latency * 1000:.0f} ms/request, "
        f"pace {args.pace} writes/min at scale 1, GraphQL {args.graphql}\n"
    )
    print(
        "| planned | blocked-by edges | created | writes/issue | requests/issue "
        "| issues/min (scale 1) | secondary hits | wall | wall at this pace |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dependencies in (False, True):
        for size in (int(s) for s in args.sizes.split(",")):
            r = run_once(
                size,
                scale=args.scale,
                latency=args.latency,
                pace=args.pace,
                dependencies=dependencies,
                graphql=args.graphql == "on",
            )
            print(
                f"| {r['planned']:.0f} | {r['edges']:.0f} | {r['created']:.0f} | "
                f"{r['writes'] / r['created']:.2f} | {r['requests'] / r['created']:.2f} | "
                f"{r['created'] / (r['wall_default'] / 60):.1f} | {r['hits']:.0f} | "
                f"{r['wall']:.1f} s | {r['wall_default'] / 60:.1f} min |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
