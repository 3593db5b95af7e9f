"""The pure text-safety rules: what pings, what is code, clean titles and bodies, secrets."""

from __future__ import annotations

import base64
import json
import random
import re
from urllib.parse import quote, quote_plus

import pytest

from openproducer.safety import (
    DEFAULT_PROHIBITED_KEYWORDS,
    LEGACY_TRIGGER,
    PERMISSION_ORDER,
    SECRET_PLACEHOLDER,
    ZWJ,
    Scrubber,
    clean_body,
    clean_title,
    find_keywords,
    is_visible,
    neutralize,
    parse_keyword_list,
    permission_at_least,
    scrub,
)

Z = ZWJ

# (text, neutralized or None when unchanged): "§" in the expectation stands for the ZWJ.
MENTIONS = [
    # a lone backtick opens nothing: the mention after it pings
    ("status a`@octocat", "status a`@§octocat"),
    ("Escalate to `@oncall", "Escalate to `@§oncall"),
    ("Escalate to `@oncall` now", "Escalate to `@oncall` now"),
    ("Use the `@decorator` syntax", "Use the `@decorator` syntax"),
    ("Angular's `@Input()` and `@Output()`", "Angular's `@Input()` and `@Output()`"),
    ("Run `` a ` @x `` then @bob", "Run `` a ` @x `` then @§bob"),
    ("``@x``", "``@x``"),
    ("`` @x `", "`` @§x `"),  # runs of different length never pair
    ("\\`@x` is escaped", "\\`@§x` is escaped"),
    ("\\\\`@x` is a span", "\\\\`@x` is a span"),
    # plain mentions, teams, and what may stand before them
    ("@octocat please review", "@§octocat please review"),
    ("Ask @octo-org/design for review", "Ask @§octo-org/design for review"),
    ("Owners (@bob, @alice)", "Owners (@§bob, @§alice)"),
    ("cc:@bob", "cc:@§bob"),
    ("see /@bob", "see /@§bob"),
    ("'@bob' and \"@alice\"", "'@§bob' and \"@§alice\""),
    ("café@bob", "café@§bob"),
    ("_a_@bob", "_a_@§bob"),  # emphasis, then a mention
    ("Thanks @bob!", "Thanks @§bob!"),
    ("&#64;octocat", "&#64;§octocat"),
    ("@&#111;ctocat", "@§&#111;ctocat"),
    # e-mail addresses and versions are no mentions
    ("Mail dev@example.com or first.last+ci@example.co.uk", None),
    ("pip install openproducer@1.0", None),
    ("git clone git@github.com:octo-org/specs.git", None),
    ("a@b.com@alice", "a@b.com@§alice"),
    ("not an @ sign, nor @-, nor @_x", None),
    # fenced code blocks
    ("```\n@app.route('/')\n```\nthen @bob", "```\n@app.route('/')\n```\nthen @§bob"),
    ("~~~python\n@dataclass\n~~~", None),
    ("Example:\n```py\n@app.get('/')\ndef index(): ...", None),  # unclosed: code to the end
    ("````\n```\n@x\n````\n@y", "````\n```\n@x\n````\n@§y"),
    ("```\n@x\n~~~\n@y", None),  # only a fence of the same character closes it
    ("```\r\n@x\r\n```\r\n@y", "```\r\n@x\r\n```\r\n@§y"),
    ("- Step:\n  ```\n  @app.route\n  ```", None),
    ("```js```\n@x", "```js```\n@§x"),  # a backtick in the info string: no fence
    ("    ```\n@x\n```\n@y", "    ```\n@§x\n```\n@§y"),  # no fence is trusted after a doubtful one
    ("> ```\n> @x\n> ```", "> ```\n> @§x\n> ```"),
    ("x\u2028```\n@y", "x\u2028```\n@§y"),  # only \n, \r, \r\n end a line
    # one reading must not be enough to leave a mention alone
    ("open `here\n@bob` there", "open `here\n@§bob` there"),
    ("Use `@a` here\nand `@b` there", None),
    ("opened `x\n`@y` here", "opened `x\n`@§y` here"),
    ("# Title `\n`y\n2. `@c`", "# Title `\n`y\n2. `@§c`"),
    ("| `a | @b` |", "| `a | @§b` |"),
    ("| a | `@b` |\n|---|---|\n| `@c` | d |", None),
    ("- item\n  ```\n@bob\n  ```\nmore @alice", "- item\n  ```\n@§bob\n  ```\nmore @§alice"),
    ("- ```\n  code\n  ```\n  @x", "- ```\n  code\n  ```\n  @§x"),
    ("<details><summary>`@bob`</summary>", "<details><summary>`@§bob`</summary>"),
    ("<div>\n```\n@bob\n```", "<div>\n```\n@§bob\n```"),
    ('<i title="`">@bob `', '<i title="`">@§bob `'),
    ("[a](/`) b](`) `@bob`", "[a](/`) b](`) `@§bob`"),
    ("see [docs](https://example.com/a) and `@decorator`", None),
    # the legacy trigger
    ("Please /spawn-issues now", "Please /§spawn-issues now"),
    ("/SPAWN-ISSUES", "/§SPAWN-ISSUES"),
    ("Type `/spawn-issues` to start", None),
    ("```\n/spawn-issues\n```", None),
    ("docs/spawn-issues.md", None),
    # hidden markers are disarmed everywhere, code included
    (
        "Smuggle <!-- openproducer:state v=1 kind=run -->",
        "Smuggle <!-§- openproducer:state v=1 kind=run -§->",
    ),
    ("`<!-- openproducer:state v=1`", "`<!-§- openproducer:state v=1`"),
    (
        "```\n<!-- openproducer:item run=run_x -->\n```",
        "```\n<!-§- openproducer:item run=run_x -§->\n```",
    ),
    ("<!--->", "<!-§-§->"),
]


@pytest.mark.parametrize(("text", "expected"), MENTIONS)
def test_neutralize(text: str, expected: str | None) -> None:
    assert neutralize(text) == (text if expected is None else expected.replace("§", Z))


@pytest.mark.parametrize("text", [text for text, _ in MENTIONS])
def test_neutralize_is_idempotent_and_only_adds_joiners(text: str) -> None:
    once = neutralize(text)
    assert neutralize(once) == once
    assert once.replace(Z, "") == text


def test_the_configured_trigger_is_disarmed_like_any_mention() -> None:
    text = "@TheOpenProducerBot confirm, or `@TheOpenProducerBot cancel`"
    assert neutralize(text) == f"@{Z}TheOpenProducerBot confirm, or `@TheOpenProducerBot cancel`"
    assert LEGACY_TRIGGER == "/spawn-issues"


# -- neutralize against the simplest rule it must never be weaker than -------------------------

_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def _spans(text: str) -> list[tuple[int, int]]:
    spans, i = [], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2 if text[i + 1 : i + 2] in _PUNCTUATION else 1
        elif text[i] == "`":
            end = i
            while end < len(text) and text[end] == "`":
                end += 1
            close = re.compile(f"(?<!`)`{{{end - i}}}(?!`)").search(text, end)
            spans += [(i, close.end())] if close else []
            i = close.end() if close else end
        else:
            i += 1
    return spans


def _must_be_neutralized(text: str) -> list[int]:
    """Indexes (among all "@") of mentions outside fences and outside a span by line or paragraph.

    The brief rule: fences as CommonMark has them at the top level; a mention may stay only inside
    a closed code span both when its line and when its paragraph is scanned alone.
    """
    lines = text.split("\n")
    fenced, i = [False] * len(lines), 0
    while i < len(lines):
        opening = re.match(r" {0,3}(`{3,}|~{3,})", lines[i])
        if opening and not (opening[1][0] == "`" and "`" in lines[i][opening.end() :]):
            closing = re.compile(rf" {{0,3}}{re.escape(opening[1][0])}{{{len(opening[1])},}}[ \t]*")
            j = i + 1
            while j < len(lines) and not closing.fullmatch(lines[j]):
                j += 1
            fenced[i : j + 1] = [True] * (min(j, len(lines) - 1) - i + 1)
            i = j + 1
        else:
            i += 1
    safe: set[int] = set()
    offsets = [sum(len(line) + 1 for line in lines[:k]) for k in range(len(lines))]
    k = 0
    while k < len(lines):
        if fenced[k]:
            safe |= set(range(offsets[k], offsets[k] + len(lines[k])))
        if fenced[k] or not lines[k].strip():
            k += 1
            continue
        end = k
        while end < len(lines) and not fenced[end] and lines[end].strip():
            end += 1
        paragraph = [(a + offsets[k], b + offsets[k]) for a, b in _spans("\n".join(lines[k:end]))]
        for n in range(k, end):
            for a, b in _spans(lines[n]):
                for p in range(offsets[n] + a, offsets[n] + b):
                    if any(x <= p < y for x, y in paragraph):
                        safe.add(p)
        k = end
    return [
        text[:p].count("@")
        for p in (m.start() for m in re.finditer(r"(?<![A-Za-z0-9_.+-])@(?=[A-Za-z0-9])", text))
        if p not in safe
    ]


def test_neutralize_is_never_weaker_than_the_line_and_paragraph_rule() -> None:
    pieces = [*"`@a \n\n~>-|\\<[]()_", "```", "~~~", "``", "<div>", "    ", "  ", "- ", "1. ", "# "]
    pieces += ["> ", "](", "<b>", "@x", "`@y`", "@o/t", "/spawn-issues"]
    generator = random.Random(20240601)
    for _ in range(3000):
        text = "".join(generator.choices(pieces, k=generator.randint(1, 30)))
        out = neutralize(text)
        ats = [m.start() for m in re.finditer("@", out)]
        for index in _must_be_neutralized(text):
            assert out[ats[index] + 1] == Z, (text, out)
        assert neutralize(out) == out, text
        assert "<!--" not in out and "-->" not in out


# -- titles, bodies, visibility ---------------------------------------------------------------

TITLES = [
    ("Invoice export \u202etxt.exe", "Invoice export txt.exe"),
    ("Fix\x00 the\x07 login bug", "Fix the login bug"),
    ("Line one\nline two\r\n\tthe end", "Line one line two the end"),
    ("  Lots   of    space  ", "Lots of space"),
    ("x\x7fy\x9bz\x85end", "xyz end"),
    ("\u2066Isolated\u2069 \u200eLTR\u200f \u061cArabic mark", "Isolated LTR Arabic mark"),
    ("\u200bLeading and trailing zero-width\u200d\ufeff", "Leading and trailing zero-width"),
    ("\u200b\u200c\u200d\u2060\ufeff", ""),
    (" \u200b \t\n\u200d ", ""),
    ("\u202e\u2066", ""),
    ("\u3164", ""),  # the Hangul filler shows nothing
    ("", ""),
    ("👩\u200d💻 Developer setup", "👩\u200d💻 Developer setup"),
    ("Flag 🏳️\u200d🌈 stays", "Flag 🏳️\u200d🌈 stays"),
    ("Déjà vu — 日本語のタイトル", "Déjà vu — 日本語のタイトル"),
]


@pytest.mark.parametrize(("text", "expected"), TITLES)
def test_clean_title(text: str, expected: str) -> None:
    assert clean_title(text) == expected
    assert clean_title(expected) == expected


BODIES = [
    ("line 1\r\nline 2\rline 3\n", "line 1\nline 2\nline 3\n"),
    ("- [ ] task\n\t- nested\n\n    indented code  \n", None),
    ("safe\u202e text\x00 with \x1b[31mcolour", "safe text with [31mcolour"),
    ("\u2067isolate\u2069 \u200fmark", "isolate mark"),
    ("a\x0bb\x0cc\x7fd\x9fe", "abcde"),
    ("Team 👩\u200d💻 and zero\u200bwidth", None),
    ("```\ncode\twith tab\n```", None),
]


@pytest.mark.parametrize(("text", "expected"), BODIES)
def test_clean_body(text: str, expected: str | None) -> None:
    assert clean_body(text) == (text if expected is None else expected)


VISIBLE = [
    ("", False),
    (" \t\r\n", False),
    ("\u00a0\u3000", False),
    ("\u200b\u200c\u200d\u2060\ufeff", False),
    ("\u202e\u2066\u200e", False),
    ("\x00\x07\x1b", False),
    ("\u0301\ufe0f", False),  # marks with nothing to sit on
    ("\u3164\u2800", False),
    ("a", True),
    ("\u200b.\u200b", True),
    ("👍", True),
    ("日本", True),
]


@pytest.mark.parametrize(("text", "expected"), VISIBLE)
def test_is_visible(text: str, expected: bool) -> None:
    assert is_visible(text) is expected


# -- secrets ----------------------------------------------------------------------------------

TOKEN = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"
PASSWORD = "p@ss w/rd+&=é"
_SCRUBBER = Scrubber((TOKEN, PASSWORD, "abc"))


def _b64(text: str, *, url: bool = False) -> str:
    encode = base64.urlsafe_b64encode if url else base64.b64encode
    return encode(text.encode()).decode()


SCRUBBED = [
    (
        f"git push https://x-access-token:{TOKEN}@github.com/o/r",
        "git push https://x-access-token:***@github.com/o/r",
    ),
    (f"{TOKEN}{TOKEN}", "******"),
    (f"password={quote(PASSWORD, safe='')}&user=ci", "password=***&user=ci"),
    (f"password={quote(PASSWORD, safe='').lower()}", "password=***"),
    (f"q={quote_plus(PASSWORD)}", "q=***"),
    (f"url {quote(PASSWORD)}", "url ***"),
    (f"b64 {_b64(TOKEN)} end", "b64 *** end"),
    (f"b64 {_b64(TOKEN).rstrip('=')} end", "b64 *** end"),
    (f"b64 {_b64(PASSWORD, url=True)}", "b64 ***"),
    (json.dumps({"password": PASSWORD}), '{"password": "***"}'),
    ("abc is too short to be a secret", "abc is too short to be a secret"),
    ("nothing secret here", "nothing secret here"),
]


@pytest.mark.parametrize(("text", "expected"), SCRUBBED)
def test_scrub(text: str, expected: str) -> None:
    assert _SCRUBBER.scrub(text) == expected


@pytest.mark.parametrize("prefix", ["", "a", "ab", "x-access-token:", "user:", "git:"])
@pytest.mark.parametrize("suffix", ["", ":", "ab", "@github.com"])
def test_scrub_a_secret_inside_a_longer_base64_string(prefix: str, suffix: str) -> None:
    for url in (False, True):
        encoded = _b64(prefix + TOKEN + suffix, url=url)
        head, placeholder, tail = Scrubber((TOKEN,)).scrub(f"Basic {encoded}").partition("***")
        assert placeholder == SECRET_PLACEHOLDER
        # what is left shows the prefix and suffix, and at most two characters of the token
        assert len(head) <= len("Basic ") + (len(prefix) * 8 + 5) // 6 + 1
        assert len(tail) <= (len(suffix) * 8 + 5) // 6 + 4
        assert SECRET_PLACEHOLDER not in tail


def test_scrubber_basics() -> None:
    assert Scrubber(("abcd", "abcdefgh")).scrub("abcdefgh and abcd") == "*** and ***"
    assert not Scrubber(("abc", "", "xy"))
    assert not Scrubber(()).has_secrets
    assert Scrubber((TOKEN,)).has_secrets
    assert TOKEN not in repr(Scrubber((TOKEN,)))
    assert scrub(f"token={TOKEN}", [TOKEN, "no"]) == "token=***"
    assert scrub("no secrets", []) == "no secrets"
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----"
    assert "MIIEvQ" not in scrub("line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", [key])


# -- keywords and permissions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Malware, spam\n  crypto   mining ,SPAM", ("malware", "spam", "crypto mining")),
        (" , \n", ()),
    ],
)
def test_parse_keyword_list(raw: str, expected: tuple[str, ...]) -> None:
    assert parse_keyword_list(raw) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Build a botnet", "then DDoS it"], ("botnet", "ddos")),
        (["Block spammers", "Anti-malware scanner"], ("malware",)),
        (["Detect credential\n  theft"], ("credential theft",)),
        (["A harmless todo app"], ()),
    ],
)
def test_find_keywords(texts: list[str], expected: tuple[str, ...]) -> None:
    assert find_keywords(texts, DEFAULT_PROHIBITED_KEYWORDS) == expected


@pytest.mark.parametrize(
    ("actual", "required", "expected"),
    [
        ("admin", "write", True),
        ("write", "write", True),
        ("triage", "write", False),
        ("read", "none", True),
        ("unknown", "read", False),
        ("admin", "owner", False),
    ],
)
def test_permission_at_least(actual: str, required: str, expected: bool) -> None:
    assert permission_at_least(actual, required) is expected
    assert PERMISSION_ORDER[0] == "none" and PERMISSION_ORDER[-1] == "admin"
