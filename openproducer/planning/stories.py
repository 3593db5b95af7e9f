"""User stories that restate a feature (#12): the same requirement is one issue.

A PRD often says one thing twice: as a user story ("As a team lead, I want the board to update
by itself …", with its acceptance) and as the feature that delivers it ("Live updates: the board
polls every 30 seconds …"). Planned apart, the two issues ask for the same work. A story restates
a feature when it names the feature (every word of the feature's heading is in the story) or
when the two share several phrases (pairs of significant words: "polling interval", "last
updated"). Each story is matched to at most one feature and each feature to at most one story,
the strongest matches first. Pure: texts in, pairs of positions out.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openproducer.planning.dependencies import STOPWORDS

SHARED_PHRASES = 3  # pairs of significant words a story and a feature share to be one thing
_STEM = 5
_TOKEN = re.compile(r"[^\W_][\w-]*")
_STORY = re.compile(
    r"(?im)^\s*(?:[-*+]\s+)?(?:\*\*|__)(?:user\s+)?story:?(?:\*\*|__)"
    r"|\bas an? [^,.\n]{1,60}, I want\b"
)
_STORY_TITLE = re.compile(r"(?i)^(?:user\s+)?story\s*\d*\s*[:.\-–—]\s*")
# Two words or more: "the same queue as me" is English, "the same polling interval as" a reuse.
_SAME_AS = re.compile(r"(?i)\bthe same ((?:[\w-]+ ){1,4}[\w-]+) as\b")


@dataclass(frozen=True)
class Candidate:
    """A planned item as the matching sees it."""

    heading: str  # the heading of the section it comes from
    text: str  # its title, task and criteria


def is_story(text: str) -> bool:
    """The text is a user story: a "**Story:**" field or "As a …, I want"."""
    return bool(_STORY.search(text))


def story_goal(title: str) -> str:
    """ "Story 2: Stay current without reloading" → "Stay current without reloading"."""
    return _STORY_TITLE.sub("", title).strip() or title


def _stems(text: str) -> list[str]:
    found = (t.casefold() for t in _TOKEN.findall(text))
    kept = (t.removesuffix("s") if len(t) > 3 else t for t in found if t not in STOPWORDS)
    return [t[:_STEM] for t in kept if len(t) >= 3]


def _phrases(text: str) -> set[tuple[str, str]]:
    stems = _stems(text)
    return set(itertools.pairwise(stems))


def names(heading: str, text: str) -> bool:
    """Every significant word of ``heading`` is in ``text`` (by stem)."""
    wanted = set(_stems(heading))
    return bool(wanted) and wanted <= set(_stems(text))


def restated(stories: Sequence[Candidate], features: Sequence[Candidate]) -> dict[int, int]:
    """Positions of stories → positions of the features they restate, one to one."""
    scored = []
    feature_phrases = [_phrases(f.text) for f in features]
    for s, story in enumerate(stories):
        own = _phrases(story.text)
        for f, feature in enumerate(features):
            named = names(feature.heading, story.text)
            shared = len(own & feature_phrases[f])
            if named or shared >= SHARED_PHRASES:
                scored.append((named, shared, -s, -f))
    pairs: dict[int, int] = {}
    for _, _, s, f in sorted(scored, reverse=True):
        if -s not in pairs and -f not in pairs.values():
            pairs[-s] = -f
    return pairs


def same_as(text: str) -> list[str]:
    """What ``text`` reuses from elsewhere: "the same 30-second polling interval as statuses"
    → ["30-second polling interval"]."""
    return [m[1] for m in _SAME_AS.finditer(text)]


def states(text: str, phrase: str) -> bool:
    """``text`` states ``phrase`` itself, not only as "the same … as" another."""
    plain = _SAME_AS.sub("", text)
    return " ".join(phrase.casefold().split()) in " ".join(plain.casefold().split())
