"""DTRCTL_HTTP2=1 without the optional h2 package is a usage error that says how to get it."""

from __future__ import annotations

import importlib.util

import pytest

from dtrctl.client.transport import TransportOptions, build_http_client
from dtrctl.errors import ExitCode, UsageError


def test_http2_without_h2_installed_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "h2" else real(name, *a)
    )
    with pytest.raises(UsageError, match="needs the h2 package") as raised:
        build_http_client(TransportOptions(http2=True))
    hint = raised.value.hint or ""
    assert "[http2]" in hint
    assert "pip install 'dtrctl" not in hint  # never the bare name: dtrctl is not on PyPI
    assert raised.value.exit_code == ExitCode.USAGE


def test_http11_needs_no_h2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DTRCTL_HTTP2", raising=False)
    build_http_client(TransportOptions()).close()
