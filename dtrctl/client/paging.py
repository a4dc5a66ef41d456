"""One guarded paginator for every paged listing: DTR's cursors and Harbor's page numbers.

A listing is complete or an error, never silently short. A page is asked for until the server
says there is none left, in its own headers or by a page that is not full; a missing header is
never read as "the end":
- cursor variant (DTR: `pageStart`, `X-Next-Page-Start`): the first page asks `count=true`;
  where the total comes (`X-Resource-Count`, not in DTR's spec), a listing whose pages end with
  fewer entries is refused. Without a total, a full page without a cursor is confirmed by asking
  one entry from the same start, which must name a next cursor (the server's headers do come
  through); otherwise it is refused.
- page-number variant (Harbor: `page`, `page_size`, `Link` rel="next", `X-Total-Count`): when both
  headers are missing, pages are asked by number while they come back full.

Both variants keep the same guards (`limits`): no empty page with a next page, no cursor, page
or page body seen twice, no page with more entries than asked for, at most `MAX_PAGES` pages,
`LISTING_MAX_BYTES` of answers and `LISTING_MAX_SECONDS` in all; each page is an API answer
(bounded like any) and a malformed header is an error.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from dtrctl.client import limits
from dtrctl.client.http import RequestContext, json_body
from dtrctl.errors import InvalidResponse

# Sends one GET of the listing with these query parameters, and returns the answer.
PageGetter = Callable[[dict[str, str]], httpx.Response]
# The entries of a page's JSON body (or InvalidResponse when it has the wrong shape).
PageItems = Callable[[Any], list[Any]]

CURSOR_HEADER = "X-Next-Page-Start"
COUNT_HEADER = "X-Resource-Count"
_TOTAL_RE = re.compile(r"[0-9]{1,15}")
_NEXT_RE = re.compile(r'rel="?next\b', re.IGNORECASE)
_NEXT_LINK_RE = re.compile(r'<([^>]*)>\s*;[^,<]*rel="?next\b', re.IGNORECASE)


class PageGuard:
    """The bounds of one listing, checked at every page; `who` names the server in errors."""

    def __init__(
        self, context: RequestContext, who: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.context = context
        self.who = who
        self._clock = clock
        self._started = clock()
        self._pages = 0
        self._bytes = 0
        # Digests, not keys or bodies: a hostile server's cursors may each be kilobytes long.
        self._seen: set[bytes] = set()

    def fail(self, what: str, hint: str | None = None) -> InvalidResponse:
        return InvalidResponse(
            f"{self.who} {what} while trying to {self.context.action}", hint=hint
        )

    def before_request(self) -> None:
        if self._pages >= limits.MAX_PAGES:
            raise self.fail(f"sent more than {limits.MAX_PAGES} pages")
        if self._clock() - self._started > limits.LISTING_MAX_SECONDS:
            raise self.fail(
                f"was still sending pages after {limits.LISTING_MAX_SECONDS // 60} minutes"
            )

    def page(self, response: httpx.Response, items: list[Any], size: int) -> None:
        """Count a page of at most `size` entries against the bounds."""
        self._pages += 1
        self._bytes += len(response.content)
        if len(items) > size:
            raise self.fail(f"sent {len(items)} entries on a page of at most {size}")
        if self._bytes > limits.LISTING_MAX_BYTES:
            bound = limits.describe_size(limits.LISTING_MAX_BYTES)
            raise self.fail(f"sent more than {bound} of pages")

    def remember(self, key: bytes, repeated: str) -> None:
        digest = hashlib.sha256(key).digest()
        if digest in self._seen:
            raise self.fail(repeated)
        self._seen.add(digest)


def _read_page(
    get: PageGetter, params: dict[str, str], items: PageItems, guard: PageGuard, size: int
) -> tuple[httpx.Response, list[Any]]:
    guard.before_request()
    response = get(params)
    page = items(json_body(response, guard.context))
    guard.page(response, page, size)
    return response, page


def cursor_pages(
    get: PageGetter,
    items: PageItems,
    context: RequestContext,
    *,
    page_size: int,
    who: str = "the registry",
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Any]:
    """Every entry of a DTR listing: `pageSize` always sent, `pageStart` the server's cursor,
    and on the first page `count=true` (the total, where DTR sends it, checks the end)."""
    guard = PageGuard(context, who, clock)
    cursor: str | None = None
    total: int | None = None
    seen = 0
    while True:
        params = {"pageSize": str(page_size)}
        if cursor:
            params["pageStart"] = cursor
        else:
            params["count"] = "true"
        response, page = _read_page(get, params, items, guard, page_size)
        if cursor is None and response.headers.get(COUNT_HEADER, "").strip():
            total = _total_count(response, guard, COUNT_HEADER)  # empty: as absent
        yield from page
        seen += len(page)
        start, cursor = cursor, response.headers.get(CURSOR_HEADER) or None
        if cursor is None:
            if total is not None:
                _check_total(guard, seen, total)
            elif len(page) >= page_size:
                _confirm_last_page(get, items, guard, start, len(page))
            return
        if not page:
            raise guard.fail("sent an empty page with a next page")
        guard.remember(cursor.encode("utf-8", "surrogateescape"), "repeated a page cursor")


def _check_total(guard: PageGuard, seen: int, total: int) -> None:
    """The pages ended (no cursor): as many entries as DTR counted on the first page, or more
    (created meanwhile). Fewer: a cursor was lost on the way (a proxy dropping the header), or
    entries were deleted meanwhile; either way the listing cannot be known to be complete."""
    if seen < total:
        raise guard.fail(
            f"ended its pages (no {CURSOR_HEADER} header) after {seen} of the {total} entries "
            f"it counted ({COUNT_HEADER}), so the listing is incomplete,",
            hint=f"A proxy in front of the registry may drop the {CURSOR_HEADER} header: let "
            "it through (if entries were being deleted meanwhile, run it again)",
        )


def _confirm_last_page(
    get: PageGetter, items: PageItems, guard: PageGuard, start: str | None, full: int
) -> None:
    """A full page without a cursor: one entry from the same start must name a next cursor.

    Another entry follows the first on that page, so the server names a cursor, unless the
    cursor is lost on the way (a proxy dropping the header): then the listing cannot be known
    to be complete.
    """
    refused = guard.fail(
        f"sent a full page ({full} entries) without an {CURSOR_HEADER} header, nor one where "
        "another page surely follows, so the listing may be incomplete,",
        hint=f"A proxy in front of the registry may drop the {CURSOR_HEADER} header: "
        "let it through",
    )
    if full < 2:
        raise refused
    params = {"pageSize": "1", **({"pageStart": start} if start else {})}
    response, _ = _read_page(get, params, items, guard, 1)
    if not response.headers.get(CURSOR_HEADER):
        raise refused


def numbered_pages(
    get: PageGetter,
    items: PageItems,
    context: RequestContext,
    *,
    page_size: int,
    who: str = "Harbor",
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Any]:
    """Every entry of a Harbor listing: `page` from 1 and `page_size`, until no next page."""
    guard = PageGuard(context, who, clock)
    number, seen = 1, 0
    while True:
        params = {"page": str(number), "page_size": str(page_size)}
        response, page = _read_page(get, params, items, guard, page_size)
        yield from page
        seen += len(page)
        if not _has_next_page(response, guard, number, seen, full=len(page) >= page_size):
            return
        if not page:
            raise guard.fail("sent an empty page with a next page")
        # Page numbers are dtrctl's own: a page is repeated when its entries are.
        guard.remember(response.content, "sent the same page twice")
        number += 1


def _has_next_page(
    response: httpx.Response, guard: PageGuard, number: int, seen: int, *, full: bool
) -> bool:
    """Harbor's `Link` rel="next" or an `X-Total-Count` above the entries read; without either
    header (a proxy dropping them), a full page."""
    link = response.headers.get("Link")
    total = _total_count(response, guard)
    if link is None and total is None:
        return full
    if link is not None and _NEXT_RE.search(link):
        named = _named_page(link)
        if named is not None and named <= number:
            raise guard.fail(f"named page {named}, already read, as the next page")
        return True
    return total is not None and seen < total


def _named_page(link: str) -> int | None:
    """The `page` of the rel="next" URL in a `Link` header, where it names one."""
    match = _NEXT_LINK_RE.search(link)
    if match is None:
        return None
    try:
        values = urllib.parse.parse_qs(urllib.parse.urlsplit(match.group(1)).query).get("page")
    except ValueError:
        return None
    page = values[0] if values else ""
    return int(page) if _TOTAL_RE.fullmatch(page) else None


def _total_count(
    response: httpx.Response, guard: PageGuard, header: str = "X-Total-Count"
) -> int | None:
    value = response.headers.get(header)
    if value is None:
        return None
    if not _TOTAL_RE.fullmatch(value.strip()):
        raise guard.fail(f"sent a malformed {header} header")
    return int(value)
