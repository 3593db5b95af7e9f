"""The `openproducer` command: `plan`, `run` and `demo`, on the same engine as the Action."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from openproducer import OpenProducerError, UserError, __version__
from openproducer.action import Context, make_planner, run_event
from openproducer.config import SECRET_INPUTS, Settings, parse_settings, read_inputs
from openproducer.safety import scrub
from openproducer.spec import parse_spec

CLI_ENV = {  # CLI environment variable -> action input
    "OPENPRODUCER_TRIGGER": "trigger",
    "OPENPRODUCER_AI_PROVIDER": "ai-provider",
    "OPENPRODUCER_AI_API_KEY": "ai-api-key",
    "OPENPRODUCER_AI_MODEL": "ai-model",
    "OPENPRODUCER_AI_BASE_URL": "ai-base-url",
    "OPENPRODUCER_MAX_ISSUES": "max-issues",
    "OPENPRODUCER_CONFIRMATION_THRESHOLD": "confirmation-threshold",
    "OPENPRODUCER_RATE_LIMIT_PER_MINUTE": "rate-limit-per-minute",
    "OPENPRODUCER_PROHIBITED_KEYWORDS": "prohibited-keywords",
    "OPENPRODUCER_ALLOWED_PERMISSION": "allowed-permission",
    "OPENPRODUCER_LABELS": "labels",
    "OPENPRODUCER_DRY_RUN": "dry-run",
    "OPENPRODUCER_BOT_LOGIN": "bot-login",
    "OPENPRODUCER_ALLOWED_BOTS": "allowed-bots",
    "OPENPRODUCER_STATE_SECRET": "state-secret",
}


def settings_from_env(env: dict[str, str], **overrides: str) -> Settings:
    """Action inputs from `INPUT_*` or the friendlier `OPENPRODUCER_*` variables."""
    raw = read_inputs(env)
    for variable, name in CLI_ENV.items():
        if env.get(variable):
            raw[name] = env[variable]
    raw.update(overrides)
    return parse_settings(raw)


def _print_plan(args: argparse.Namespace) -> int:
    text = Path(args.spec).read_text(encoding="utf-8")
    env = dict(os.environ)
    settings = settings_from_env(
        env, **({"max-issues": str(args.max_issues)} if args.max_issues else {})
    )
    spec = parse_spec(text, max_issues=settings.max_issues)
    if spec.errors:
        for error in spec.errors:
            print(f"{args.spec}:{error.line}: {error.key}: {error.message}", file=sys.stderr)
        return 2
    plan = make_planner(settings, env)(spec, settings.max_issues)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "title": i.title,
                        "labels": list(i.labels),
                        "body": i.body,
                        "depends_on": list(i.depends_on),
                    }
                    for i in plan.issues
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{len(plan.issues)} issues planned by the {plan.planner} planner:\n")
    for number, issue in enumerate(plan.issues, start=1):
        labels = f"  [{', '.join(issue.labels)}]" if issue.labels else ""
        print(f"{number:>3}. {issue.title}{labels}")
        if args.verbose:
            print("\n".join("       " + line for line in issue.body.splitlines()) + "\n")
    for note in plan.notes:
        print(f"\nnote: {note}")
    for section in plan.uncovered:
        print(f"uncovered: {section}")
    return 0


def _run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    settings = settings_from_env(env)
    token = settings.github_token or env.get("GITHUB_TOKEN", "")
    secrets = [v for v in (token, settings.ai_api_key, settings.state_secret) if v]
    ctx = Context(
        event_name=args.event_name,
        event_path=args.event,
        repo=args.repo,
        api_url=args.api_url or env.get("GITHUB_API_URL") or "https://api.github.com",
    )
    outcome = run_event(
        ctx=ctx,
        settings=settings,
        env=env,
        token=token,
        log=lambda m: print(scrub(m, secrets), file=sys.stderr),
    )
    print(
        json.dumps(
            {
                "command": outcome.command,
                "status": outcome.status,
                "run-id": outcome.run_id,
                "created-issues": list(outcome.created),
            }
        )
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from openproducer.demo import run_demo

    text = (
        Path(args.spec).read_text(encoding="utf-8")
        if args.spec
        else resources.files("openproducer").joinpath("examples/spec.md").read_text("utf-8")
    )
    with tempfile.TemporaryDirectory() as workdir:
        return run_demo(text, workdir=workdir, out=sys.stdout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openproducer",
        description=("Turn a large spec in a GitHub issue into focused GitHub issues."),
    )
    parser.add_argument("--version", action="version", version=f"openproducer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    plan = sub.add_parser("plan", help="print the issues a spec would become (no GitHub needed)")
    plan.add_argument("spec", help="a Markdown file holding the spec")
    plan.add_argument("--max-issues", type=int, default=0)
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("-v", "--verbose", action="store_true", help="print the bodies too")
    plan.set_defaults(handler=_print_plan)
    run = sub.add_parser("run", help="handle one webhook event exactly as the Action does")
    run.add_argument("--event", required=True, help="the event payload (JSON file)")
    run.add_argument("--event-name", required=True, help="issues or issue_comment")
    run.add_argument("--repo", required=True, help="OWNER/REPO")
    run.add_argument("--api-url", default="", help="API base (default: $GITHUB_API_URL)")
    run.set_defaults(handler=_run)
    demo = sub.add_parser("demo", help="see the whole flow against a local GitHub emulator")
    demo.add_argument("spec", nargs="?", help="a spec file (default: a bundled example)")
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (OSError, UserError) as exc:
        print(f"openproducer: {exc}", file=sys.stderr)
        return 2
    except OpenProducerError as exc:
        print(f"openproducer: {exc}", file=sys.stderr)
        return 1
    return code


__all__ = ["SECRET_INPUTS", "main", "settings_from_env"]
