"""Pure safety policy: neutralize mentions, triggers and markers; clean text; scrub secrets.

Everything here is a pure function of its input, so the rules can be tested exhaustively.

`neutralize` decides what is code the way CommonMark (GitHub's Markdown) does, but it leans
towards "not code" wherever a document could be read in more than one way: a mention is left
alone only when no reasonable reading of the text makes it live. Leaving a ZWJ inside code is
harmless; a live mention in something the bot posts pings a real person.
"""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

# A zero-width joiner after "@" keeps the text readable but stops GitHub from linking a mention.
ZWJ = "\u200d"
LEGACY_TRIGGER = "/spawn-issues"
SECRET_PLACEHOLDER = "***"

DEFAULT_PROHIBITED_KEYWORDS: tuple[str, ...] = (
    "malware",
    "ransomware",
    "keylogger",
    "botnet",
    "backdoor",
    "rootkit",
    "spyware",
    "cryptojacking",
    "credential theft",
    "credential harvesting",
    "steal credentials",
    "steal passwords",
    "password stealer",
    "phishing",
    "spam",
    "spambot",
    "mass email",
    "ddos",
)

PERMISSION_ORDER: tuple[str, ...] = ("none", "read", "triage", "write", "maintain", "admin")


# -- mentions, the legacy trigger, hidden markers ---------------------------------------------

# What pings: "@" (or an HTML entity that renders as "@") followed by a login character, or by an
# entity that may render as one. "@org/team" pings through its "@org" part. The legacy trigger is
# matched the way it has always been: not glued to a word or another "/".
# https://docs.github.com/en/get-started/writing-on-github/getting-started-with-writing-and-formatting-on-github/basic-writing-and-formatting-syntax#mentioning-people-and-teams
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
_SITE = re.compile(
    rf"(?P<at>@|&#0*64;|&#[xX]0*40;|&commat;)(?=[A-Za-z0-9]|{_ENTITY})"
    r"|(?i:(?<![\w/])/(?=spawn-issues\b))"
)
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_LOCAL_PART = _ALNUM | frozenset("_.+-")
_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9][A-Za-z0-9-]*)+")
# "<!--" and "-->" lose their meaning when a ZWJ splits the "--".
_COMMENT_DASHES = re.compile(r"(?<=<!-)(?=-)|(?<=-)(?=->)")


def neutralize(text: str) -> str:
    """Make ``text`` safe to post: no live @-mentions, no triggers, no hidden markers.

    A ZWJ goes right after the "@" of every mention and the "/" of every legacy trigger that is
    not inside code (a closed code span or a fenced code block). The configured trigger is a
    mention too, so it is disarmed with them. E-mail addresses and ``pkg@1.0`` stay as they are.
    ``<!--`` and ``-->`` are disarmed everywhere, code included, because the bot's hidden state
    markers are read from raw text. The result is a fixed point: neutralizing it again is a no-op.
    """
    text = _COMMENT_DASHES.sub(ZWJ, text)
    while True:  # ends: every round disarms at least one site for good, or changes nothing
        again = _neutralize_once(text)
        if again == text:
            return text
        text = again


def _neutralize_once(text: str) -> str:
    sites = list(_live_sites(text))
    if not sites:
        return text
    code = _code_ranges(text)
    starts = [start for start, _ in code]
    parts: list[str] = []
    last = 0
    for at, insert in sites:
        k = bisect.bisect_right(starts, at) - 1
        if k >= 0 and at < code[k][1]:
            continue
        parts += [text[last:insert], ZWJ]
        last = insert
    parts.append(text[last:])
    return "".join(parts)


def _live_sites(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each mention "@" and legacy-trigger "/", wherever it stands."""
    for match in _SITE.finditer(text):
        if match.group("at") is None or not _in_email_like_word(text, match.start(), match.end()):
            yield match.start(), match.end()


def _in_email_like_word(text: str, at: int, after: int) -> bool:
    """Whether the "@" at ``at`` belongs to a word like ``dev@example.com`` or ``pkg@1.0``.

    An ASCII letter or digit right before "@" makes one; "_", ".", "+" or "-" only when the word
    before has a letter or digit and a domain follows ("_a_@bob" is emphasis, then a mention).
    Never a word right after another "@" (``a@b.com@bob``): the first address may be linked,
    and "@bob" then starts a text node of its own, where it pings.
    """
    if at == 0 or text[at - 1] not in _LOCAL_PART:
        return False
    start = at
    while start and text[start - 1] in _LOCAL_PART:
        start -= 1
    if start and text[start - 1] == "@":
        return False
    if text[at - 1] in _ALNUM:
        return True
    has_alnum = any(char in _ALNUM for char in text[start:at])
    return has_alnum and _DOMAIN.match(text, after) is not None


# -- what is code ------------------------------------------------------------------------------
#
# CommonMark in brief, as far as it decides where a mention is code:
# - A fenced code block opens at a line of 0-3 spaces and 3+ backticks or tildes (a backtick
#   fence's info string may not contain a backtick) and closes at a line of the same character,
#   at least as long, 0-3 spaces, nothing but blanks after; unclosed, it runs to the end.
# - In other text a run of N backticks opens a code span that the next run of exactly N closes;
#   without one the run is literal. A backslash escapes a backtick, except inside a span.
# Where the reading is uncertain, this module picks "not code":
# - Fences are trusted only while nothing could make CommonMark pair them differently: a fence
#   line behind a list or quote marker or indented 4+ columns, a fence inside something that may
#   be an HTML block, or a fence indented 2-3 spaces (maybe inside a list item) with a line that
#   could end that item. After the first such doubt no later fence is trusted.
# - A paragraph may really be several blocks (list items, headings, table rows), and a span may
#   run across lines. So each line is scanned from every state the lines before it in the
#   paragraph can leave it in, also from scratch, and cell by cell when it has pipes. Raw HTML,
#   autolinks and link destinations can hide a backtick: each scan is done with and without
#   them. A mention is code only if every one of these scans says so.
# - Lines that may belong to an HTML block are raw HTML for CommonMark, where backticks mean
#   nothing: never code. Indented code blocks count as text.

_CODE, _HTML, _TEXT, _BLANK = range(4)
_OUTSIDE, _IN_MARKUP = 0, -1  # scan states; N > 0 means "inside a span opened by N backticks"
_MAX_BRANCHES = 32  # beyond this many alternatives a paragraph simply counts as text

_LINE_END = re.compile(r"\r\n|\r|\n")  # CommonMark's line endings, unlike str.splitlines
_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})")
_MAYBE_FENCE = re.compile(r"(?:[ \t]*(?:>|(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t])))*[ \t]*(`{3,}|~{3,})")
_CONTAINERS = re.compile(r"(?:[ \t]*(?:>|(?:[-+*]|[0-9]{1,9}[.)])(?=[ \t]|$)))*[ \t]*")

_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTRIBUTE = r"""\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?"""
_OPEN_TAG = rf"<{_TAG_NAME}(?:{_ATTRIBUTE})*\s*/?>"
_CLOSE_TAG = rf"</{_TAG_NAME}\s*>"
_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|"
    "header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|"
    "param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
# HTML block starts (CommonMark types 1-7) with the pattern that ends each; None: a blank line.
_HTML_BLOCKS: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...] = (
    (
        re.compile(r"(?i)<(?:pre|script|style|textarea)(?=[ \t>]|$)"),
        re.compile(r"(?i)</(?:pre|script|style|textarea)>"),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf"(?i)</?(?:{_BLOCK_TAGS})(?=[ \t]|/?>|$)"), None),
    (re.compile(rf"(?:{_OPEN_TAG}|{_CLOSE_TAG})[ \t]*$"), None),
)
# Inline constructs that are parsed before a code span starting later and can swallow a backtick.
_INLINE_MARKUP = re.compile(
    rf"{_OPEN_TAG}|{_CLOSE_TAG}"
    r"|<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\x00-\x20<>\x7f]*>"
    r"|<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>"
    r"""|\]\(\s*(?:<(?:[^<>\n\\]|\\.)*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)"""
    r"""(?:\s+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?\s*\)"""
)
# Comments, processing instructions, declarations and CDATA: opening, and what ends them.
_HTML_OTHER = (("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>"), ("<!", ">"))
_MARKUP_START = re.compile(r"<[A-Za-z/?!]|\]\(")  # may begin markup that ends on a later line
_MARKUP_END = re.compile(r"[>)]")
# Scan modes. Each reads backslash escapes and code spans; the others also skip raw HTML and
# autolinks, and link destinations: after a "[" on the same line, or after any "](".
_PLAIN, _MARKUP, _ANY_LINK = _MODES = range(3)
_INTERESTING = (re.compile(r"[\\`]"), re.compile(r"[\\`<\[\]]"), re.compile(r"[\\`<\]]"))
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

_Ranges = list[tuple[int, int]]


def _code_ranges(text: str) -> _Ranges:
    """Sorted, disjoint (start, end) ranges of ``text`` that are code in every reading."""
    offsets: list[int] = []
    lines: list[str] = []
    position = 0
    for match in _LINE_END.finditer(text):
        offsets.append(position)
        lines.append(text[position : match.start()])
        position = match.end()
    offsets.append(position)
    lines.append(text[position:])

    kinds = _line_kinds(lines)
    ranges: _Ranges = []
    states = _no_states()
    lost = False  # too many alternatives in this paragraph: the rest of it is text
    for offset, line, kind in zip(offsets, lines, kinds, strict=True):
        if kind in (_CODE, _BLANK):
            states, lost = _no_states(), False
            if kind == _CODE:
                ranges.append((offset, offset + len(line)))
            continue
        if lost:
            continue
        result = _line_code(line, states)
        if result is None:
            lost = True
            continue
        spans, states = result
        if kind == _TEXT:
            ranges += [(offset + start, offset + end) for start, end in spans]
    return ranges


def _line_kinds(lines: list[str]) -> list[int]:
    """Per line: fenced code (trusted), maybe an HTML block, other text, or blank."""
    kinds = [_TEXT] * len(lines)
    trusted = True
    html_end: re.Pattern[str] | None = None
    in_html = until_blank = False
    i = 0
    while i < len(lines):
        line = lines[i]
        blank = not line.strip(" \t")
        if in_html and until_blank and blank:
            in_html = False
        if in_html:
            kinds[i] = _HTML
            trusted = trusted and not _doubtful_fence(line)
            if html_end is not None and html_end.search(line):
                in_html = False
            i += 1
            continue
        if blank:
            kinds[i] = _BLANK
            i += 1
            continue
        fence = _fence_opening(line)
        if fence and trusted:
            end = _trusted_fence_end(lines, i, *fence)
            if end is not None:
                kinds[i:end] = [_CODE] * (end - i)
                i = end
                continue
        trusted = trusted and not _doubtful_fence(line)
        containers = _CONTAINERS.match(line)
        position = containers.end() if containers else 0
        for opening, closing in _HTML_BLOCKS:
            found = opening.match(line, position)
            if found:
                kinds[i] = _HTML
                in_html, until_blank, html_end = True, closing is None, closing
                if closing is not None and closing.search(line, found.end()):
                    in_html = False
                break
        i += 1
    return kinds


def _doubtful_fence(line: str) -> bool:
    """Whether ``line`` may be a fence line for CommonMark (behind markers, or indented)."""
    match = _MAYBE_FENCE.match(line)
    if match is None:
        return False
    return match.group(1)[0] != "`" or "`" not in line[match.end() :]


def _fence_opening(line: str) -> tuple[str, int, int] | None:
    """(character, length, indent) when ``line`` opens a fenced code block."""
    match = _FENCE.match(line)
    if match is None:
        return None
    marker = match.group(2)
    if marker[0] == "`" and "`" in line[match.end() :]:
        return None
    return marker[0], len(marker), len(match.group(1))


def _trusted_fence_end(lines: list[str], i: int, char: str, length: int, indent: int) -> int | None:
    """Index after the fence opened at line ``i``, or None when it cannot be trusted.

    A fence indented 2-3 spaces may sit in a list item; a line indented less may end that item
    and the fence with it, and a fence line indented 4+ columns may close it there.
    """
    closing = re.compile(rf" {{0,3}}{re.escape(char)}{{{length},}}[ \t]*")
    deeper = re.compile(rf"[ \t]*{re.escape(char)}{{{length},}}[ \t]*")
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if not line.strip(" \t"):
            continue
        column = _indent(line)
        if indent >= 2 and (column < indent or (column > 3 and deeper.fullmatch(line))):
            return None
        if closing.fullmatch(line):
            return j + 1
    return len(lines)


def _indent(line: str) -> int:
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            break
    return column


def _no_states() -> list[set[int]]:
    return [set() for _ in _MODES]


def _line_code(text: str, states: list[set[int]]) -> tuple[_Ranges, list[set[int]]] | None:
    """Ranges of the line ``text`` that are code in every scan, and the states it can end in.

    ``states`` holds, per scan mode, the states the paragraph's earlier lines can leave this line
    in; it may also be the first line of a block. None when there are too many alternatives.
    """
    line = _Line(text)
    code: _Ranges = [(0, len(text))]
    after = _no_states()
    for mode in _MODES:
        entries = states[mode] | {_OUTSIDE}
        if len(entries) > _MAX_BRANCHES:
            return None
        for state in entries:
            result = line.scan_from(state, mode)
            if result is None:
                return None
            spans, ends = result
            code = _intersect(code, spans)
            after[mode] |= ends
    if "|" in text:  # maybe a table row: every cell is a scope of its own
        code = _intersect(code, _cell_code(text))
    return code, after


class _Line:
    """One line of a paragraph, scanned for code spans; searches are remembered (stay linear)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.no_run: dict[int, int] = {}  # backtick width -> a position after which none is
        self.found: dict[str, tuple[int, int]] = {}  # needle -> (searched from, found at)

    def scan_from(self, state: int, mode: int) -> tuple[_Ranges, set[int]] | None:
        """Code spans on the line when entering it in ``state``, and the states it can end in."""
        ends: set[int] = set()
        if state == _OUTSIDE:
            return self.scan(0, mode, ends), ends
        if state > 0:  # a span opened on an earlier line closes at the first run of exactly N
            close = self.next_run(0, state)
            if close < 0:
                return [(0, len(self.text))], {state}
            end = close + state
            return [(0, end), *self.scan(end, mode, ends)], ends
        # Inside markup from an earlier line: it may end after any ">" or ")"; no code before.
        ends.add(_IN_MARKUP)
        exits = [match.end() for match in _MARKUP_END.finditer(self.text)]
        if len(exits) > _MAX_BRANCHES:
            return None
        code: _Ranges | None = None
        for start in exits:
            spans = self.scan(start, mode, ends)
            code = spans if code is None else _intersect(code, spans)
        return code or [], ends

    def scan(self, i: int, mode: int, ends: set[int]) -> _Ranges:
        """Code spans closed on the line when scanning from ``i``, outside any span.

        Adds to ``ends`` each state the line can end in: outside; inside a span (opened by a run
        that no run of the same width closes on this line); inside markup left unfinished.
        """
        text, spans = self.text, []
        interesting = _INTERESTING[mode]
        brackets = 0  # "[" not closed yet, for _MARKUP
        while (match := interesting.search(text, i)) is not None:
            i = match.start()
            char = text[i]
            if char == "\\":
                i += 2 if text[i + 1 : i + 2] in _PUNCTUATION else 1
            elif char == "`":
                end = i + 1
                while end < len(text) and text[end] == "`":
                    end += 1
                width = end - i
                close = self.next_run(end, width)
                if close < 0:
                    ends.add(width)
                    i = end
                else:
                    spans.append((i, close + width))
                    i = close + width
            elif char == "[":
                brackets += 1
                i += 1
            else:
                link = char == "]" and (mode == _ANY_LINK or brackets > 0)
                if char == "]":
                    brackets = max(brackets - 1, 0)
                end = self.markup_end(i) if char == "<" or link else -1
                if end > i:
                    i = end
                    continue
                if (char == "<" or link) and _MARKUP_START.match(text, i):
                    ends.add(_IN_MARKUP)
                i += 1
        ends.add(_OUTSIDE)
        return spans

    def markup_end(self, i: int) -> int:
        """End of the raw HTML, autolink or link destination that starts at ``i``, or -1."""
        found = _INLINE_MARKUP.match(self.text, i)
        if found:
            return found.end()
        for opening, closing in _HTML_OTHER:
            if self.text.startswith(opening, i):
                if opening == "<!" and not self.text[i + 2 : i + 3].isalpha():
                    continue
                end = self.find(closing, i + len(opening))
                return end + len(closing) if end >= 0 else -1
        return -1

    def find(self, needle: str, start: int) -> int:
        """``text.find(needle, start)``; the first of many calls for one needle does the work."""
        searched, found = self.found.get(needle, (len(self.text) + 1, -1))
        if searched <= start and (found < 0 or found >= start):
            return found
        found = self.text.find(needle, start)
        self.found[needle] = (start, found)
        return found

    def next_run(self, start: int, width: int) -> int:
        """Start of the first run of exactly ``width`` backticks at or after ``start``, or -1."""
        if start >= self.no_run.get(width, len(self.text) + 1):
            return -1
        match = _run_of(width).search(self.text, start)
        if match is None:
            self.no_run[width] = min(start, self.no_run.get(width, start))
            return -1
        return match.start()


@functools.lru_cache(maxsize=64)
def _run_of(width: int) -> re.Pattern[str]:
    return re.compile(rf"(?<!`)`{{{width}}}(?!`)")


def _cell_code(text: str) -> _Ranges:
    """Code spans when ``text`` is a table row: cells split at pipes no backslash escapes."""
    bounds, i = [-1], 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "|":
            bounds.append(i)
        i += 1
    bounds.append(len(text))
    code: _Ranges = []
    for left, right in itertools.pairwise(bounds):
        cell = _Line(text[left + 1 : right])
        spans: _Ranges = [(0, len(cell.text))]
        for mode in _MODES:
            spans = _intersect(spans, cell.scan(0, mode, set()))
        code += [(left + 1 + start, left + 1 + end) for start, end in spans]
    return code


def _intersect(a: _Ranges, b: _Ranges) -> _Ranges:
    """Intersection of two sorted lists of disjoint half-open ranges."""
    result: _Ranges = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


# -- titles and bodies ------------------------------------------------------------------------

# C0 and C1 controls, DEL, bidirectional embeddings/overrides/isolates and marks, lone surrogates
# (which cannot be encoded to send). Tab and line breaks are handled before this runs.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_TITLE_SPACES = re.compile("[\t\n\r\x0b\x0c\x85]")
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # render as nothing


def clean_title(text: str) -> str:
    """One clean line for an issue title; "" when nothing visible is left.

    Controls and bidirectional formatting characters go (tabs and line breaks become spaces),
    whitespace runs become one space, and zero-width characters are trimmed from both ends.
    Inside the title they stay: emoji sequences are joined with ZWJ.
    """
    text = _CONTROLS.sub("", _TITLE_SPACES.sub(" ", text))
    text = " ".join(text.split()).strip(" " + _ZERO_WIDTH)
    return text if is_visible(text) else ""


def clean_body(text: str) -> str:
    """Multi-line text without controls or bidirectional formatting characters.

    Line endings become "\\n"; tabs, newlines and all other whitespace stay as they are, since
    Markdown depends on them.
    """
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def is_visible(text: str) -> bool:
    """Whether ``text`` has a character that shows: not whitespace, control, format or mark."""
    return any(
        not char.isspace()
        and char not in _BLANK_LETTERS
        and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
        for char in text
    )


# -- secrets ----------------------------------------------------------------------------------

_MIN_SECRET = 4
_MIN_BASE64_CORE = 8


@dataclass(frozen=True)
class Scrubber:
    """Replaces secrets, and the usual encodings of them, with ``SECRET_PLACEHOLDER``.

    Secrets shorter than four characters are ignored: masking them would mangle ordinary text.
    Besides the secret itself it finds it URL-encoded, JSON-escaped, and base64-encoded (standard
    and URL-safe, padded or not), also where the secret sits inside a longer base64 string such as
    HTTP basic auth for ``x-access-token:<token>``. Each line of a multi-line secret counts too.
    """

    secrets: tuple[str, ...] = field(default=(), repr=False)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "secrets", tuple(self.secrets))
        forms: dict[str, str] = {}  # regex -> the length it sorts by
        for secret in self.secrets:
            parts = {secret, *(line.strip() for line in secret.splitlines())}
            for part in parts:
                if len(part) >= _MIN_SECRET:
                    for form in _encodings(part):
                        forms.setdefault(_form_pattern(form), form)
        ordered = sorted(forms, key=lambda regex: (-len(forms[regex]), regex))
        pattern = re.compile("|".join(ordered)) if ordered else None
        object.__setattr__(self, "_pattern", pattern)

    @property
    def has_secrets(self) -> bool:
        return self._pattern is not None

    def __bool__(self) -> bool:
        return self.has_secrets

    def scrub(self, text: str) -> str:
        return self._pattern.sub(SECRET_PLACEHOLDER, text) if self._pattern else text


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret in ``secrets`` (and its encodings) replaced by ``***``."""
    return Scrubber(tuple(secrets)).scrub(text)


def _encodings(secret: str) -> set[str]:
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    raw = secret.encode()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode()
        forms |= {whole, whole.rstrip("=")}
        # Inside a longer base64 string the secret starts at one of three byte alignments. The
        # characters that also cover the bytes before or after it differ; the rest does not.
        for pad in range(3):
            encoded = encode(b"\0" * pad + raw).decode()
            core = encoded[-(-8 * pad // 6) : 8 * (pad + len(raw)) // 6]
            if len(core) >= _MIN_BASE64_CORE:
                forms.add(core)
    return forms


def _form_pattern(form: str) -> str:
    """A regex for ``form``; percent escapes match in either letter case."""
    pieces = re.split(r"(%[0-9A-F]{2})", form)
    return "".join(
        "%" + "".join(f"[{c.lower()}{c}]" if c.isalpha() else c for c in piece[1:])
        if index % 2
        else re.escape(piece)
        for index, piece in enumerate(pieces)
    )


# -- keywords and permissions -----------------------------------------------------------------


def parse_keyword_list(raw: str) -> tuple[str, ...]:
    """Split a comma- or newline-separated keyword input into clean, unique keywords."""
    seen: dict[str, None] = {}
    for part in re.split(r"[,\n]", raw):
        word = " ".join(part.split()).lower()
        if word:
            seen.setdefault(word, None)
    return tuple(seen)


def find_keywords(texts: Iterable[str], keywords: Iterable[str]) -> tuple[str, ...]:
    """Keywords found as whole words (case-insensitive) in any of ``texts``, in list order."""
    corpus = "\n".join(texts)
    found = []
    for word in keywords:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())) + r"(?!\w)"
        if re.search(pattern, corpus, flags=re.IGNORECASE):
            found.append(word)
    return tuple(found)


def permission_at_least(actual: str, required: str) -> bool:
    """True when the repository permission ``actual`` is ``required`` or higher."""
    rank = {name: i for i, name in enumerate(PERMISSION_ORDER)}
    return rank.get(actual, 0) >= rank.get(required, len(PERMISSION_ORDER))
