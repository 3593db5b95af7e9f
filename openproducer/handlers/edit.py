"""Refine a pending preview by comment: drop, merge, rename, add, edit.

Numbers are the preview's as it stands. A bad reference changes nothing and says why; every
edit is recorded in the run's state (`RunState.edits`) and the preview is rewritten in place,
so `confirm` creates exactly the edited plan without planning again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from openproducer.handlers.decide import may_decide
from openproducer.handlers.runs import write_run
from openproducer.handlers.turn import Outcome, Turn
from openproducer.model import PlannedIssue
from openproducer.planning.validate import MAX_TITLE, clean_body, clean_title, clip
from openproducer.render import code, details, render_plan_table, render_reply

Plan = tuple[PlannedIssue, ...]


class EditError(ValueError):
    """What is wrong with an edit command, in words for the reply."""


def edit_plan(turn: Turn) -> Outcome:
    verb = turn.command.verb
    runs = [r for r in turn.thread.runs.values() if r.status == "pending"]
    if not runs:
        return turn.answer(
            verb,
            "🤷 No preview is waiting",
            "Plans can be edited while their preview waits for `confirm`. Comment "
            f"{code(turn.command_text('status'))} to see the runs.",
        )
    run = runs[-1]
    if turn.event.trigger_key in run.edit_keys:  # GitHub delivered this comment again
        return turn.ignore(f"This edit was already applied to {run.run_id}.")
    if not may_decide(turn, run):
        return turn.answer(
            verb,
            "🔒 Not allowed",
            f"Only {code(run.requester)}, who asked for run `{run.run_id}`, or someone with "
            "maintain or admin access can edit its plan. Nothing was changed.",
            run=run,
        )
    plan = turn.thread.plan_for(run)
    try:
        edited, what = apply_edit(plan, verb, turn.command.argument, turn.command.body)
    except EditError as exc:
        return turn.answer(
            verb,
            "✏️ I could not apply that edit",
            f"{exc} Nothing was changed; the numbers are those of the preview as it stands.",
            _usage(turn),
            run=run,
        )
    keys = {item.key for item in edited}
    updated = replace(
        run,
        seq=run.seq + 1,
        updated_at=turn.now_iso(),
        edits=(*run.edits, f"{turn.event.sender}: {what}"),
        edit_keys=(*run.edit_keys, turn.event.trigger_key),
        skipped=tuple(s for s in run.skipped if s.key in keys),
    )
    for comment_id in turn.thread.plan_comments.get(run.plan_sha, ()):
        if comment_id != run.comment_id:
            turn.port.delete_comment(turn.event.issue_number, comment_id)
    turn.job.homes.forget(run.plan_sha)  # the edited plan is written afresh
    write_run(turn, updated, edited, preview=True, comment_id=run.comment_id)
    skipped = {s.key: s.reason for s in updated.skipped}
    text = render_reply(
        f"✏️ {what}",
        f"The preview above is updated: {len(edited)} issues planned. Comment "
        f"{code(turn.command_text('confirm', run.run_id))} to create them.",
        details(f"Plan as it stands ({len(edited)})", render_plan_table(edited, skipped=skipped)),
    )
    turn.reply(text)
    return Outcome(command=verb, status="pending", run_id=run.run_id, summary=text)


def _usage(turn: Turn) -> str:
    t = turn.settings.trigger
    return (
        f"Edits: {code(f'{t} drop 3 5')}, {code(f'{t} merge 2 3')}, "
        f"{code(f'{t} rename 4: New title')}, {code(f'{t} add: Title')} (a body may follow on "
        f"the next lines), {code(f'{t} edit 4')} with the new body on the next lines."
    )


# -- pure edits ------------------------------------------------------------------------------


def apply_edit(plan: Plan, verb: str, argument: str, body: str) -> tuple[Plan, str]:
    """The edited plan and what was done, or `EditError`."""
    if verb == "drop":
        return _drop(plan, _numbers(plan, argument, least=1))
    if verb == "merge":
        return _merge(plan, _numbers(plan, argument, least=2))
    if verb == "rename":
        number, _, title = argument.partition(":")
        (index,) = _numbers(plan, number, least=1, most=1)
        return _rename(plan, index, title)
    if verb == "add":
        return _add(plan, argument.removeprefix(":").strip(), body)
    if verb == "edit":
        (index,) = _numbers(plan, argument, least=1, most=1)
        return _edit(plan, index, body)
    raise EditError(f"{verb} is not an edit.")  # pragma: no cover


def _numbers(plan: Plan, text: str, *, least: int, most: int = 0) -> list[int]:
    """0-based positions from "3 5", "3, 5" or "#3 #5", checked against the plan."""
    words = [w for w in re.split(r"[\s,]+", text.strip()) if w]
    numbers: list[int] = []
    for word in words:
        digits = word.lstrip("#")
        if not digits.isdigit():
            raise EditError(f"{code(word)} is not an item number.")
        number = int(digits)
        if not 1 <= number <= len(plan):
            raise EditError(f"There is no item {number}: the plan has {len(plan)}.")
        if number - 1 not in numbers:
            numbers.append(number - 1)
    if len(numbers) < least:
        need = "an item number" if least == 1 else f"at least {least} different item numbers"
        raise EditError(f"This edit needs {need}.")
    if most and len(numbers) > most:
        raise EditError("This edit takes one item number.")
    return numbers


def _label(plan: Plan, index: int) -> str:
    return f"{index + 1} “{plan[index].title}”"


def _drop(plan: Plan, indexes: Sequence[int]) -> tuple[Plan, str]:
    gone = {plan[i].key for i in indexes}
    if len(gone) == len(plan):
        raise EditError("That would drop every item; comment `cancel` to drop the whole plan.")
    kept = tuple(
        replace(
            item,
            depends_on=tuple(d for d in item.depends_on if d not in gone),
            parent_key=None if item.parent_key in gone else item.parent_key,
        )
        for item in plan
        if item.key not in gone
    )
    return kept, "Dropped " + ", ".join(_label(plan, i) for i in sorted(indexes))


MERGED_TITLE = 100


def merged_title(titles: Sequence[str]) -> str:
    """ "Accounts: Sign up" + "Accounts: Sessions" → "Accounts: Sign up and Sessions": the
    shared "Section: " once, then each title, cut to share the length; past four titles, the
    first and how many more."""
    head = titles[0].split(": ", 1)[0] + ": " if ": " in titles[0] else ""
    if not head or not all(t.startswith(head) for t in titles):
        head = ""
    rest = [t[len(head) :] for t in titles]
    joined = head + ", ".join(rest[:-1]) + " and " + rest[-1]
    if len(joined) <= MERGED_TITLE:
        return joined
    if len(rest) > 4:
        return f"{titles[0]} (+{len(rest) - 1} merged)"
    room = (MERGED_TITLE - len(head)) // len(rest) - 5
    cut = [_cut(t, room) for t in rest]
    return head + ", ".join(cut[:-1]) + " and " + cut[-1]


def _cut(title: str, room: int) -> str:
    """``title`` in at most ``room`` characters, cut after a whole word and marked "…"."""
    if len(title) <= room:
        return title
    part = title[: room - 1]
    space = part.rfind(" ")
    part = part[:space] if space >= room // 2 else part
    return part.rstrip(" ,;:") + "…"


def _merge(plan: Plan, indexes: Sequence[int]) -> tuple[Plan, str]:
    ordered = sorted(indexes)
    items = [plan[i] for i in ordered]
    first = items[0]
    merged_keys = {item.key for item in items}
    before = {item.key for item in plan[: ordered[0]]}  # what the merged item may depend on
    title = merged_title([item.title for item in items])
    body = "\n\n".join(f"### {item.title}\n\n{item.body.strip()}" for item in items)
    merged = replace(
        first,
        title=clip(title, MAX_TITLE),
        body=clean_body(body),
        labels=tuple(dict.fromkeys(label for item in items for label in item.labels)),
        covers=tuple(dict.fromkeys(c for item in items for c in item.covers)),
        depends_on=tuple(
            dict.fromkeys(d for item in items for d in item.depends_on if d in before)
        ),
    )
    result: list[PlannedIssue] = []
    for item in plan:
        if item.key == first.key:
            result.append(merged)
        elif item.key not in merged_keys:
            seen = {i.key for i in result}
            deps = (first.key if d in merged_keys else d for d in item.depends_on)
            parent = first.key if item.parent_key in merged_keys else item.parent_key
            result.append(
                replace(
                    item,
                    depends_on=tuple(dict.fromkeys(d for d in deps if d in seen)),
                    parent_key=parent,
                )
            )
    what = "Merged " + ", ".join(_label(plan, i) for i in ordered) + f" into item {ordered[0] + 1}"
    return tuple(result), what


def _rename(plan: Plan, index: int, raw: str) -> tuple[Plan, str]:
    if not raw.strip():
        raise EditError("Give the new title after a colon, e.g. `rename 4: New title`.")
    title = clean_title(raw, body="", position=index + 1)
    renamed = replace(plan[index], title=title)
    edited = (*plan[:index], renamed, *plan[index + 1 :])
    return edited, f"Renamed {_label(plan, index)} to “{title}”"


def _add(plan: Plan, raw: str, body: str) -> tuple[Plan, str]:
    if not raw.strip():
        raise EditError("Give the new item's title after a colon, e.g. `add: Export as PDF`.")
    key = str(max((int(i.key) for i in plan if i.key.isdigit()), default=0) + 1)
    while key in {i.key for i in plan}:  # keys of grouped plans are not all numbers
        key = str(int(key) + 1)
    title = clean_title(raw, body=body, position=len(plan) + 1)
    item = PlannedIssue(key=key, title=title, body=clean_body(body) or "_No description._")
    return (*plan, item), f"Added item {len(plan) + 1} “{title}”"


def _edit(plan: Plan, index: int, body: str) -> tuple[Plan, str]:
    if not body.strip():
        raise EditError("Write the new body on the lines below `edit N`.")
    edited = replace(plan[index], body=clean_body(body))
    return (
        *plan[:index],
        edited,
        *plan[index + 1 :],
    ), f"Replaced the body of {_label(plan, index)}"
