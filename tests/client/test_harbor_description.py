"""A repository's description on Harbor: `PUT /projects/{p}/repositories/{r}` (the path encoded
twice), and a 405 is the server's failure (exit 5), never the user's (exit 2)."""

from __future__ import annotations

import httpx
import pytest
import respx

from dtrctl.backends.harbor.api import HarborClient
from dtrctl.errors import BadRequest, ExitCode, InvalidResponse
from tests.client.test_harbor_client import API, harbor, harbor_error, http, mock

__all__ = ["harbor", "http", "mock"]


def test_the_description_is_put_on_the_repository(
    harbor: HarborClient, mock: respx.MockRouter
) -> None:
    route = mock.put(f"{API}/projects/library/repositories/team%252Fapp").respond(200)
    harbor.update_repository_description("library", "team/app", "Team app")
    request = route.calls.last.request
    assert request.content == b'{"description":"Team app"}'


def test_a_405_is_not_the_expected_api_never_a_usage_error(
    harbor: HarborClient, mock: respx.MockRouter
) -> None:
    mock.put(f"{API}/projects/library/repositories/app").mock(
        return_value=harbor_error(405, "METHOD_NOT_ALLOWED", "PUT is not allowed here")
    )
    with pytest.raises(InvalidResponse) as raised:
        harbor.update_repository_description("library", "app", "x")
    assert raised.value.exit_code is ExitCode.UNAVAILABLE and raised.value.status == 405


def test_another_4xx_stays_what_it_was(harbor: HarborClient, mock: respx.MockRouter) -> None:
    mock.put(f"{API}/projects/library/repositories/app").mock(
        return_value=httpx.Response(400, json={"errors": [{"code": "BAD_REQUEST"}]})
    )
    with pytest.raises(BadRequest) as raised:
        harbor.update_repository_description("library", "app", "x")
    assert raised.value.exit_code is ExitCode.USAGE
