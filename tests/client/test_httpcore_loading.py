"""dtrctl's transport loads no httpcore (its own pool serves HTTP/1.1); where httpcore is needed
(HTTP/2, SOCKS) it loads without h2 (unless HTTP/2 is asked for) and anyio
(`dtrctl/client/httpcore_loading.py`). These fail if a new httpcore loads them differently."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("h2") is None, reason="h2 is not installed: nothing to leave out"
)


def loaded_after(code: str, module: str = "dtrctl.client.httpcore_transport", **env: str) -> str:
    """What `code` prints in a fresh interpreter that first loads `module`."""
    environ = {key: value for key, value in os.environ.items() if key != "DTRCTL_HTTP2"}
    completed = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}\n{code}"],
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout.strip()


LOADED = "print('httpcore' in sys.modules, 'h2' in sys.modules, 'anyio' in sys.modules)"


def test_the_transport_loads_no_httpcore() -> None:
    assert loaded_after(LOADED, "dtrctl.client.transport") == "False False False"


def test_httpcore_is_loaded_without_h2_and_anyio_by_default() -> None:
    assert loaded_after(LOADED) == "True False False"


def test_both_are_importable_afterwards() -> None:
    assert loaded_after("import anyio, h2; print('ok')") == "ok"


def test_h2_is_loaded_with_httpcore_when_http2_is_asked_for() -> None:
    assert loaded_after("print('h2' in sys.modules)", DTRCTL_HTTP2="1") == "True"


def test_http2_connections_still_find_h2_later_in_the_same_run() -> None:
    # What httpcore's connection imports when a server negotiates HTTP/2.
    code = (
        "from httpcore._sync.http2 import HTTP2Connection\n"
        "import httpx\n"
        "httpx.HTTPTransport(http2=True)\n"
        "print(HTTP2Connection.__module__)"
    )
    assert loaded_after(code) == "httpcore._sync.http2"
