"""Pagination as GitHub does it: `per_page` (default 30, at most 100), `page`, and `Link` headers
(https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

T = TypeVar("T")

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page:
    number: int
    per_page: int


def parse_page(query: Sequence[tuple[str, str]]) -> Page:
    """`page` and `per_page` from a query; values that are not numbers fall back to defaults."""
    values = dict(query)
    per_page = _positive(values.get("per_page"), DEFAULT_PER_PAGE)
    return Page(_positive(values.get("page"), 1), min(per_page, MAX_PER_PAGE))


def _positive(text: str | None, default: int) -> int:
    if text is None or not text.strip().isdigit() or int(text) < 1:
        return default
    return int(text)


def slice_page(items: Sequence[T], page: Page) -> list[T]:
    start = (page.number - 1) * page.per_page
    return list(items[start : start + page.per_page])


def last_page(total: int, per_page: int) -> int:
    return max((total + per_page - 1) // per_page, 1)


def build_link_header(
    url: str, query: Sequence[tuple[str, str]], page: Page, total: int
) -> str | None:
    """The `Link` header: rel prev, next, last, first in GitHub's order; None for one page."""
    last = last_page(total, page.per_page)
    if last == 1 and page.number == 1:
        return None
    links: list[tuple[int, str]] = []
    if page.number > 1:
        links.append((page.number - 1, "prev"))
    if page.number < last:
        links += [(page.number + 1, "next"), (last, "last")]
    if page.number > 1:
        links.append((1, "first"))
    return ", ".join(f'<{_page_url(url, query, n)}>; rel="{rel}"' for n, rel in links)


def _page_url(url: str, query: Sequence[tuple[str, str]], number: int) -> str:
    pairs = [(k, v) for k, v in query if k != "page"]
    pairs.append(("page", str(number)))
    return f"{url}?{urlencode(pairs)}"
