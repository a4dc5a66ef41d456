"""httpcore without what dtrctl does not use: HTTP/2 unless asked for, and the async half's anyio.

httpcore imports h2 (with hpack and hyperframe) and anyio when it is itself imported, whenever
they are installed: together about a tenth of a push-check on loopback. dtrctl is synchronous, and
HTTP/2 is off by default (`DTRCTL_HTTP2`). While httpcore loads they are made unimportable, so
httpcore keeps its stand-ins: its synchronous connections import `httpcore._sync.http2` again
when HTTP/2 is negotiated, which finds h2 then; only httpcore's async pool (never used here)
would miss anyio. `tests/client/test_httpcore_loading.py` fails if a new httpcore loads
differently.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

HTTP2_VARIABLE = "DTRCTL_HTTP2"


@contextlib.contextmanager
def httpcore_without_extras() -> Iterator[None]:
    """Imports in this block load neither h2 (unless DTRCTL_HTTP2=1) nor anyio, unless they are
    loaded already."""
    unwanted = ["anyio"] if os.environ.get(HTTP2_VARIABLE) == "1" else ["h2", "anyio"]
    hidden = [name for name in unwanted if name not in sys.modules]
    for name in hidden:
        # A None entry makes `import name` raise ImportError, as if it were not installed.
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
