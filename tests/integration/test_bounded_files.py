"""The installed `dtrctl` reads every file it is pointed at within a cap (dtrctl.files).

`/dev/zero`, a file larger than the cap and a FIFO whose writer never stops are each refused with
exit 2 naming the path, promptly and in bounded memory: the child runs under an address-space
limit, so a dtrctl that read without a cap would fail here instead of swallowing the machine.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtrctl.files import METADATA_FILE_LIMIT, NAME_LIST_LIMIT
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, Run, dtrctl_binary, free_port

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
# Far above what dtrctl needs, far below what reading /dev/zero without a cap would take.
MEMORY_LIMIT = 1024 * 1024 * 1024
ZERO = "/dev/zero"


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_bounded(*args: str, env: dict[str, str]) -> Run:
    completed = subprocess.run(
        [dtrctl_binary(), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
        preexec_fn=limit_memory,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def refused(run: Run, path: object) -> None:
    assert run.code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert f"{path} is larger than" in run.stderr


@pytest.fixture
def closed_port_env() -> dict[str, str]:
    """A URL nothing listens on: files are read before any request."""
    return {
        "DTRCTL_URL": f"http://127.0.0.1:{free_port()}",
        "DTRCTL_USERNAME": ADMIN[0],
        "DTRCTL_PASSWORD": ADMIN[1],
    }


@pytest.fixture
def endless_fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO whose writer writes until the reader goes away."""
    path = tmp_path / "endless"
    os.mkfifo(path)

    def write() -> None:
        chunk = b"a/b\n" * 16384
        try:
            with open(path, "wb") as stream:
                while True:
                    stream.write(chunk)
        except (BrokenPipeError, OSError):
            return

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    yield path
    if writer.is_alive():
        # Nobody opened the FIFO: open it once so the writer's open returns and it ends.
        with open(path, "rb") as stream:
            stream.read(1)
    writer.join(timeout=SUBPROCESS_TIMEOUT)


class TestCaps:
    def test_metadata_file(self, closed_port_env: dict[str, str]) -> None:
        run = run_bounded("push-check", "ci/a:1", "--metadata-file", ZERO, env=closed_port_env)
        refused(run, ZERO)

    def test_metadata_file_just_over_the_cap(
        self, closed_port_env: dict[str, str], tmp_path: Path
    ) -> None:
        # Valid JSON, padded past the cap: refused for its size, not its content.
        metadata = tmp_path / "metadata.json"
        digest = "sha256:" + "a" * 64
        metadata.write_text(" " * METADATA_FILE_LIMIT + f'{{"containerimage.digest": "{digest}"}}')
        run = run_bounded(
            "push-check", "ci/a:1", "--metadata-file", str(metadata), env=closed_port_env
        )
        refused(run, metadata)

    def test_oci_layout_index(self, closed_port_env: dict[str, str], tmp_path: Path) -> None:
        layout = tmp_path / "layout"
        layout.mkdir()
        (layout / "index.json").symlink_to(ZERO)
        run = run_bounded("push-check", "ci/a:1", "--oci-layout", str(layout), env=closed_port_env)
        refused(run, layout / "index.json")

    @pytest.mark.parametrize(
        "args",
        [("repo", "set-immutable", "--yes", "--from-file"), ("repo", "list", "--from-file")],
        ids=["set-immutable", "list"],
    )
    def test_from_file(self, closed_port_env: dict[str, str], args: tuple[str, ...]) -> None:
        refused(run_bounded(*args, ZERO, env=closed_port_env), ZERO)

    def test_from_file_fed_by_an_endless_fifo(
        self, closed_port_env: dict[str, str], endless_fifo: Path
    ) -> None:
        run = run_bounded("repo", "list", "--from-file", str(endless_fifo), env=closed_port_env)
        refused(run, endless_fifo)

    def test_from_file_just_over_the_cap(
        self, closed_port_env: dict[str, str], tmp_path: Path
    ) -> None:
        names = tmp_path / "names.txt"
        names.write_text("ci/builder\n" * (NAME_LIST_LIMIT // len("ci/builder\n") + 1))
        run = run_bounded("repo", "list", "--from-file", str(names), env=closed_port_env)
        refused(run, names)

    @pytest.mark.parametrize(
        "args",
        [("explain", "p/r:1", "--rules"), ("rules", "lint", "--rules")],
        ids=["explain", "lint"],
    )
    def test_rules_file(
        self, closed_port_env: dict[str, str], endless_fifo: Path, args: tuple[str, ...]
    ) -> None:
        refused(run_bounded(*args, ZERO, env=closed_port_env), ZERO)
        refused(run_bounded(*args, str(endless_fifo), env=closed_port_env), endless_fifo)

    def test_policy_file(self, closed_port_env: dict[str, str]) -> None:
        refused(run_bounded("apply", "-f", ZERO, env=closed_port_env), ZERO)

    def test_config_file(self, closed_port_env: dict[str, str], tmp_path: Path) -> None:
        config = tmp_path / "config"
        config.mkdir()
        (config / "config.toml").symlink_to(ZERO)
        env = {**closed_port_env, "DTRCTL_CONFIG_DIR": str(config)}
        run = run_bounded("repo", "show", "ci/builder", env=env)
        assert run.code == 2, run.stderr
        assert f"the config file {config / 'config.toml'} is not a regular file" in run.stderr

    def test_config_file_as_a_fifo_nobody_writes(
        self, closed_port_env: dict[str, str], tmp_path: Path
    ) -> None:
        config = tmp_path / "config"
        config.mkdir()
        os.mkfifo(config / "config.toml")
        env = {**closed_port_env, "DTRCTL_CONFIG_DIR": str(config)}
        run = run_bounded("repo", "show", "ci/builder", env=env)
        assert run.code == 2, run.stderr
        assert f"the config file {config / 'config.toml'} is not a regular file" in run.stderr


def test_a_byte_order_mark_before_the_first_name_is_accepted(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    names = tmp_path / "names.txt"
    names.write_bytes("\ufeffci/builder\r\nlibrary/nginx\r\n".encode())
    env = {"DTRCTL_URL": sandbox.url, "DTRCTL_USERNAME": ADMIN[0], "DTRCTL_PASSWORD": ADMIN[1]}
    run = run_bounded("repo", "list", "--from-file", str(names), env=env)
    assert run.code == 0, run.stderr
    listed = [line.split()[0] for line in run.stdout.splitlines()[1:]]
    assert listed == ["ci/builder", "library/nginx"]
