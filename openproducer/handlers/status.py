"""Status, help and the answer to a command the bot does not know."""

from __future__ import annotations

from openproducer.handlers.create import find_marked
from openproducer.handlers.turn import Outcome, Turn, first_word
from openproducer.render import code, plural, render_reply, render_runs_table
from openproducer.replies import (
    render_help,
    render_reconcile_status,
    render_run_issues,
    render_unknown,
)


def status(turn: Turn) -> Outcome:
    wanted = first_word(turn.command)
    if wanted:
        return _one_run(turn, wanted)
    rebuilt = turn.rebuilt()
    runs = sorted(
        [*turn.thread.runs.values(), *(r.run for r in rebuilt.values())],
        key=lambda r: r.started_at,
    )
    if not runs:
        return turn.answer(
            "status",
            "📋 No runs yet",
            f"Mention {code(turn.settings.trigger)} in an issue with a spec.",
        )
    planned = {r.run_id: len(turn.thread.plan_for(r)) for r in runs}
    planned.update({run_id: r.planned for run_id, r in rebuilt.items()})
    text = render_reply(
        f"📋 Runs in this issue ({len(runs)})",
        render_runs_table(runs, planned=planned),
        (
            f"ℹ️ I rebuilt {plural(len(rebuilt), 'run')} ("
            + ", ".join(f"`{run_id}`" for run_id in rebuilt)
            + ") from the markers of the issues they created: their state comments are gone."
        )
        if rebuilt
        else "",
    )
    turn.reply(text)
    return Outcome(command="status", status="ok", summary=text)


def _one_run(turn: Turn, wanted: str) -> Outcome:
    run = turn.find_run("status", wanted)
    if isinstance(run, Outcome):
        return run
    if run.kind == "reconcile":
        text = render_reconcile_status(run)
    else:
        text = render_run_issues(run, find_marked(turn, run))
    if run.run_id not in turn.thread.runs:
        text += f"\n\n> ℹ️ {run.notes[0]}"
    turn.reply(text)
    return Outcome(
        command="status",
        status=run.status,
        run_id=run.run_id,
        summary=text,
        created=tuple(c.number for c in run.created),
    )


def help_(turn: Turn) -> Outcome:
    text = render_help(turn.settings)
    turn.reply(text)
    return Outcome(command="help", status="ok", summary=text)


def unknown(turn: Turn) -> Outcome:
    text = render_unknown(turn.command.argument, trigger=turn.settings.trigger)
    turn.reply(text)
    return Outcome(command="unknown", status="ok", summary=text)
