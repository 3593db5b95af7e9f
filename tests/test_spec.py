"""Tests for openproducer.spec: options with line numbers, and sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from openproducer.model import Options
from openproducer.spec import (
    KNOWN_OPTIONS,
    clean_title,
    parse_sections,
    parse_spec,
    render_option_help,
)

SPECS = Path(__file__).parent / "data" / "specs"


# --------------------------------------------------------------------------- options


def test_options_at_top_then_free_text() -> None:
    text = (
        "\n"  # the trigger was on this line
        "count: 3\n"
        "labels: onboarding, frontend\n"
        "\n"
        "Dry-Run: yes\n"
        "\n"
        "## Welcome e-mail\n"
        "Send it right after sign-up. count: 5 here is prose.\n"
    )
    spec = parse_spec(text)
    assert spec.errors == ()
    assert spec.options == Options(count=3, labels=("onboarding", "frontend"), dry_run=True)
    assert spec.option_lines == (2, 3, 5)
    assert spec.text == "## Welcome e-mail\nSend it right after sign-up. count: 5 here is prose.\n"


def test_options_file_from_data() -> None:
    spec = parse_spec((SPECS / "options_top.md").read_text())
    assert spec.options.count == 3
    assert spec.options.dry_run is True
    assert spec.text.startswith("## Welcome e-mail")


@pytest.mark.parametrize(
    "text",
    [
        "Priority: P0\nOwner: Alice\n\n## Login\nUsers log in.",
        "Note: this replaces the old spec\n\nTemplate is not an option here: really.",
        "## Login\nPriority: P0\ncount: 5\ntemplate: x",
        "We need this soon.\ncount: 5\nlabels: bug",
    ],
)
def test_key_value_lines_that_are_not_options_stay_spec_text(text: str) -> None:
    spec = parse_spec(text)
    assert spec.errors == ()
    assert spec.options == Options()
    assert spec.option_lines == ()
    assert spec.text == text


def test_known_keys_among_metadata_lines_at_the_top_are_options() -> None:
    spec = parse_spec("Priority: P0\ncount: 2\nOwner: Alice\n\n## Login\nUsers log in.")
    assert spec.options.count == 2
    assert spec.option_lines == (2,)
    assert spec.text == "Priority: P0\nOwner: Alice\n\n## Login\nUsers log in."


def test_metadata_header_spec_file_has_no_options() -> None:
    text = (SPECS / "metadata_header.md").read_text()
    spec = parse_spec(text)
    assert (spec.options, spec.errors, spec.text) == (Options(), (), text)


def test_yaml_block_anywhere() -> None:
    text = (SPECS / "options_yaml.md").read_text()
    spec = parse_spec(text)
    assert spec.errors == ()
    assert spec.options.template == "Migrate {component} to structured logging"
    assert spec.options.components == ("api", "worker", "scheduler")
    assert spec.options.labels == ("logging",)
    assert spec.option_lines == (3, 4, 5, 6, 7, 8, 9, 10)
    assert "```yaml\nlevel: info" in spec.text  # an example config is spec text
    assert "template:" not in spec.text
    assert "Please create one issue per service" in spec.text
    assert "\n\n\n" not in spec.text


@pytest.mark.parametrize("info", ["yaml", "yml", "YAML"])
def test_yaml_block_info_strings(info: str) -> None:
    spec = parse_spec(f"Spec text.\n\n```{info}\ncount: 4\n```\n")
    assert spec.options.count == 4
    assert spec.text == "Spec text.\n"


def test_yaml_block_without_known_keys_is_spec_text() -> None:
    text = "Config example:\n\n```yaml\nserver:\n  port: 8080\nname: demo\n```\n"
    spec = parse_spec(text)
    assert (spec.options, spec.errors, spec.text) == (Options(), (), text)


@pytest.mark.parametrize(
    "text",
    [
        "```\ncount: 5\n```\n## Login\ntext",
        "````markdown\n```yaml\ncount: 5\n```\n````\n",
        "~~~\ntemplate: x\n~~~\n",
        "Prose first.\n```\ncount: 3\n```",
    ],
)
def test_option_like_lines_inside_code_blocks_are_ignored(text: str) -> None:
    spec = parse_spec(text)
    assert spec.options.count is None and spec.options.template is None
    assert spec.errors == ()


def test_indented_top_line_counts_when_the_trigger_was_removed_in_place() -> None:
    spec = parse_spec(" count: 2\n\n## A\ntext")
    assert spec.options.count == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Dry-Run: true", {"dry_run": True}),
        ("DRY_RUN: off", {"dry_run": False}),
        ("dry run: 1", {"dry_run": True}),
        ("dry_run: No", {"dry_run": False}),
        ("Unique-By: Title", {"unique_by": "title"}),
        ("components_list: api, web", {"components": ("api", "web")}),
        ("components: [api, web]", {"components": ("api", "web")}),
        ("labels: 'bug, ui'", {"labels": ("bug", "ui")}),
        ("labels: bug,, ui, bug", {"labels": ("bug", "ui")}),
        ("assignees: @octocat, hubot", {"assignees": ("octocat", "hubot")}),
        ("milestone: 3", {"milestone": "3"}),
        ("milestone: Q3 launch", {"milestone": "Q3 launch"}),
        ("rate_limit_per_minute: 20", {"rate_limit_per_minute": 20}),
        ("issue-type: Task", {"issue_type": "Task"}),
        ("count: 100", {"count": 100}),
        ("Group: Sections", {"group": "sections"}),
        ("group: flat", {"group": "flat"}),
        (
            "template: Implement {component} ({index})",
            {"template": "Implement {component} ({index})"},
        ),
    ],
)
def test_option_values(line: str, expected: dict[str, object]) -> None:
    spec = parse_spec(line + "\n\nThe spec.")
    assert spec.errors == ()
    assert spec.options == Options(**expected)  # type: ignore[arg-type]


def test_yaml_values_and_multiline_template() -> None:
    text = (
        "Intro.\n\n```yaml\n"
        "template: |\n"
        "  Migrate {component}\n"
        "  - [ ] update the {component} docs\n"
        "components:\n"
        "  - api\n"
        "  - web\n"
        "dry_run: yes\n"
        "milestone: 2\n"
        "```\n"
    )
    spec = parse_spec(text)
    assert spec.errors == ()
    assert spec.options.template == "Migrate {component}\n- [ ] update the {component} docs"
    assert spec.options.components == ("api", "web")
    assert spec.options.dry_run is True
    assert spec.options.milestone == "2"


def test_multiline_options_at_top() -> None:
    text = "template: |\n  Fix {component}\n  details\ncomponents:\n- api\n- web\n\nSpec text."
    spec = parse_spec(text)
    assert spec.errors == ()
    assert spec.options.template == "Fix {component}\ndetails"
    assert spec.options.components == ("api", "web")
    assert spec.option_lines == (1, 2, 3, 4, 5, 6)
    assert spec.text == "Spec text."


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (
            "count: ten\n\nspec",
            1,
            "count",
            'count must be a whole number between 1 and 100 (got "ten")',
        ),
        ("\n\ncount: 0\nspec", 3, "count", 'between 1 and 100 (got "0")'),
        ("count: -2\nspec", 1, "count", 'between 1 and 100 (got "-2")'),
        ("count: 101\nspec", 1, "count", 'between 1 and 100 (got "101")'),
        ("count: 2.5\nspec", 1, "count", "whole number"),
        ("count:\nspec", 1, "count", 'count needs a value, for example "count: 5"'),
        (
            "labels: a\nunique_by: name\nspec",
            2,
            "unique_by",
            'one of title, body, hash (got "name")',
        ),
        ("dry_run: maybe\nspec", 1, "dry_run", 'dry_run must be true or false (got "maybe")'),
        ("group: tree\nspec", 1, "group", 'group must be sections or flat (got "tree")'),
        ("rate_limit_per_minute: 0\nx", 1, "rate_limit_per_minute", "at least 1"),
        ("rate-limit-per-minute: fast\nx", 1, "rate_limit_per_minute", '(got "fast")'),
        (
            "labels: " + "x" * 51 + "\nx",
            1,
            "labels",
            "51 characters long; GitHub allows at most 50",
        ),
        ("labels: " + ",".join(f"l{i}" for i in range(21)) + "\nx", 1, "labels", "at most 20"),
        (
            "assignees: " + ",".join(f"u{i}" for i in range(11)) + "\nx",
            1,
            "assignees",
            "at most 10",
        ),
        (
            "assignees: alice, bad_login\nx",
            1,
            "assignees",
            '"bad_login" is not a valid GitHub username',
        ),
        ("assignees: -alice\nx", 1, "assignees", "not a valid GitHub username"),
        ("template: " + "t" * 257 + "\nx", 1, "template", "257 characters long"),
        ("template: Do {thing}\nx", 1, "template", "{thing}, which is not a placeholder"),
        ("components: a, b\ntemplate: Fix it\nx", 2, "template", "must contain {component}"),
        ("components: a, b, A\nx", 1, "components", 'lists "A" twice'),
        ("x\n\n```yaml\ncount: 3\nlables: bug\n```", 5, "lables", 'did you mean "labels"?'),
        ("x\n\n```yaml\ncount: 3\ntemplate: {component} API\n```", 5, "", "not valid YAML"),
        ("x\n```yml\ncount: 3\nlabels: [a, b\nmilestone: 1\n```", 5, "", "not valid YAML"),
        ("```yaml\ncount:\n  - 3\n```", 2, "count", "whole number"),
        ("```yaml\nlabels: {a: 1}\n```", 2, "labels", "comma-separated list"),
        ("```yaml\ntemplate: [a]\ncomponents: a\n```", 2, "template", "must be text"),
    ],
)
def test_invalid_options_name_the_line(text: str, line: int, key: str, message: str) -> None:
    errors = parse_spec(text).errors
    assert [(e.line, e.key) for e in errors] == [(line, key)]
    assert message in errors[0].message


def test_count_bound_follows_max_issues() -> None:
    spec = parse_spec("count: 30\nspec", max_issues=25)
    assert spec.errors[0].message == 'count must be a whole number between 1 and 25 (got "30")'
    assert parse_spec("components: a, b, c\nx", max_issues=2).errors[0].key == "components"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("count: 3\ncount: 4\nx", 2, "count is given twice (lines 1 and 2)"),
        ("count: 3\n\nx\n\n```yaml\ncount: 4\n```", 6, "count is given twice (lines 1 and 6)"),
        ("Dry-Run: yes\ndry_run: no\nx", 2, "dry_run is given twice (lines 1 and 2)"),
        ("components: a\ncomponents_list: b\nx", 2, "components is given twice (lines 1 and 2)"),
        ("```yaml\nlabels: a\nlabels: b\n```", 3, "labels is given twice (lines 2 and 3)"),
    ],
)
def test_duplicated_keys(text: str, line: int, message: str) -> None:
    errors = parse_spec(text).errors
    assert [e.line for e in errors] == [line]
    assert message in errors[0].message


def test_first_of_duplicated_keys_is_kept() -> None:
    assert parse_spec("count: 3\ncount: 4\nx").options.count == 3


def test_invalid_option_is_left_unset_and_others_apply() -> None:
    spec = parse_spec("count: ten\nlabels: bug\n\nspec")
    assert spec.options == Options(labels=("bug",))
    assert spec.option_lines == (1, 2)


def test_crlf_line_endings() -> None:
    spec = parse_spec("count: 2\r\n\r\n## A\r\ntext\r\n")
    assert spec.options.count == 2
    assert spec.text == "## A\ntext\n"


def test_text_without_options_is_verbatim() -> None:
    text = "\n  # Title  \n\nBody with trailing spaces   \n\n"
    assert parse_spec(text).text == text


def test_every_spec_file_parses_cleanly() -> None:
    for path in sorted(SPECS.glob("*.md")):
        assert parse_spec(path.read_text()).errors == (), path.name


def test_render_option_help() -> None:
    table = render_option_help()
    lines = table.splitlines()
    assert lines[0] == "| Option | Type | Default | Example | Meaning |"
    for name in KNOWN_OPTIONS:
        assert f"| `{name}` |" in table
    assert "`count: 5`" in table
    assert "components_list" in table


# --------------------------------------------------------------------------- sections


def _outline(text: str) -> list[tuple[tuple[str, ...], int, int]]:
    return [(s.path, s.level, s.line) for s in parse_sections(text)]


def test_sections_nest_and_bodies_exclude_subsections() -> None:
    text = "Preamble.\n# Title\nintro\n## A\na text\n### A1\na1 text\n## B ##\nb text\n"
    sections = parse_sections(text)
    assert [(s.path, s.level, s.line) for s in sections] == [
        (("Title",), 1, 2),
        (("Title", "A"), 2, 4),
        (("Title", "A", "A1"), 3, 6),
        (("Title", "B"), 2, 8),
    ]
    assert [s.body for s in sections] == ["intro", "a text", "a1 text", "b text"]
    assert sections[2].title == "A1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no headings at all\n- a\n- b", []),
        ("#hashtag is not a heading\n#\n", []),
        ("```\n# comment\n```\n~~~\n## also code\n~~~\n# Real", [(("Real",), 1, 7)]),
        ("<!--\n# hidden\n-->\n# Shown <!-- note -->", [(("Shown",), 1, 4)]),
        ("Title\n=====\n\nSub\n---\ntext", [(("Title",), 1, 1), (("Title", "Sub"), 2, 4)]),
        ("para line\nmore\n---\n", []),
        ("- item\n---\n", []),
        ("## **Bold** _title_ [link](http://x) ##", [(("Bold title link",), 2, 1)]),
        ("# 1. Setup:", [(("1. Setup",), 1, 1)]),
        (
            "## API\n\n**Backend**\n- x\n\n__Frontend:__\n- y",
            [(("API",), 2, 1), (("API", "Backend"), 3, 3), (("API", "Frontend"), 3, 6)],
        ),
        ("**Backend**\ntext\n\n**Mobile**\n", [(("Backend",), 1, 1), (("Mobile",), 1, 4)]),
        ("text\n**not a heading, continues the paragraph**", []),
        ("**This whole sentence is bold and ends the paragraph.**", []),
        ("```\n# open fence never closed\n\n# still code", []),
    ],
)
def test_headings(text: str, expected: list[tuple[tuple[str, ...], int, int]]) -> None:
    assert _outline(text) == expected


def test_emphasis_heading_is_one_level_below_the_last_real_heading() -> None:
    text = "# Doc\n## Part\n\n**One**\nx\n\n**Two**\ny\n## Next\nz"
    assert _outline(text) == [
        (("Doc",), 1, 1),
        (("Doc", "Part"), 2, 2),
        (("Doc", "Part", "One"), 3, 4),
        (("Doc", "Part", "Two"), 3, 7),
        (("Doc", "Next"), 2, 9),
    ]


def test_code_with_hash_lines_stays_in_the_body() -> None:
    sections = parse_sections((SPECS / "tables_and_code.md").read_text())
    assert [s.title for s in sections] == [
        "CLI improvements",
        "Configuration file",
        "Exit codes",
        "Shell completion",
    ]
    assert "## still not a heading" in sections[1].body
    assert "| 3    | network error      |" in sections[2].body


@pytest.mark.parametrize(
    ("name", "titles"),
    [
        (
            "german.md",
            ["Kundenportal", "Hintergrund", "Anmeldung", "Aufgaben", "Akzeptanzkriterien"],
        ),
        (
            "japanese.md",
            ["社内ポータル刷新", "背景", "ログイン", "申請ワークフロー", "受け入れ基準"],
        ),
        ("setext_headings.md", ["Search", "Indexing", "Query syntax"]),
        ("emphasis_headings.md", ["Backend", "Mobile app", "Release"]),
        ("single_list.md", []),
    ],
)
def test_section_titles_of_spec_files(name: str, titles: list[str]) -> None:
    assert [s.title for s in parse_sections((SPECS / name).read_text())] == titles


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "Keep a `Makefile` that calls `kiln run <task_id>`",
            "Keep a `Makefile` that calls `kiln run <task_id>`",
        ),
        ("Store an Option<Instant> per socket", "Store an Option<Instant> per socket"),
        ("**Bold** <b>tag</b> and <br/> break", "Bold tag and break"),
        ("Parse `__init__` files, **fast**", "Parse `__init__` files, fast"),
    ],
)
def test_clean_title_keeps_code_and_placeholders(text: str, title: str) -> None:
    assert clean_title(text) == title


def test_rst_headings_take_levels_in_the_order_their_styles_appear() -> None:
    text = (
        "=====\nTitle\n=====\n\nIntro.\n\nPart\n****\n\nBody.\n\nSub part\n''''''''\n\nMore.\n\n"
        "Second part\n***********\n\nEnd."
    )
    sections = parse_sections(text)
    assert [(s.level, s.path) for s in sections] == [
        (1, ("Title",)),
        (2, ("Title", "Part")),
        (3, ("Title", "Part", "Sub part")),
        (2, ("Title", "Second part")),
    ]
    assert sections[0].line == 2
    assert sections[0].body == "Intro."


def test_markdown_setext_levels_stay_without_rst_adornments() -> None:
    sections = parse_sections("Sub\n---\n\nText.\n\nTop\n===\n\nMore.")
    assert [s.level for s in sections] == [2, 1]
