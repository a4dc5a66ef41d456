"""The guarded paginator on the wire (respx, exact requests): a listing of DTR (cursors) or
Harbor (page numbers) is complete or an error, whatever headers a proxy drops, and a server
that repeats, oversizes or never ends its pages is cut off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from dtrctl.backends.dtr.api import DtrClient
from dtrctl.backends.dtr.wire import repository_to_api
from dtrctl.backends.harbor.api import HarborClient
from dtrctl.client import limits
from dtrctl.client.http import RequestContext
from dtrctl.client.paging import cursor_pages, numbered_pages
from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.errors import ExitCode, InvalidResponse
from dtrctl.records.repository import Repository

DTR = "https://dtr.example.com"
HARBOR = "https://msr.example.com"
REPOSITORIES = f"{DTR}/api/v0/repositories"
TAGS = f"{DTR}/api/v0/repositories/engineering/api/tags"
RULES = f"{HARBOR}/api/v2.0/projects/library/immutabletagrules"
PROJECTS = f"{HARBOR}/api/v2.0/projects"
CREDENTIALS = ("alice", "s3cret")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with build_http_client(TransportOptions(retries=0)) as client:
        yield client


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def dtr_page(
    names: list[str], cursor: str | None = None, total: str | None = None
) -> httpx.Response:
    body = {"repositories": [repository_to_api(Repository("engineering", name)) for name in names]}
    headers = {"X-Next-Page-Start": cursor} if cursor else {}
    if total is not None:
        headers["X-Resource-Count"] = total
    return httpx.Response(200, json=body, headers=headers)


def sent(route: respx.Route) -> list[dict[str, str]]:
    return [dict(call.request.url.params) for call in route.calls]


def failure(listing: Any) -> InvalidResponse:
    """The error of a listing: an iterator, or a call that lists."""
    with pytest.raises(InvalidResponse) as caught:
        list(listing() if callable(listing) else listing)
    assert caught.value.exit_code == ExitCode.UNAVAILABLE
    return caught.value


class TestDtrCursors:
    def test_a_full_page_without_a_cursor_is_confirmed_by_one_entry_from_its_start(
        self, http, mock
    ):
        route = mock.get(REPOSITORIES).mock(
            side_effect=[dtr_page(["a", "b"], "c2"), dtr_page(["c", "d"]), dtr_page(["c"], "d")]
        )
        listed = DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories()
        assert [repository.name for repository in listed] == ["a", "b", "c", "d"]
        assert sent(route) == [
            {"pageSize": "2", "count": "true"},
            {"pageSize": "2", "pageStart": "c2"},
            {"pageSize": "1", "pageStart": "c2"},
        ]

    def test_a_cursor_a_proxy_dropped_is_an_error_never_the_end(self, http, mock):
        route = mock.get(REPOSITORIES).mock(side_effect=[dtr_page(["a", "b"]), dtr_page(["a"])])
        error = failure(DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories())
        assert error.message == (
            "the registry sent a full page (2 entries) without an X-Next-Page-Start header, "
            "nor one where another page surely follows, so the listing may be incomplete, "
            "while trying to list repositories"
        )
        assert error.hint == (
            "A proxy in front of the registry may drop the X-Next-Page-Start header: let it through"
        )
        assert sent(route) == [{"pageSize": "2", "count": "true"}, {"pageSize": "1"}]

    def test_pages_ending_short_of_the_counted_total_are_an_error_never_the_end(self, http, mock):
        # The second page is short and a proxy dropped its cursor: only the total tells.
        route = mock.get(REPOSITORIES).mock(
            side_effect=[dtr_page(["a", "b"], "c2", total="5"), dtr_page(["c"])]
        )
        error = failure(DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories())
        assert error.message == (
            "the registry ended its pages (no X-Next-Page-Start header) after 3 of the 5 "
            "entries it counted (X-Resource-Count), so the listing is incomplete, while trying "
            "to list repositories"
        )
        assert "may drop the X-Next-Page-Start header" in (error.hint or "")
        assert sent(route) == [
            {"pageSize": "2", "count": "true"},
            {"pageSize": "2", "pageStart": "c2"},
        ]

    def test_a_full_last_page_that_reaches_the_total_needs_no_confirming(self, http, mock):
        route = mock.get(REPOSITORIES).mock(
            side_effect=[dtr_page(["a", "b"], "c2", total="4"), dtr_page(["c", "d"])]
        )
        listed = DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories()
        assert [repository.name for repository in listed] == ["a", "b", "c", "d"]
        assert route.call_count == 2

    def test_more_entries_than_counted_is_complete_as_created_meanwhile(self, http, mock):
        mock.get(REPOSITORIES).mock(
            side_effect=[dtr_page(["a", "b"], "c2", total="2"), dtr_page(["c"])]
        )
        listed = DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories()
        assert [repository.name for repository in listed] == ["a", "b", "c"]

    @pytest.mark.parametrize("total", ["-1", "many", "1e3"])
    def test_a_malformed_resource_count_is_an_error(self, http, mock, total):
        mock.get(REPOSITORIES).mock(side_effect=[dtr_page(["a"], total=total)])
        error = failure(DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories())
        assert "the registry sent a malformed X-Resource-Count header" in error.message

    def test_a_page_with_more_entries_than_asked_for_is_refused(self, http, mock):
        mock.get(REPOSITORIES).mock(side_effect=[dtr_page(["a", "b", "c"], "next")])
        error = failure(DtrClient(http, DTR, CREDENTIALS, page_size=2).list_repositories())
        assert "the registry sent 3 entries on a page of at most 2" in error.message

    def test_the_pages_of_a_listing_are_bounded_in_bytes_together(self, http, mock, monkeypatch):
        monkeypatch.setattr(limits, "LISTING_MAX_BYTES", 1000)
        pages = [dtr_page([f"r{n}"], f"c{n}") for n in range(20)]
        route = mock.get(REPOSITORIES).mock(side_effect=pages)
        error = failure(DtrClient(http, DTR, CREDENTIALS).list_repositories())
        assert "the registry sent more than 1000 bytes of pages" in error.message
        assert route.call_count < 20


def harbor_page(
    items: list[Any], total: str | None = None, link: str | None = None
) -> httpx.Response:
    # Bytes: a header value as it came off the wire (latin-1), ASCII or not.
    headers: dict[bytes, bytes] = (
        {b"X-Total-Count": total.encode("latin-1")} if total is not None else {}
    )
    if link is not None:
        headers[b"Link"] = link.encode()
    return httpx.Response(200, json=items, headers=headers)


def rules(*ids: int) -> list[dict[str, Any]]:
    return [{"id": rule_id, "action": "immutable"} for rule_id in ids]


class TestHarborPageNumbers:
    def test_without_link_and_total_pages_are_asked_while_they_come_back_full(self, http, mock):
        route = mock.get(RULES).mock(
            side_effect=[
                harbor_page(rules(*range(1, 11))),
                harbor_page(rules(*range(11, 21))),
                harbor_page(rules(21)),
            ]
        )
        found = HarborClient(http, HARBOR, CREDENTIALS).list_rules("library")
        assert [rule.id for rule in found] == list(range(1, 22))
        assert sent(route) == [{"page": str(n), "page_size": "10"} for n in (1, 2, 3)]

    def test_without_headers_an_empty_page_after_a_full_one_ends_the_listing(self, http, mock):
        route = mock.get(RULES).mock(
            side_effect=[harbor_page(rules(*range(1, 11))), harbor_page([])]
        )
        assert len(HarborClient(http, HARBOR, CREDENTIALS).list_rules("library")) == 10
        assert route.call_count == 2

    def test_a_repeated_page_is_refused_not_followed_for_ever(self, http, mock):
        link = f'<{RULES}?page=9&page_size=10>; rel="next"'
        route = mock.get(RULES).mock(side_effect=[harbor_page(rules(1), "99", link)] * 3)
        error = failure(lambda: HarborClient(http, HARBOR, CREDENTIALS).list_rules("library"))
        assert error.message == (
            "Harbor sent the same page twice while trying to list the immutability rules "
            "of project library"
        )
        assert route.call_count == 2

    def test_a_next_link_to_a_page_already_read_is_refused(self, http, mock):
        link = (
            f'<{RULES}?page=1&page_size=10>; rel="prev" , <{RULES}?page=1&page_size=10>; rel="next"'
        )
        route = mock.get(RULES).mock(side_effect=[harbor_page(rules(1), None, link)] * 2)
        error = failure(lambda: HarborClient(http, HARBOR, CREDENTIALS).list_rules("library"))
        assert "Harbor named page 1, already read, as the next page" in error.message
        assert route.call_count == 1

    @pytest.mark.parametrize("total", ["\u00b2", "-1", "1e3", "12 13", "9" * 5000, ""])
    def test_a_malformed_total_count_is_an_error(self, http, mock, total):
        mock.get(PROJECTS).mock(side_effect=[harbor_page([{"name": "library"}], total)])
        error = failure(HarborClient(http, HARBOR, CREDENTIALS).list_projects())
        assert error.message == (
            "Harbor sent a malformed X-Total-Count header while trying to list projects"
        )

    def test_a_page_of_more_rules_than_asked_for_is_refused(self, http, mock):
        mock.get(RULES).mock(side_effect=[harbor_page([{}] * 100_000, "100000")])
        error = failure(lambda: HarborClient(http, HARBOR, CREDENTIALS).list_rules("library"))
        assert "Harbor sent 100000 entries on a page of at most 10" in error.message


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


CONTEXT = RequestContext("list repositories")


class TestBoundsOfBothVariants:
    def test_a_listing_still_sending_pages_after_the_time_bound_is_cut_off(self):
        clock = Clock()
        asked: list[dict[str, str]] = []

        def get(params: dict[str, str]) -> httpx.Response:
            asked.append(params)
            clock.now += limits.LISTING_MAX_SECONDS / 2 + 1
            return httpx.Response(200, json=[len(asked)], headers={"X-Total-Count": "99"})

        listing = numbered_pages(get, lambda body: body, CONTEXT, page_size=1, clock=clock)
        error = failure(listing)
        assert error.message == (
            "Harbor was still sending pages after 60 minutes while trying to list repositories"
        )
        assert len(asked) == 2

    @pytest.mark.parametrize("variant", [cursor_pages, numbered_pages])
    def test_both_variants_stop_at_the_page_bound(self, monkeypatch, variant):
        monkeypatch.setattr(limits, "MAX_PAGES", 5)
        asked: list[dict[str, str]] = []

        def get(params: dict[str, str]) -> httpx.Response:
            asked.append(params)
            headers = {"X-Next-Page-Start": f"c{len(asked)}", "X-Total-Count": "99"}
            return httpx.Response(200, json=[len(asked)], headers=headers)

        error = failure(variant(get, lambda body: body, CONTEXT, page_size=1, who="it"))
        assert error.message == "it sent more than 5 pages while trying to list repositories"
        assert len(asked) == 5

    @pytest.mark.parametrize("variant", [cursor_pages, numbered_pages])
    def test_both_variants_refuse_an_empty_page_with_a_next_page(self, variant):
        def get(params: dict[str, str]) -> httpx.Response:
            headers = {"X-Next-Page-Start": "more", "Link": '<x?page=2>; rel="next"'}
            return httpx.Response(200, json=[], headers=headers)

        error = failure(variant(get, lambda body: body, CONTEXT, page_size=1, who="it"))
        assert "it sent an empty page with a next page" in error.message
