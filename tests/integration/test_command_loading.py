"""The installed `dtrctl` loads only the command it runs, and still behaves as one whole CLI."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT, run_dtrctl

pytestmark = pytest.mark.integration

OTHER_COMMAND_MODULES = ("dtrctl.cli.repo", "dtrctl.cli.apply", "dtrctl.cli.auth", "dtrctl.cli.ca")


def sandbox_env(sandbox: SandboxServer, **more: str) -> dict[str, str]:
    return {
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": "admin",
        "DTRCTL_PASSWORD": "sandbox-admin-password",
        **more,
    }


def modules_loaded(env: dict[str, str], *args: str) -> set[str]:
    """The modules loaded by a run of dtrctl's entry point with `args`."""
    program = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(sorted(sys.modules), file=sys.stderr))\n"
        f"sys.argv = ['dtrctl', *{list(args)!r}]\n"
        "from dtrctl.main import main\n"
        "main()\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert completed.returncode == 0, completed.stderr
    return set(ast.literal_eval(completed.stderr.strip().splitlines()[-1]))


def test_push_check_loads_no_other_command(sandbox: SandboxServer) -> None:
    modules = modules_loaded(sandbox_env(sandbox), "push-check", "engineering/api:9.9")
    assert "dtrctl.cli.push_check" in modules
    assert not modules & set(OTHER_COMMAND_MODULES)


# What a push-check with DTRCTL_PASSWORD against a plain-HTTP DTR without a config file does not
# need (docs/performance.md): the writes, the credential stores, TOML, httpcore (dtrctl's own pool
# serves HTTP/1.1), HTTP/2, async I/O, idna, `--protect` globs, and `repo unlock` (its journal is
# loaded only when a window is open).
NOT_NEEDED_BY_PUSH_CHECK = (
    "dtrctl.records.changes",
    "dtrctl.backends.dtr.writes",
    "dtrctl.globs",
    "dtrctl.repos.journal",
    "dtrctl.records.unlock",
    "dtrctl.backends.dtr.unlock",
    "dtrctl.auth.docker_config",
    "dtrctl.auth.secret_store",
    "dtrctl.tomlfile",
    "httpcore",
    "h11",
    "h2",
    "anyio",
    "encodings.idna",
)


def test_push_check_loads_only_what_it_uses(sandbox: SandboxServer) -> None:
    modules = modules_loaded(sandbox_env(sandbox), "push-check", "engineering/api:9.9")
    assert "dtrctl.client.pool" in modules
    assert not modules & set(NOT_NEEDED_BY_PUSH_CHECK)


# What a push-check against MSR 4 / Harbor does not need: the rule writes and packing, `repo
# unlock`, the repository records of `repo show` and the audit's rule findings.
NOT_NEEDED_BY_HARBOR_PUSH_CHECK = (
    "dtrctl.backends.harbor.writes",
    "dtrctl.backends.harbor.packing",
    "dtrctl.backends.harbor.unlock",
    "dtrctl.backends.harbor.repository_record",
    "dtrctl.backends.harbor.rule_findings",
    "dtrctl.records.changes",
    "dtrctl.repos.journal",
)


def test_push_check_on_harbor_loads_only_what_it_uses() -> None:
    with SandboxServer(flavor="harbor") as harbor:
        modules = modules_loaded(sandbox_env(harbor), "push-check", "library/nginx:9.9")
    assert "dtrctl.backends.harbor.push_facts" in modules
    assert not modules & set(NOT_NEEDED_BY_HARBOR_PUSH_CHECK)


@pytest.mark.parametrize(
    "args", [("--help",), ("push-check", "--help"), ("repo", "list", "-h"), ("--version",)]
)
def test_help_and_version_load_no_http_terminal_or_keyring_library(args: tuple[str, ...]) -> None:
    # What every `--help` and every TAB of completion pays for (`dtrctl --version` not even Typer).
    loaded = modules_loaded({}, *args)
    top_level = {name.split(".")[0] for name in loaded}
    assert not top_level & {"httpx", "httpcore", "rich", "keyring"}
    assert "dtrctl.sandbox" not in loaded
    assert ("typer" in top_level) is (args != ("--version",))


def test_an_option_value_named_like_a_command_runs_the_real_command(
    sandbox: SandboxServer,
) -> None:
    config_dir = Path(os.environ["DTRCTL_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f'[profiles.repo]\nurl = "{sandbox.url}"\n')
    env = sandbox_env(sandbox)
    del env["DTRCTL_URL"]
    run = run_dtrctl("--profile", "repo", "push-check", "engineering/api:9.9", env=env)
    assert run.code == 0, run.stderr
    assert run.stdout.startswith("free")


def test_overview_and_typos_still_see_every_command() -> None:
    overview = run_dtrctl(env={})
    assert overview.code == 0
    for name in ("repo", "push-check", "login", "apply", "completion"):
        assert name in overview.stdout
    typo = run_dtrctl("pusch-check", "engineering/api:1.0", env={})
    assert typo.code == 2
    assert "push-check" in typo.stderr
