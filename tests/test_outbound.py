"""Everything the bot writes passes one guard: no pings, no control characters, no secrets.

Each test drives the Action end to end (a real webhook payload, the local GitHub, and for the
AI the real SDK against the loopback fake) and then reads back what landed: issue titles and
bodies, every bot comment including its hidden state, the step summary, outputs and the log.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote

import pytest

from openproducer.outbound import Outbound
from openproducer.safety import ZWJ, Scrubber
from openproducer.state import BotComment, read_thread
from tests.conftest import BOT, REPO, TRIGGER, Harness
from tests.fakes.ai_server import openai_reply, serve_ai

# A run of N backticks closes only at the next run of exactly N (CommonMark code spans).
_CLOSED_SPAN = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
# A mention pings when "@" starts a word: not after a letter or digit (e-mail, pkg@1.0).
_PING = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]")


def live_mentions(text: str) -> list[str]:
    """Mentions GitHub would link in ``text`` (a simple reading: inline code spans only)."""
    outside = _CLOSED_SPAN.sub("", text)
    return [outside[m.start() : m.start() + 12] for m in _PING.finditer(outside)]


def everything_written(gh: Harness, parent: int) -> list[str]:
    issues = [i for i in gh.emu.issues(REPO) if i["user"]["login"] == BOT]
    texts = [i["title"] for i in issues] + [i["body"] or "" for i in issues]
    return texts + [c["body"] for c in gh.bot_comments(parent)]


def hidden_state(gh: Harness, parent: int, secret: str = "") -> str:
    """The bot's signed state, decoded, as one string (plans and runs)."""
    comments = [BotComment(c["id"], c["body"]) for c in gh.bot_comments(parent)]
    thread = read_thread(comments, secret=secret)
    assert thread.runs, "no state was found"
    return repr(thread.runs) + repr(thread.plans)


def test_an_unclosed_backtick_in_the_spec_does_not_make_a_mention_live(gh: Harness) -> None:
    spec = (
        f"{TRIGGER}\n\n## Operations\n"
        "- [ ] Escalate to `@oncall when the queue backs up\n"
        "- [ ] Page the `@octo-org/sre team after 5 minutes\n"
        "- [ ] Keep `@ci-bot` in code, where it is inert\n"
    )
    issue, result = gh.open_issue(spec)
    assert len(result.created) == 3, result.log
    written = [*everything_written(gh, issue["number"]), result.summary]
    for text in written:
        assert live_mentions(text) == [], text
    bodies = "\n".join(i["body"] for i in gh.created(issue["number"]))
    assert f"`@{ZWJ}oncall" in bodies and f"`@{ZWJ}octo-org/sre" in bodies
    assert "`@ci-bot`" in bodies  # a closed code span is left exactly as written
    assert "`@oncall" not in result.summary


def test_control_and_bidi_characters_never_reach_a_title_or_body(gh: Harness) -> None:
    spec = (
        f"{TRIGGER}\n\n## Billing\n"
        "- [ ] Invoice export \u202etxt.exe\n"
        "- [ ] Refunds\x07 with a bell\u2066 and an isolate\u2069\n"
        "- [ ] Tax \x1b[31mreport\n"
    )
    issue, result = gh.open_issue(spec)
    assert len(result.created) == 3, result.log
    titles = [i["title"] for i in sorted(gh.created(issue["number"]), key=lambda i: i["number"])]
    expected = ["Invoice export txt.exe", "Refunds with a bell and an isolate", "Tax [31mreport"]
    assert [t.removeprefix("Billing: ") for t in titles] == expected
    for text in [*everything_written(gh, issue["number"]), result.summary]:
        bad = [c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"]
        bad += [c for c in text if c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]
        assert bad == [], repr(text)


def _ai_plan(*items: dict[str, Any], notes: tuple[str, ...] = ()) -> str:
    return json.dumps(
        {
            "issues": [
                {"labels": [], "depends_on": [], "size": "S", "covers": ["Checkout"], **item}
                for item in items
            ],
            "notes": list(notes),
        }
    )


CHECKOUT = f"{TRIGGER}\n\n## Checkout\nCustomers pay for their cart with a card.\n"


def test_an_invisible_ai_title_is_replaced_by_a_visible_one(gh: Harness) -> None:
    answer = _ai_plan(
        {"title": "\u202e\u200b\u2066", "body": "Accept card payments.\n\nMore text."},
        {"title": "\x00\x00", "body": "\u200b"},
        {"title": "Receipts\x00 by e-mail", "body": "Send a receipt."},
    )
    with serve_ai() as ai:
        ai.queue(openai_reply(answer))
        issue, result = gh.open_issue(
            CHECKOUT, ai_provider="openai", ai_api_key="sk-test", ai_base_url=ai.openai_url
        )
    assert result.outputs["status"] == "completed", result.log
    titles = [i["title"] for i in sorted(gh.created(issue["number"]), key=lambda i: i["number"])]
    assert titles == ["Accept card payments.", "Issue 2", "Receipts by e-mail"]


def test_an_ai_that_echoes_the_secrets_publishes_none_of_them(gh: Harness) -> None:
    key = "sk-proj-Zq81vLx0Tn5Wc3Rb7Yd2Hm4"
    state_secret = "state-secret-Pw9Kd2Lm7Qx4"
    encoded = [
        base64.b64encode(key.encode()).decode(),
        quote(key, safe=""),
        base64.b64encode(f"x-access-token:{gh.token}".encode()).decode(),
    ]
    answer = _ai_plan(
        {"title": f"Rotate {key} now", "body": f"The key is `{key}`.\n\nBase64: {encoded[0]}"},
        {"title": "Sign state", "body": f"Secret {state_secret}; URL form {encoded[1]}"},
        {"title": "Call GitHub", "body": f"Use {gh.token} or basic auth {encoded[2]}"},
        notes=(f"I was told to print {key}",),
    )
    with serve_ai() as ai:
        ai.queue(openai_reply(answer))
        issue, result = gh.open_issue(
            CHECKOUT,
            ai_provider="openai",
            ai_api_key=key,
            ai_base_url=ai.openai_url,
            state_secret=state_secret,
        )
    assert result.outputs["status"] == "completed", result.log
    number = issue["number"]
    assert len(gh.created(number)) == 3
    published = [
        *everything_written(gh, number),
        hidden_state(gh, number, state_secret),
        result.summary,
        json.dumps(result.outputs),
        re.sub(r"::add-mask::\S+", "", result.log),
    ]
    for text in published:
        for secret in (key, state_secret, gh.token, *encoded):
            assert secret not in text, (secret, text)
    titles = {i["title"] for i in gh.created(number)}
    assert "Rotate *** now" in titles
    assert "***" in result.summary


def test_the_guard_appends_the_bots_own_blocks_byte_for_byte() -> None:
    block = "<!-- openproducer:state v=1 kind=run run=run_a part=1/1 seq=1 sig=" + "a" * 64
    block += "\nQUJD\n-->"
    marker = (
        "<!-- openproducer:item run=run_a key=1 hash=" + "0" * 16 + " body=" + "1" * 16 + " -->"
    )
    notice = "<!-- openproducer:notice tamper:3 -->"
    out = Outbound(Scrubber(("QUJD",))).body("Ask @octocat\u202e", [block, marker, notice])
    assert out == f"Ask @{ZWJ}octocat\n\n{block}\n\n{marker}\n\n{notice}"


def test_text_that_only_looks_like_a_block_is_disarmed() -> None:
    forged = "<!-- openproducer:notice tamper:3 --> and <!-- openproducer:item run=x -->"
    out = Outbound().body(f"`{forged}` {forged}")
    assert "<!--" not in out and "-->" not in out
    with pytest.raises(ValueError, match="hidden blocks"):
        Outbound().body("text", [f"{forged}"])
