"""Content hashes used to recognise an issue the bot already created (pure)."""

from __future__ import annotations

import hashlib
import re

from openproducer.model import PlannedIssue, UniqueBy


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def body_hash(body: str) -> str:
    return _digest(_normalize(body))


def content_hash(issue: PlannedIssue) -> str:
    return _digest(_normalize(issue.title) + "\x00" + _normalize(issue.body))


def dedup_key(*, unique_by: UniqueBy, title: str, content: str, body: str) -> str:
    """The identity of an issue under ``unique_by``: a normalized title or a hash."""
    if unique_by == "title":
        return "title:" + _normalize(title)
    if unique_by == "body":
        return "body:" + body
    return "hash:" + content
