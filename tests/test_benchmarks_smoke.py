"""The benchmarks of `benchmarks/` at tiny sizes, so that they never rot.

Each runs end to end against the installed `dtrctl` and the sandbox and must produce its table;
no timing and no target is asserted (a loaded machine may miss any of them).
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks import bulk, push_check, scale, startup
from benchmarks.common import SMOKE, Workspace
from benchmarks.latency_proxy import LatencyProxy
from benchmarks.report import Section, Target, render
from dtrctl.sandbox.server import SandboxServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    # One workspace for the module: its bytecode cache is compiled once, not per benchmark.
    return Workspace.create(tmp_path_factory.mktemp("benchmarks"))


def test_startup_compares_each_command_with_the_floor(workspace: Workspace) -> None:
    section = startup.run(workspace, SMOKE)

    assert [row[0] for row in section.rows] == [
        f"`{startup.FLOOR}`",
        "`dtrctl --version`",
        "`dtrctl --help`",
        startup.COMPLETION,
    ]
    assert [target.limit for target in section.targets] == [startup.TARGET] * 3
    # The import-time tables of `--help` and of the completion request.
    assert sum("python -X importtime" in note for note in section.notes) == 2


def test_push_check_on_loopback_reports_both_outputs(workspace: Workspace) -> None:
    section = push_check.run_loopback(workspace, SMOKE)

    assert [row[0] for row in section.rows] == [
        f"`{push_check.FLOOR}`",
        push_check.ONE_GET,
        "`dtrctl push-check` (text)",
        "`dtrctl push-check -o json`",
    ]
    assert len(section.targets) == 2


def test_push_check_across_a_delay_counts_round_trips(workspace: Workspace) -> None:
    section = push_check.run_network(workspace, SMOKE)

    rows = {row[0]: row for row in section.rows}
    three_tags = rows[push_check.dtrctl_label(3)]
    connections, flights, round_trips = (int(cell) for cell in three_tags[3:6])
    assert connections >= 1
    assert flights >= connections
    assert round_trips >= 2  # a connection and at least one request


def test_bulk_changes_every_repository(workspace: Workspace) -> None:
    section = bulk.run(workspace, SMOKE)

    requests = [int(row[2]) for row in section.rows]
    # A GET and a PATCH per repository; the pattern's listing adds one page.
    assert requests[0] == 2 * SMOKE.bulk_repositories
    assert requests[1] == 2 * SMOKE.bulk_repositories + 1
    assert "loop" in section.rows[-1][0]


def test_scale_lists_every_size(workspace: Workspace) -> None:
    section = scale.run(workspace, SMOKE)

    assert [row[0] for row in section.rows] == [f"{size:,}" for size in SMOKE.scale_sizes]
    assert len(section.targets) == 2


def test_results_page_names_the_machine_and_every_target() -> None:
    section = Section("Example", ("a", "b"))
    section.add("x", "1 ms")
    missed = Target("start-up", measured=2.0, limit=1.25)
    section.targets.append(missed)

    text = render([section], {"CPU": "test CPU", "Date": "today"}, "smoke", "run.py --smoke")

    assert "| CPU | test CPU |" in text
    assert "## Example" in text
    assert text.count(missed.line()) == 2  # in the summary and under its section
    assert "2.00× (target ≤ 1.25×): **missed**" in text


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    yield server
    server.stop()


def _port(server: SandboxServer) -> int:
    return int(server.host_port.rsplit(":", 1)[1])


def test_latency_proxy_counts_a_keep_alive_exchange(sandbox: SandboxServer) -> None:
    with LatencyProxy(_port(sandbox), delay_ms=1) as proxy:
        connection = socket.create_connection(("127.0.0.1", proxy.port))
        with connection, connection.makefile("rwb") as stream:
            for _ in range(2):
                stream.write(b"GET /_ping HTTP/1.1\r\nHost: bench\r\n\r\n")
                stream.flush()
                assert stream.readline().startswith(b"HTTP/1.1 200")
                while stream.readline() not in (b"\r\n", b""):
                    pass
                assert stream.read(2) == b"OK"
        stats = proxy.stats()

    assert (stats.connections, stats.client_flights) == (1, 2)
    # The connection's set-up, then two requests one after the other.
    assert stats.sequential_round_trips == 3


def test_latency_proxy_passes_answers_through(sandbox: SandboxServer) -> None:
    with LatencyProxy(_port(sandbox), delay_ms=1) as proxy:
        url = f"http://{proxy.host_port}/health"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body = json.loads(answer.read())

    assert body == {"error": "", "healthy": True}


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com"])
def test_latency_proxy_refuses_other_than_loopback(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        LatencyProxy(5000, delay_ms=1, upstream_host=host)


def test_latency_proxy_refuses_an_unbounded_delay() -> None:
    with pytest.raises(ValueError, match="delay"):
        LatencyProxy(5000, delay_ms=5000)


def test_run_writes_nothing_in_smoke_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import run

    monkeypatch.setattr(run, "RESULTS", tmp_path / "RESULTS.md")
    monkeypatch.setattr(run, "BENCHMARKS", {"example": lambda workspace, profile: _section()})

    assert run.main(["--smoke"]) == 0
    assert not (tmp_path / "RESULTS.md").exists()


def _section() -> Section:
    section = Section("Example", ("a",))
    section.add("x")
    return section


def test_dtr_and_harbor_figures_are_shown_side_by_side_after_both_tables() -> None:
    from benchmarks.run import with_side_by_side

    def network(title: str, label: Callable[[int], str], trips: int) -> Section:
        section = Section(title, ("command",))
        for count in push_check.TAG_COUNTS:
            section.figures[label(count)] = {
                "median_s": 0.4,
                "ratio": 0.75,
                "trips": trips,
                "off_network_s": 0.2,
            }
        return section

    dtr = network("3. push-check across a network delay", push_check.dtrctl_label, 4)
    harbor = network("3b. Harbor", push_check.harbor_auto_label, 5)
    later = Section("4. bulk", ("x",))

    sections = with_side_by_side([dtr, harbor, later], SMOKE)

    assert [section.title for section in sections] == [
        dtr.title,
        harbor.title,
        push_check.SIDE_BY_SIDE_TITLE,
        later.title,
    ]
    assert sections[2].rows == [
        (str(count), "400 ms (0.75×)", "4", "400 ms (0.75×)", "5")
        for count in push_check.TAG_COUNTS
    ]
    assert with_side_by_side([dtr, later], SMOKE) == [dtr, later]
