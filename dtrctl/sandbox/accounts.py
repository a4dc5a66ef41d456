"""The sandbox's demo accounts: who exists, with which secrets and which rights."""

from __future__ import annotations

from dataclasses import dataclass

# Organizations every sandbox has, seeded or not.
DEFAULT_ORGANIZATIONS = ("library", "engineering", "ci", "demo")


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    token: str | None
    sysadmin: bool
    # Access levels on organizations: namespace -> "read-only" | "read-write" | "admin".
    grants: tuple[tuple[str, str], ...]
    description: str


ADMIN = DemoUser(
    username="admin",
    password="sandbox-admin-password",
    token="sandbox-admin-token",
    sysadmin=True,
    grants=(),
    description="system admin: may do everything",
)
ALICE = DemoUser(
    username="alice",
    password="sandbox-alice-password",
    token=None,
    sysadmin=False,
    grants=(("engineering", "read-write"), ("library", "read-only")),
    description=(
        "read-write on engineering (push, pull, delete tags; no settings changes), "
        "read-only on library"
    ),
)
BOB = DemoUser(
    username="bob",
    password="sandbox-bob-password",
    token=None,
    sysadmin=False,
    grants=(("engineering", "read-only"), ("library", "read-only")),
    description="read-only on engineering and library",
)

DEMO_USERS: tuple[DemoUser, ...] = (ADMIN, ALICE, BOB)
