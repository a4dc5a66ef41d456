"""The GitHub Action (action.yml) and the GitLab CI template, run as their CI would run them.

Each is read with a YAML parser; its scripts run under the shell the CI uses, with the
variables the CI sets, against the sandbox, on a PATH where `pipx` fails loudly (a runner
without it). The installers run for real: the Action's pip installs requirements/action.txt by
hash and this checkout offline into a virtualenv under RUNNER_TEMP (once per test session, as
once per job); the GitLab job installs the wheel `make dist` builds, by URL and SHA-256. A
`sitecustomize` on the job's PYTHONPATH records each command line of the installed `dtrctl`,
so the tests also see that no secret is an argument.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from packaging.utils import canonicalize_name

from dtrctl import __version__
from dtrctl.sandbox.images import build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.conftest import PIP_CACHE_DIR
from tests.integration.conftest import SUBPROCESS_TIMEOUT, free_port

pytestmark = pytest.mark.integration

CHECKOUT = Path(__file__).resolve().parents[2]
ACTION = CHECKOUT / "action.yml"
GITLAB_TEMPLATE = CHECKOUT / "ci" / "gitlab" / "push-check.yml"
DOCUMENT = CHECKOUT / "docs" / "ci.md"
ALICE = ("alice", "sandbox-alice-password")
ALICE_IN = {"username": ALICE[0], "password": ALICE[1]}
# What GitHub runs for `shell: bash`; GitLab's runner runs the script with the image's shell.
GITHUB_BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# On the job's PYTHONPATH: records each command line of the installed dtrctl, whichever
# virtualenv the CI's script made.
RECORDER = """import os, sys
if os.path.basename(sys.argv[0] if sys.argv else "") == "dtrctl":
    with open({log!r}, "a", encoding="utf-8") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
"""
# A runner without pipx: any call of it is recorded and fails.
NO_PIPX = """#!/bin/sh
printf '%s\\n' "$*" >> "{log}"
echo "pipx: command not found" >&2
exit 127
"""
# Installing from PyPI (or pip's cache) and building the checkout: more than a dtrctl run.
INSTALL_TIMEOUT = 600


@dataclass(frozen=True)
class Runner:
    """A CI runner's machine: a workspace, a scratch directory and the tools on PATH."""

    root: Path
    workspace: Path
    # RUNNER_TEMP (GitHub) and TMPDIR (GitLab): kept for the session, as a job keeps its own.
    temp: Path
    base_env: Mapping[str, str]

    def logged(self, name: str) -> list[str]:
        path = self.root / f"{name}.log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="session")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runner-temp")


@pytest.fixture
def runner(sandbox: SandboxServer, tmp_path: Path, runner_temp: Path) -> Runner:
    tools = tmp_path / "tools"
    tools.mkdir()
    pipx = tools / "pipx"
    pipx.write_text(NO_PIPX.format(log=tmp_path / "pipx.log"))
    pipx.chmod(0o755)
    recorder = tmp_path / "recorder"
    recorder.mkdir()
    (recorder / "sitecustomize.py").write_text(RECORDER.format(log=str(tmp_path / "dtrctl.log")))
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
        "PIP_CACHE_DIR": PIP_CACHE_DIR,
        "PYTHONPATH": str(recorder),
    }
    return Runner(tmp_path, workspace, runner_temp, env)


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
        "RUNNER_TEMP": str(runner.temp),
    }
    completed = None
    outputs: dict[str, str] = {}
    for number, step in enumerate(action["runs"]["steps"]):
        completed = run_step(runner, number, step, env, inputs, outputs)
        if completed.returncode:
            break
    assert completed is not None
    results = {
        name: evaluate(spec["value"], inputs, outputs) for name, spec in action["outputs"].items()
    }
    return ActionRun(
        completed.returncode,
        completed.stdout,
        completed.stderr,
        results,
        files["GITHUB_STEP_SUMMARY"].read_text(),
    )


def run_step(
    runner: Runner,
    number: int,
    step: Mapping[str, Any],
    env: Mapping[str, str],
    inputs: Mapping[str, str],
    outputs: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    """One `run:` step under GitHub's bash, with its `env:`, GITHUB_PATH and GITHUB_OUTPUT."""
    assert step["shell"] == "bash"
    # Inputs reach the scripts through `env:` only: an input cannot inject shell.
    assert "${{" not in step["run"]
    output_file = runner.root / f"output-{number}"
    output_file.write_text("")
    added = [line for line in Path(env["GITHUB_PATH"]).read_text().splitlines() if line]
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
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if step.get("id"):
        pairs = (line.partition("=") for line in output_file.read_text().splitlines())
        outputs.update({name: value for name, _, value in pairs})
    return completed


def test_action_inputs_are_documented() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    expected = {"references", "digest", "oci-layout", "metadata-file", "strict", "protect"}
    expected |= {"url", "username", "password", "extra-args"}
    assert set(action["inputs"]) == expected
    assert all(spec["description"] for spec in action["inputs"].values())
    assert set(action["outputs"]) == {"exit-code", "verdicts"}


def test_documented_uses_match_the_action_and_the_template() -> None:
    workflow, gitlab = documented()
    steps = workflow["jobs"]["image"]["steps"]
    (uses,) = [step for step in steps if str(step.get("uses", "")).startswith("dtrctl/")]
    assert set(uses["with"]) <= set(yaml.safe_load(ACTION.read_text())["inputs"])
    assert gitlab["include"][0]["file"] == str(GITLAB_TEMPLATE.relative_to(CHECKOUT))
    template = yaml.safe_load(GITLAB_TEMPLATE.read_text())
    job = {**template[gitlab["push-check"]["extends"]], **gitlab["push-check"]}
    # Valid as written: a stage GitLab has by default, and release tags `make dist` names.
    assert job["stage"] in gitlab.get("stages", ["build", "test", "deploy"])
    release = f"v{__version__}"
    assert uses["uses"] == f"dtrctl/dtrctl@{release}"
    assert gitlab["include"][0]["ref"] == release
    assert (
        f"/releases/download/{release}/dtrctl-{__version__}-py3-none-any.whl"
        in (job["variables"]["PUSH_CHECK_WHEEL_URL"])
    )


def documented() -> tuple[dict[str, Any], dict[str, Any]]:
    """docs/ci.md's GitHub workflow and GitLab configuration."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCUMENT.read_text(), re.DOTALL)
    workflow, gitlab = (yaml.safe_load(block) for block in blocks)
    return workflow, gitlab


def test_documented_workflow_check_step_runs_as_written(
    runner: Runner, sandbox: SandboxServer
) -> None:
    """The workflow's check step, its `with:` as written: the tag is a release (v2.0) that
    another build already published, so the step fails on the collision."""
    workflow, _ = documented()
    (step,) = [s for s in workflow["jobs"]["image"]["steps"] if s.get("id") == "push-check"]
    contexts = {
        "github.ref_name": "v2.0",
        "secrets.DTR_USERNAME": ALICE[0],
        "secrets.DTR_TOKEN": ALICE[1],
    }
    given = {
        name: EXPRESSION.sub(lambda match: contexts[match.group(1)], str(value))
        for name, value in step["with"].items()
    }
    assert given.pop("url") == "https://dtr.example.com"  # here: the sandbox
    write_oci_layout(runner.workspace / given["oci-layout"], build_image("ci-build"), "v2.0")
    sandbox.state.put_image("engineering", "api", "v2.0", artifact=build_image("other-build"))
    run = run_action(
        runner, sandbox, url=sandbox.url, **{k.replace("-", "_"): v for k, v in given.items()}
    )
    assert run.code == 1, run.stderr
    verdicts = [result["verdict"] for result in json.loads(run.stdout)["results"]]
    assert verdicts == ["collision", "free"]
    assert ALICE[1] not in "\n".join(runner.logged("dtrctl"))


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
    assert runner.logged("pipx") == []
    version, arguments = runner.logged("dtrctl")
    assert version == "--version"
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
        "| ⚠️ overwrite",
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


def test_action_installs_from_its_checkout_pinned_without_pipx(
    runner: Runner, sandbox: SandboxServer
) -> None:
    run = run_action(runner, sandbox, references="engineering/api:9.9", url=sandbox.url, **ALICE_IN)
    assert run.code == 0, run.stderr
    assert runner.logged("pipx") == []
    venv = runner.temp / "dtrctl-action-venv"
    # The checkout's dtrctl, installed (not this test run's editable copy) in its own venv.
    assert (venv / "installed-from").read_text() == str(CHECKOUT)
    located = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import dtrctl; print(dtrctl.__file__, dtrctl.__version__)",
        ],
        cwd=runner.root,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=True,
    ).stdout.split()
    assert Path(located[0]).is_relative_to(venv / "lib")
    assert located[1] == __version__
    # Only dtrctl joins the job's PATH: not the venv's python or pip.
    (added,) = (runner.root / "github_path").read_text().splitlines()
    assert [path.name for path in Path(added).iterdir()] == ["dtrctl"]
    # The dependencies are those requirements/action.txt pins.
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--exclude", "dtrctl"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=True,
    ).stdout.splitlines()
    assert frozen
    assert {pin(line) for line in frozen} <= {
        pin(line.split(" ")[0])
        for line in (CHECKOUT / "requirements" / "action.txt").read_text().splitlines()
        if "==" in line
    }


def pin(text: str) -> tuple[str, str]:
    """`Name==version` as (canonical name, version)."""
    name, _, version = text.partition("==")
    return canonicalize_name(name), version


@pytest.mark.parametrize(
    ("given", "code", "cause"),
    [
        ({"url": "", "password": ""}, 2, "no DTR URL given"),
        ({"password": ""}, 3, "no credentials"),
    ],
    ids=["no-url", "no-credentials"],
)
def test_action_that_checks_no_tag_still_shows_why(
    runner: Runner, sandbox: SandboxServer, given: dict[str, str], code: int, cause: str
) -> None:
    inputs = {"url": sandbox.url, **ALICE_IN, **given}
    if not inputs["password"]:
        inputs.pop("username")
    run = run_action(
        runner, sandbox, references="engineering/api:1.0.0 engineering/web:v1", **inputs
    )
    assert run.code == code
    assert run.outputs["exit-code"] == str(code)
    assert json.loads(run.stdout)["error"]["exit_code"] == code
    (annotation,) = [line for line in run.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith(f"::error title=push-check failed (exit {code})::")
    assert cause in annotation
    assert f"no tag checked (exit {code})" in run.summary
    assert "Not checked: ` engineering/api:1.0.0 `, ` engineering/web:v1 `" in run.summary


def test_action_with_the_registry_unreachable_gives_one_error(
    runner: Runner, sandbox: SandboxServer
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    run = run_action(
        runner,
        sandbox,
        references="engineering/api:1.0.0 engineering/web:v1",
        url=f"http://{closed}",
        extra_args="--retries 0",
        **ALICE_IN,
    )
    assert run.code == 5
    (annotation,) = [line for line in run.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=push-check error%3A 2 tags not checked::")
    assert f"cannot reach {closed}" in annotation
    assert f"{closed}/engineering/api:1.0.0, {closed}/engineering/web:v1" in annotation
    assert "2 of 2 would fail" in run.summary
    assert run.summary.count("| ❌ error |") == 2


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


@dataclass(frozen=True)
class Wheel:
    """A release wheel, as the template names it: a URL and its SHA-256."""

    url: str
    sha256: str


@pytest.fixture(scope="session")
def wheel(release_dist: Path) -> Wheel:
    """The wheel `make dist` builds from this checkout, with its line of SHA256SUMS."""
    for line in (release_dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        if name.endswith(".whl"):
            return Wheel((release_dist / name).as_uri(), digest)
    raise AssertionError("SHA256SUMS names no wheel")


def run_gitlab_job(
    runner: Runner, sandbox: SandboxServer, **variables: str
) -> subprocess.CompletedProcess[str]:
    """The job's before_script and script lines in one `sh -e`, as GitLab's runner runs them,
    in the project directory."""
    job = gitlab_job()
    env = {
        **runner.base_env,
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(runner.workspace),
        "TMPDIR": str(runner.root / "tmp"),
        "DTRCTL_URL": sandbox.url,
        "DTRCTL_USERNAME": ALICE[0],
        "DTRCTL_PASSWORD": ALICE[1],
        **{name: str(value) for name, value in job["variables"].items()},
        **variables,
    }
    (runner.root / "tmp").mkdir(exist_ok=True)
    completed = subprocess.run(
        ["sh", "-e", "-c", "\n".join([*job["before_script"], *job["script"]])],
        env={name: value for name, value in env.items() if value is not None},
        cwd=runner.workspace,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    return completed


def junit_outcomes(path: Path) -> dict[str, str]:
    outcomes = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        failed = next((child.tag for child in case if child.tag in ("failure", "error")), "pass")
        outcomes[case.get("name", "")] = failed
    return outcomes


def test_gitlab_template_installs_a_pinned_wheel_and_reports_junit() -> None:
    job = gitlab_job()
    install = "\n".join(job["before_script"])
    assert '"dtrctl @ ${PUSH_CHECK_WHEEL_URL}#sha256=${PUSH_CHECK_WHEEL_SHA256}"' in install
    assert job["variables"]["PUSH_CHECK_WHEEL_URL"] == ""
    assert job["variables"]["PUSH_CHECK_WHEEL_SHA256"] == ""
    assert "PUSH_CHECK_PACKAGE" not in job["variables"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "dtrctl-push-check.xml"
    # Credentials come from CI/CD variables, never from the template.
    assert not {"DTRCTL_URL", "DTRCTL_USERNAME", "DTRCTL_PASSWORD"} & set(job["variables"])


def test_gitlab_template_refuses_an_unpinned_or_altered_wheel(
    runner: Runner, sandbox: SandboxServer, wheel: Wheel
) -> None:
    unpinned = run_gitlab_job(runner, sandbox, PUSH_CHECK_WHEEL_URL=wheel.url)
    assert unpinned.returncode == 2
    assert "set PUSH_CHECK_WHEEL_URL and PUSH_CHECK_WHEEL_SHA256" in unpinned.stderr
    altered = run_gitlab_job(
        runner,
        sandbox,
        PUSH_CHECK_WHEEL_URL=wheel.url,
        PUSH_CHECK_WHEEL_SHA256="0" * 64,
        PUSH_CHECK_REFERENCES="engineering/api:9.9",
    )
    assert altered.returncode != 0
    assert "DO NOT MATCH THE HASHES" in altered.stderr
    assert not list((runner.root / "tmp").glob("*/venv/bin/dtrctl"))
    assert runner.logged("pipx") == []


def test_documented_gitlab_job_runs_as_written(
    runner: Runner, sandbox: SandboxServer, wheel: Wheel
) -> None:
    """docs/ci.md's job, its variables as written (GitLab expands `${CI_COMMIT_TAG}` and
    `$DTRCTL_WHEEL_SHA256`): the release's tag holds other content, latest is free."""
    _, gitlab = documented()
    job = gitlab["push-check"]
    assert job["variables"]["PUSH_CHECK_WHEEL_URL"].startswith("https://")  # here: a file
    ci = {"CI_COMMIT_TAG": "v2.0", "DTRCTL_WHEEL_SHA256": wheel.sha256}
    variables = {
        name: re.sub(r"\$\{?(\w+)\}?", lambda match: ci[match.group(1)], str(value))
        for name, value in job["variables"].items()
    }
    variables["PUSH_CHECK_WHEEL_URL"] = wheel.url
    build = build_image("gitlab-build")
    (runner.workspace / variables["PUSH_CHECK_METADATA_FILE"]).write_text(
        json.dumps({"containerimage.digest": build.digest})
    )
    sandbox.state.put_image("engineering", "api", "v2.0", artifact=build_image("other-build"))
    completed = run_gitlab_job(runner, sandbox, **variables)
    assert completed.returncode == 1, completed.stderr
    assert f"dtrctl {__version__}" in completed.stdout
    assert runner.logged("pipx") == []
    host = sandbox.host_port
    report = runner.workspace / gitlab_job()["artifacts"]["reports"]["junit"]
    assert junit_outcomes(report) == {
        f"{host}/engineering/api:v2.0": "failure",
        f"{host}/engineering/api:latest": "pass",
    }
    assert runner.logged("dtrctl") == [
        "--version",
        "push-check engineering/api:v2.0 engineering/api:latest --metadata-file metadata.json "
        "--protect v* --junit dtrctl-push-check.xml",
    ]


def test_gitlab_template_run_that_checks_no_tag_reports_one_failing_case(
    runner: Runner, sandbox: SandboxServer, wheel: Wheel
) -> None:
    completed = run_gitlab_job(
        runner,
        sandbox,
        PUSH_CHECK_WHEEL_URL=wheel.url,
        PUSH_CHECK_WHEEL_SHA256=wheel.sha256,
        PUSH_CHECK_REFERENCES="engineering/api:1.0.0",
        DTRCTL_PASSWORD="",
        DTRCTL_USERNAME="",
    )
    assert completed.returncode == 3, completed.stderr
    report = runner.workspace / "dtrctl-push-check.xml"
    assert junit_outcomes(report) == {"push-check": "error"}
    assert "not checked: engineering/api:1.0.0" in report.read_text()
