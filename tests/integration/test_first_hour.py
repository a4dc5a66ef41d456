"""A new user's first hour, through the installed `dtrctl`: what issue 22 found misleading.

whoami's lines, bare namespaces, a host in a repository name, push-check choosing the profile
of the references' host, logout of a shared secret, migrate's exit 4, what `dtrctl sandbox`
prints (its skopeo commands run as printed), completion of --flavor and --profile, counts in
the singular, and a push-check that checks no tag still writing its JUnit report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from dtrctl.sandbox.images import build_image, write_oci_layout
from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import (
    SUBPROCESS_TIMEOUT,
    Run,
    Skopeo,
    dtrctl_binary,
    free_port,
    run_dtrctl,
)

pytestmark = pytest.mark.integration

ADMIN = ("admin", "sandbox-admin-password")
ALICE = ("alice", "sandbox-alice-password")
LOGIN_OPTIONS = ("--password-stdin", "--insecure-storage")


def as_user(server: SandboxServer, user: tuple[str, str] = ADMIN) -> dict[str, str]:
    return {"DTRCTL_URL": server.url, "DTRCTL_USERNAME": user[0], "DTRCTL_PASSWORD": user[1]}


def login(url: str, user: tuple[str, str], profile: str) -> None:
    completed = subprocess.run(
        [dtrctl_binary(), "login", url, "-u", user[0], *LOGIN_OPTIONS, "--profile", profile],
        input=user[1] + "\n",
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


@pytest.fixture
def harbor() -> Iterator[SandboxServer]:
    with SandboxServer(seed="demo", flavor="harbor") as server:
        yield server


@pytest.mark.parametrize("flavor", ["dtr", "harbor"])
def test_whoami_prints_one_line_each(flavor: str) -> None:
    with SandboxServer(seed="demo", flavor=flavor) as server:
        run = run_dtrctl("whoami", env=as_user(server))
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Profile", "URL", "User", "Credential"]
    assert "\\n" not in run.stdout
    assert lines[3] == "Credential: accepted"


def test_bare_namespace_selects_for_reading_and_is_refused_for_changing(
    sandbox: SandboxServer,
) -> None:
    env = as_user(sandbox)
    audited = run_dtrctl("repo", "audit", "engineering", "-o", "json", env=env)
    assert audited.code == 1, audited.stderr  # engineering/api is mutable: drift
    checked = {item["repository"] for item in json.loads(audited.stdout)["drift"]}
    assert checked == {"engineering/api"}
    listed = run_dtrctl("repo", "list", "engineering", "-o", "json", env=env)
    names = {item["repository"] for item in json.loads(listed.stdout)["repositories"]}
    assert names == {"engineering/api", "engineering/web"}
    for command in (("repo", "set-immutable"), ("repo", "audit", "--fix")):
        refused = run_dtrctl(*command, "engineering", env=env)
        assert refused.code == 2
        assert "'engineering' is a namespace, not NAMESPACE/NAME" in refused.stderr
        assert "'engineering/*' (quoted) or --namespace engineering" in refused.stderr
    assert not [r for r in sandbox.state.requests if r.method in ("PATCH", "POST")]


def test_repo_show_with_a_host(sandbox: SandboxServer) -> None:
    env = as_user(sandbox)
    other = run_dtrctl("repo", "show", "dtr.example.com:5000/engineering/api", env=env)
    assert other.code == 2
    assert "starts with a registry host (dtr.example.com:5000)" in other.stderr
    assert "tag or digest" not in other.stderr
    own = run_dtrctl("repo", "show", f"{sandbox.host_port}/engineering/api", "-o", "json", env=env)
    assert own.code == 0, own.stderr
    assert json.loads(own.stdout)["repository"]["name"] == "api"


def test_push_check_uses_the_profile_of_the_references_host(sandbox: SandboxServer) -> None:
    with SandboxServer(seed="demo") as elsewhere:
        login(elsewhere.url, ADMIN, "default")
        login(sandbox.url, ALICE, "ci")
    reference = f"{sandbox.host_port}/engineering/api:9.9"
    run = run_dtrctl("-v", "push-check", reference, "-o", "json", env={})
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["results"][0]["verdict"] == "free"
    assert f"using profile ci: its URL is the references' registry {sandbox.host_port}" in (
        run.stderr
    )
    # A profile chosen by name is never overridden.
    chosen = run_dtrctl("--profile", "default", "push-check", reference, env={})
    assert chosen.code == 2
    assert "but the configured URL" in chosen.stderr


def test_logout_says_which_other_profiles_shared_the_secret(sandbox: SandboxServer) -> None:
    login(sandbox.url, ALICE, "a")
    login(sandbox.url, ALICE, "b")
    run = run_dtrctl("logout", "--profile", "a", "-o", "json", env={})
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["also_logged_out"] == ["b"]
    assert "profile(s) b used the same secret" in run.stderr
    whoami_b = run_dtrctl("--profile", "b", "whoami", env={})
    assert whoami_b.code == 3


def test_migrate_says_why_it_exits_4(harbor: SandboxServer) -> None:
    with SandboxServer(seed="demo") as dtr:
        login(dtr.url, ADMIN, "dtr")
        login(harbor.url, ("robot$dtrctl", "sandbox-robot-dtrctl-secret"), "msr4")
        run = run_dtrctl(
            "migrate", "immutability", "--from", "dtr", "--to", "msr4", "--yes", env={}
        )
    assert run.code == 4, run.stderr
    assert "0 failed" in run.stderr
    assert "1 repository not migrated, their Harbor project is missing (exit 4): demo/hello" in (
        run.stderr
    )
    assert "--create-projects" in run.stderr


def test_sandbox_prints_the_skopeo_commands_that_push_to_it(skopeo: Skopeo, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [dtrctl_binary(), "sandbox", "--seed", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        commands = [line.strip() for line in lines]
        (login_line,) = [line for line in commands if "| skopeo login" in line]
        (copy_line,) = [line for line in commands if line.startswith("skopeo copy")]
        assert "--password-stdin" in login_line and "--tls-verify=false" in login_line
        assert "--dest-tls-verify=false" in copy_line
        assert any("| docker login -u alice --password-stdin" in line for line in commands)
        write_oci_layout(tmp_path / "layout", build_image("first-hour"), "1.0")
        env = {
            **os.environ,
            "HOME": str(skopeo.home),
            "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"),
        }
        # As printed; the copy with --insecure-policy, as this machine may have no policy.json.
        runs = (
            login_line.replace("skopeo login", f"{skopeo.path} login"),
            copy_line.replace("skopeo copy", f"{skopeo.path} --insecure-policy copy").replace(
                "oci:DIR:TAG", f"oci:{tmp_path / 'layout'}:1.0"
            ),
        )
        for command in runs:
            completed = subprocess.run(
                ["bash", "-e", "-c", command],
                env=env,
                capture_output=True,
                text=True,
                timeout=SUBPROCESS_TIMEOUT,
                check=False,
            )
            assert completed.returncode == 0, (command, completed.stderr)
        host = re.search(r"docker://([^/]+)/", copy_line)
        assert host is not None
        shown = run_dtrctl(
            "repo",
            "tags",
            "engineering/api",
            "-o",
            "json",
            env={
                "DTRCTL_URL": f"http://{host.group(1)}",
                "DTRCTL_USERNAME": ADMIN[0],
                "DTRCTL_PASSWORD": ADMIN[1],
            },
        )
        assert "1.4.2" in {tag["name"] for tag in json.loads(shown.stdout)["tags"]}
    finally:
        process.terminate()
        process.communicate(timeout=SUBPROCESS_TIMEOUT)


def complete(words: list[str]) -> list[str]:
    completed = subprocess.run(
        [dtrctl_binary()],
        env={
            **os.environ,
            "_DTRCTL_COMPLETE": "complete_bash",
            "COMP_WORDS": "\n".join(words),
            "COMP_CWORD": str(len(words) - 1),
        },
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split()


def test_completion_of_flavor_and_profile(sandbox: SandboxServer) -> None:
    assert complete(["dtrctl", "sandbox", "--flavor", ""]) == ["dtr", "harbor"]
    assert complete(["dtrctl", "sandbox", "--flavor", "h"]) == ["harbor"]
    login(sandbox.url, ALICE, "staging")
    login(sandbox.url, ALICE, "prod")
    assert sorted(complete(["dtrctl", "--profile", ""])) == ["prod", "staging"]
    assert complete(["dtrctl", "--profile", "st"]) == ["staging"]
    assert complete(["dtrctl", "logout", "--profile", "p"]) == ["prod"]


def test_counts_of_one_are_singular(sandbox: SandboxServer) -> None:
    env = as_user(sandbox)
    tags = run_dtrctl("repo", "tags", "engineering/web", env=env)
    assert tags.code == 0, tags.stderr
    assert "1 tag in engineering/web" in tags.stderr
    listed = run_dtrctl("repo", "list", "engineering/web", env=env)
    assert "1 repository, 0 mutable" in listed.stderr


def test_push_check_that_checks_no_tag_still_writes_its_reports(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    report = tmp_path / "report.xml"
    closed = f"127.0.0.1:{free_port()}"
    run: Run = run_dtrctl(
        "push-check",
        f"{closed}/engineering/api:1.0",
        "--junit",
        str(report),
        env={
            "GITHUB_ACTIONS": "true",
            "GITHUB_STEP_SUMMARY": str(summary),
            "DTRCTL_URL": f"https://{closed}",
        },
    )
    assert run.code == 3, run.stderr  # a DTR gate without credentials: before any request
    (annotation,) = [line for line in run.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=push-check failed (exit 3)::")
    cases = list(ElementTree.parse(report).getroot().iter("testcase"))
    assert [case.get("name") for case in cases] == ["push-check"]
    assert cases[0].find("error") is not None
    assert f"Not checked: ` {closed}/engineering/api:1.0 `" in summary.read_text()


def test_push_check_command_line_refused_by_the_parser_still_writes_its_report(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.xml"
    run = run_dtrctl(
        "push-check",
        "--junit",
        str(report),
        "--no-such-option",
        "engineering/api:1.0",
        env={"GITHUB_ACTIONS": "true"},
    )
    assert run.code == 2
    assert "No such option: --no-such-option" in run.stderr
    annotations = [line for line in run.stderr.splitlines() if line.startswith("::")]
    assert annotations == [
        "::error title=push-check failed (exit 2)::No such option: --no-such-option"
    ]
    (case,) = ElementTree.parse(report).getroot().iter("testcase")
    error = case.find("error")
    assert error is not None and error.get("type") == "usage"
