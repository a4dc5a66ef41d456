"""CLI tests: run `dtrctl` in-process through Typer's CliRunner against respx mocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import respx
from typer.testing import CliRunner

from dtrctl.cli.app import app

DTR_URL = "https://dtr.test"


@dataclass
class Invocation:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def dtr_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_URL", DTR_URL)
    monkeypatch.setenv("DTRCTL_USERNAME", "admin")
    monkeypatch.setenv("DTRCTL_PASSWORD", "s3cret-token")


@pytest.fixture
def dtr() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=DTR_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
def cli() -> Any:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Invocation:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        return Invocation(result.exit_code, result.stdout, result.stderr)

    return invoke


def repository_body(namespace: str = "engineering", name: str = "api", **changes: Any) -> dict:
    body = {
        "id": f"{namespace}-{name}",
        "namespace": namespace,
        "namespaceType": "organization",
        "name": name,
        "shortDescription": "",
        "longDescription": "",
        "visibility": "private",
        "scanOnPush": False,
        "immutableTags": False,
        "enableManifestLists": False,
        "pulls": 0,
        "pushes": 0,
        "tagLimit": 0,
    }
    body.update(changes)
    return body
