"""GitHub Models: an AI plan with nothing but the workflow's token (`permissions: models: read`).

Through the Action against the loopback fake AI server, which stands in for
https://models.github.ai/inference (the real openai SDK talks to it).
"""

from __future__ import annotations

import json

from tests.conftest import TRIGGER, Harness
from tests.fakes.ai_server import openai_error, openai_reply, serve_ai

SPEC = f"""{TRIGGER}

## Checkout
Customers pay for their cart with a card, see a receipt and get an e-mail.
"""
PLAN = json.dumps(
    {
        "issues": [
            {
                "title": f"Checkout step {n}",
                "body": f"## Context\nStep {n}.\n## Acceptance criteria\n- [ ] works",
                "labels": [],
                "depends_on": [],
                "size": "S",
                "covers": ["Checkout"],
            }
            for n in (1, 2)
        ],
        "notes": [],
    }
)


def test_with_only_the_workflow_token_the_plan_comes_from_github_models(gh: Harness) -> None:
    gh.env["GITHUB_ACTIONS"] = "true"
    with serve_ai() as ai:
        ai.queue(openai_reply(PLAN))
        issue, result = gh.open_issue(SPEC, ai_provider="auto", ai_base_url=ai.openai_url)
        assert len(ai.requests) == 1
        request = ai.requests[0]
    assert result.outputs["status"] == "completed", result.log
    assert request.path.endswith("/chat/completions")
    assert request.headers["authorization"] == f"Bearer {gh.token}"
    assert request.body["model"] == "openai/gpt-4.1-mini"
    titles = sorted(i["title"] for i in gh.created(issue["number"]))
    assert titles == ["Checkout step 1", "Checkout step 2"]
    assert json.loads(result.outputs["ai-usage"])["provider"] == "github"
    assert gh.token not in result.summary


def test_without_the_models_permission_the_plan_is_offline_and_the_reply_says_how_to_fix_it(
    gh: Harness,
) -> None:
    gh.env["GITHUB_ACTIONS"] = "true"
    with serve_ai() as ai:
        ai.queue(openai_error(403, "Resource not accessible by integration", type_="forbidden"))
        issue, result = gh.open_issue(SPEC, ai_provider="auto", ai_base_url=ai.openai_url)
        assert len(ai.requests) == 1  # a refusal is not retried
    assert result.outputs["status"] == "completed", result.log
    assert len(gh.created(issue["number"])) >= 1  # the offline plan
    reply = gh.last_reply(issue["number"])
    assert reply.count("models: read") == 1
    assert "offline planner" in reply


def test_outside_github_actions_auto_with_no_key_stays_offline(gh: Harness) -> None:
    with serve_ai() as ai:
        issue, result = gh.open_issue(SPEC, ai_provider="auto", ai_base_url=ai.openai_url)
        assert ai.requests == []
    assert result.outputs["status"] == "completed", result.log
    assert "models: read" not in gh.last_reply(issue["number"])


def test_the_github_provider_can_be_chosen_with_another_model(gh: Harness) -> None:
    with serve_ai() as ai:
        ai.queue(openai_reply(PLAN))
        _, result = gh.open_issue(
            SPEC, ai_provider="github", ai_model="meta/llama-4-scout", ai_base_url=ai.openai_url
        )
        assert ai.requests[0].body["model"] == "meta/llama-4-scout"
    assert result.outputs["status"] == "completed", result.log


def test_limit_inputs_reach_the_requests(gh: Harness) -> None:
    with serve_ai() as ai:
        ai.queue(openai_reply(PLAN))
        _, result = gh.open_issue(
            SPEC, ai_provider="github", ai_base_url=ai.openai_url, ai_max_output_tokens="700"
        )
        body = ai.requests[0].body
    assert result.outputs["status"] == "completed", result.log
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    assert asked is not None and 0 < asked <= 700


def test_a_bad_limit_input_is_a_clear_error(gh: Harness) -> None:
    _, result = gh.open_issue(SPEC, ai_concurrency="many")
    assert result.code == 1
    assert "`ai-concurrency` must be a whole number (got `many`)" in result.log
