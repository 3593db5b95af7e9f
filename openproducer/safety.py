"""Pure safety policy: neutralize mentions, triggers, markers; content filter; permissions."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A zero-width joiner after "@" keeps the text readable but stops GitHub from linking a mention.
ZWJ = "\u200d"
LEGACY_TRIGGER = "/spawn-issues"
MARKER_PREFIX = "openproducer:"

# GitHub mentions: @login (1-39 chars of [A-Za-z0-9-]) or @org/team, not preceded by a word
# character (so e-mail addresses stay untouched).
# https://docs.github.com/en/get-started/writing-on-github/getting-started-with-writing-and-formatting-on-github/basic-writing-and-formatting-syntax#mentioning-people-and-teams
_MENTION = re.compile(r"(?<![\w@`/])@(?=[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:/[A-Za-z0-9_.-]+)?\b)")
_LEGACY = re.compile(r"(?i)(?<![\w/])/(?=spawn-issues\b)")
_HTML_COMMENT = re.compile(r"<!--|-->")

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


def neutralize(text: str) -> str:
    """Make ``text`` safe to post: no live @-mentions, no triggers, no hidden markers.

    The configured trigger is an @-mention too, so neutralizing mentions also disarms it.
    """
    text = _MENTION.sub("@" + ZWJ, text)
    text = _LEGACY.sub("/" + ZWJ, text)
    return _HTML_COMMENT.sub(lambda m: m.group(0).replace("--", "-" + ZWJ + "-"), text)


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
