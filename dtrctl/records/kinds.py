"""The registry kinds a user may name (`--backend`, `DTRCTL_BACKEND`, a profile's `backend`)."""

from __future__ import annotations

from typing import Literal

# `auto` detects the kind; `registry` is a plain Docker registry (no API for settings).
BackendKind = Literal["auto", "dtr", "harbor", "registry"]
BACKEND_KINDS: tuple[BackendKind, ...] = ("auto", "dtr", "harbor", "registry")
