"""The credential record: a leaf every credential source builds on."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credential:
    """A username and its password or access token, and where they came from."""

    username: str
    secret: str = field(repr=False)
    source: str
