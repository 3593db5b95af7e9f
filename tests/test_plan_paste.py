"""Pasted pages (#12): the trigger, page chrome, diagram source and numbered outlines."""

from __future__ import annotations

import pytest

from openproducer.planning.offline import build_offline_plan
from openproducer.planning.paste import drop_chrome, drop_trigger, fence_diagrams
from openproducer.spec import parse_sections, parse_spec

PAGE = """\
@SomeBot please plan the page below.

Skip to content
Docs
Guides
Sign in

Table of contents
1. Intake
2. Storage

Docs / Architecture / Uploads

1. Intake

The intake service accepts uploads of up to 2 GB and checks their checksum before storing them.

graph TD
    A[Client] --> B[Intake]
    B --> C[(Bucket)]

2. Storage

Uploads are kept in a bucket for 30 days, and then moved to cold storage by a nightly job.

Copy

Was this page helpful?
Yes
No

© 2025 Example Inc.
Terms · Privacy · Status
"""


def test_numbered_plain_text_headings_are_sections() -> None:
    sections = parse_sections(
        "Intro.\n\n1. Intake\n\nAccept uploads.\n\n1.1 Checksums\n\nCheck them."
    )
    assert [(s.level, s.title) for s in sections] == [(1, "1. Intake"), (2, "1.1 Checksums")]


def test_a_loose_numbered_list_is_no_outline() -> None:
    assert parse_sections("1. Create the schema\n\n2. Write the importer\n\n3. Ship it") == ()


def test_markdown_headings_win_over_numbered_lines() -> None:
    sections = parse_sections("## Plan\n\n1. Intake\n\nAccept uploads.\n\n2. Storage\n\nKeep.")
    assert [s.title for s in sections] == ["Plan"]


def test_a_pasted_page_plans_its_sections_without_chrome() -> None:
    plan = build_offline_plan(parse_spec(PAGE))
    assert [i.title for i in plan.issues] == [
        "The intake service accepts uploads of up to 2 GB and checks their checksum…",
        "Uploads are kept in a bucket for 30 days, and then moved to cold storage by a…",
    ]
    bodies = "\n".join(i.body for i in plan.issues)
    for chrome in ("@SomeBot", "Skip to content", "Sign in", "helpful", "©", "Terms ·", "Copy"):
        assert chrome not in bodies
    assert "```text\ngraph TD" in plan.issues[0].body


def test_drop_trigger_keeps_a_spec_that_is_only_the_request() -> None:
    assert drop_trigger("@bot add a login form") == "@bot add a login form"
    assert drop_trigger("@bot plan this\n- a\n- b") == "- a\n- b"


def test_diagrams_are_fenced_and_prose_is_not() -> None:
    text = "Flow:\n\nsequenceDiagram\n    A->>B: hi\n\nThe end."
    assert (
        fence_diagrams(text) == "Flow:\n\n```text\nsequenceDiagram\n    A->>B: hi\n```\n\nThe end."
    )
    art = "+-----+\n| box |\n+-----+"
    assert fence_diagrams(art).startswith("```text\n+-----+")
    assert fence_diagrams("Plain prose here.") == "Plain prose here."


def test_chrome_keeps_prose_and_wrapper_tags() -> None:
    text = "<constraints>\nNo new frameworks.\n</constraints>\n\nA paragraph of real text."
    assert drop_chrome(text) == text


@pytest.mark.parametrize(
    "diagram",
    [
        "flowchart LR\n    Upload --> Scan\n    Scan --> Store",
        "sequenceDiagram\n    Client->>Intake: PUT /files\n    Intake-->>Client: 201",
        "@startuml\nClient -> Intake : upload\nIntake -> Bucket : store\n@enduml",
    ],
)
def test_diagram_source_in_a_pasted_outline_is_never_a_title(diagram: str) -> None:
    page = (
        "Skip to content\n\n1. Intake\n\nThe intake service checks each upload's checksum.\n\n"
        f"{diagram}\n\n2. Storage\n\nUploads are kept for 30 days, then moved to cold storage.\n"
    )
    plan = build_offline_plan(parse_spec(page))
    assert [i.title for i in plan.issues] == [
        "The intake service checks each upload's checksum",
        "Uploads are kept for 30 days, then moved to cold storage",
    ]
    assert "```text\n" + diagram.split("\n")[0] in plan.issues[0].body
