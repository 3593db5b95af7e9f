"""Hand-written vcrpy cassettes of each provider's wire format, replayed through the real SDKs.

record_mode "none": a request the cassette does not hold fails instead of reaching the network.
Requests match on method and path only; the body (the prompt) may change freely.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import vcr

from openproducer.model import Plan, PlannedIssue, Section, Spec
from openproducer.planning import openai_provider
from openproducer.planning.ai import DEFAULT_BASE_URLS, AISettings, build_plan

CASSETTES = Path(__file__).parent / "cassettes"
SECTIONS = (
    Section(("Team Calendar",), 1, 1, "A shared calendar for small teams."),
    Section(("Team Calendar", "Accounts"), 2, 5, "Sign up and log in with e-mail."),
    Section(("Team Calendar", "Events"), 2, 9, "Create, edit and delete events."),
    Section(("Team Calendar", "Notifications"), 2, 13, "E-mail reminders."),
)
SPEC = Spec(text="# Team Calendar\n\n## Accounts\n\n## Events\n\n## Notifications\n")


def never_offline(spec: Spec, *, max_issues: int) -> Plan:
    return Plan(issues=(PlannedIssue(key="1", title="offline", body="offline"),), planner="offline")


@pytest.fixture(autouse=True)
def _fresh_formats() -> Iterator[None]:
    openai_provider.forget_formats()
    yield
    openai_provider.forget_formats()


@pytest.mark.parametrize(
    ("provider", "model", "requests"),
    [("openai", "gpt-4.1-mini", 1), ("zai", "glm-4.6", 2), ("gemini", "gemini-2.5-flash", 1)],
)
def test_cassette_replays_to_a_validated_plan(provider: str, model: str, requests: int) -> None:
    recorder = vcr.VCR(
        cassette_library_dir=str(CASSETTES / provider),
        record_mode="none",
        match_on=["method", "path"],
    )
    settings = AISettings(
        provider=provider,
        api_key="test-key-not-real",
        model=model,
        base_url=DEFAULT_BASE_URLS.get(provider),
        max_attempts=1,
    )
    with recorder.use_cassette("plan.yaml") as cassette:
        plan = build_plan(
            SPEC, settings=settings, max_issues=20, sections=SECTIONS, offline_planner=never_offline
        )
        assert cassette.all_played
    assert plan.planner == provider, plan.notes
    assert len(plan.issues) == 3
    assert [i.depends_on for i in plan.issues] == [(), ("1",), ("2",)]
    assert plan.uncovered == ()
    assert all("## Acceptance criteria" in i.body for i in plan.issues)
    assert plan.usage is not None
    assert plan.usage.requests == requests and plan.usage.prompt_tokens > 1000
