"""The `openproducer` command: `plan`, `run`, `demo`, and the terminal verbs (`spawn`, `status`,
`confirm`, `cancel`, `rollback`) on the same engine as the Action. README.md#command-line.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import secrets as _secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from github import Auth, Github, GithubException
from requests.exceptions import RequestException

from openproducer import ConfigError, GitHubError, OpenProducerError, UserError, __version__
from openproducer.action import Context, handle_event, make_planner, outbound_for, run_event
from openproducer.config import Settings, parse_settings, read_inputs
from openproducer.events import Event
from openproducer.github import DEFAULT_API_URL
from openproducer.hierarchy import MAX_SUB_ISSUES, shape_plan
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

# Exit codes (README.md#command-line): the command did its work, the bot answered that it did
# not, or nothing was attempted because the invocation or the configuration is wrong.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FAILED_STATUSES = frozenset({"failed", "refused", "invalid", "partial"})
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")
GH_TIMEOUT = 5.0  # seconds for `gh auth token`, which only reads its own config
REFERENCE_HELP = "write OWNER/REPO#N or https://github.com/OWNER/REPO/issues/N"
_SHORT_REF = re.compile(r"(?P<repo>[A-Za-z0-9-]+/[\w.-]+)#(?P<number>\d+)")
_URL_REF = re.compile(
    r"(?P<scheme>https?)://(?P<host>[^/\s]+)/(?P<repo>[A-Za-z0-9-]+/[\w.-]+)"
    r"/issues/(?P<number>\d+)/?(?:[?#]\S*)?"
)

Log = Callable[[str], None]


def settings_from_env(env: Mapping[str, str], **overrides: str) -> Settings:
    """Action inputs from `INPUT_*` or the friendlier `OPENPRODUCER_*` variables."""
    raw = read_inputs(env)
    for variable, name in CLI_ENV.items():
        if env.get(variable):
            raw[name] = env[variable]
    raw.update(overrides)
    return parse_settings(raw)


# -- pure steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueFacts:
    """What the event needs of the issue, read once from GitHub."""

    number: int
    id: int
    title: str
    body: str
    author: str
    is_pull_request: bool = False


@dataclass(frozen=True)
class IssueRef:
    repo: str
    number: int
    api_url: str = ""  # the API of the host an issue URL names; "" for OWNER/REPO#N


def parse_issue_ref(text: str) -> IssueRef:
    """``OWNER/REPO#N`` or an issue's URL on GitHub.com or a GitHub Enterprise Server host."""
    short = _SHORT_REF.fullmatch(text.strip())
    if short and int(short["number"]) > 0:
        return IssueRef(short["repo"], int(short["number"]))
    url = _URL_REF.fullmatch(text.strip())
    if url and int(url["number"]) > 0:
        return IssueRef(url["repo"], int(url["number"]), api_url=api_url_for(url))
    raise UserError(f"`{text}` is not an issue reference: {REFERENCE_HELP}.")


def api_url_for(url: re.Match[str]) -> str:
    """GitHub.com's API, or an Enterprise Server's at ``/api/v3``.

    https://docs.github.com/en/enterprise-server@latest/rest/quickstart
    """
    if url["host"].lower() in ("github.com", "www.github.com"):
        return DEFAULT_API_URL
    return f"{url['scheme']}://{url['host']}/api/v3"


def gh_hostname(api_url: str) -> str:
    """The host `gh auth login` stored a token for, from an API base URL."""
    host = urlsplit(api_url).netloc
    return "github.com" if host.lower() == "api.github.com" else host


def parse_run_argument(verb: str, argument: str) -> str:
    """A run id or `last` is one word: anything longer would be read as a spec."""
    if argument and argument.split() != [argument]:
        raise UserError(
            f"`{verb}` takes one run id such as run_20250101_120000_ab12cd34, not `{argument}`."
        )
    return argument


def build_terminal_event(
    *, verb: str, argument: str, trigger: str, sender: str, issue: IssueFacts, nonce: str
) -> Event:
    """The command as if `sender` had commented it; a bare mention plans the issue body.

    ``nonce`` names this command, so the run a `spawn` starts is its own (`Event.trigger_key`).
    """
    words = [trigger] if verb == "spawn" else [trigger, verb, argument]
    return Event(
        name="issue_comment",
        action="created",
        issue_number=issue.number,
        issue_id=issue.id,
        issue_title=issue.title,
        issue_body=issue.body,
        issue_author=issue.author,
        sender=sender,
        sender_type="User",
        is_pull_request=issue.is_pull_request,
        comment_id=None,
        comment_body=" ".join(w for w in words if w),
        comment_author=sender,
        origin="terminal",
        nonce=nonce,
    )


def exit_code(status: str) -> int:
    return EXIT_FAILED if status in FAILED_STATUSES else EXIT_OK


def render_status_line(
    *, command: str, status: str, run_id: str = "", issues: Sequence[int] = ()
) -> str:
    """One line for stderr: the command, its status, the run and what it created or closed."""
    parts = [f"{command} → {status}"]
    if run_id:
        parts.append(f"run {run_id}")
    if issues:
        parts.append("issues " + " ".join(f"#{n}" for n in issues))
    return ", ".join(parts)


def render_log_line(message: str) -> str:
    """Engine log lines carry Actions workflow commands; a terminal shows them as words."""
    return re.sub(r"^::(warning|error|notice|debug)(?: [^:]*)?::", r"\1: ", message)


# -- adapters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    source: str = ""  # where it came from, for error messages (never the value)


def fetch_token(env: Mapping[str, str], *, api_url: str, explicit: str = "") -> Token:
    """The `github-token` input, GITHUB_TOKEN, GH_TOKEN, then the GitHub CLI's login."""
    if explicit:
        return Token(explicit, "the github-token input")
    for name in TOKEN_VARIABLES:
        if env.get(name, "").strip():
            return Token(env[name].strip(), name)
    from_gh = _gh_auth_token(env, api_url)
    if from_gh:
        return Token(from_gh, "`gh auth token`")
    raise ConfigError(
        "No GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token with issues access, "
        "or log in with `gh auth login`."
    )


def _gh_auth_token(env: Mapping[str, str], api_url: str) -> str:
    gh = shutil.which("gh", path=env.get("PATH", os.defpath))
    if gh is None:
        return ""
    try:
        done = subprocess.run(
            [gh, "auth", "token", "--hostname", gh_hostname(api_url)],
            capture_output=True,
            text=True,
            timeout=GH_TIMEOUT,
            check=False,
            env=dict(env),
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


@contextmanager
def _reading(action: str, *, missing: str, token: Token, api_url: str) -> Iterator[None]:
    """PyGithub's errors for the CLI's own reads, as one-line messages saying what to fix.

    ``missing`` says what a 404 means here: GitHub answers 404 for what a token cannot see.
    """
    try:
        yield
    except GithubException as exc:
        if exc.status == 401:
            raise ConfigError(
                f"GitHub rejected the token from {token.source} (401 Bad credentials): "
                "set a valid token, or log in again with `gh auth login`."
            ) from exc
        if exc.status == 404:
            raise UserError(
                f"{missing} (404): check the reference and the token's access."
            ) from exc
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        raise GitHubError(
            f"GitHub answered {exc.status} when trying to {action}: "
            + scrub(str(message), [token.value]),
            status=exc.status,
        ) from exc
    except (RequestException, OSError) as exc:
        raise GitHubError(
            f"Could not reach GitHub at {api_url} ({type(exc).__name__}): "
            "check --api-url or GITHUB_API_URL and your connection."
        ) from exc


def fetch_target(
    *, token: Token, ref: IssueRef, api_url: str, timeout: int
) -> tuple[str, IssueFacts]:
    """The token's login (the acting user) and the issue, read as that user."""
    with Github(
        auth=Auth.Token(token.value),
        base_url=api_url,
        timeout=timeout,
        retry=2,  # connection failures only: a 401 or 404 is the answer
        seconds_between_requests=None,  # three reads; GitHubPort paces what follows
    ) as client:
        login = _fetch_login(client, token=token, api_url=api_url)
        return login, _fetch_issue(client, ref=ref, token=token, api_url=api_url)


def _fetch_login(client: Github, *, token: Token, api_url: str) -> str:
    """https://docs.github.com/en/rest/users/users#get-the-authenticated-user"""
    with _reading(
        "read the token's user",
        missing="GitHub does not know the token's user",
        token=token,
        api_url=api_url,
    ):
        try:
            return str(client.get_user().login)
        except GithubException as exc:
            if exc.status != 403:
                raise
            raise ConfigError(
                f"The token from {token.source} belongs to an app, not a person (GitHub "
                "answered 403 to GET /user): the CLI acts as the token's user, so use a "
                "personal access token or `gh auth login`."
            ) from exc


def _fetch_issue(client: Github, *, ref: IssueRef, token: Token, api_url: str) -> IssueFacts:
    reading = functools.partial(_reading, token=token, api_url=api_url)
    with reading(
        f"read the repository {ref.repo}",
        missing=f"GitHub has no repository {ref.repo}, or the token cannot see it",
    ):
        repo = client.get_repo(ref.repo)
    with reading(f"read issue #{ref.number}", missing=f"{ref.repo} has no issue #{ref.number}"):
        issue = repo.get_issue(ref.number)
        return IssueFacts(
            number=issue.number,
            id=issue.id,
            title=issue.title,
            body=issue.body or "",
            author=issue.user.login if issue.user else "",
            is_pull_request="/pull/" in (issue.html_url or ""),
        )


def _stderr_log(scrubbed: Callable[[str], str]) -> Log:
    def log(message: str) -> None:
        print(render_log_line(scrubbed(message)), file=sys.stderr)

    return log


def _handle_terminal(
    event: Event,
    *,
    settings: Settings,
    env: Mapping[str, str],
    token: str,
    repo: str,
    api_url: str,
) -> int:
    """Handle one event exactly as the Action does (`action.handle_event`).

    Prints the reply, and a status line on stderr; returns the exit code.
    """
    log = _stderr_log(outbound_for(settings, env, token).scrubber.scrub)
    where = Context(event_name=event.name, event_path="", repo=repo, api_url=api_url)
    outcome = handle_event(event, ctx=where, settings=settings, env=env, log=log, token=token)
    if outcome.summary:
        print(outcome.summary.strip())
    line = render_status_line(
        command=outcome.command,
        status=outcome.status,
        run_id=outcome.run_id,
        issues=outcome.created,
    )
    print(f"openproducer: {line}", file=sys.stderr)
    return exit_code(outcome.status)


# -- verbs -----------------------------------------------------------------------------------


def read_text_file(path: str, *, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"Cannot read the {what} {path}: it is not UTF-8 text.") from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(
            f"Cannot read the {what} {path}: {reason}. Give the path of a Markdown file."
        ) from exc


def _print_plan(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    text = read_text_file(args.spec, what="spec file")
    settings = settings_from_env(
        env, **({"max-issues": str(args.max_issues)} if args.max_issues else {})
    )
    spec = parse_spec(text, max_issues=settings.max_issues)
    if spec.errors:
        for error in spec.errors:
            print(f"{args.spec}:{error.line}: {error.key}: {error.message}", file=sys.stderr)
        return EXIT_USAGE
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
        return EXIT_OK
    issues, grouped = shape_plan(
        plan.issues, mode=spec.options.group or settings.group, room=MAX_SUB_ISSUES, parent=1
    )
    parents = {i.parent_key for i in issues if i.parent_key}
    shown = f", under {len(parents)} section issues" if parents else ""
    print(f"{len(plan.issues)} issues planned by the {plan.planner} planner{shown}:\n")
    position = {issue.key: number for number, issue in enumerate(issues, start=1)}
    for number, issue in enumerate(issues, start=1):
        labels = f"  [{', '.join(issue.labels)}]" if issue.labels else ""
        after = [str(position[k]) for k in issue.depends_on if k in position]
        blocked = f"  (after {', '.join(after)})" if after else ""
        indent = "   " if issue.parent_key else ""
        print(f"{number:>3}. {indent}{issue.title}{labels}{blocked}")
        if args.verbose:
            print("\n".join("       " + line for line in issue.body.splitlines()) + "\n")
    for note in (*plan.notes, *([grouped] if grouped else [])):
        print(f"\nnote: {note}")
    for section in plan.uncovered:
        print(f"uncovered: {section}")
    return EXIT_OK


def _api_url(args: argparse.Namespace, env: Mapping[str, str], ref: IssueRef | None = None) -> str:
    from_ref = ref.api_url if ref else ""
    return str(args.api_url or env.get("GITHUB_API_URL") or from_ref or DEFAULT_API_URL)


def _run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    settings = settings_from_env(env)
    ctx = Context(
        event_name=args.event_name,
        event_path=args.event,
        repo=args.repo,
        api_url=_api_url(args, env),
    )
    token = fetch_token(env, api_url=ctx.api_url, explicit=settings.github_token).value
    log = _stderr_log(outbound_for(settings, env, token).scrubber.scrub)
    outcome = run_event(ctx=ctx, settings=settings, env=env, token=token, log=log)
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
    return EXIT_OK


def _terminal(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """spawn, status, confirm, cancel, rollback: one event through the engine, as its user."""
    ref = parse_issue_ref(args.issue)
    argument = parse_run_argument(args.command, getattr(args, "run", "") or "")
    settings = settings_from_env(env, **({"dry-run": "true"} if args.dry_run else {}))
    api_url = _api_url(args, env, ref)
    token = fetch_token(env, api_url=api_url, explicit=settings.github_token)
    timeout = int(env.get("OPENPRODUCER_GITHUB_TIMEOUT", "20"))
    login, issue = fetch_target(token=token, ref=ref, api_url=api_url, timeout=timeout)
    if issue.is_pull_request:
        raise UserError(f"{ref.repo}#{ref.number} is a pull request; OpenProducer acts on issues.")
    event = build_terminal_event(
        verb=args.command,
        argument=argument,
        trigger=settings.trigger,
        sender=login,
        issue=issue,
        nonce=_secrets.token_hex(6),
    )
    return _handle_terminal(
        event, settings=settings, env=env, token=token.value, repo=ref.repo, api_url=api_url
    )


def _demo(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from openproducer.demo import run_demo

    text = (
        read_text_file(args.spec, what="spec file")
        if args.spec
        else resources.files("openproducer").joinpath("examples/spec.md").read_text("utf-8")
    )
    with tempfile.TemporaryDirectory() as workdir:
        return run_demo(text, workdir=workdir, out=sys.stdout, stop_after=args.stop_after)


def _add_terminal_verbs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("issue", help="OWNER/REPO#N or the issue's URL")
    common.add_argument(
        "--api-url", default="", help="API base for GitHub Enterprise Server ($GITHUB_API_URL)"
    )
    common.set_defaults(handler=_terminal, dry_run=False)
    spawn = sub.add_parser(
        "spawn", parents=[common], help="plan the issue's body and create its issues"
    )
    spawn.add_argument("--dry-run", action="store_true", help="only preview the plan")
    for verb, text, default in (
        ("status", "list the runs of an issue, or the issues of one run", "list all runs"),
        ("confirm", "create the issues of a previewed run", "the pending run"),
        ("cancel", "cancel a previewed run", "the pending run"),
    ):
        parser = sub.add_parser(verb, parents=[common], help=text)
        parser.add_argument(
            "run", nargs="?", default="", metavar="RUN_ID", help=f"a run id (default: {default})"
        )
    rollback = sub.add_parser("rollback", parents=[common], help="close the issues a run created")
    rollback.add_argument("run", metavar="last|RUN_ID", help="`last` or a run id")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openproducer",
        description=("Turn a large spec in a GitHub issue into focused GitHub issues."),
        epilog="Exit codes: 0 done, 1 failed or refused, 2 usage or configuration error.",
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
    demo.add_argument(
        "--stop-after",
        choices=("spawn", "confirm", "issue", "status"),
        default="",
        help="end the tour after this step (e.g. spawn, for scripts)",
    )
    demo.set_defaults(handler=_demo)
    _add_terminal_verbs(sub)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args, dict(os.environ if env is None else env))
    except (OSError, UserError) as exc:
        print(f"openproducer: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OpenProducerError as exc:
        print(f"openproducer: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return code
