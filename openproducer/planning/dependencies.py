"""Dependency edges from the order a spec gives its work (#12), pure.

A spec orders its work in prose ("first the data model, then the executor"), in inline
numbering ("MVP: 1) set-up, 2) the data model, 3) the executor") and in the numbered lists of a
roadmap, phase or milestone section. Each step of such a sequence is matched to the issue whose
title and section share the most words with it; an issue then depends on the issue of the step
before it, when that issue comes earlier in the plan (``depends_on`` names earlier issues only).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

_THEN = re.compile(
    r"(?:[,;:]\s*|[.!?]\s+|\s+)(?:and\s+)?(?:only\s+)?(?:then|finally|afterwards|after that)\b",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"^\s*(?:if|when|whenever|once|unless|while)\b", re.IGNORECASE)
_FIRST = re.compile(r"\bfirst\b", re.IGNORECASE)
_STEP_NUMBER = re.compile(r"(?:^|(?<=[\s(:,;]))\(?(?P<n>\d{1,2})\)\s+")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_LABEL = re.compile(r"^\s*(?:\*\*|__)(?P<label>[^*_\n]{1,30}?):?(?:\*\*|__):?\s*")
_BEFORE = re.compile(
    r"(?P<a>[^.;!?]{3,120}?)\s+(?:has to|have to|must|needs to|need to)\s+(?:\w+\s+){0,2}?"
    r"before\s+(?P<b>[^.;!?,]{3,80})",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^(?:(?:so|and|then|likewise|thus|hence|therefore)\s+)+", re.IGNORECASE)
_ORDER_HEADING = re.compile(
    r"\b(?:roadmap|phases?|milestones?|rollout|roll-out|stages?|mvp|timeline|"
    r"(?:implementation|delivery|rollout|release) plan|order of (?:work|delivery))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W_][\w-]*")
STOPWORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "that",
        "this",
        "these",
        "those",
        "is",
        "are",
        "be",
        "been",
        "it",
        "its",
        "their",
        "our",
        "we",
        "then",
        "first",
        "finally",
        "only",
        "after",
        "before",
        "top",
        "each",
        "every",
        "which",
        "who",
        "new",
        "one",
        "two",
        "three",
        "all",
        "any",
        "into",
        "over",
        "under",
        "when",
        "once",
        "also",
        "both",
        "more",
        "most",
        "than",
        "as",
        "not",
        "no",
    ]
)
_MIN_STEM = 4


def ordered_steps(text: str, *, loose: bool = True) -> list[str]:
    """The steps of one paragraph or list item, in order; empty when it orders nothing.

    Not ``loose`` (the text describes a feature), "a, then b" is the feature's behaviour ("runs
    the target, then watches its inputs"): only "first a, then b" orders work there."""
    flat = _LABEL.sub("", " ".join(text.split()))
    numbered = _numbered_steps(flat)
    if len(numbered) >= 2:
        return numbered
    return _then_steps(flat, loose=loose)


def label_of(text: str) -> str | None:
    """The bold label a paragraph opens with ("**Phase 2:** …" → "Phase 2"), or None."""
    match = _LABEL.match(text.strip())
    return match["label"] if match else None


def unlabelled(text: str) -> str:
    return _LABEL.sub("", " ".join(text.split()))


def before_steps(text: str) -> list[str]:
    """ "… so the data model has to settle before caching starts" → [the data model, caching
    starts]; empty when the text says no such thing."""
    match = _BEFORE.search(" ".join(text.split()))
    if not match:
        return []
    first = re.split(r"[,;:]\s+", match["a"])[-1]
    first = _LEAD.sub("", first).strip()
    return [first, match["b"].strip()] if first else []


def _numbered_steps(flat: str) -> list[str]:
    """ "1) a, 2) b, 3) c": the numbers must count up from 1."""
    marks = list(_STEP_NUMBER.finditer(flat))
    if len(marks) < 2 or [int(m["n"]) for m in marks] != list(range(1, len(marks) + 1)):
        return []
    ends = [m.start() for m in marks[1:]] + [len(flat)]
    return [_first_sentence(flat[m.end() : end]) for m, end in zip(marks, ends, strict=True)]


def _then_steps(flat: str, *, loose: bool = True) -> list[str]:
    """ "First a, then b, and only then c" (or "a, then b")."""
    parts = _THEN.split(flat)
    if len(parts) < 2:
        return []
    head = parts[0]
    if _CONDITION.match(re.split(r"[.!?:]\s+", head)[-1]):
        return []  # "if …, then …" is a rule, not an order of work
    firsts = list(_FIRST.finditer(head))
    if not firsts and not loose:
        return []
    head = head[firsts[-1].end() :] if firsts else re.split(r"[.!?:]\s+", head)[-1]
    return [head.strip(" ,;"), *(_first_sentence(part) for part in parts[1:])]


def _first_sentence(text: str) -> str:
    end = _SENTENCE_END.search(text)
    return (text[: end.start()] if end else text).strip(" ,;")


def is_order_heading(title: str) -> bool:
    """A roadmap, phase, milestone or rollout heading: its numbered lists are in order."""
    return bool(_ORDER_HEADING.search(title))


def words(text: str) -> frozenset[str]:
    """Significant words: lowercase, no stopwords, at least three letters."""
    found = (w.casefold() for w in _WORD.findall(text))
    return frozenset(w for w in found if len(w) >= 3 and w not in STOPWORDS)


def _same_word(first: str, second: str) -> bool:
    """Equal, or sharing a stem ("cache" and "caching", "report" and "reporting")."""
    if first == second:
        return True
    need = max(_MIN_STEM, min(5, len(first) - 1, len(second) - 1))
    return len(first) >= _MIN_STEM and len(second) >= _MIN_STEM and first[:need] == second[:need]


def _score(step: Sequence[str], name: frozenset[str]) -> tuple[int, int]:
    """How many of the step's words the name shares, then how early the first one comes."""
    shared = [i for i, word in enumerate(step) if any(_same_word(word, n) for n in name)]
    return len(shared), -(shared[0] if shared else len(step))


def overlap(text: str, name: frozenset[str]) -> int:
    """How many significant words of ``text`` the set of words ``name`` shares."""
    return _score(_ordered_words(text), name)[0]


def match_step(
    step: str,
    names: Sequence[frozenset[str]],
    headings: Sequence[frozenset[str]] = (),
) -> int | None:
    """The index of the issue a step names best (the earliest of equals), or None.

    Words shared with an issue's section heading count twice (a roadmap names sections). A
    step names its subject first ("enforcement on top of the accounting"), so of two issues
    sharing as much, the one sharing the earlier word wins."""
    wanted = _ordered_words(step)
    scores = [_score(wanted, name) for name in names]
    for index, heading in enumerate(headings):
        count, position = scores[index]
        scores[index] = (count + _score(wanted, heading)[0], position)
    best = max(scores, default=(0, 0))
    return scores.index(best) if best[0] > 0 else None


def _ordered_words(text: str) -> list[str]:
    kept = words(text)
    found = (w.casefold() for w in _WORD.findall(text))
    return list(dict.fromkeys(w for w in found if w in kept))


def order_pairs(
    sequences: Iterable[Sequence[str]],
    names: Sequence[frozenset[str]],
    headings: Sequence[frozenset[str]] = (),
) -> set[tuple[int, int]]:
    """(before, after) issue indices for every two consecutive steps of a sequence."""
    pairs: set[tuple[int, int]] = set()
    for steps in sequences:
        matched = [match_step(step, names, headings) for step in steps]
        chain = [index for index in matched if index is not None]
        pairs |= {(a, b) for a, b in itertools.pairwise(chain) if a != b}
    return pairs


def order_edges(
    sequences: Iterable[Sequence[str]],
    names: Sequence[frozenset[str]],
    headings: Sequence[frozenset[str]] = (),
) -> list[set[int]]:
    """For each issue, the earlier issues its step follows in some sequence."""
    edges: list[set[int]] = [set() for _ in names]
    for before, after in order_pairs(sequences, names, headings):
        if before < after:
            edges[after].add(before)
    return edges


def foundations_first(count: int, pairs: Iterable[tuple[int, int]]) -> list[int]:
    """Indices ``0..count-1`` in the plan's order, except that an issue's foundations (the
    ``before`` of its pairs) are moved just ahead of it; in a cycle, the first one met wins."""
    before: dict[int, list[int]] = {i: [] for i in range(count)}
    for first, then in sorted(set(pairs)):
        before[then].append(first)
    order: list[int] = []
    seen: set[int] = set()

    def place(index: int) -> None:
        if index in seen:
            return
        seen.add(index)
        for foundation in before[index]:
            place(foundation)
        order.append(index)

    for index in range(count):
        place(index)
    return order
