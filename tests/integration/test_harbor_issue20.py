"""The installed `dtrctl` against `dtrctl sandbox --flavor harbor`: never green where Harbor
refuses, and the text says what Harbor will do (issue #20)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from dtrctl.sandbox.server import SandboxServer
from tests.integration.conftest import run_dtrctl
from tests.integration.test_harbor_sandbox import ADMIN, as_json, dtrctl, harbor

pytestmark = pytest.mark.integration
__all__ = ["harbor"]

BOB = ("bob", "sandbox-bob-password")  # guest of library and engineering
ALICE = ("alice", "sandbox-alice-password")  # developer of engineering, guest of library
CI_ROBOT = ("robot$engineering+ci", "sandbox-robot-ci-secret")  # project robot of engineering
CAROL = ("carol", "sandbox-carol-password")  # maintainer of engineering


class TestPushRights:
    @pytest.mark.parametrize(
        ("user", "reference"),
        [
            (BOB, "engineering/web:v2"),
            (ALICE, "library/nginx:9.9"),
            (CI_ROBOT, "library/nginx:9.9"),
        ],
        ids=["guest", "developer-of-another-project", "robot-of-another-project"],
    )
    def test_a_push_harbor_refuses_is_a_permission_error(
        self, harbor: SandboxServer, user: tuple[str, str], reference: str
    ) -> None:
        run = dtrctl(harbor, "push-check", reference, "-o", "json", user=user)
        assert run.code == 3, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert result["verdict"] == "error"
        assert result["error"]["code"] == "permission"
        assert f"may not push to {reference.split(':')[0]}" in result["reason"]

    def test_with_the_push_right_the_verdict_stands(self, harbor: SandboxServer) -> None:
        run = dtrctl(harbor, "push-check", "engineering/web:v2", "-o", "json", user=ALICE)
        assert run.code == 0, run.stderr
        assert as_json(run)["results"][0]["verdict"] == "free"

    def test_present_stays_present_without_the_right(self, harbor: SandboxServer) -> None:
        digest = as_json(dtrctl(harbor, "repo", "tags", "library/nginx", "-o", "json", user=BOB))[
            "tags"
        ][0]["digest"]
        run = dtrctl(
            harbor, "push-check", "library/nginx:1.25", "--digest", digest, "-o", "json", user=BOB
        )
        assert run.code == 0, run.stderr
        assert as_json(run)["results"][0]["verdict"] == "present"


def without_immutable_field(server: SandboxServer, project: str, path: str, tag: str) -> None:
    """The next artifact answer for the tag lacks `tags[].immutable`, as an older Harbor or a
    proxy may send it."""
    url = f"/api/v2.0/projects/{project}/repositories/{path}/artifacts/{tag}"
    with httpx.Client(base_url=server.url, auth=ADMIN) as client:
        answer = client.get(url, params={"with_tag": "true", "with_immutable_status": "true"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    for entry in body["tags"]:
        del entry["immutable"]
    server.state.inject_fault("status", path_prefix=url, count=5, status=200, body=body)


class TestAMissingImmutableField:
    def test_the_project_s_rules_decide_never_mutable(self, harbor: SandboxServer) -> None:
        without_immutable_field(harbor, "engineering", "api", "1.0.0")
        run = dtrctl(harbor, "push-check", "engineering/api:1.0.0", "-o", "json", user=CAROL)
        assert run.code == 1, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert (result["verdict"], result["immutable"]) == ("collision", True)
        assert any("has no 'immutable' field" in note for note in result["notes"])

    def test_rules_that_cannot_be_read_leave_the_check_incomplete(
        self, harbor: SandboxServer
    ) -> None:
        without_immutable_field(harbor, "engineering", "api", "1.0.0")
        run = dtrctl(harbor, "push-check", "engineering/api:1.0.0", "-o", "json", user=ALICE)
        assert run.code == 5, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert result["verdict"] == "error"
        assert "has no 'immutable' field" in result["reason"]


class TestTheTextSaysWhatHarborDoes:
    def test_list_and_show_say_all_some_and_none_with_the_rules(
        self, harbor: SandboxServer
    ) -> None:
        listed = dtrctl(harbor, "repo", "list")
        assert listed.code == 0, listed.stderr
        rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
        assert "some (v* by rule 4)" in rows["engineering/team/app"]
        assert "all (by rule 3)" in rows["engineering/api"]
        assert " none " in rows["engineering/web"]
        shown = dtrctl(harbor, "--backend", "harbor", "repo", "show", "engineering/team/app")
        assert shown.code == 0, shown.stderr
        assert "Immutable tags: some (v* by rule 4)" in shown.stdout
        assert "off" not in shown.stdout.split("Immutable tags:")[1].splitlines()[0]
        document = as_json(
            dtrctl(
                harbor, "--backend", "harbor", "repo", "show", "engineering/team/app", "-o", "json"
            )
        )
        assert document["repository"]["immutability_summary"] == "some (v* by rule 4)"

    def test_off_says_which_tags_stay_immutable_and_by_which_rules(
        self, harbor: SandboxServer
    ) -> None:
        off = ("--backend", "harbor", "repo", "set-immutable", "engineering/team/app", "--off")
        run = dtrctl(harbor, *off)
        assert run.code == 0, run.stderr
        assert "tags v* by rule 4 stay immutable" in run.stdout
        (result,) = as_json(dtrctl(harbor, *off, "-o", "json"))["results"]
        assert result["rules_left"] == [4]
        (whole,) = as_json(
            dtrctl(harbor, "repo", "set-immutable", "engineering/api", "--off", "-o", "json")
        )["results"]
        assert (whole["changed"], whole["rules_left"]) == (True, [])


class TestListingWithoutTheRightToReadRules:
    @pytest.mark.parametrize("user", [BOB, ALICE, CI_ROBOT], ids=["guest", "developer", "robot"])
    def test_the_listing_works_and_unreadable_rules_are_unknown_never_no(
        self, harbor: SandboxServer, user: tuple[str, str]
    ) -> None:
        run = dtrctl(harbor, "repo", "list", "-o", "json", user=user)
        assert run.code == 0, run.stderr
        library = {
            r["repository"]: r for r in as_json(run)["repositories"] if r["namespace"] == "library"
        }
        assert set(library) == {"library/nginx", "library/alpine"}
        for record in library.values():
            assert (record["immutable"], record["immutability"]) == (None, "unknown")
        assert "may not list the immutability rules of project library" in run.stderr
        text = dtrctl(harbor, "repo", "list", "library", user=user)
        assert text.code == 0, text.stderr
        assert "unknown" in text.stdout and " no " not in text.stdout
        assert "0 mutable, 2 unknown" in text.stderr
        mutable = dtrctl(harbor, "repo", "list", "library", "--mutable", "-o", "json", user=user)
        assert as_json(mutable)["repositories"] == []


class TestApplyOnlyWhatHarborHas:
    def test_dtr_only_keys_are_refused_at_plan_time_with_file_and_line(
        self, harbor: SandboxServer, tmp_path: Path
    ) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text(
            "[defaults]\nimmutable = true\ntag_limit = 0\n"
            '[[repository]]\nname = "engineering/web"\nvisibility = "private"\n'
        )
        for extra in (("--dry-run",), ("--yes",)):
            run = dtrctl(harbor, "apply", "-f", str(policy), *extra)
            assert run.code == 2, run.stdout + run.stderr
            assert f"{policy}:3: tag_limit does not apply on Harbor" in run.stderr
            assert f"{policy}:6: visibility does not apply on Harbor" in run.stderr
        shown = as_json(dtrctl(harbor, "repo", "show", "engineering/web", "-o", "json"))
        assert shown["repository"]["immutability"] == "none"  # nothing was changed

    def test_a_405_on_the_description_is_the_server_s_never_a_usage_error(
        self, harbor: SandboxServer, tmp_path: Path
    ) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text('[[repository]]\nname = "engineering/web"\ndescription = "Web"\n')
        harbor.state.inject_fault(
            "status",
            path_prefix="/api/v2.0/projects/engineering/repositories/web",
            method="PUT",
            status=405,
        )
        run = dtrctl(harbor, "apply", "-f", str(policy), "--yes", "-o", "json")
        assert run.code == 5, run.stdout + run.stderr
        (result,) = as_json(run)["results"]
        assert result["error"]["status"] == 405 and result["error"]["exit_code"] == 5

    def test_show_and_csv_say_unknown_never_off(self, harbor: SandboxServer) -> None:
        shown = dtrctl(harbor, "repo", "show", "library/nginx", user=BOB)
        assert shown.code == 0, shown.stderr
        assert "Immutable tags: unknown" in shown.stdout
        assert "may not list the immutability rules of project library" in shown.stderr
        csv = dtrctl(harbor, "repo", "list", "library", "-o", "csv", user=BOB)
        assert csv.code == 0, csv.stderr
        rows = [line.split(",") for line in csv.stdout.splitlines()[1:]]
        assert [row[1] for row in rows] == ["", ""]  # immutable: empty, never false


def test_a_harbor_named_only_by_the_references_predicts_a_refused_push(
    tmp_path: Path,
) -> None:
    """The README's headline form (no --url, no profile, docker's login): a guest's push is
    `error permission`, exit 3, as on DTR."""
    from tests.integration.test_kind_detection import docker_config, make_certificates

    certificates = make_certificates(tmp_path / "certs")
    with SandboxServer(
        flavor="harbor",
        seed="demo",
        tls_cert=str(certificates.cert_file),
        tls_key=str(certificates.key_file),
    ) as server:
        docker = docker_config(tmp_path / "docker", server.host_port, BOB)
        run = run_dtrctl(
            "push-check", f"{server.host_port}/engineering/web:v2", "-o", "json",
            env={"DOCKER_CONFIG": str(docker), "DTRCTL_CA_FILE": str(certificates.ca_file)},
        )  # fmt: skip
    [result] = json.loads(run.stdout)["results"]
    assert (result["verdict"], result["error"]["code"]) == ("error", "permission"), run.stdout
    assert run.code == 3, run.stderr


def test_apply_sets_the_description_through_harbor_s_repository_put(
    harbor: SandboxServer, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[[repository]]\nname = "engineering/web"\ndescription = "Web front"\n')
    run = dtrctl(harbor, "apply", "-f", str(policy), "--yes")
    assert run.code == 0, run.stdout + run.stderr
    shown = as_json(dtrctl(harbor, "repo", "show", "engineering/web", "-o", "json"))
    assert shown["repository"]["short_description"] == "Web front"
    again = dtrctl(harbor, "apply", "-f", str(policy), "--dry-run", "-o", "json")
    assert [change["action"] for change in as_json(again)["plan"]] == ["unchanged"]
