"""httpcore without its HTTP/2 stack unless the run asks for HTTP/2.

httpcore imports h2 (and hpack, hyperframe) when it is itself imported, whenever h2 is installed:
about a tenth of a push-check on loopback, for a protocol that is off by default
(`DTRCTL_HTTP2`). While httpcore loads, h2 is made unimportable, so httpcore keeps its stand-in;
its connections import `httpcore._sync.http2` again when HTTP/2 is negotiated, which finds h2
then. `tests/client/test_optional_h2.py` fails if a new httpcore loads differently.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

HTTP2_VARIABLE = "DTRCTL_HTTP2"


@contextlib.contextmanager
def h2_unless_asked_for() -> Iterator[None]:
    """Imports in this block do not load h2, unless DTRCTL_HTTP2=1 or it is loaded already."""
    hide = os.environ.get(HTTP2_VARIABLE) != "1" and "h2" not in sys.modules
    if hide:
        # A None entry makes `import h2` raise ImportError, as if it were not installed.
        sys.modules["h2"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if hide and "h2" in sys.modules and sys.modules["h2"] is None:
            del sys.modules["h2"]
