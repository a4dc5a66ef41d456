"""`make demo`: the main workflow, visibly, against the embedded sandbox, on both registry kinds.

DTR: starts a seeded sandbox, creates an immutable repository, pushes an image twice (the second
push is refused with DTR's own message), checks pushes before making them, turns immutability off
so the push goes through, and lists the mutable repositories. MSR 4 / Harbor: the same commands
against the Harbor flavor, where immutability is a project's rule and a refused push is Harbor's
412. Exits 0 when every step behaved as expected.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

from dtrctl.sandbox.accounts import DEMO_USERS
from dtrctl.sandbox.images import PushError, build_image, push_image
from dtrctl.sandbox.server import SandboxServer

REPOSITORY = "demo/webapp"
HARBOR_REPOSITORY = "engineering/webapp"
HARBOR_ADMIN = ("admin", "sandbox-admin-password")
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def step(title: str) -> None:
    print(f"\n{BOLD}== {title}{RESET}", flush=True)


def dtrctl(*args: str, expect: int = 0) -> None:
    print(f"{DIM}${RESET} dtrctl {shlex.join(args)}", flush=True)
    code = subprocess.call([sys.executable, "-m", "dtrctl", *args])
    if code != expect:
        sys.exit(f"demo: expected exit code {expect} from `dtrctl {shlex.join(args)}`, got {code}")
    if expect:
        print(f"{DIM}(exit code {code}, as expected){RESET}", flush=True)


def push(
    server: SandboxServer,
    repository: str,
    tag: str,
    image_seed: str,
    account: tuple[str, str],
    *,
    refused: bool = False,
) -> str:
    image = build_image(image_seed)
    print(f"{DIM}${RESET} push {server.host_port}/{repository}:{tag} ({image.digest[:19]}…)")
    try:
        push_image(server.url, repository, tag, image, *account)
    except PushError as error:
        if not refused:
            sys.exit(f"demo: the push was refused unexpectedly: {error}")
        print(f"  refused by the registry: {error.code.lower()}: {error.message}", flush=True)
        return image.digest
    if refused:
        sys.exit("demo: the registry accepted a push it should have refused")
    print("  pushed", flush=True)
    return image.digest


def connect(url: str, username: str, password: str, backend: str) -> None:
    os.environ.update(
        DTRCTL_URL=url, DTRCTL_USERNAME=username, DTRCTL_PASSWORD=password, DTRCTL_BACKEND=backend
    )


def dtr_demo() -> None:
    with SandboxServer(seed="demo") as server:
        admin = (DEMO_USERS[0].username, DEMO_USERS[0].password)
        connect(server.url, *admin, "dtr")
        print(f"Sandbox DTR at {server.url} (user {admin[0]})")

        step("Create a repository with tag immutability on")
        dtrctl("repo", "create", REPOSITORY, "--immutable", "--description", "Demo web app")
        dtrctl("repo", "show", REPOSITORY)

        step("Push version 1.0, then try to overwrite it with a different image")
        first = push(server, REPOSITORY, "1.0", "webapp build 1", admin)
        second = push(server, REPOSITORY, "1.0", "webapp build 2", admin, refused=True)

        step("Pre-flight checks, as a CI pipeline would run them before pushing")
        dtrctl("push-check", f"{server.host_port}/{REPOSITORY}:1.1", "--digest", second)
        dtrctl("push-check", f"{REPOSITORY}:1.0", "--digest", first)
        dtrctl("push-check", f"{REPOSITORY}:1.0", "--digest", second, expect=1)

        step("Turn immutability off: now the overwrite goes through")
        dtrctl("repo", "set-immutable", REPOSITORY, "--off")
        push(server, REPOSITORY, "1.0", "webapp build 2", admin)

        step("Which repositories are mutable?")
        dtrctl("repo", "list", "--mutable")


def harbor_demo() -> None:
    with SandboxServer(seed="demo", flavor="harbor") as server:
        connect(server.url, *HARBOR_ADMIN, "harbor")
        print(f"\nSandbox MSR 4 / Harbor at {server.url} (user {HARBOR_ADMIN[0]})")

        step("MSR 4 / Harbor: the same command adds an immutability rule to the project")
        dtrctl("repo", "create", HARBOR_REPOSITORY, "--immutable")

        step("Push version 1.0, then try to push it again: Harbor refuses even the same image")
        first = push(server, HARBOR_REPOSITORY, "1.0", "webapp build 1", HARBOR_ADMIN)
        push(server, HARBOR_REPOSITORY, "1.0", "webapp build 1", HARBOR_ADMIN, refused=True)

        step("Pre-flight check: already published, skip the push")
        dtrctl("push-check", f"{HARBOR_REPOSITORY}:1.0", "--digest", first)
        dtrctl("repo", "show", HARBOR_REPOSITORY)


def main() -> None:
    dtr_demo()
    harbor_demo()
    print(f"\n{BOLD}Demo complete.{RESET}")


if __name__ == "__main__":
    main()
