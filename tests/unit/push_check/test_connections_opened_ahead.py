"""Which manifest GETs open their connection while the token is on its way (`gather.py`)."""

from __future__ import annotations

from dtrctl.client.limits import POOL_CONNECTIONS
from dtrctl.push_check.gather import keys_opening_a_connection
from dtrctl.reference import RepositoryName

APP = RepositoryName("team", "app")
WEB = RepositoryName("team", "web")


def test_every_tag_but_the_one_asking_for_its_repositorys_token_opens_one() -> None:
    keys = [(APP, "1.0"), (WEB, "1.0"), (APP, "1.1"), (WEB, "1.1"), (APP, "1.2")]
    assert keys_opening_a_connection(keys) == {(APP, "1.1"), (WEB, "1.1"), (APP, "1.2")}


def test_one_tag_opens_none_its_token_connection_is_free_when_the_token_arrives() -> None:
    assert keys_opening_a_connection([(APP, "1.0")]) == set()


def test_the_pool_bounds_them_beside_the_first_questions() -> None:
    keys = [(APP, f"1.{minor}") for minor in range(40)]
    opened = keys_opening_a_connection(keys)
    # The state, 40 details, the token and the probe already fill the pool.
    assert opened == set()
    keys = keys[:12]
    opened = keys_opening_a_connection(keys)
    assert len(opened) == 11
    assert 1 + 12 + 1 + 1 + len(opened) <= POOL_CONNECTIONS


def test_under_auto_both_token_requests_count_among_the_first_questions() -> None:
    keys = [(APP, f"1.{minor}") for minor in range(20)]
    one, both = keys_opening_a_connection(keys), keys_opening_a_connection(keys, 2)
    # The state, 20 details, DTR's and Harbor's token requests and the probe, then the rest.
    assert len(both) == len(one) - 1 == POOL_CONNECTIONS - (1 + 20 + 2 + 1)
