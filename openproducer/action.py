"""Composition root: read the runner's environment once, build the adapters, run, report.

https://docs.github.com/en/actions/sharing-automations/creating-actions/metadata-syntax-for-github-actions#inputs
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets as _secrets
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openproducer import ConfigError, OpenProducerError, ServiceError, UserError
from openproducer.config import SECRET_INPUTS, Settings, parse_settings, read_inputs
from openproducer.engine import Engine
from openproducer.events import Event, parse_event
from openproducer.github import DEFAULT_API_URL, GitHubPort
from openproducer.handlers.turn import Outcome, Planner
from openproducer.model import Plan, Spec
from openproducer.outbound import Outbound
from openproducer.safety import Scrubber, scrub

if TYPE_CHECKING:
    from openproducer.planning.ai import AISettings

Log = Callable[[str], None]


@dataclass(frozen=True)
class Context:
    """What the runner provides, read once."""

    event_name: str
    event_path: str
    repo: str
    api_url: str = DEFAULT_API_URL
    server_url: str = "https://github.com"
    run_id: str = ""
    output_path: str = ""
    summary_path: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Context:
        missing = [
            n
            for n in ("GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY")
            if not env.get(n)
        ]
        if missing:
            raise ConfigError(
                "Missing runner variables: "
                + ", ".join(missing)
                + ". Run this inside GitHub Actions, or use `openproducer run`."
            )
        return cls(
            event_name=env["GITHUB_EVENT_NAME"],
            event_path=env["GITHUB_EVENT_PATH"],
            repo=env["GITHUB_REPOSITORY"],
            api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
            server_url=env.get("GITHUB_SERVER_URL") or "https://github.com",
            run_id=env.get("GITHUB_RUN_ID", ""),
            output_path=env.get("GITHUB_OUTPUT", ""),
            summary_path=env.get("GITHUB_STEP_SUMMARY", ""),
        )


def _ai_settings(settings: Settings, env: Mapping[str, str]) -> AISettings | None:
    from openproducer.planning.ai import resolve_ai_settings
    from openproducer.planning.limits import LimitOverrides

    ai = resolve_ai_settings(
        provider=settings.ai_provider,
        api_key=settings.ai_api_key,
        model=settings.ai_model,
        base_url=settings.ai_base_url,
        env=env,
        github_token=settings.github_token or env.get("GITHUB_TOKEN", ""),
    )
    if ai is None:
        return None
    limits = LimitOverrides(
        max_input=settings.ai_max_input_tokens or None,
        max_output=settings.ai_max_output_tokens or None,
        rpm=settings.ai_requests_per_minute or None,
        concurrency=settings.ai_concurrency or None,
    )
    return dataclasses.replace(ai, deadline=float(settings.ai_deadline), limits=limits)


def make_planner(settings: Settings, env: Mapping[str, str]) -> Planner:
    """The AI planner when one is configured (it falls back to the offline one), else offline."""
    from openproducer.planning.ai import build_plan

    ai = _ai_settings(settings, env)

    def plan(spec: Spec, max_issues: int) -> Plan:
        return build_plan(spec, settings=ai, max_issues=max_issues)

    return plan


def outbound_for(settings: Settings, env: Mapping[str, str], token: str) -> Outbound:
    """The guard for everything written: it scrubs every secret this job can know."""
    ai = _ai_settings(settings, env)
    found = [token, settings.github_token, settings.ai_api_key, settings.state_secret]
    found += [ai.api_key] if ai else []
    return Outbound(Scrubber(tuple(dict.fromkeys(s for s in found if s))))


def run_event(
    *, ctx: Context, settings: Settings, env: Mapping[str, str], log: Log, token: str
) -> Outcome:
    """Handle one event end to end: exactly what the Action does, also used by the CLI."""
    with open(ctx.event_path, encoding="utf-8") as handle:
        payload: dict[str, Any] = json.load(handle)
    event = parse_event(ctx.event_name, payload)
    if event is None:
        log(f"Ignoring {ctx.event_name}: no issue in this event.")
        return Outcome(command="none", status="ignored")
    return handle_event(event, ctx=ctx, settings=settings, env=env, log=log, token=token)


def handle_event(
    event: Event, *, ctx: Context, settings: Settings, env: Mapping[str, str], log: Log, token: str
) -> Outcome:
    """Compose the port and the engine for ``ctx``'s repository and handle ``event``.

    A failure is also reported in the thread (`report_failure`), then raised.
    """
    outbound = outbound_for(settings, env, token)
    port = GitHubPort(
        token=token,
        outbound=outbound,
        repo=ctx.repo,
        api_url=ctx.api_url,
        writes_per_minute=settings.rate_limit_per_minute,
        secondary_rate_wait=float(env.get("OPENPRODUCER_SECONDARY_WAIT", "60")),
        timeout=int(env.get("OPENPRODUCER_GITHUB_TIMEOUT", "20")),
    )
    engine = Engine(
        port=port,
        settings=settings,
        planner=make_planner(settings, env),
        log=log,
        claim_token=f"{ctx.run_id or 'local'}-{_secrets.token_hex(4)}",
        backoff=float(env.get("OPENPRODUCER_BACKOFF", "1.0")),
        hourly_writes=int(env.get("OPENPRODUCER_HOURLY_WRITES", "500")),
        scrubber=outbound.scrubber,
    )
    started = time.monotonic()
    try:
        outcome = engine.handle(event)
    except OpenProducerError as exc:
        report_failure(port, event.issue_number, exc, ctx, log)
        raise
    if env.get("RUNNER_DEBUG") == "1":  # the run's debug logging is on
        log(
            f"::debug::{event.name}.{event.action} → {outcome.command} {outcome.status} in "
            f"{time.monotonic() - started:.2f} s; {port.calls} GitHub calls, {port.writes} writes"
        )
    return outcome


def report_failure(port: GitHubPort, number: int, exc: Exception, ctx: Context, log: Log) -> None:
    """Failures get a comment too, never only a log line."""
    link = f"{ctx.server_url}/{ctx.repo}/actions/runs/{ctx.run_id}" if ctx.run_id else ""
    text = (
        f"### ❌ OpenProducer stopped with an error\n\n{exc}\n\n"
        + (f"Details are in the [workflow run]({link}). " if link else "")
        + "Whatever was created before the error is recorded above; mention me again with "
        "`confirm` or re-run the job to continue."
    )
    try:
        port.post_comment(number, text)
    except ServiceError as post_error:
        log(f"::warning title=OpenProducer::Could not report the error in a comment: {post_error}")


def write_outputs(path: str, outcome: Outcome) -> None:
    if not path:
        return
    values = {
        "run-id": outcome.run_id,
        "command": outcome.command,
        "status": outcome.status,
        "created-issues": json.dumps(list(outcome.created)),
        "ai-usage": json.dumps(outcome.usage),
    }
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in values.items():
            delimiter = f"EOF_{_secrets.token_hex(8)}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def write_summary(path: str, outcome: Outcome, outbound: Outbound) -> None:
    """The job's step summary, through the same guard as every comment."""
    if not path:
        return
    head = f"## OpenProducer: `{outcome.command}` → {outcome.status}"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(outbound.body(f"{head}\n\n{outcome.summary}\n"))


def main(env: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    raw = read_inputs(env)
    secrets = [raw[name] for name in SECRET_INPUTS if raw.get(name)]
    for secret in secrets:  # before anything else can print them
        print(f"::add-mask::{secret}", flush=True)

    def log(message: str) -> None:
        print(scrub(message, secrets), flush=True)

    try:
        settings = parse_settings(raw)
        ctx = Context.from_env(env)
        token = settings.github_token or env.get("GITHUB_TOKEN", "")
        print("::group::OpenProducer", flush=True)
        outcome = run_event(ctx=ctx, settings=settings, env=env, log=log, token=token)
        print("::endgroup::", flush=True)
    except UserError as exc:
        log(f"::error title=OpenProducer: check the inputs::{_one_line(str(exc))}")
        return 1
    except OpenProducerError as exc:
        log(f"::error title=OpenProducer stopped::{_one_line(str(exc))}")
        return 1
    except Exception as exc:  # the last line of defence: log without secrets, fail the step
        log(
            "::error title=OpenProducer crashed::"
            f"Unexpected {type(exc).__name__}: {_one_line(str(exc))}"
        )
        log(traceback.format_exc())
        return 2
    write_outputs(ctx.output_path, outcome)
    if outcome.status != "ignored":  # an unrelated event leaves no trace on the run's page
        write_summary(ctx.summary_path, outcome, outbound_for(settings, env, token))
    log(
        f"Done: {outcome.command} → {outcome.status}"
        + (f" ({outcome.run_id})" if outcome.run_id else "")
    )
    return 0


def _one_line(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
