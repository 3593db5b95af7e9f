"""Benchmark: planning a 12,000-word spec in passes within GitHub Models' free tier (#13).

Plans ``benchmarks/specs/fieldbook_offline.md`` (an enhancement proposal of 14 top-level
sections, 9 of them work) with provider ``github`` against the loopback fake AI server, spoken
to by the real openai SDK. The fake enforces the free tier's per-request limits (8,000 input
and 4,000 output tokens: a longer prompt gets GitHub Models' 413) and writes its answers at 60
output tokens a second, as GitHub Models' free tier does. The plan is made twice: with at most
4 requests in flight, then with 1. Prints one Markdown table; misses of the targets of issue
#13 are marked ✗.

    python benchmarks/bench_ai_planning.py            # real time: about 8 minutes
    python benchmarks/bench_ai_planning.py --quick    # answers 10x faster: under a minute

Knobs, as a user of GitHub Models' free tier sets them: ``ai-deadline: 600`` (the default 300 s
is too short for the serial run), ``ai-requests-per-minute`` left at the model's 15 (150 with
``--quick``, so that the pace scales with the answers), ``ai-concurrency: 4`` or ``1``.
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openproducer.model import Plan, Section, Spec
from openproducer.planning.ai import MIN_OUTPUT_RATE, AISettings, build_plan
from openproducer.planning.limits import LimitOverrides
from openproducer.planning.passes import build_units
from openproducer.planning.roles import section_kind
from openproducer.planning.validate import path_name
from openproducer.spec import parse_sections, parse_spec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the shared fake lives in tests/, which is no package on sys.path
from tests.fakes.ai_server import (  # noqa: E402
    FakeAIServer,
    Limits,
    Reply,
    Request,
    count_tokens,
    reply_text,
    serve_ai,
    spec_responder,
)

SPEC = ROOT / "benchmarks" / "specs" / "fieldbook_offline.md"
MODEL = "openai/gpt-4.1-mini"  # GitHub Models' default; a "low" model: 15 requests a minute
MAX_INPUT, MAX_OUTPUT = 8_000, 4_000  # GitHub Models' free tier, per request
TOKENS_PER_SECOND = 60.0  # GitHub Models' free tier writes about this fast
RPM = 15
DEADLINE = 600.0
BODY_WORDS = 120  # words in each issue body the fake writes: about 280 output tokens an issue
MAX_ISSUES = 100
WALL_TARGET = 180.0  # seconds, with 4 in flight
RATIO_TARGET = 0.5  # of the serial run's wall time
_PARTS_FAILED = re.compile(r"The AI could not plan (\d+) part")


@dataclass(frozen=True)
class Run:
    """What one plan of the spec took and gave."""

    concurrency: int
    plan: Plan
    seconds: float
    requests: tuple[tuple[int, int], ...]  # (input tokens, max_tokens asked), 413s included
    outputs: tuple[int, ...]  # output tokens of each answer
    in_flight: int  # most requests the fake served at once


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="answers 10x faster (and 10x RPM)")
    args = parser.parse_args()
    scale = 10.0 if args.quick else 1.0
    spec = parse_spec(SPEC.read_text(encoding="utf-8"), max_issues=MAX_ISSUES)
    sections = parse_sections(spec.text)
    work = find_work_sections(sections)
    runs = [plan_once(spec, concurrency=n, scale=scale) for n in (4, 1)]
    print(render_header(spec.text, scale=scale))
    print(render_table(runs, work=work, scale=scale))
    print(render_context_note(runs[0].plan, sections))
    return 0


def plan_once(spec: Spec, *, concurrency: int, scale: float) -> Run:
    """Plan ``spec`` against a fresh fake with at most ``concurrency`` requests in flight."""
    with serve_ai() as server:
        outputs = record_outputs(server)
        server.limits = Limits(MAX_INPUT, MAX_OUTPUT, TOKENS_PER_SECOND * scale)
        settings = AISettings(
            provider="github",
            api_key="bench-token",
            model=MODEL,
            base_url=server.url + "/inference",
            deadline=DEADLINE,
            output_rate=MIN_OUTPUT_RATE,  # as `resolve_ai_settings` sets it for the Action
            limits=LimitOverrides(rpm=int(RPM * scale), concurrency=concurrency),
        )
        started = time.monotonic()
        plan = build_plan(spec, settings=settings, max_issues=MAX_ISSUES)
        seconds = time.monotonic() - started
        requests = tuple(
            (count_tokens(r.prompt), r.max_output or MAX_OUTPUT) for r in server.requests
        )
        return Run(concurrency, plan, seconds, requests, tuple(outputs), server.max_in_flight)


def record_outputs(server: FakeAIServer) -> list[int]:
    """Have the fake plan from each prompt and note each answer's output tokens."""
    answer = spec_responder(body_words=BODY_WORDS)
    outputs: list[int] = []
    lock = threading.Lock()

    def respond(request: Request) -> Reply:
        reply = answer(request)
        asked = request.max_output or MAX_OUTPUT
        spoken = count_tokens(reply_text(reply) or "")
        with lock:
            outputs.append(min(spoken, asked, MAX_OUTPUT))  # where the fake cuts the answer
        return reply

    server.responder = respond
    return outputs


def find_work_sections(sections: Sequence[Section]) -> list[Section]:
    """Sections with text in the spec's work units, acceptance criteria left out."""
    units = [u for u in build_units(sections)[1] if u.kind == "work"]
    return [
        s for u in units for s in u.sections if s.body.strip() and section_kind(s.title) == "work"
    ]


def count_covered(plan: Plan, work: Sequence[Section]) -> int:
    """Work sections an issue covers: by name, or through one of its sub-sections."""
    covers = {c for issue in plan.issues for c in issue.covers}
    return sum(
        1
        for s in work
        if any(c == path_name(s) or c.startswith(path_name(s) + " > ") for c in covers)
        or s.title in {c.rsplit(" > ", 1)[-1] for c in covers}
    )


def count_from_context(plan: Plan, sections: Sequence[Section]) -> int:
    """Issues that cover only sections of the spec's context units (Alternatives, Risks…)."""
    context = {
        path_name(s) for u in build_units(sections)[1] if u.kind != "work" for s in u.sections
    }
    return sum(1 for i in plan.issues if i.covers and set(i.covers) <= context)


def count_fallback(plan: Plan) -> str:
    """Parts the offline planner planned ("all" when the whole plan fell back)."""
    if plan.planner != "github":
        return "all"
    found = [int(m.group(1)) for n in plan.notes if (m := _PARTS_FAILED.search(n))]
    return str(sum(found))


def render_header(text: str, *, scale: float) -> str:
    words = len(text.split())
    speed = TOKENS_PER_SECOND * scale
    return (
        f"Spec: `{SPEC.relative_to(ROOT)}`, {words:,} words. GitHub Models `{MODEL}` limits: "
        f"{MAX_INPUT:,} in / {MAX_OUTPUT:,} out tokens a request, {int(RPM * scale)} a minute; "
        f"answers at {speed:g} tokens/s; `ai-deadline: {DEADLINE:g}`."
        + (" Quick run: time targets scaled by 1/10." if scale != 1 else "")
        + "\n"
    )


def render_table(runs: Sequence[Run], *, work: Sequence[Section], scale: float) -> str:
    serial = next(r for r in runs if r.concurrency == 1)
    rows = [
        "| in flight | requests | largest in / out | wall | work covered | issues "
        "| fallback | vs serial |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        largest_in = max(tokens for tokens, _ in run.requests)
        largest_out = max(run.outputs, default=0)
        over = any(tokens > MAX_INPUT or asked > MAX_OUTPUT for tokens, asked in run.requests)
        covered = count_covered(run.plan, work)
        fallback = count_fallback(run.plan)
        parallel = run.concurrency > 1
        wall_miss = parallel and run.seconds > WALL_TARGET / scale
        ratio = run.seconds / serial.seconds
        cells = [
            f"≤ {run.concurrency} (max {run.in_flight})",
            str(len(run.requests)),
            mark(f"{largest_in:,} / {largest_out:,}", miss=over),
            mark(f"{run.seconds:.0f} s", miss=wall_miss),
            mark(f"{covered} of {len(work)}", miss=covered < len(work)),
            str(len(run.plan.issues)),
            mark(fallback, miss=fallback != "0"),
            mark(f"{ratio:.2f}", miss=ratio >= RATIO_TARGET) if parallel else "1",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def render_context_note(plan: Plan, sections: Sequence[Section]) -> str:
    found = count_from_context(plan, sections)
    if not found:
        return "\nNo issue comes from a context section."
    return (
        f"\n{found} issues (4 in flight) come from context sections: the fake's outline sorts "
        "only headings with words such as Background or Glossary into context, and the planner "
        "follows the AI's outline over its own heading roles."
    )


def mark(cell: str, *, miss: bool) -> str:
    return f"{cell} ✗" if miss else cell


if __name__ == "__main__":
    sys.exit(main())
