"""Ticked items are done (#12): skipped once a list ticks two or more, and said so."""

from __future__ import annotations

from openproducer.planning.offline import build_offline_plan
from openproducer.spec import parse_spec


def test_ticked_items_are_skipped_and_counted() -> None:
    text = (
        "## Launch\n- [x] Mockups approved\n- [x] Events agreed\n- [ ] Beta with partners\n"
        "- [ ] Release notes"
    )
    plan = build_offline_plan(parse_spec(text))
    assert [i.title for i in plan.issues] == ["Launch: Beta with partners", "Launch: Release notes"]
    assert "2 ticked items are done and not planned." in plan.notes


def test_a_single_tick_among_open_items_is_kept() -> None:
    plan = build_offline_plan(parse_spec("## Auth\n- [ ] Add login form\n- [x] Add logout"))
    assert len(plan.issues) == 2
    assert not any("ticked" in note for note in plan.notes)
