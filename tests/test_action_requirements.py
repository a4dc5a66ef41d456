"""requirements/action.txt, what the GitHub Action installs with `--require-hashes`, is current.

It is generated from pyproject.toml (`make requirements`); after a change of the dependencies
this test fails until it is generated again: every dependency (and the build backend, which the
Action's `--no-build-isolation` install needs) is pinned, within its range, with hashes, for
every Python the package supports.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "action.txt"
INPUT = ROOT / "requirements" / "action.in"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
ENTRY_RE = re.compile(r"^([A-Za-z0-9._-]+)==(\S+?)(?: ; (.+?))? \\$")


def pinned() -> dict[str, list[tuple[str, Marker | None, int]]]:
    """Each pinned name: (version, marker, number of hashes) per line that pins it."""
    entries: dict[str, list[tuple[str, Marker | None, int]]] = {}
    current: list[tuple[str, Marker | None, int]] | None = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = ENTRY_RE.match(line)
        if match:
            name, version, marker = match.groups()
            current = entries.setdefault(canonicalize_name(name), [])
            current.append((version, Marker(marker) if marker else None, 0))
        elif line.strip().startswith("--hash=sha256:") and current:
            version, marker, hashes = current[-1]
            current[-1] = (version, marker, hashes + 1)
        elif line and not line.startswith(("#", " ")):
            pytest.fail(f"unexpected line in {LOCK.name}: {line!r}")
    return entries


def linux(python: str) -> dict[str, str]:
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "extra": "",
    }


def requirements() -> list[Requirement]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lines = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    lines += [
        line for line in INPUT.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    ]
    return [Requirement(line) for line in lines]


def test_every_line_is_pinned_with_a_hash() -> None:
    entries = pinned()
    assert entries, f"{LOCK} pins nothing"
    for name, lines in entries.items():
        for version, _, hashes in lines:
            assert hashes, f"{name}=={version} has no --hash: run `make requirements`"


@pytest.mark.parametrize("python", PYTHONS)
def test_each_dependency_is_pinned_within_its_range(python: str) -> None:
    entries = pinned()
    environment = linux(python)
    for requirement in requirements():
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        name = canonicalize_name(requirement.name)
        versions = [
            version
            for version, marker, _ in entries.get(name, [])
            if marker is None or marker.evaluate(environment)
        ]
        assert len(versions) == 1, (
            f"{LOCK.name} pins {name} {versions} for Python {python}: run `make requirements`"
        )
        assert requirement.specifier.contains(versions[0], prereleases=True), (
            f"{LOCK.name} pins {name}=={versions[0]}, outside {requirement}: "
            "run `make requirements`"
        )


def test_the_action_installs_these_pins_by_hash_and_the_checkout_offline() -> None:
    import yaml

    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    install = action["runs"]["steps"][0]["run"]
    assert '--require-hashes --no-deps -r "$DTRCTL_ACTION_PATH/requirements/action.txt"' in install
    assert '--no-deps --no-build-isolation --no-index "$DTRCTL_ACTION_PATH"' in install
    assert not re.search(r"\bpipx\s", install)


def test_make_dist_refuses_a_tag_that_is_not_the_version(tmp_path: Path) -> None:
    """A release tag and `dtrctl --version` agree: a v* tag on HEAD naming another version
    stops `make dist` before it builds anything."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "dtrctl").mkdir()
    for relative in ("scripts/dist.py", "dtrctl/__init__.py"):
        (tmp_path / relative).write_bytes((ROOT / relative).read_bytes())

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            timeout=60,
        )

    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "release")
    git("tag", "v99.0.0")
    completed = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "dist.py"), "--outdir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert "HEAD is tagged v99.0.0, but the version is" in completed.stderr
    assert not (tmp_path / "d").exists()
