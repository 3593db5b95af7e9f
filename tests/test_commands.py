import pytest

from openproducer.commands import parse_comment, parse_issue_body

T = "@TheOpenProducerBot"


@pytest.mark.parametrize(
    "body",
    [
        "@TheOpenProducerBot\n## A\ntext",
        "Please @theopenproducerbot plan this\n## A",
        "## Spec\n\nsome text\n\n/spawn-issues",
        "Intro\n\n@TheOpenProducerBot.",
    ],
)
def test_issue_body_triggers_anywhere_in_live_text(body: str) -> None:
    command = parse_issue_body(body, trigger=T)
    assert command is not None and command.verb == "spawn"
    assert command.spec_text is not None
    assert "theopenproducerbot" not in command.spec_text.lower()
    assert command.spec_text.count("\n") == body.count("\n")  # line numbers are preserved


@pytest.mark.parametrize(
    "body",
    [
        "@TheOpenProducerBotX please",
        "mail me at someone@TheOpenProducerBot.com",
        "> @TheOpenProducerBot quoted\n## A",
        "```\n@TheOpenProducerBot in code\n```",
        "Use `@TheOpenProducerBot confirm` to confirm",
        "<!-- @TheOpenProducerBot -->",
        "/spawn-issuesX",
        "",
    ],
)
def test_issue_body_never_triggers_from_quotes_code_or_lookalikes(body: str) -> None:
    assert parse_issue_body(body, trigger=T) is None


@pytest.mark.parametrize(
    ("body", "verb", "argument"),
    [
        ("@TheOpenProducerBot confirm", "confirm", ""),
        (
            "@theopenproducerbot CONFIRM run_20261125_101010_abcdEF12",
            "confirm",
            "run_20261125_101010_abcdEF12",
        ),
        ("@TheOpenProducerBot cancel", "cancel", ""),
        ("@TheOpenProducerBot status", "status", ""),
        ("@TheOpenProducerBot rollback last", "rollback", "last"),
        ("  @TheOpenProducerBot help", "help", ""),
        ("/spawn-issues status", "status", ""),
        ("@TheOpenProducerBot make me a sandwich", "unknown", "make me a sandwich"),
    ],
)
def test_comment_commands(body: str, verb: str, argument: str) -> None:
    command = parse_comment(body, trigger=T)
    assert command is not None
    assert (command.verb, command.argument) == (verb, argument)


def test_comment_with_a_spec_is_a_spawn_of_that_spec() -> None:
    command = parse_comment(f"{T}\ncount: 3\n## Login\n- form\n- errors", trigger=T)
    assert command is not None and command.verb == "spawn"
    assert command.spec_text == "\ncount: 3\n## Login\n- form\n- errors"


def test_bare_mention_plans_the_issue_body() -> None:
    command = parse_comment(T, trigger=T)
    assert command is not None and (command.verb, command.spec_text) == ("spawn", None)


@pytest.mark.parametrize(
    "body",
    [
        "Thanks @TheOpenProducerBot confirm",  # the trigger must open the comment
        "> @TheOpenProducerBot confirm",
        "`@TheOpenProducerBot confirm`",
        "@TheOpenProducerBotX confirm",
        "Looks good to me",
    ],
)
def test_comments_that_are_not_for_the_bot(body: str) -> None:
    assert parse_comment(body, trigger=T) is None


@pytest.mark.parametrize(
    "body",
    [
        "Intro\n\n    @TheOpenProducerBot in an indented code block\n",
        "<pre>\n@TheOpenProducerBot in a pre block\n</pre>\n",
        "<!--\n@TheOpenProducerBot in an HTML comment\n-->\n",
        "Text <!-- @TheOpenProducerBot inline comment --> more\n",
        "> @TheOpenProducerBot in a quote\n",
        "- item\n\n  > @TheOpenProducerBot quoted inside a list\n",
        "```\n@TheOpenProducerBot fenced\n```\n",
        "Use `@TheOpenProducerBot` in a code span\n",
        "<details>\n\n```\n@TheOpenProducerBot\n```\n\n</details>\n",
    ],
)
def test_code_html_comments_and_quotes_never_trigger(body: str) -> None:
    assert parse_issue_body(body, trigger=T) is None


@pytest.mark.parametrize(
    "body",
    [
        "- [ ] ask @TheOpenProducerBot in a list item\n",
        "| col |\n|---|\n| @TheOpenProducerBot in a table |\n",
        "## @TheOpenProducerBot in a heading\n",
        "Setext heading @TheOpenProducerBot\n===\n",
        "<!-- note -->\n@TheOpenProducerBot after a comment\n",
        "Line\r\n@TheOpenProducerBot after a CRLF\r\n",
    ],
)
def test_prose_anywhere_triggers(body: str) -> None:
    command = parse_issue_body(body, trigger=T)
    assert command is not None and command.spec_text is not None
    assert "@TheOpenProducerBot" not in command.spec_text
