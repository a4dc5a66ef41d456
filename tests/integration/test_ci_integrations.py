"""The GitHub Action (action.yml) and the GitLab CI template, run as their CI would run them.

Each is read with a YAML parser; its scripts run under the shell the CI uses, with the
variables the CI sets, against the sandbox. The installers (pipx, pip) are not run: the test
checks their command lines and puts this checkout's installed `dtrctl` on the PATH through a
wrapper that records each command line, so the tests also see that no secret is an argument.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import SUBPROCESS_TIMEOUT

pytestmark = pytest.mark.integration

CHECKOUT = Path(__file__).resolve().parents[2]
ACTION = CHECKOUT / "action.yml"
GITLAB_TEMPLATE = CHECKOUT / "ci" / "gitlab" / "push-check.yml"
DOCUMENT = CHECKOUT / "docs" / "ci.md"
ALICE = ("alice", "sandbox-alice-password")
# What GitHub runs for `shell: bash`; GitLab's runner runs the script with the image's shell.
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
WRAPPER = """#!/bin/sh
printf '%s\\n' "$*" >> "{log}"
exec "{real}" "$@"
"""
# Records pipx's arguments and "installs" by linking the wrapper into pipx's bin directory.
FAKE_PIPX = """#!/bin/sh
printf '%s\\n' "$*" >> "{log}"
mkdir -p "$PIPX_BIN_DIR" && ln -sf "{wrapper}" "$PIPX_BIN_DIR/dtrctl"
"""


@dataclass(frozen=True)
class Runner:
    """A CI runner's machine: a workspace, a scratch directory and the tools on PATH."""

    root: Path
    workspace: Path
    tools: Path
    wrapper: Path
    base_env: Mapping[str, str]

    def logged(self, name: str) -> list[str]:
        path = self.root / f"{name}.log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def runner(sandbox: SandboxServer, tmp_path: Path) -> Runner:
    tools = tmp_path / "tools"
    tools.mkdir()
    wrapper = tools / "dtrctl-wrapper"
    real = Path(sys.executable).with_name("dtrctl")
    wrapper.write_text(WRAPPER.format(log=tmp_path / "dtrctl.log", real=real))
    wrapper.chmod(0o755)
    pipx = tools / "pipx"
    pipx.write_text(FAKE_PIPX.format(log=tmp_path / "pipx.log", wrapper=wrapper))
    pipx.chmod(0o755)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    # A file a glob input (v*) would match if the scripts let the shell expand it.
    (workspace / "v1-notes.txt").write_text("")
    env = {
        "HOME": os.environ["HOME"],
        "PATH": os.pathsep.join([str(tools), "/usr/bin", "/bin"]),
        "LANG": "C.UTF-8",
        "DTRCTL_CONFIG_DIR": os.environ["DTRCTL_CONFIG_DIR"],
        "DOCKER_CONFIG": os.environ["DOCKER_CONFIG"],
    }
    return Runner(tmp_path, workspace, tools, wrapper, env)


# GitHub Actions


def evaluate(text: str, inputs: Mapping[str, str], outputs: Mapping[str, str] = {}) -> str:
    """The action's `${{ }}` expressions: inputs, github.action_path, the check's outputs."""

    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression == "github.action_path":
            return str(CHECKOUT)
        if expression.startswith("steps.check.outputs."):
            return outputs.get(expression.removeprefix("steps.check.outputs."), "")
        assert expression.startswith("inputs."), f"unexpected expression {expression}"
        return inputs[expression.removeprefix("inputs.")]

    return EXPRESSION.sub(value, text)


@dataclass(frozen=True)
class ActionRun:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


def run_action(runner: Runner, sandbox: SandboxServer, **given: str) -> ActionRun:
    """The composite action's steps in order, as the runner runs them, until one fails."""
    action = yaml.safe_load(ACTION.read_text())
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    inputs.update({name.replace("_", "-"): value for name, value in given.items()})
    files = {name: runner.root / name.lower() for name in ("GITHUB_PATH", "GITHUB_STEP_SUMMARY")}
    for path in files.values():
        path.write_text("")
    env = {
        **runner.base_env,
        **{name: str(path) for name, path in files.items()},
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(runner.workspace),
        "GITHUB_RUN_ID": "4711",
        "GITHUB_ACTION": "__dtrctl_push-check",
        "RUNNER_TEMP": str(runner.root),
        "PIPX_BIN_DIR": str(runner.root / "pipx-bin"),
    }
    stdout = stderr = ""
    outputs: dict[str, str] = {}
    code = 0
    for number, step in enumerate(action["runs"]["steps"]):
        assert step["shell"] == "bash"
        # Inputs reach the scripts through `env:` only: an input cannot inject shell.
        assert "${{" not in step["run"]
        output_file = runner.root / f"output-{number}"
        output_file.write_text("")
        added = [line for line in files["GITHUB_PATH"].read_text().splitlines() if line]
        step_env = {
            **env,
            **{name: evaluate(str(value), inputs) for name, value in step.get("env", {}).items()},
            "GITHUB_OUTPUT": str(output_file),
            "PATH": os.pathsep.join([*reversed(added), env["PATH"]]),
        }
        script = runner.root / f"step-{number}.sh"
        script.write_text(step["run"])
        completed = subprocess.run(
            [*GITHUB_BASH, str(script)],
            env=step_env,
            cwd=runner.workspace,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
        stdout, stderr, code = completed.stdout, completed.stderr, completed.returncode
        if step.get("id"):
            pairs = (line.partition("=") for line in output_file.read_text().splitlines())
            outputs.update({name: value for name, _, value in pairs})
        if code:
            break
    results = {
        name: evaluate(spec["value"], inputs, outputs) for name, spec in action["outputs"].items()
    }
    return ActionRun(code, stdout, stderr, results, files["GITHUB_STEP_SUMMARY"].read_text())


def test_action_inputs_are_documented() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    expected = {"references", "digest", "oci-layout", "metadata-file", "strict", "protect"}
    expected |= {"url", "username", "password", "extra-args"}
    assert set(action["inputs"]) == expected
    assert all(spec["description"] for spec in action["inputs"].values())
    assert set(action["outputs"]) == {"exit-code", "verdicts"}


def test_documented_uses_match_the_action_and_the_template() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCUMENT.read_text(), re.DOTALL)
    workflow, gitlab = (yaml.safe_load(block) for block in blocks)
    steps = workflow["jobs"]["image"]["steps"]
    (uses,) = [step for step in steps if str(step.get("uses", "")).startswith("dtrctl/")]
    assert set(uses["with"]) <= set(yaml.safe_load(ACTION.read_text())["inputs"])
    assert gitlab["include"][0]["file"] == str(GITLAB_TEMPLATE.relative_to(CHECKOUT))
    assert gitlab["push-check"]["extends"] in yaml.safe_load(GITLAB_TEMPLATE.read_text())


def test_action_collision_fails_with_annotations_summary_and_outputs(
    runner: Runner, sandbox: SandboxServer
) -> None:
    run = run_action(
        runner,
        sandbox,
        references="engineering/web:v1\nengineering/api:1.0.0   engineering/api:9.9",
        protect="v*",
        url=sandbox.url,
        username=ALICE[0],
        password=ALICE[1],
    )
    assert run.code == 1, run.stderr
    assert runner.logged("pipx") == [f"install --force {CHECKOUT}"]
    (arguments,) = runner.logged("dtrctl")
    assert arguments == (
        "push-check engineering/web:v1 engineering/api:1.0.0 engineering/api:9.9 "
        "--protect v* -o json"
    )
    assert ALICE[1] not in arguments
    # stdout is the JSON document, also in the file the `verdicts` output names.
    document = json.loads(run.stdout)
    verdicts = [result["verdict"] for result in document["results"]]
    assert verdicts == ["collision", "overwrite", "free"]
    assert json.loads(Path(run.outputs["verdicts"]).read_text()) == document
    assert run.outputs["exit-code"] == "1"
    annotations = [line for line in run.stderr.splitlines() if line.startswith("::")]
    host = sandbox.host_port
    assert [line.split(" title=")[0] for line in annotations] == ["::error", "::warning"]
    assert f"::{host}/engineering/web:v1: push would be refused" in annotations[0]
    assert f"::{host}/engineering/api:1.0.0: the push will replace the tag" in annotations[1]
    rows = [line for line in run.summary.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Verdict | Tag | Remote digest | Pushed | Reason |"
    assert [row.split(" | ")[0] for row in rows[1:]] == [
        "| ❌ collision",
        "| ✅ overwrite",
        "| ✅ free",
    ]
    assert "1 of 3 would fail" in run.summary


def test_action_strict_and_clean_runs(runner: Runner, sandbox: SandboxServer) -> None:
    credentials = {"url": sandbox.url, "username": ALICE[0], "password": ALICE[1]}
    strict = run_action(runner, sandbox, references="engineering/api:1.0.0", strict="true")
    assert strict.code == 2  # no URL: nothing checked, never green
    assert strict.outputs["exit-code"] == "2"
    strict = run_action(
        runner, sandbox, references="engineering/api:1.0.0", strict="true", **credentials
    )
    assert strict.code == 1
    assert strict.stderr.splitlines()[-1].startswith("::error title=push-check overwrite")
    digest = sandbox.state.get_tag("engineering", "api", "1.1.0")
    assert digest is not None
    clean = run_action(
        runner, sandbox, references="engineering/api:1.1.0", digest=digest.digest, **credentials
    )
    assert clean.code == 0, clean.stderr
    assert clean.outputs["exit-code"] == "0"
    assert "| ✅ present |" in clean.summary
    assert "::" not in clean.stderr


def test_action_inputs_cannot_inject_shell(runner: Runner, sandbox: SandboxServer) -> None:
    run = run_action(
        runner,
        sandbox,
        references='engineering/api:9.9 "$(touch pwned)" `touch pwned`;touch pwned',
        url=sandbox.url,
    )
    assert run.code == 2
    assert not (runner.workspace / "pwned").exists()


# GitLab CI


def gitlab_job() -> dict[str, Any]:
    template = yaml.safe_load(GITLAB_TEMPLATE.read_text())
    return dict(template[".dtrctl-push-check"])


def run_gitlab_job(runner: Runner, sandbox: SandboxServer, **variables: str) -> int:
    """The job's script lines under `sh -e`, as GitLab's runner runs them, in the project dir."""
    job = gitlab_job()
    tools = runner.root / "gitlab-bin"
    tools.mkdir(exist_ok=True)
    link = tools / "dtrctl"
    if not link.exists():
        link.symlink_to(runner.wrapper)
    env = {
        **runner.base_env,
        "PATH": os.pathsep.join([str(tools), runner.base_env["PATH"]]),
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(runner.workspace),
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": ALICE[0],
        "DTRCTL_PASSWORD": ALICE[1],
        **{name: str(value) for name, value in job["variables"].items()},
        **variables,
    }
    for line in job["script"]:
        completed = subprocess.run(
            ["sh", "-e", "-c", line],
            env=env,
            cwd=runner.workspace,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT,
            check=False,
        )
        if completed.returncode:
            return completed.returncode
    return 0


def junit_outcomes(path: Path) -> dict[str, str]:
    outcomes = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        failed = next((child.tag for child in case if child.tag in ("failure", "error")), "pass")
        outcomes[case.get("name", "")] = failed
    return outcomes


def test_gitlab_template_installs_and_reports_junit() -> None:
    job = gitlab_job()
    assert job["before_script"] == ['python3 -m pip install --quiet "$PUSH_CHECK_PACKAGE"']
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "dtrctl-push-check.xml"
    # Credentials come from CI/CD variables, never from the template.
    assert not {"DTRCTL_URL", "DTRCTL_USERNAME", "DTRCTL_PASSWORD"} & set(job["variables"])


def test_gitlab_template_collision_and_present(runner: Runner, sandbox: SandboxServer) -> None:
    report = runner.workspace / gitlab_job()["artifacts"]["reports"]["junit"]
    host = sandbox.host_port
    code = run_gitlab_job(
        runner,
        sandbox,
        PUSH_CHECK_REFERENCES="engineering/web:v1 engineering/api:9.9",
        PUSH_CHECK_PROTECT="v*",
    )
    assert code == 1
    assert junit_outcomes(report) == {
        f"{host}/engineering/web:v1": "failure",
        f"{host}/engineering/api:9.9": "pass",
    }
    tag = sandbox.state.get_tag("engineering", "api", "1.1.0")
    assert tag is not None
    code = run_gitlab_job(
        runner, sandbox, PUSH_CHECK_REFERENCES="engineering/api:1.1.0", PUSH_CHECK_DIGEST=tag.digest
    )
    assert code == 0
    assert junit_outcomes(report) == {f"{host}/engineering/api:1.1.0": "pass"}
    logged = runner.logged("dtrctl")
    assert logged[0] == (
        "push-check engineering/web:v1 engineering/api:9.9 --protect v* "
        "--junit dtrctl-push-check.xml"
    )
    assert not any(ALICE[1] in line for line in logged)
