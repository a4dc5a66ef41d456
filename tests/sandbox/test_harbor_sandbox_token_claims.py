"""The Harbor flavor's tokens say what they grant, as Harbor's do: the JWT `access` claim lists
only the actions the account may do (push-check reads it to predict a refused push)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from dtrctl.sandbox.accounts import ALICE, BOB

CI_ROBOT_AUTH = ("robot$engineering+ci", "sandbox-robot-ci-secret")


def claims(harbor_for: Any, auth: tuple[str, str] | None, repository: str) -> Any:
    token = (
        harbor_for(auth)
        .get("/service/token", params={"scope": f"repository:{repository}:pull,push"})
        .json()["token"]
    )
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize(
    ("auth", "repository", "actions"),
    [
        ((BOB.username, BOB.password), "engineering/api", ["pull"]),  # guest
        ((ALICE.username, ALICE.password), "engineering/api", ["pull", "push"]),  # developer
        ((ALICE.username, ALICE.password), "library/nginx", ["pull"]),  # guest there
        (CI_ROBOT_AUTH, "library/nginx", ["pull"]),  # robot of another project: public read
        (CI_ROBOT_AUTH, "engineering/api", ["pull", "push"]),
    ],
)
def test_the_access_claim_lists_only_what_the_account_may_do(
    harbor_for: Any, auth: tuple[str, str], repository: str, actions: list[str]
) -> None:
    assert claims(harbor_for, auth, repository)["access"] == [
        {"type": "repository", "name": repository, "actions": actions}
    ]


def test_nothing_granted_is_an_empty_claim(harbor_for: Any) -> None:
    assert claims(harbor_for, None, "engineering/api")["access"] == []
