"""Packaging: `python -m build` gives a wheel and an sdist that install into a fresh venv.

Builds once for this module (the wheel from the sdist, as `python -m build` does), installs
the wheel with pip into a new virtualenv (dependencies from the package index), and runs the
installed `dtrctl` against an in-process sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

from dtrctl import __version__
from dtrctl.cli.completion import SCRIPT_FILES, Shell
from dtrctl.sandbox.accounts import ADMIN
from dtrctl.sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT = 300


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, (
        f"{' '.join(command)} failed ({completed.returncode}):\n"
        f"{completed.stdout}\n{completed.stderr}"
    )
    return completed.stdout


@pytest.fixture(scope="module")
def dist(release_dist: Path) -> Path:
    """`make dist`'s files (scripts/dist.py, which runs `python -m build`)."""
    return release_dist


def test_make_dist_writes_sha256sums_that_sha256sum_checks(dist: Path) -> None:
    names = sorted(path.name for path in dist.iterdir())
    assert names == [
        "SHA256SUMS",
        f"dtrctl-{__version__}-py3-none-any.whl",
        f"dtrctl-{__version__}.tar.gz",
    ]
    listed = [line.split("  ")[1] for line in (dist / "SHA256SUMS").read_text().splitlines()]
    assert listed == names[1:]
    assert run(["sha256sum", "--check", "SHA256SUMS"], cwd=dist).count(": OK") == 2


def only(directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {directory}, found {found}"
    return found[0]


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"dtrctl-{__version__}.dist-info/METADATA").decode("utf-8")
    return Parser().parsestr(text)


def test_wheel_holds_the_package_and_nothing_of_the_tests(dist: Path) -> None:
    wheel = only(dist, "*.whl")
    assert wheel.name == f"dtrctl-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "dtrctl/__init__.py" in names
    assert "dtrctl/cli/app.py" in names
    assert "dtrctl/sandbox/server.py" in names
    assert not [name for name in names if name.startswith("tests/") or "conftest" in name]
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {
        "dtrctl",
        f"dtrctl-{__version__}.dist-info",
        f"dtrctl-{__version__}.data",
    }
    assert f"dtrctl-{__version__}.data/data/share/bash-completion/completions/dtrctl" in names


def test_sdist_holds_the_sources_and_completions_but_not_the_tests(dist: Path) -> None:
    sdist = only(dist, "*.tar.gz")
    assert sdist.name == f"dtrctl-{__version__}.tar.gz"
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    for expected in ("pyproject.toml", "README.md", "LICENSE", "dtrctl/cli/app.py"):
        assert expected in names
    for file_name in SCRIPT_FILES.values():
        assert f"completions/{file_name}" in names
    assert not [name for name in names if name.startswith("tests/") or "conftest" in name]


def test_wheel_metadata_is_complete(dist: Path) -> None:
    metadata = wheel_metadata(only(dist, "*.whl"))
    assert metadata["Name"] == "dtrctl"
    assert metadata["Version"] == __version__
    assert "Mirantis Secure Registry" in metadata["Summary"]
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["Description-Content-Type"] == "text/markdown"
    urls = {entry.split(",")[0] for entry in metadata.get_all("Project-URL", [])}
    assert {"Homepage", "Source", "Issues", "Documentation"} <= urls
    classifiers = metadata.get_all("Classifier", [])
    assert "Environment :: Console" in classifiers
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    # PyPI refuses License :: classifiers next to a License-Expression (PEP 639).
    assert not [classifier for classifier in classifiers if classifier.startswith("License ::")]
    requirements = " ".join(metadata.get_all("Requires-Dist", []))
    for dependency in ("typer", "httpx", "rich", "keyring"):
        assert dependency in requirements


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed by pip; its bin (Scripts) directory."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)], cwd=venv)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    run(
        [str(python), "-m", "pip", "install", "--quiet", str(only(dist, "*.whl"))],
        cwd=venv,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    return bin_dir


def installed_env(**extra: str) -> dict[str, str]:
    # Nothing from this checkout may leak in: the installed copy must stand alone.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, **extra}


def test_installed_dtrctl_runs_from_the_venv(installed: Path, tmp_path: Path) -> None:
    dtrctl = str(installed / "dtrctl")
    assert run([dtrctl, "--version"], cwd=tmp_path, env=installed_env()) == (
        f"dtrctl {__version__}\n"
    )
    location = run(
        [str(installed / "python"), "-c", "import dtrctl; print(dtrctl.__file__)"],
        cwd=tmp_path,
        env=installed_env(),
    )
    assert Path(location.strip()).is_relative_to(installed.parent)
    bash_script = run([dtrctl, "completion", "bash"], cwd=tmp_path, env=installed_env())
    assert bash_script == (ROOT / "completions" / SCRIPT_FILES[Shell.bash]).read_text()


def test_installed_dtrctl_lists_repositories_of_a_sandbox(installed: Path, tmp_path: Path) -> None:
    with SandboxServer(seed="demo") as sandbox:
        output = run(
            [str(installed / "dtrctl"), "repo", "list", "-o", "json"],
            cwd=tmp_path,
            env=installed_env(
                DTRCTL_URL=sandbox.url,
                DTRCTL_USERNAME=ADMIN.username,
                DTRCTL_PASSWORD=ADMIN.password,
            ),
        )
    names = {repository["repository"] for repository in json.loads(output)["repositories"]}
    assert {"engineering/api", "library/nginx"} <= names
