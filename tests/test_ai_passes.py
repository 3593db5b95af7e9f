"""Planning in passes (outline, parts, merge) through the real SDKs against the loopback fake."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from openproducer.model import Options, Plan, PlannedIssue, Spec
from openproducer.planning.ai import AISettings, build_plan, estimate_request
from openproducer.planning.limits import LimitOverrides, estimate_tokens, find_limits
from openproducer.planning.passes import near_duplicate, share_budget, title_key
from openproducer.planning.prompt import Prompt
from openproducer.planning.schema import classify_status
from openproducer.planning.validate import validate_plan
from openproducer.spec import parse_sections
from tests.fakes.ai_server import (
    FakeAIServer,
    Limits,
    Reply,
    Request,
    count_tokens,
    github_rate_limited,
    openai_error,
    serve_ai,
    spec_responder,
)
from tests.test_ai_planning import _fresh_formats  # noqa: F401 (an autouse fixture)

WORDS = "the service stores each record with its owner, a timestamp and an audit trail entry"
AREAS = ("Accounts", "Catalog", "Checkout", "Shipping", "Reports")


def paragraph(topic: str, n: int) -> str:
    return " ".join(f"{topic} rule {k}: {WORDS}." for k in range(n))


def big_spec(*, subsections: int = 2, sentences: int = 4) -> str:
    blocks = ["# Shop", "", "An online shop for small makers.", "", "## Overview", ""]
    blocks += [paragraph("Overview", 2), "", "## Glossary", "", "Maker: a seller.", ""]
    for area in AREAS:
        blocks += [f"## {area}", "", paragraph(area, 1), ""]
        for k in range(1, subsections + 1):
            blocks += [f"### {area} part {k}", "", paragraph(f"{area} {k}", sentences), ""]
    blocks += ["## Out of scope", "", "Marketplaces and auctions.", ""]
    return "\n".join(blocks)


def offline(spec: Spec, *, max_issues: int) -> Plan:
    return Plan(
        issues=(PlannedIssue(key="1", title="Offline: " + spec.text.split("\n")[0], body="b"),),
        planner="offline",
    )


@pytest.fixture
def server() -> Iterator[FakeAIServer]:
    with serve_ai() as running:
        running.responder = spec_responder(body_words=12)
        running.limits = Limits(max_input=2_600, max_output=1_200)
        yield running


def small(server: FakeAIServer, **changes: Any) -> AISettings:
    """GitHub Models' shape with tiny limits: 2,600 tokens in, 1,200 out per request."""
    settings = AISettings(
        provider="github",
        api_key="test-token",
        model="openai/gpt-4.1-mini",
        base_url=server.url + "/inference",
        timeout=5.0,
        deadline=20.0,
        backoff=0.01,
        max_backoff=0.02,
        max_attempts=3,
        limits=LimitOverrides(max_input=2_600, max_output=1_200, rpm=1_000, concurrency=3),
    )
    return replace(settings, **changes)


def plan(
    settings: AISettings, text: str, *, max_issues: int = 60, count: int | None = None
) -> Plan:
    spec = Spec(text=text, options=Options(count=count))
    return build_plan(spec, settings=settings, max_issues=max_issues, offline_planner=offline)


def part_requests(server: FakeAIServer) -> list[Request]:
    return [r for r in server.requests if "OutlineAnswer" not in json.dumps(r.body)]


def work_headings(text: str) -> set[str]:
    return {s.title for s in parse_sections(text) if s.title.startswith(AREAS) and s.body}


# ------------------------------------------------------------------ limits


def test_limits_per_provider_and_overrides() -> None:
    github = find_limits("github", "openai/gpt-4.1-mini")
    assert (github.max_input, github.max_output, github.rpm) == (8_000, 4_000, 15)
    assert find_limits("github", "openai/gpt-4.1").rpm == 10
    assert find_limits("gemini", "gemini-2.5-flash").rpd == 250
    custom = find_limits("custom", "llama3", LimitOverrides(max_input=4_000, max_output=1_000))
    assert (custom.max_input, custom.max_output) == (4_000, 1_000)
    assert estimate_tokens("x" * 35) == 10 >= count_tokens("x" * 35)


@pytest.mark.parametrize(
    ("status", "code", "headers", "kind"),
    [
        (413, "tokens_limit_reached", {}, "too_large"),
        (
            429,
            None,
            {"x-ratelimit-type": "UserByModelByDay", "retry-after": "80000"},
            "daily_quota",
        ),
        (429, None, {"retry-after": "7200"}, "daily_quota"),
        (429, None, {"retry-after": "3"}, "rate_limit"),
    ],
)
def test_error_kinds(status: int, code: str | None, headers: dict[str, str], kind: str) -> None:
    assert classify_status(status, code=code, headers=headers)[0] == kind


# ------------------------------------------------------------------ passes


def test_a_spec_too_big_for_one_request_is_planned_in_passes(server: FakeAIServer) -> None:
    server.limits = replace(server.limits, tokens_per_second=4_000)  # answers take a while
    text = big_spec()
    result = plan(small(server), text)
    assert result.planner == "github"
    limits = small(server).model_limits()
    for request in server.requests:
        assert request.path == "/inference/chat/completions"
        assert 0 < request.body["max_tokens"] <= limits.max_output
        assert count_tokens(request.prompt) <= limits.max_input
    outline, *parts = server.requests
    assert "OutlineAnswer" in json.dumps(outline.body)
    assert len(parts) >= len(AREAS)
    assert len({r.prompt for r in parts}) == len(parts)  # nothing sent twice
    covered = {c.rsplit(" > ", 1)[-1] for i in result.issues for c in i.covers}
    assert work_headings(text) <= covered
    assert result.uncovered == ()
    assert not any("offline planner" in n for n in result.notes)
    assert any(n.startswith("AI passes: outline 1 request") for n in result.notes)
    assert "Shared context" in parts[0].prompt and "Maker: a seller." in parts[0].prompt
    assert not any(i.title == "Implement Glossary" for i in result.issues)  # context: no issue
    assert any("Out of scope" in n for n in result.notes)
    assert 1 < server.max_in_flight <= 3


def test_parts_follow_the_outline_order_across_epics(server: FakeAIServer) -> None:
    result = plan(small(server), big_spec())
    titles = [i.title for i in result.issues]
    first_checkout = next(i for i in result.issues if "Checkout" in i.title)
    catalog = [i.key for i in result.issues if "Catalog" in i.title]
    assert set(first_checkout.depends_on) & set(catalog)  # the epic after Catalog waits for it
    assert titles.index("Implement Accounts") < titles.index("Implement Reports")


def test_the_outline_gets_a_digest_when_the_spec_does_not_fit(server: FakeAIServer) -> None:
    text = big_spec(subsections=3, sentences=6)
    settings = small(server)
    result = plan(settings, text)
    outline = server.requests[0]
    assert "only the headings and the first lines" in outline.prompt
    assert result.uncovered == ()


def test_small_specs_keep_the_single_request(server: FakeAIServer) -> None:
    result = plan(small(server), "## Accounts\n\nSign up with e-mail.\n")
    assert len(server.requests) == 1
    assert result.planner == "github"
    assert server.requests[0].body["max_tokens"] == 1_200


def test_a_413_splits_the_part_and_never_resends_it(server: FakeAIServer) -> None:
    server.limits = Limits(max_input=1_400, max_output=1_200)  # the server counts stricter
    result = plan(small(server), big_spec(subsections=3))
    prompts = [r.prompt for r in server.requests]
    assert len(set(prompts)) == len(prompts)
    assert result.planner == "github"
    assert any("offline planner did" in n for n in result.notes) or result.uncovered == ()


def test_a_cut_off_part_is_split_at_its_sub_headings(server: FakeAIServer) -> None:
    server.responder = spec_responder(body_words=150)  # long bodies: answers hit the limit
    result = plan(small(server), big_spec())
    prompts = [r.prompt for r in part_requests(server)]
    assert len(set(prompts)) == len(prompts)
    assert any("### Accounts part 1" in p and "### Accounts part 2" not in p for p in prompts)
    assert result.planner == "github"


def test_a_part_the_ai_cannot_plan_is_planned_offline(server: FakeAIServer) -> None:
    answer = spec_responder(body_words=12)

    def respond(request: Request) -> Reply:
        if "## Shipping" in request.spec:
            return openai_error(500, "boom", type_="server_error")
        return answer(request)

    server.responder = respond
    result = plan(small(server, max_attempts=2), big_spec(subsections=1))
    assert result.planner == "github"
    assert any("offline planner did: Shop > Shipping (server)" in n for n in result.notes)
    assert any(i.title == "Offline: ## Shipping" for i in result.issues)
    assert any(i.title == "Implement Reports" for i in result.issues)


def test_a_daily_quota_stops_asking_that_model(server: FakeAIServer) -> None:
    answer = spec_responder(body_words=12)
    served = []

    def respond(request: Request) -> Reply:
        served.append(request)
        return github_rate_limited(daily=True) if len(served) == 3 else answer(request)

    server.responder = respond
    result = plan(
        small(server, limits=LimitOverrides(2_600, 1_200, 1_000, 1)), big_spec(subsections=1)
    )
    assert len(server.requests) == 3  # outline, one part, the refused one: then no more
    assert any("daily_quota" in n for n in result.notes)
    assert result.planner == "github"


def test_a_rate_limit_waits_when_the_wait_fits(server: FakeAIServer) -> None:
    server.queue(github_rate_limited(retry_after=1))
    result = plan(small(server), "## Accounts\n\nSign up with e-mail.\n")
    assert result.planner == "github" and len(server.requests) == 2


def test_budget_goes_to_work_and_respects_the_count(server: FakeAIServer) -> None:
    server.responder = spec_responder(body_words=12, issues_per_section=3)
    result = plan(small(server), big_spec(subsections=1), count=7)
    assert len(result.issues) == 7
    prompts = [r.prompt for r in part_requests(server)]
    assert not any(
        "ONE PART" in p and "## Glossary\nMaker" in p.split("<spec>")[-1] for p in prompts
    )
    assert all("Create exactly 1 issues" in p or "Create exactly 2 issues" in p for p in prompts)


def test_gemini_passes_set_max_output_tokens(server: FakeAIServer) -> None:
    settings = small(
        server, provider="gemini", model="gemini-2.5-flash", base_url=server.gemini_url
    )
    result = plan(settings, big_spec(subsections=1))
    assert result.planner == "gemini"
    assert all(r.body["generationConfig"]["maxOutputTokens"] <= 1_200 for r in server.requests)


# ------------------------------------------------------------------ pure parts


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, [1, 1], [5, 5]),
        (10, [3, 1], [8, 2]),
        (3, [5, 1, 1, 1], [1, 1, 1, 1]),
        (7, [2, 1, 1], [3, 2, 2]),
        (12, [2, 1, 1], [6, 3, 3]),
    ],
)
def test_share_budget(total: int, weights: list[int], expected: list[int]) -> None:
    assert share_budget(total, weights) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Add the checkout page", "Checkout page", True),
        ("Implement order history export to CSV", "Implement order history CSV export", True),
        ("Implement order history export", "Implement order refund flow", False),
    ],
)
def test_near_duplicates(a: str, b: str, same: bool) -> None:
    assert near_duplicate(title_key(a), title_key(b)) is same


def test_reorder_sorts_dependencies_first_and_breaks_cycles() -> None:
    from openproducer.planning.schema import IssueDraft

    def d(title: str, deps: list[int]) -> IssueDraft:
        return IssueDraft.model_validate({"title": title, "body": "b", "depends_on": deps})

    sorted_plan = validate_plan(
        [d("C", [2]), d("A", []), d("B", [2])], max_issues=5, sections=(), planner="x", reorder=True
    )
    assert [(i.title, i.depends_on) for i in sorted_plan.issues] == [
        ("A", ()),
        ("C", ("1",)),
        ("B", ("1",)),
    ]
    cycle = validate_plan(
        [d("A", [2]), d("B", [1])], max_issues=5, sections=(), planner="x", reorder=True
    )
    assert [i.depends_on for i in cycle.issues] == [(), ("1",)]
    assert any("Broke a dependency cycle" in n for n in cycle.notes)


def test_requests_are_estimated_conservatively() -> None:
    prompt = Prompt(system="s" * 3_500, user="u" * 7_000)
    assert estimate_request(prompt) > count_tokens("s" * 3_500 + "u" * 7_000)
