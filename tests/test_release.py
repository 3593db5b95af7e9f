"""What users depend on agrees: action.yml, the README, the settings parser, the versions, the
image reference, the release workflow, the lock, the Dockerfile and the README's workflow."""

from __future__ import annotations

import copy
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import openproducer
from openproducer.config import INPUT_DEFAULTS, SECRET_INPUTS
from scripts import release
from scripts.smoke import docker_command
from tests.conftest import ROOT, TRIGGER, Harness, webhook

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
README = (ROOT / "README.md").read_text()
WORKFLOWS = ROOT / ".github" / "workflows"
VERSION = openproducer.__version__
RUNNER_EXPRESSION = re.compile(r"^\$\{\{.*\}\}$")  # a default the runner evaluates


def section(markdown: str, heading: str) -> str:
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else len(markdown)]


def readme_input_rows() -> list[tuple[list[str], str]]:
    """(input names, default cell) for each row of the README's input table."""
    rows = []
    for line in section(README, "Inputs and outputs").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        names = re.findall(r"`([a-z0-9-]+)`", cells[0]) if line.startswith("|") else []
        if names and cells[0] != "Input":
            rows.append((names, cells[1]))
    return rows


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def triggers(loaded: dict[Any, Any]) -> Any:
    return loaded.get("on", loaded.get(True))  # YAML 1.1 reads a bare `on` as true


# -- action.yml, the README's table and the settings parser ------------------------------------


def test_action_inputs_are_the_settings_parsers_inputs() -> None:
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    assert list(defaults) == list(INPUT_DEFAULTS)
    for name, default in defaults.items():
        # The runner evaluates `${{ github.token }}`; without the runner the parser's empty
        # default falls back to GITHUB_TOKEN.
        if not RUNNER_EXPRESSION.match(default):
            assert INPUT_DEFAULTS[name] == default, name


def test_secret_inputs_exist_and_have_no_literal_default() -> None:
    for name in SECRET_INPUTS:
        default = ACTION["inputs"][name].get("default", "")
        assert default == "" or RUNNER_EXPRESSION.match(default), name


def test_readme_lists_every_input_once_with_its_default() -> None:
    rows = readme_input_rows()
    listed = [name for names, _ in rows for name in names]
    assert sorted(listed) == sorted(ACTION["inputs"]) and len(listed) == len(set(listed))
    for names, cell in rows:
        shown = re.fullmatch(r"`([^`]*)`", cell)
        for name in names:
            default = ACTION["inputs"][name].get("default", "")
            # A code span is the default itself; words (e.g. "built-in list") say what the
            # empty default means.
            assert default == (shown.group(1) if shown else ""), name


def test_readme_lists_the_outputs() -> None:
    line = next(x for x in README.splitlines() if x.startswith("Outputs: "))
    assert set(re.findall(r"`([a-z-]+)`", line)) == set(ACTION["outputs"])


# -- versions and the image reference ------------------------------------------------------------


def test_every_place_states_the_same_version() -> None:
    assert set(release.package_versions().values()) == {VERSION}


def test_action_runs_the_dockerfile_or_this_versions_image() -> None:
    assert ACTION["runs"]["using"] == "docker"
    assert ACTION["runs"]["image"] in (
        release.DEVELOPMENT_IMAGE,
        f"docker://ghcr.io/openproducer/action:v{VERSION}",
    )


def test_pinning_changes_only_the_image_line() -> None:
    text = (ROOT / "action.yml").read_text()
    pinned = release.pin_action_image(text, VERSION)
    changed = [
        (a, b) for a, b in zip(text.splitlines(), pinned.splitlines(), strict=True) if a != b
    ]
    assert changed == [("  image: Dockerfile", f"  image: docker://{release.IMAGE}:v{VERSION}")]
    loaded = yaml.safe_load(pinned)
    assert loaded["runs"]["image"] == f"docker://ghcr.io/openproducer/action:v{VERSION}"
    assert {k: v for k, v in loaded.items() if k != "runs"} == {
        k: v for k, v in ACTION.items() if k != "runs"
    }
    with pytest.raises(release.ReleaseError):
        release.pin_action_image(pinned, VERSION)


@pytest.mark.parametrize(
    ("tag", "version"),
    [("v1.2.3", "1.2.3"), ("v0.1.0", "0.1.0"), ("v10.0.12", "10.0.12")],
)
def test_release_tags(tag: str, version: str) -> None:
    assert release.parse_tag(tag) == version
    major, minor, _ = version.split(".")
    assert release.release_tags(version) == [tag, f"v{major}.{minor}", f"v{major}"]


@pytest.mark.parametrize("tag", ["1.2.3", "v1.2", "v1.2.3-rc.1", "v01.2.3", "v1.2.3.4", "latest"])
def test_only_plain_release_tags_are_released(tag: str) -> None:
    with pytest.raises(release.ReleaseError):
        release.parse_tag(tag)


def release_copy(tmp_path: Path, *, dated: bool = True, version: str = VERSION) -> Path:
    for name in ("pyproject.toml", "action.yml", "CHANGELOG.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "openproducer").mkdir(exist_ok=True)
    shutil.copy(ROOT / "openproducer" / "__init__.py", tmp_path / "openproducer" / "__init__.py")
    changelog = tmp_path / "CHANGELOG.md"
    heading = re.compile(rf"^## \[{re.escape(VERSION)}\].*$", re.M)
    date = " - 2026-12-01" if dated else ""
    changelog.write_text(heading.sub(f"## [{version}]{date}", changelog.read_text(), count=1))
    return tmp_path


def test_a_dated_version_can_be_released(tmp_path: Path) -> None:
    assert release.check_release(f"v{VERSION}", release_copy(tmp_path)) == VERSION


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: release_copy(p, dated=False), "Date CHANGELOG.md"),
        (lambda p: release_copy(p, version="9.9.9"), "CHANGELOG.md says 9.9.9"),
    ],
)
def test_a_release_is_refused_while_something_disagrees(
    tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    with pytest.raises(release.ReleaseError, match=problem):
        release.check_release(f"v{VERSION}", make(tmp_path))
    with pytest.raises(release.ReleaseError, match=r"pyproject\.toml says"):
        release.check_release("v9.9.9", release_copy(tmp_path))


def test_release_notes_are_the_versions_changelog_section() -> None:
    changelog = textwrap.dedent("""\
        ## [Unreleased]

        ## [1.1.0] - 2026-12-01

        ### Fixed
        - One thing.

        ## [1.0.0] - 2026-11-01

        [1.1.0]: https://github.com/openproducer/action/releases/tag/v1.1.0
        """)
    assert release.changelog_section(changelog, "1.1.0") == "### Fixed\n- One thing."
    assert release.changelog_date(changelog, "1.1.0") == "2026-12-01"
    assert release.latest_changelog_version(changelog) == "1.1.0"
    with pytest.raises(release.ReleaseError):
        release.changelog_section(changelog, "1.2.0")


# -- the workflows --------------------------------------------------------------------------------

PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_workflows_pin_actions_and_grant_permissions_per_job(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    for uses in re.findall(r"^\s*(?:- )?uses: (.+)$", text, re.M):
        assert uses.startswith("./ ") or uses == "./" or PINNED.match(uses), uses
    loaded = workflow(name)
    assert loaded["permissions"] == {}
    assert all("permissions" in job for job in loaded["jobs"].values())


def release_steps() -> list[dict[str, Any]]:
    return [step for job in workflow("release.yml")["jobs"].values() for step in job["steps"]]


def test_release_workflow_publishes_what_action_yml_will_name() -> None:
    loaded = workflow("release.yml")
    assert triggers(loaded) == {"push": {"tags": ["v*.*.*"]}}
    assert loaded["env"]["IMAGE"] == release.IMAGE
    runs = "\n".join(step.get("run", "") for step in release_steps())
    for verb in ("check", "tags", "pin", "notes"):
        assert f"python scripts/release.py {verb} " in runs, verb
    pushed = [s for s in release_steps() if s.get("with", {}).get("push") is True]
    assert [s["with"]["platforms"] for s in pushed] == ["linux/amd64,linux/arm64"]
    attest = next(s for s in release_steps() if "attest-build-provenance" in s.get("uses", ""))
    assert attest["with"]["subject-name"] == "${{ env.IMAGE }}"


def test_release_workflow_smoke_tests_each_platform_before_pushing() -> None:
    steps = release_steps()
    smoke = [i for i, s in enumerate(steps) if "scripts/smoke.py --image" in s.get("run", "")]
    push = next(i for i, s in enumerate(steps) if s.get("with", {}).get("push") is True)
    platforms = [re.findall(r"--platform (\S+)", steps[i]["run"]) for i in smoke if i < push]
    assert platforms == [["linux/amd64"], ["linux/arm64"]]


def test_ci_runs_the_action_from_this_repository() -> None:
    steps = workflow("ci.yml")["jobs"]["action"]["steps"]
    local = [s for s in steps if s.get("uses") == "./"]
    assert len(local) == 2
    assert local[1]["with"]["args"].startswith("scripts/smoke.py ")


# -- the lock and the image -----------------------------------------------------------------------

LOCK = ROOT / "requirements" / "action.txt"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


LOCK_ENTRY = re.compile(
    r"^(?P<name>[\w.-]+)==\S+ \\\n(?P<hashes>(?:    --hash=sha256:[0-9a-f]{64}.*\n)+)", re.M
)


def test_lock_pins_every_runtime_dependency_with_hashes() -> None:
    text = LOCK.read_text()
    header = text.splitlines()[1].lstrip("# ")
    assert header.startswith("uv pip compile pyproject.toml --generate-hashes ")
    assert header.endswith(" -o requirements/action.txt")
    requirements = [line for line in text.splitlines() if line and not line[0].isspace()]
    requirements = [line for line in requirements if not line.startswith("#")]
    entries = list(LOCK_ENTRY.finditer(text))
    assert len(entries) == len(requirements)  # every requirement is pinned, with its hashes
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = {
        canonical(re.split(r"[<>=!~\[; ]", d)[0]) for d in pyproject["project"]["dependencies"]
    }
    assert wanted <= {canonical(entry.group("name")) for entry in entries}


def test_dockerfile_builds_from_a_pinned_base_and_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    instructions = [x for x in dockerfile.splitlines() if x and not x.startswith(("#", " "))]
    # GitHub requires FROM first; the base is pinned by digest.
    assert re.fullmatch(r"FROM python:3\.11-slim@sha256:[0-9a-f]{64}", instructions[0])
    install = next(x for x in instructions if x.startswith("RUN python -m pip install"))
    assert "--require-hashes" in install
    assert "COPY requirements/action.txt /tmp/requirements.txt" in instructions
    assert "--no-compile" not in dockerfile and "RUN python -m compileall" in dockerfile
    assert not any(
        x.startswith(("USER ", "WORKDIR ")) for x in instructions
    )  # root, as GitHub runs


# -- the smoke test -------------------------------------------------------------------------------


def test_smoke_test_passes_on_this_checkout() -> None:
    proc = subprocess.run(
        [sys.executable, "scripts/smoke.py"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke: passed" in proc.stdout


FAKE_DOCKER = """\
#!{python}
# `docker run` as far as scripts/smoke.py uses it: pass the named variables, run entrypoint.py.
import os, subprocess, sys
args = sys.argv[1:]
open({log!r}, "w").write("\\n".join(args))
names = [args[i + 1] for i, a in enumerate(args) if a == "--env"]
env = {{"PATH": os.environ["PATH"], **{{n: os.environ[n] for n in names}}}}
sys.exit(subprocess.run([sys.executable, {entrypoint!r}], env=env).returncode)
"""


def test_smoke_test_runs_an_image_as_the_runner_would(tmp_path: Path) -> None:
    log = tmp_path / "docker-args"
    docker = tmp_path / "docker"
    docker.write_text(
        FAKE_DOCKER.format(
            python=sys.executable, log=str(log), entrypoint=str(ROOT / "entrypoint.py")
        )
    )
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [
            sys.executable,
            "scripts/smoke.py",
            "--image",
            "example/image:v1",
            "--platform",
            "linux/arm64",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    args = log.read_text().splitlines()
    assert args[:4] == ["run", "--rm", "--network", "host"] and args[-1] == "example/image:v1"
    assert "INPUT_GITHUB-TOKEN" in args and not any("=" in a for a in args if a != "--volume")


def test_docker_command_shares_the_workdir_and_names_only_variables() -> None:
    command = docker_command("img", platform="", workdir="/w", env={"B": "2", "A": "secret"})
    assert command == [
        "docker", "run", "--rm", "--network", "host", "--volume", "/w:/w",
        "--env", "A", "--env", "B", "img",
    ]  # fmt: skip


# -- the README's workflow ------------------------------------------------------------------------

README_WORKFLOW = yaml.safe_load(release.readme_workflow(README))
README_JOB = README_WORKFLOW["jobs"]["openproducer"]


def test_readme_workflow_asks_for_what_the_bot_uses_at_job_level() -> None:
    assert README_WORKFLOW["permissions"] == {}
    assert README_JOB["permissions"] == {"issues": "write", "contents": "read", "models": "read"}
    assert README_JOB["concurrency"] == {
        "group": "openproducer-${{ github.event.issue.number }}",
        "cancel-in-progress": False,
        "queue": "max",
    }
    assert triggers(README_WORKFLOW) == {
        "issues": {"types": ["opened", "edited"]},
        "issue_comment": {"types": ["created"]},
    }


def test_readme_workflow_keeps_the_trigger_in_one_variable() -> None:
    step = README_JOB["steps"][0]
    assert step["uses"] == "openproducer/action@v1"
    trigger = step["with"]["trigger"]
    assert trigger == "${{ vars.OPENPRODUCER_TRIGGER || '@TheOpenProducerBot' }}"
    assert README_JOB["if"].count(trigger[4:-3]) == 2  # the same fallback in both halves
    assert {"ai-api-key", "state-secret"} <= set(step["with"])


_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\)|,)|(?P<name>[A-Za-z_][\w.-]*))"
)


class Expression:
    """The part of GitHub's expression syntax the README's `if:` uses, evaluated as GitHub does:
    `||` and `&&` yield an operand, `==` and `contains()` ignore case, a missing property is
    null. https://docs.github.com/en/actions/reference/workflows-and-actions/expressions"""

    def __init__(self, text: str, context: dict[str, Any]):
        self.tokens = [m for m in _TOKEN.finditer(text) if m.group().strip()]
        assert "".join(m.group() for m in self.tokens).split() == text.split()
        self.position, self.context = 0, context

    def value(self) -> Any:
        result = self._or()
        assert self.position == len(self.tokens), "unparsed input"
        return result

    def _peek(self) -> str:
        return (
            self.tokens[self.position].group().strip() if self.position < len(self.tokens) else ""
        )

    def _take(self) -> str:
        token = self._peek()
        self.position += 1
        return token

    def _or(self) -> Any:
        return self._chain("||", self._and, lambda left, right: left if truthy(left) else right)

    def _and(self) -> Any:
        return self._chain("&&", self._unary, lambda left, right: right if truthy(left) else left)

    def _chain(
        self, operator: str, operand: Callable[[], Any], combine: Callable[[Any, Any], Any]
    ) -> Any:
        left = operand()
        while self._peek() == operator:
            self._take()
            left = combine(left, operand())
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        left = self._primary()
        if self._peek() in ("==", "!="):
            equal = self._take() == "=="
            return loose_equal(left, self._primary()) == equal
        return left

    def _primary(self) -> Any:
        token = self._take()
        if token == "(":
            inner = self._or()
            assert self._take() == ")"
            return inner
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if token == "contains":
            assert self._take() == "("
            search = self._or()
            assert self._take() == ","
            item = self._or()
            assert self._take() == ")"
            return str(item or "").lower() in str(search or "").lower()
        return {"true": True, "false": False, "null": None}.get(token, self._lookup(token))

    def _lookup(self, path: str) -> Any:
        value: Any = self.context
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        return value


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def loose_equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def event(
    name: str, *, issue_body: str | None, comment: str | None = None, pr: bool = False
) -> dict[str, Any]:
    """A recorded delivery of `name` with the bodies given."""
    template = "issue_comment.created.1" if name == "issue_comment" else "issues.opened.1"
    payload = copy.deepcopy(webhook(template))
    payload["issue"]["body"] = issue_body
    if pr:
        payload["issue"]["pull_request"] = {
            "url": payload["issue"]["url"].replace("/issues/", "/pulls/")
        }
    if comment is not None:
        payload["comment"]["body"] = comment
    return payload


def passes(name: str, payload: dict[str, Any], variables: dict[str, str] | None = None) -> bool:
    context = {"github": {"event_name": name, "event": payload}, "vars": variables or {}}
    return truthy(Expression(README_JOB["if"], context).value())


SPEC = f"{TRIGGER} please plan this.\n\n## One\nThe first part.\n\n## Two\nThe second part."
OTHER_TRIGGER = {"OPENPRODUCER_TRIGGER": "@SpecBot"}


def opened(body: str | None) -> tuple[str, dict[str, Any]]:
    return "issues", event("issues", issue_body=body)


def commented(body: str | None, *, pr: bool = False) -> tuple[str, dict[str, Any]]:
    return "issue_comment", event("issue_comment", issue_body=SPEC, comment=body, pr=pr)


@pytest.mark.parametrize(
    ("delivery", "variables", "expected"),
    [
        (opened(SPEC), {}, True),
        (opened("/spawn-issues\n## One\nText."), {}, True),
        (opened("@theopenproducerbot plan this"), {}, True),
        (opened("A bug report."), {}, False),
        (opened(None), {}, False),
        (commented(f"{TRIGGER} confirm"), {}, True),
        (commented("/spawn-issues"), {}, True),
        (commented("Looks good!"), {}, False),  # the issue body's trigger does not count
        (commented(None), {}, False),
        (commented(f"{TRIGGER} status", pr=True), {}, False),
        (commented("/spawn-issues", pr=True), {}, False),
        (commented("@specbot status"), OTHER_TRIGGER, True),
        (commented(f"{TRIGGER} status"), OTHER_TRIGGER, False),
        (opened("@SpecBot\n## One\nText."), OTHER_TRIGGER, True),
    ],
)
def test_readme_workflow_starts_a_job_only_for_events_that_concern_the_bot(
    delivery: tuple[str, dict[str, Any]], variables: dict[str, str], expected: bool
) -> None:
    assert passes(*delivery, variables) is expected


def test_an_edit_of_a_pending_preview_passes_and_replans(gh: Harness) -> None:
    issue, first = gh.open_issue(SPEC, **{"dry-run": "true"})
    assert first.outputs["status"] == "pending"
    edited = SPEC + "\n\n## Three\nThe third part."
    assert passes("issues", event("issues", issue_body=edited))
    assert (
        gh.edit_issue(issue["number"], edited, **{"dry-run": "true"}).outputs["status"] == "pending"
    )
    assert "Three" in gh.last_reply(issue["number"])


@pytest.mark.parametrize(
    ("comment", "filtered_in", "acted_on"),
    [
        (f"{TRIGGER} status", True, True),
        ("Looks good!", False, False),
        (f"> {TRIGGER} status", True, False),
        (f"Thanks, `{TRIGGER}`.", True, False),
        (f"{TRIGGER}X status", True, False),
    ],
)
def test_the_filter_never_drops_a_comment_the_bot_acts_on(
    gh: Harness, comment: str, filtered_in: bool, acted_on: bool
) -> None:
    """The `if:` may let through more than the bot acts on (it knows no Markdown), never less."""
    issue, _ = gh.open_issue("A bug report, no spec.")
    payload = event("issue_comment", issue_body=issue["body"], comment=comment)
    assert passes("issue_comment", payload) is filtered_in
    assert (gh.comment(issue["number"], comment).outputs["status"] != "ignored") is acted_on


def test_the_bot_ignores_pull_request_comments_the_filter_drops(gh: Harness) -> None:
    issue, _ = gh.open_issue("A pull request's description.")
    payload = event("issue_comment", issue_body=issue["body"], comment=f"{TRIGGER} status", pr=True)
    assert not passes("issue_comment", payload)
    payload["issue"] = {**gh.emu.issue(gh.repo, issue["number"]), "pull_request": {"url": "x"}}
    payload["comment"] = gh.emu.create_comment(
        gh.repo, issue["number"], author="alice", body=f"{TRIGGER} status"
    )
    payload["repository"] = gh.repository
    assert gh.run("issue_comment", payload).outputs["status"] == "ignored"


def test_this_repository_dogfoods_exactly_the_readmes_workflow() -> None:
    dogfood = (ROOT / ".github/workflows/openproducer.yml").read_text()
    body = "".join(line for line in dogfood.splitlines(keepends=True) if not line.startswith("#"))
    assert body.rstrip("\n") == release.readme_workflow((ROOT / "README.md").read_text()).rstrip(
        "\n"
    )
