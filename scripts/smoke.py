"""Smoke-test the Action as the runner starts it: its entrypoint, on a recorded `issues.opened`
event, against the local GitHub emulator (openproducer/sandbox), with no token and no AI.

    python scripts/smoke.py                                  # this checkout, in this Python
    python scripts/smoke.py --image IMAGE [--platform P]     # a built image, through Docker
    python scripts/smoke.py --entrypoint /action/entrypoint.py   # inside the image (ci.yml)

The emulator runs here, on 127.0.0.1; a container reaches it through the host's network. Exits
0 when the run created the bundled example spec's issues as sub-issues of the spec issue.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the emulator and the payload builder of this checkout

from openproducer.demo import DEMO_REPO, DEMO_USER, TRIGGER, action_env, event_payload  # noqa: E402
from openproducer.sandbox import GitHubEmulator  # noqa: E402

RECORDED_EVENT = ROOT / "tests" / "data" / "webhooks" / "issues.opened.1.json"
SPEC = ROOT / "openproducer" / "examples" / "spec.md"
BOT = "github-actions[bot]"
ITEM_MARKER = "<!-- openproducer:item "
TIMEOUT = 600  # seconds; an arm64 image under QEMU starts slowly


def docker_command(image: str, *, platform: str, workdir: str, env: Mapping[str, str]) -> list[str]:
    """`docker run` as the runner does it: the event and output files shared by path."""
    command = ["docker", "run", "--rm", "--network", "host", "--volume", f"{workdir}:{workdir}"]
    if platform:
        command += ["--platform", platform]
    for name in sorted(env):  # values travel in docker's own environment, never in argv
        command += ["--env", name]
    return [*command, image]


def read_outputs(path: Path) -> dict[str, str]:
    """Step outputs in the runner's `name<<DELIMITER` file format."""
    outputs: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    index = 0
    while index < len(lines):
        name, _, delimiter = lines[index].partition("<<")
        end = lines.index(delimiter, index + 1)
        outputs[name] = "\n".join(lines[index + 1 : end])
        index = end + 1
    return outputs


def find_problems(
    emu: GitHubEmulator, *, spec_issue: int, code: int, outputs: Mapping[str, str]
) -> list[str]:
    """What is wrong with the run, checked from the outputs and from the emulator's side."""
    if code != 0:
        return [f"the entrypoint exited {code}"]
    problems = [
        f"`{name}` output is {outputs.get(name)!r}, expected {want!r}"
        for name, want in (("command", "spawn"), ("status", "completed"))
        if outputs.get(name) != want
    ]
    created: list[int] = json.loads(outputs.get("created-issues") or "[]")
    children = {child["number"] for child in emu.sub_issues(DEMO_REPO, spec_issue)}
    if not created:
        problems.append("no issue was created")
    for number in created:
        issue = emu.issue(DEMO_REPO, number)
        if issue["user"]["login"] != BOT or ITEM_MARKER not in (issue["body"] or ""):
            problems.append(f"#{number} is not the bot's issue with its marker")
        if number not in children:
            problems.append(f"#{number} is not a sub-issue of #{spec_issue}")
    if not any(c["user"]["login"] == BOT for c in emu.comments(DEMO_REPO, spec_issue)):
        problems.append(f"the bot did not reply on #{spec_issue}")
    return problems


def smoke(args: argparse.Namespace) -> int:
    with GitHubEmulator() as emu, tempfile.TemporaryDirectory() as workdir:
        repository = emu.add_repo(DEMO_REPO)
        sender = emu.add_user(DEMO_USER)
        emu.set_permission(DEMO_REPO, DEMO_USER, "write")
        body = f"{TRIGGER} please plan this.\n\n{SPEC.read_text()}"
        issue = emu.create_issue(DEMO_REPO, author=DEMO_USER, title="Spec", body=body)
        recorded: dict[str, Any] = json.loads(RECORDED_EVENT.read_text())
        payload = event_payload(
            "opened", issue=issue, repository=repository, sender=sender, template=recorded
        )
        event_path = Path(workdir, "event.json")
        event_path.write_text(json.dumps(payload))
        env = action_env(
            emu,
            event_name="issues",
            event_path=str(event_path),
            repo=DEMO_REPO,
            workdir=workdir,
            token=emu.actions_token(),
            rate_limit_per_minute="6000",
        )
        started = time.monotonic()
        code = _run(_command(args, workdir=workdir, env=env), env=env, image=bool(args.image))
        problems = find_problems(
            emu,
            spec_issue=issue["number"],
            code=code,
            outputs=read_outputs(Path(env["GITHUB_OUTPUT"])),
        )
        took = time.monotonic() - started
    for problem in problems:
        print(f"smoke: {problem}", file=sys.stderr)
    print(f"smoke: {'failed' if problems else 'passed'} in {took:.1f} s ({_what(args)})")
    return 1 if problems else 0


def _command(args: argparse.Namespace, *, workdir: str, env: Mapping[str, str]) -> list[str]:
    if args.image:
        return docker_command(args.image, platform=args.platform, workdir=workdir, env=env)
    return [sys.executable, args.entrypoint]


def _run(command: Sequence[str], *, env: Mapping[str, str], image: bool) -> int:
    # Docker needs its own environment (DOCKER_HOST, …); a local entrypoint gets only the
    # runner's variables, so no token of the machine running the smoke test reaches it.
    base = dict(os.environ) if image else {"PATH": os.environ.get("PATH", "")}
    proc = subprocess.run(command, env={**base, **env}, timeout=TIMEOUT, check=False)
    return proc.returncode


def _what(args: argparse.Namespace) -> str:
    if args.image:
        return f"image {args.image}" + (f" on {args.platform}" if args.platform else "")
    return str(args.entrypoint)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="", help="run this image with Docker")
    parser.add_argument("--platform", default="", help="e.g. linux/arm64 (with --image)")
    parser.add_argument(
        "--entrypoint", default=str(ROOT / "entrypoint.py"), help="the entrypoint.py to run"
    )
    return smoke(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
