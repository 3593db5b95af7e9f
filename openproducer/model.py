"""Frozen value objects shared by every layer. Raw JSON is validated into these at the edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UniqueBy = Literal["title", "body", "hash"]
# How a plan sits under the spec issue: "auto" groups plans over 20 issues by top-level section.
GroupMode = Literal["auto", "sections", "flat"]


@dataclass(frozen=True)
class Options:
    """Options a user can give in a spec (``key: value`` lines or a fenced ```yaml block)."""

    count: int | None = None
    template: str | None = None
    components: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    milestone: str | None = None  # a title or a number, as written
    dry_run: bool | None = None  # None: not given, the `dry-run` input decides
    unique_by: UniqueBy = "hash"
    rate_limit_per_minute: int | None = None
    issue_type: str | None = None
    spec: str | None = None  # a file of this repository to plan instead: path[@ref] or a link
    group: GroupMode | None = None  # None: not given, the `group` input decides


@dataclass(frozen=True)
class SpecSource:
    """Where the `spec` option points: a file of a repository, at a ref (empty: the default)."""

    path: str
    ref: str = ""
    repo: str = ""  # OWNER/REPO when given as a link; empty means this repository


@dataclass(frozen=True)
class OptionError:
    """One problem with the options, tied to the 1-based line of the spec text it came from."""

    line: int  # 0 when no single line is to blame
    key: str
    message: str


@dataclass(frozen=True)
class Section:
    """A Markdown heading of the spec and the text under it (up to the next heading)."""

    path: tuple[str, ...]  # titles from the outermost heading down to this one
    level: int  # 1..6 for `#`..`######`; emphasis-as-heading is treated as the next level down
    line: int  # 1-based line of the heading in the spec text
    body: str  # text directly under the heading, without sub-sections

    @property
    def title(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class Spec:
    """A parsed spec: the free text the planners read, the options, and any option errors."""

    text: str  # the spec without option lines/blocks (free text, kept verbatim otherwise)
    options: Options = field(default_factory=Options)
    errors: tuple[OptionError, ...] = ()
    option_lines: tuple[int, ...] = ()  # 1-based lines of the input that held options


@dataclass(frozen=True)
class PlannedIssue:
    """One issue the bot intends to create. ``body`` carries no footer: the engine adds it."""

    key: str  # stable within the plan ("1", "2", ...); used in markers and dependencies
    title: str
    body: str
    labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()  # keys of earlier issues in the same plan
    size: str | None = None  # "S" | "M" | "L" estimate, when known
    covers: tuple[str, ...] = ()  # section titles (joined path, " > ") this issue covers
    group: str | None = None  # top-level spec section the issue belongs to
    parent_key: str | None = None  # a grouping issue of the same plan; None: the trigger issue


@dataclass(frozen=True)
class AIUsage:
    provider: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    requests: int = 0
    cached: bool = False


@dataclass(frozen=True)
class Plan:
    """The planned issues and what the planner wants the user to know about them."""

    issues: tuple[PlannedIssue, ...]
    planner: str  # "offline", "openai", "gemini", ...
    notes: tuple[str, ...] = ()  # shown in the preview and the summary
    uncovered: tuple[str, ...] = ()  # spec sections no issue covers
    usage: AIUsage | None = None
