"""Policy keys a registry has no setting for are refused with their file and line."""

from __future__ import annotations

import pytest

from dtrctl.backends.harbor.writes import UNSUPPORTED_SETTINGS
from dtrctl.errors import ExitCode, UsageError
from dtrctl.repos.policy_keys import refuse_unsupported

POLICY = """\
[defaults]
immutable = true
scan_on_push = false

[[repository]]
name = "engineering/api"
description = "API"

[[repository]]
match = "ci/*"
tag_limit = 5
long_description = "long"
"""


def test_each_key_is_named_with_its_line() -> None:
    with pytest.raises(UsageError) as raised:
        refuse_unsupported(POLICY, "repos.toml", UNSUPPORTED_SETTINGS, "Harbor")
    assert raised.value.exit_code is ExitCode.USAGE
    lines = raised.value.message.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        "repos.toml:3",
        "repos.toml:11",
        "repos.toml:12",
    ]
    assert lines[1].startswith("repos.toml:11: tag_limit does not apply on Harbor: ")


def test_a_policy_without_such_keys_passes() -> None:
    text = '[defaults]\nimmutable = true\n[[repository]]\nname = "a/b"\ndescription = "x"\n'
    refuse_unsupported(text, "repos.toml", UNSUPPORTED_SETTINGS, "Harbor")
