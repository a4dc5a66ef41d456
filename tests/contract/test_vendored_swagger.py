"""The vendored API excerpts: present in every clone, and equal to ../shared's where CI has it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DTR_SWAGGER, HARBOR_SWAGGER, SHARED_DIR, VENDORED_DATA, load_swagger


@pytest.mark.parametrize("excerpt", [DTR_SWAGGER, HARBOR_SWAGGER])
def test_the_excerpts_are_vendored_so_no_contract_test_is_skipped(
    excerpt: tuple[str, str], tmp_path: Path
) -> None:
    # A clone without ../shared still loads them.
    document = load_swagger(excerpt, shared_dir=tmp_path / "no-shared")
    assert document["swagger"] == "2.0"
    assert document["paths"]


@pytest.mark.parametrize("excerpt", [DTR_SWAGGER, HARBOR_SWAGGER])
def test_the_vendored_copy_equals_the_shared_one_where_present(excerpt: tuple[str, str]) -> None:
    shared = SHARED_DIR / excerpt[0] / excerpt[1]
    if not shared.is_file():
        pytest.skip(f"no {shared} beside this checkout")
    assert shared.read_bytes() == (VENDORED_DATA / excerpt[1]).read_bytes()


def _copies(tmp_path: Path, shared_text: str) -> tuple[Path, Path]:
    vendored, shared = tmp_path / "vendored", tmp_path / "shared"
    vendored.mkdir()
    (shared / DTR_SWAGGER[0]).mkdir(parents=True)
    shutil.copy(VENDORED_DATA / DTR_SWAGGER[1], vendored / DTR_SWAGGER[1])
    (shared / DTR_SWAGGER[0] / DTR_SWAGGER[1]).write_text(shared_text, encoding="utf-8")
    return vendored, shared


def test_ci_fails_when_the_vendored_copy_drifts_from_the_shared_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendored, shared = _copies(tmp_path, '{"swagger": "2.0", "paths": {}}')
    monkeypatch.setenv("DTRCTL_REQUIRE_SWAGGER", "1")
    with pytest.raises(pytest.fail.Exception, match="differs"):
        load_swagger(DTR_SWAGGER, vendored, shared)
    monkeypatch.delenv("DTRCTL_REQUIRE_SWAGGER")
    # Outside CI the vendored copy is used as it is.
    assert load_swagger(DTR_SWAGGER, vendored, shared)["paths"]


def test_ci_fails_when_no_excerpt_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_REQUIRE_SWAGGER", "1")
    with pytest.raises(pytest.fail.Exception, match="required"):
        load_swagger(DTR_SWAGGER, tmp_path, tmp_path)
