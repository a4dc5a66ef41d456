"""The installed `dtrctl sandbox` refuses what it cannot serve with one line, never a traceback:
a busy port exits 5, an unknown seed or a missing or broken TLS file exits 2."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Run, run_dtrctl

pytestmark = pytest.mark.integration


def one_line_error(run: Run, code: int) -> str:
    assert run.code == code, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), run.stderr
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def test_a_busy_port_is_exit_5(busy_port: int) -> None:
    line = one_line_error(run_dtrctl("sandbox", "--port", str(busy_port), env={}), 5)
    assert f"127.0.0.1:{busy_port}" in line


def test_an_unknown_seed_is_exit_2() -> None:
    line = one_line_error(run_dtrctl("sandbox", "--seed", "nope", env={}), 2)
    assert "nope" in line and "demo" in line


def test_a_missing_tls_file_is_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    run = run_dtrctl("sandbox", "--tls-cert", str(missing), "--tls-key", str(missing), env={})
    assert str(missing) in one_line_error(run, 2)


def test_a_broken_tls_file_is_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    run = run_dtrctl("sandbox", "--tls-cert", str(broken), "--tls-key", str(broken), env={})
    assert "--tls-cert" in one_line_error(run, 2)
