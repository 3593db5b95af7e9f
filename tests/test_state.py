import random
import string

import pytest

from openproducer.model import PlannedIssue
from openproducer.state import (
    BotComment,
    CreatedIssue,
    ItemMarker,
    RunState,
    encode_plan,
    encode_run,
    parse_item_marker,
    read_thread,
    render_item_marker,
)

RUN = "run_20261125_101010_abcdEF12"
NASTY = "ends --> here ``` `code` <!-- x --> ünïcödé 🚀 \u200d \\ \" ' \n\t| table |"


def _run(**changes: object) -> RunState:
    base = RunState(
        run_id=RUN,
        status="pending",
        issue=7,
        requester="alice",
        started_at="2026-11-25T10:10:10Z",
        seq=1,
    )
    return RunState(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def _plan(n: int, body: str = "body") -> tuple[PlannedIssue, ...]:
    return tuple(
        PlannedIssue(
            key=str(i),
            title=f"Issue {i} {NASTY[:20]}",
            body=body,
            labels=("x",),
            depends_on=(str(i - 1),) if i > 1 else (),
        )
        for i in range(1, n + 1)
    )


def test_run_block_round_trips_any_user_text() -> None:
    run = _run(
        notes=(NASTY,),
        options={"labels": [NASTY]},
        created=(CreatedIssue("1", 12, 99999, NASTY, "0" * 16),),
    )
    block = encode_run(run, secret="")
    thread = read_thread([BotComment(5, f"visible {NASTY}\n\n{block}", "u")], secret="")
    got = thread.runs[RUN]
    assert got.notes == (NASTY,) and got.created == run.created
    assert got.options == {"labels": [NASTY]} and got.comment_id == 5


def test_plan_split_over_comments_is_read_back_whole() -> None:
    rng = random.Random(1)
    plan = tuple(
        PlannedIssue(
            key=str(i),
            title=f"Issue {i}",
            body="".join(rng.choice(string.ascii_letters + " \n") for _ in range(3000)),
        )
        for i in range(1, 151)
    )
    sha, blocks = encode_plan(RUN, plan, secret="s", chunk=60_000)
    assert len(blocks) > 1 and all(len(b) < 65_536 for b in blocks)
    comments = [BotComment(i, f"part {i}\n\n{b}") for i, b in enumerate(blocks)]
    thread = read_thread(reversed(comments), secret="s")
    assert thread.plans[sha] == plan


def test_incomplete_plan_is_not_believed() -> None:
    sha, blocks = encode_plan(RUN, _plan(150, body="x" * 4000 + NASTY), secret="", chunk=2000)
    thread = read_thread([BotComment(i, b) for i, b in enumerate(blocks[:-1])], secret="")
    assert sha not in thread.plans


def test_newest_seq_wins() -> None:
    old = encode_run(_run(seq=1, status="pending"), secret="")
    new = encode_run(_run(seq=2, status="cancelled"), secret="")
    thread = read_thread([BotComment(2, new), BotComment(1, old)], secret="")
    assert thread.runs[RUN].status == "cancelled"


@pytest.mark.parametrize("secret", ["", "s3cret"])
def test_tampered_block_is_rejected(secret: str) -> None:
    block = encode_run(_run(status="completed"), secret=secret)
    head, data = block.split("\n", 1)
    forged = head.replace("seq=1", "seq=9") + "\n" + data
    thread = read_thread([BotComment(3, forged)], secret=secret)
    assert thread.runs == {} and thread.rejected == (3,)


def test_block_signed_with_another_secret_is_rejected() -> None:
    block = encode_run(_run(), secret="attacker")
    assert read_thread([BotComment(1, block)], secret="real").runs == {}


def test_item_marker_round_trip_and_last_one_wins() -> None:
    marker = ItemMarker(RUN, "12", "a" * 16, "b" * 16)
    fake = render_item_marker(ItemMarker(RUN, "1", "c" * 16, "d" * 16))
    assert parse_item_marker(f"{fake}\n text \n{render_item_marker(marker)}") == marker
    assert parse_item_marker("no marker") is None
