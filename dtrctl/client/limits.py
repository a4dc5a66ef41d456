"""The bounds on what dtrctl reads from a server, in one place.

Every answer is read in chunks and stops at the bound of its kind, so a broken or hostile server
can neither exhaust memory nor keep a run going forever. The bounds are generous: a real DTR,
registry or token server never comes near them.
"""

from __future__ import annotations

MIB = 1024 * 1024

# One DTR API answer (a page of at most 100 repositories or tags, one repository).
API_ANSWER_MAX_BYTES = 16 * MIB
# One image manifest or index: the registry itself (distribution) refuses more than 4 MiB.
MANIFEST_MAX_BYTES = 4 * MIB
# A token server's answer: a token and its few fields.
TOKEN_MAX_BYTES = 1 * MIB
# Any answer with a 4xx or 5xx status: an error envelope, or a proxy's error page.
ERROR_BODY_MAX_BYTES = 1 * MIB
# The PEM text DTR serves at /ca: a few certificates.
CA_PEM_MAX_BYTES = 1 * MIB

# One listing (`paging`): a million entries at dtrctl's page size of 100, each page an API
# answer with no more entries than asked for. The page bound also ends a server that hands out
# fresh pages forever within a minute on loopback; the time bound ends one that sends each page
# slowly.
MAX_PAGES = 10_000
LISTING_MAX_BYTES = 1024 * MIB
LISTING_MAX_SECONDS = 3600


def describe_size(size: int) -> str:
    """`16 MiB`, or bytes below one MiB."""
    return f"{size // MIB} MiB" if size >= MIB and size % MIB == 0 else f"{size} bytes"


def retry_window(timeout: float, retries: int) -> float:
    """Seconds within which one request, its retries and the waits between them all end."""
    return timeout * (retries + 1)


# The connections of a run's pool: at most this many requests are in flight at once. push-check
# of 10 tags keeps 22 busy: each tag's details and manifest GET (opened beside the token).
POOL_CONNECTIONS = 32
