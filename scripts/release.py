"""What a release ships must agree: the tag, the package version, the changelog and the image.

Used by .github/workflows/release.yml and .ci/run, and checked by tests/test_release.py:

    python scripts/release.py check v1.2.3     # the tag names this version; nothing disagrees
    python scripts/release.py tags v1.2.3      # the tags a release moves, one a line
    python scripts/release.py pin v1.2.3       # point action.yml at the published image
    python scripts/release.py notes v1.2.3     # the version's CHANGELOG.md section
    python scripts/release.py readme-workflow  # the workflow the README tells users to add

On main, action.yml builds the image from the Dockerfile (for development and this
repository's own `uses: ./` job). The release workflow runs `pin` in the commit it tags, so
`uses: openproducer/action@v1.2.3` pulls the image published for v1.2.3 instead of building.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "ghcr.io/openproducer/action"
DEVELOPMENT_IMAGE = "Dockerfile"
_TAG = re.compile(r"v(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)")
_RUNS_IMAGE = re.compile(r"^(?P<indent>[ \t]+)image:[ \t]*(?P<value>\S+)[ \t]*$", re.M)
_VERSION_LINE = re.compile(r'^__version__ = "(?P<version>[^"]+)"$', re.M)
_README_WORKFLOW = re.compile(
    r"^## Add it to a repository\n.*?^```yaml\n(?P<workflow>.*?)^```$", re.M | re.S
)


class ReleaseError(Exception):
    """The repository is not in a state that can be released as asked."""


def parse_tag(tag: str) -> str:
    """``v1.2.3`` -> ``1.2.3``. Pre-releases and other shapes are refused."""
    if not _TAG.fullmatch(tag):
        raise ReleaseError(f"`{tag}` is not a release tag like v1.2.3.")
    return tag[1:]


def release_tags(version: str) -> list[str]:
    """The exact tag, then the minor and major tags that follow the newest release."""
    major, minor, _ = version.split(".")
    return [f"v{version}", f"v{major}.{minor}", f"v{major}"]


def image_reference(version: str) -> str:
    """What a released action.yml runs: the image published for exactly this version."""
    return f"docker://{IMAGE}:v{version}"


def pin_action_image(action_yml: str, version: str) -> str:
    """action.yml with ``runs.image`` moved from the Dockerfile to the published image.

    Only that one line changes, so the released action.yml is main's plus the pin.
    """
    found = list(_RUNS_IMAGE.finditer(action_yml))
    if len(found) != 1 or found[0].group("value") != DEVELOPMENT_IMAGE:
        raise ReleaseError(f"action.yml must have one `image: {DEVELOPMENT_IMAGE}` line to pin.")
    line = found[0]
    pinned = f"{line.group('indent')}image: {image_reference(version)}"
    return action_yml[: line.start()] + pinned + action_yml[line.end() :]


def changelog_section(changelog: str, version: str) -> str:
    """The body of ``## [version]`` in CHANGELOG.md, without its heading."""
    heading = _changelog_heading(changelog, version)
    end = re.compile(r"^## |^\[[^\]]+\]: ", re.M).search(changelog, heading.end())
    return changelog[heading.end() : end.start() if end else len(changelog)].strip()


def changelog_date(changelog: str, version: str) -> str:
    """The date of ``## [version] - YYYY-MM-DD``, or "" while the section is undated."""
    return _changelog_heading(changelog, version).group("date") or ""


def _changelog_heading(changelog: str, version: str) -> re.Match[str]:
    heading = re.compile(
        rf"^## \[{re.escape(version)}\](?: - (?:(?P<date>\d{{4}}-\d{{2}}-\d{{2}})|.*))?\n", re.M
    )
    match = heading.search(changelog)
    if match is None:
        raise ReleaseError(f"CHANGELOG.md has no `## [{version}]` section.")
    return match


def latest_changelog_version(changelog: str) -> str:
    """The newest released version in CHANGELOG.md (``[Unreleased]`` is not one)."""
    for match in re.finditer(r"^## \[(?P<version>[^\]]+)\]", changelog, re.M):
        if match.group("version").lower() != "unreleased":
            return match.group("version")
    raise ReleaseError("CHANGELOG.md names no released version.")


def package_versions(root: Path = ROOT) -> dict[str, str]:
    """Every place that states the version, by where it says so."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    module = _VERSION_LINE.search((root / "openproducer" / "__init__.py").read_text())
    changelog = (root / "CHANGELOG.md").read_text()
    return {
        "pyproject.toml": str(pyproject["project"]["version"]),
        "openproducer.__version__": module.group("version") if module else "",
        "CHANGELOG.md": latest_changelog_version(changelog),
    }


def check_release(tag: str, root: Path = ROOT) -> str:
    """The version a tag releases, once everything that names a version agrees with it."""
    version = parse_tag(tag)
    disagree = {k: v for k, v in package_versions(root).items() if v != version}
    if disagree:
        found = ", ".join(f"{where} says {v}" for where, v in disagree.items())
        raise ReleaseError(f"{tag} releases {version}, but {found}.")
    pin_action_image((root / "action.yml").read_text(), version)  # main is still pinnable
    if not changelog_date((root / "CHANGELOG.md").read_text(), version):
        raise ReleaseError(f"Date CHANGELOG.md's `## [{version}]` heading before tagging.")
    return version


def readme_workflow(readme: str) -> str:
    """The first YAML block of the README's `## Add it to a repository` section."""
    match = _README_WORKFLOW.search(readme)
    if match is None:
        raise ReleaseError("README.md's `## Add it to a repository` has no ```yaml block.")
    return match.group("workflow")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("verb", choices=("check", "tags", "pin", "notes", "readme-workflow"))
    parser.add_argument("tag", nargs="?", default="", help="the release tag, e.g. v1.2.3")
    args = parser.parse_args(argv)
    try:
        print(_run(args.verb, args.tag))
    except ReleaseError as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1
    return 0


def _run(verb: str, tag: str) -> str:
    if verb == "readme-workflow":
        return readme_workflow((ROOT / "README.md").read_text()).rstrip("\n")
    version = check_release(tag)
    if verb == "tags":
        return "\n".join(release_tags(version))
    if verb == "pin":
        action = ROOT / "action.yml"
        action.write_text(pin_action_image(action.read_text(), version))
        return f"action.yml runs {image_reference(version)}"
    if verb == "notes":
        return changelog_section((ROOT / "CHANGELOG.md").read_text(), version)
    return version


if __name__ == "__main__":
    sys.exit(main())
