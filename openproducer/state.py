"""Hidden state blocks in the bot's comments, and runs rebuilt from a thread (pure).

Format (documented in README.md#state): each block is one HTML comment

    <!-- openproducer:state v=1 kind=run|plan run=<run id> part=<i>/<n> sig=<hex>
    <base64 of zlib-compressed JSON, wrapped at 76 columns>
    -->

The base64 alphabet cannot contain "-->", so any text a user wrote (HTML comment closers,
backticks, any Unicode) survives the round trip. ``kind=run`` holds the run's status and what it
created (small, rewritten as the run progresses); ``kind=plan`` holds the planned issues
(written once, split over continuation comments when it does not fit into one). ``sig`` is an
HMAC-SHA256 of the payload with the ``state-secret`` input, or a plain SHA-256 without one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import textwrap
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from openproducer.model import PlannedIssue

SCHEMA_VERSION = 1
_BLOCK = re.compile(
    r"<!-- openproducer:state v=(?P<v>\d+) kind=(?P<kind>run|plan) run=(?P<run>run_[A-Za-z0-9_]+)"
    r" part=(?P<part>\d+)/(?P<parts>\d+)(?: seq=(?P<seq>\d+))? sig=(?P<sig>[0-9a-f]{64})\n"
    r"(?P<data>[A-Za-z0-9+/=\n]*)-->"
)


@dataclass(frozen=True)
class CreatedIssue:
    key: str
    number: int
    id: int
    title: str
    hash: str
    parent: int = 0  # the issue it was linked under as a sub-issue (0: not linked)
    blocked_by: tuple[int, ...] = ()  # database ids of the issues linked as "blocked by"


@dataclass(frozen=True)
class SkippedIssue:
    key: str
    title: str
    reason: str
    existing: int | None = None  # the issue that made this one a duplicate


@dataclass(frozen=True)
class Tracked:
    """A planned item of the latest applied plan, and the issue it is (number 0: none, e.g. a
    duplicate the run skipped)."""

    key: str  # the item's key in that plan
    number: int = 0
    id: int = 0
    title: str = ""  # the title the bot wrote, as GitHub shows it
    head: str = ""  # `head_hash` of the text the bot wrote above its footer
    parent: int = 0  # the issue it is a sub-issue of (0: not linked)
    origin: str = ""  # "<run id>/<key>": the marker the issue carries, kept when it is updated


@dataclass(frozen=True)
class Change:
    """One write a reconcile makes (or made), in the order it is applied."""

    op: str  # create | update | comment | relink | close
    key: str  # the item's key in the new plan ("" for close)
    number: int = 0  # the issue (for create: once created)
    title: str = ""  # the new title (close: the issue's)
    was: str = ""  # the old title, when the title changes
    diff: str = ""  # a short diff of title and body, for people
    done: bool = False
    id: int = 0  # the issue's database id (for create: once created)
    before_title: str = ""  # update: what the issue had before, so rollback restores it
    before_body: str = ""
    comment: int = 0  # comment: the comment posted
    # relink: the issues (database ids) the item was blocked by under the plan before; the
    # "blocked by" links this run added and removed (create: added), so rollback undoes them
    blockers: tuple[int, ...] = ()
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    # close: the issue it was a sub-issue of; once done, only when this run unlinked it
    parent: int = 0


@dataclass(frozen=True)
class RunState:
    """Everything the commands need about one run. Immutable: use `dataclasses.replace`."""

    run_id: str
    status: str  # pending | creating | completed | partial | failed | cancelled | rolled_back
    issue: int  # the trigger issue
    requester: str
    started_at: str
    trigger_key: str = ""  # identifies the event that started the run (re-runs resume it)
    updated_at: str = ""
    finished_at: str = ""
    seq: int = 0  # bumped at every write; the newest block of a run wins
    spec_hash: str = ""
    planner: str = "offline"
    options: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()  # why a preview was needed
    notes: tuple[str, ...] = ()
    uncovered: tuple[str, ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)
    plan_sha: str = ""  # the plan blocks that belong to this run
    created: tuple[CreatedIssue, ...] = ()
    skipped: tuple[SkippedIssue, ...] = ()
    failed: tuple[SkippedIssue, ...] = ()
    closed: tuple[int, ...] = ()
    claim: str = ""  # the job that claimed the creation (see Engine._won_claim)
    writes: int = 0  # write requests this run made, for the hourly budget
    edits: tuple[str, ...] = ()  # plan edits made on the preview, who and what, in order
    edit_keys: tuple[str, ...] = ()  # events that changed the run (edits, rollback): once each
    kind: str = "spawn"  # spawn | reconcile (a run that brings a spawn's issues in step)
    base: str = ""  # reconcile: the spawn run whose issues it reconciles
    basis: str = ""  # reconcile: the run whose applied plan it was computed against
    changes: tuple[Change, ...] = ()  # reconcile: the previewed writes, marked done as applied
    tracked: tuple[Tracked, ...] = ()  # reconcile: its plan's items and their issues
    unchanged: int = 0  # reconcile: items found the same
    comment_id: int = 0  # the comment holding the run block (filled in when read)
    comment_url: str = ""

    @property
    def created_keys(self) -> set[str]:
        return {c.key for c in self.created}


@dataclass(frozen=True)
class Thread:
    """What the bot knows from one pass over a trigger issue's comments."""

    runs: dict[str, RunState]  # newest block per run id, in order of first appearance
    plans: dict[str, tuple[PlannedIssue, ...]]  # plan sha -> planned issues
    plan_comments: dict[str, tuple[int, ...]]  # plan sha -> comment ids holding its blocks
    rejected: tuple[int, ...] = ()  # comment ids whose block failed the integrity check
    notices: frozenset[str] = frozenset()  # one-time notices already posted

    def plan_for(self, run: RunState) -> tuple[PlannedIssue, ...]:
        return self.plans.get(run.plan_sha, ())


# -- encoding --------------------------------------------------------------------------------


def sign(data: str, secret: str) -> str:
    if secret:
        return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(data.encode()).hexdigest()


Scrub = Callable[[str], str]


def _scrubbed(value: Any, scrub: Scrub) -> Any:
    """Every string in a JSON value passed through ``scrub`` (keys and numbers stay)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrub) for k, v in value.items()}
    return value


def _pack(payload: dict[str, Any], scrub: Scrub | None = None) -> str:
    # Secrets go before compressing: nothing can find them in the encoded block afterwards.
    payload = _scrubbed(payload, scrub) if scrub else payload
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def _unpack(data: str) -> dict[str, Any]:
    loaded = json.loads(zlib.decompress(base64.b64decode(data)).decode())
    if not isinstance(loaded, dict):
        raise ValueError("state payload is not an object")
    return loaded


def encode_blocks(
    *,
    kind: str,
    run_id: str,
    payload: dict[str, Any],
    secret: str,
    seq: int = 0,
    chunk: int,
    scrub: Scrub | None = None,
) -> list[str]:
    """One or more blocks of at most ``chunk`` characters of data each."""
    data = _pack(payload, scrub)
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [""]
    blocks = []
    for index, piece in enumerate(pieces, start=1):
        header = f"v={SCHEMA_VERSION} kind={kind} run={run_id} part={index}/{len(pieces)}"
        if kind == "run":
            header += f" seq={seq}"
        wrapped = "\n".join(textwrap.wrap(piece, 76)) + "\n"
        blocks.append(
            f"<!-- openproducer:state {header} sig={sign(header + piece, secret)}\n{wrapped}-->"
        )
    return blocks


def encode_run(run: RunState, *, secret: str, scrub: Scrub | None = None) -> str:
    payload = _run_to_json(run)
    return encode_blocks(
        kind="run",
        run_id=run.run_id,
        payload=payload,
        secret=secret,
        seq=run.seq,
        chunk=1 << 20,
        scrub=scrub,
    )[0]


def encode_plan(
    run_id: str,
    issues: Sequence[PlannedIssue],
    *,
    secret: str,
    chunk: int,
    scrub: Scrub | None = None,
) -> tuple[str, list[str]]:
    """(plan sha, blocks): the sha names the plan so a run block can point to it."""
    payload = {"v": SCHEMA_VERSION, "issues": [_issue_to_json(i) for i in issues]}
    sha = plan_sha(issues)
    payload["sha"] = sha
    return sha, encode_blocks(
        kind="plan", run_id=run_id, payload=payload, secret=secret, chunk=chunk, scrub=scrub
    )


def plan_sha(issues: Sequence[PlannedIssue]) -> str:
    raw = json.dumps([_issue_to_json(i) for i in issues], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# -- decoding --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BotComment:
    id: int
    body: str
    url: str = ""


def read_thread(comments: Iterable[BotComment], *, secret: str) -> Thread:
    """Rebuild every run from the bot's own comments (the caller filters by author)."""
    runs: dict[str, RunState] = {}
    parts: dict[tuple[str, int], dict[int, str]] = {}
    part_comments: dict[tuple[str, int], list[int]] = {}
    rejected: list[int] = []
    notices: set[str] = set()
    for comment in comments:
        notices.update(re.findall(r"<!-- openproducer:notice ([\w:.-]+) -->", comment.body))
        for match in _BLOCK.finditer(comment.body):
            data = match.group("data").replace("\n", "")
            header = match.group(0).split(" sig=")[0].removeprefix("<!-- openproducer:state ")
            if int(match.group("v")) > SCHEMA_VERSION or not hmac.compare_digest(
                sign(header + data, secret), match.group("sig")
            ):
                rejected.append(comment.id)
                continue
            if match.group("kind") == "run":
                run = _decode_run(data, comment)
                if run and (run.run_id not in runs or run.seq >= runs[run.run_id].seq):
                    runs[run.run_id] = run
            else:
                key = (match.group("run"), int(match.group("parts")))
                parts.setdefault(key, {})[int(match.group("part"))] = data
                part_comments.setdefault(key, []).append(comment.id)
    plans, plan_comments = _assemble_plans(parts, part_comments)
    return Thread(
        runs=runs,
        plans=plans,
        plan_comments=plan_comments,
        rejected=tuple(dict.fromkeys(rejected)),
        notices=frozenset(notices),
    )


def _decode_run(data: str, comment: BotComment) -> RunState | None:
    try:
        return replace(
            _run_from_json(_unpack(data)), comment_id=comment.id, comment_url=comment.url
        )
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


def _assemble_plans(
    parts: dict[tuple[str, int], dict[int, str]],
    part_comments: dict[tuple[str, int], list[int]],
) -> tuple[dict[str, tuple[PlannedIssue, ...]], dict[str, tuple[int, ...]]]:
    plans: dict[str, tuple[PlannedIssue, ...]] = {}
    comments: dict[str, tuple[int, ...]] = {}
    for key, pieces in parts.items():
        if sorted(pieces) != list(range(1, key[1] + 1)):
            continue  # incomplete: a continuation comment is missing
        try:
            payload = _unpack("".join(pieces[i] for i in sorted(pieces)))
            issues = tuple(_issue_from_json(item) for item in payload["issues"])
        except (ValueError, KeyError, TypeError, zlib.error):
            continue
        sha = str(payload.get("sha", plan_sha(issues)))
        plans[sha] = issues
        comments[sha] = tuple(dict.fromkeys(part_comments[key]))
    return plans, comments


# -- JSON mapping ----------------------------------------------------------------------------


def _issue_to_json(issue: PlannedIssue) -> dict[str, Any]:
    return {
        "key": issue.key,
        "title": issue.title,
        "body": issue.body,
        "labels": list(issue.labels),
        "depends_on": list(issue.depends_on),
        "size": issue.size,
        "covers": list(issue.covers),
        "group": issue.group,
        "parent": issue.parent_key,
    }


def _issue_from_json(item: dict[str, Any]) -> PlannedIssue:
    return PlannedIssue(
        key=str(item["key"]),
        title=str(item["title"]),
        body=str(item["body"]),
        labels=tuple(map(str, item.get("labels", ()))),
        depends_on=tuple(map(str, item.get("depends_on", ()))),
        size=item.get("size"),
        covers=tuple(map(str, item.get("covers", ()))),
        group=item.get("group"),
        parent_key=item.get("parent"),
    )


_RUN_SCALARS = (
    "run_id",
    "status",
    "issue",
    "requester",
    "started_at",
    "trigger_key",
    "updated_at",
    "finished_at",
    "seq",
    "spec_hash",
    "planner",
    "plan_sha",
    "claim",
    "writes",
)
_RECONCILE_SCALARS = ("kind", "base", "basis", "unchanged")


def _run_to_json(run: RunState) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(run, name) for name in _RUN_SCALARS}
    data.update(
        v=SCHEMA_VERSION,
        options=run.options,
        reasons=list(run.reasons),
        notes=list(run.notes),
        edits=list(run.edits),
        edit_keys=list(run.edit_keys),
        uncovered=list(run.uncovered),
        usage=run.usage,
        closed=list(run.closed),
        created=[
            [c.key, c.number, c.id, c.title, c.hash, c.parent, list(c.blocked_by)]
            for c in run.created
        ],
        skipped=[[s.key, s.title, s.reason, s.existing] for s in run.skipped],
        failed=[[s.key, s.title, s.reason, s.existing] for s in run.failed],
    )
    if run.kind != "spawn":  # a spawn run's block is what it always was
        data.update({name: getattr(run, name) for name in _RECONCILE_SCALARS})
        data.update(
            changes=[_change_to_json(c) for c in run.changes],
            tracked=[
                [t.key, t.number, t.id, t.title, t.head, t.parent, t.origin] for t in run.tracked
            ],
        )
    return data


def _run_from_json(data: dict[str, Any]) -> RunState:
    names = (*_RUN_SCALARS, *_RECONCILE_SCALARS)
    scalars = {name: data[name] for name in names if name in data}
    return RunState(
        **scalars,
        options=dict(data.get("options", {})),
        reasons=tuple(data.get("reasons", ())),
        notes=tuple(data.get("notes", ())),
        edits=tuple(str(e) for e in data.get("edits", ())),
        edit_keys=tuple(str(k) for k in data.get("edit_keys", ())),
        uncovered=tuple(data.get("uncovered", ())),
        usage=dict(data.get("usage", {})),
        closed=tuple(int(n) for n in data.get("closed", ())),
        created=tuple(_created_from_json(item) for item in data.get("created", ())),
        skipped=tuple(
            SkippedIssue(str(k), str(t), str(r), e) for k, t, r, e in data.get("skipped", ())
        ),
        failed=tuple(
            SkippedIssue(str(k), str(t), str(r), e) for k, t, r, e in data.get("failed", ())
        ),
        changes=tuple(_change_from_json(item) for item in data.get("changes", ())),
        tracked=tuple(
            Tracked(str(k), int(n), int(i), str(t), str(h), int(p), str(o))
            for k, n, i, t, h, p, o in data.get("tracked", ())
        ),
    )


_CHANGE_FIELDS = (
    "op",
    "key",
    "number",
    "title",
    "was",
    "diff",
    "done",
    "id",
    "before_title",
    "before_body",
    "comment",
    "blockers",
    "added",
    "removed",
    "parent",
)


def _change_to_json(change: Change) -> dict[str, Any]:
    default = Change("", "")
    data = {
        name: getattr(change, name)
        for name in _CHANGE_FIELDS
        if name in ("op", "key") or getattr(change, name) != getattr(default, name)
    }
    return {name: list(v) if isinstance(v, tuple) else v for name, v in data.items()}


def _change_from_json(item: dict[str, Any]) -> Change:
    return Change(
        op=str(item["op"]),
        key=str(item["key"]),
        number=int(item.get("number", 0)),
        title=str(item.get("title", "")),
        was=str(item.get("was", "")),
        diff=str(item.get("diff", "")),
        done=bool(item.get("done", False)),
        id=int(item.get("id", 0)),
        before_title=str(item.get("before_title", "")),
        before_body=str(item.get("before_body", "")),
        comment=int(item.get("comment", 0)),
        blockers=tuple(int(i) for i in item.get("blockers", ())),
        added=tuple(int(i) for i in item.get("added", ())),
        removed=tuple(int(i) for i in item.get("removed", ())),
        parent=int(item.get("parent", 0)),
    )


def _created_from_json(item: list[Any]) -> CreatedIssue:
    key, number, id_, title, hash_ = item[:5]
    parent = int(item[5]) if len(item) > 5 else 0
    blocked = tuple(int(x) for x in item[6]) if len(item) > 6 else ()
    return CreatedIssue(str(key), int(number), int(id_), str(title), str(hash_), parent, blocked)


# -- markers in created issues ---------------------------------------------------------------

_ITEM = re.compile(
    r"<!-- openproducer:item run=(?P<run>run_[A-Za-z0-9_]+) key=(?P<key>[\w.-]+)"
    r" hash=(?P<hash>[0-9a-f]{16}) body=(?P<body>[0-9a-f]{16}) -->"
)


@dataclass(frozen=True)
class ItemMarker:
    run_id: str
    key: str
    hash: str
    body_hash: str


def render_item_marker(marker: ItemMarker) -> str:
    return (
        f"<!-- openproducer:item run={marker.run_id} key={marker.key} hash={marker.hash}"
        f" body={marker.body_hash} -->"
    )


def parse_item_marker(body: str) -> ItemMarker | None:
    """The last marker in a body (the footer's), or None."""
    matches = list(_ITEM.finditer(body or ""))
    if not matches:
        return None
    m = matches[-1]
    return ItemMarker(m.group("run"), m.group("key"), m.group("hash"), m.group("body"))
