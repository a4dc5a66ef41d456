"""Bounded reads of the files a user points dtrctl at: one cap per kind, all in one place.

A path may name `/dev/zero`, a FIFO nobody writes to the end of, or a multi-gigabyte file by
mistake: dtrctl reads at most the cap plus one byte, so memory stays bounded and a stream that
never ends cannot keep it reading. A larger file is a usage error (exit 2) naming the path.
The caps are generous: real files are a small fraction of them.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from dtrctl.errors import UsageError

KIB = 1024
MIB = 1024 * KIB

# config.toml and the credential file store: a few profiles, a few secrets.
CONFIG_FILE_LIMIT = 1 * MIB
# A policy file (`apply -f`): thousands of repository entries.
POLICY_FILE_LIMIT = 16 * MIB
# A --from-file name list: 100,000 names of up to 255 characters.
NAME_LIST_LIMIT = 32 * MIB
# `docker buildx build --metadata-file` output.
METADATA_FILE_LIMIT = 4 * MIB
# An OCI layout's index.json (and the manifests it names).
OCI_INDEX_LIMIT = 4 * MIB
# dtrctl's own cache of repository names, for shell completion.
NAME_CACHE_LIMIT = 64 * MIB
# A secret read from standard input (--password-stdin).
SECRET_LIMIT = 64 * KIB
# docker's config.json and podman's auth.json: a few hundred registries.
CREDENTIAL_FILE_LIMIT = 4 * MIB

UTF8_BOM = "\ufeff"


def read_bytes_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """The content of `path` ("-": standard input), at most `limit` bytes, else exit 2.

    OSError propagates (the caller words "does not exist" and "cannot read" its own way).
    """
    if str(path) == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # a text-only stand-in for stdin (tests)
            return _read_at_most_text(sys.stdin, limit, what)
        return _read_at_most(stdin, limit, what, "<stdin>")
    with open(path, "rb") as stream:
        return _read_at_most(stream, limit, what, str(path))


class FileTooLarge(UsageError):
    """A file larger than dtrctl reads for its kind."""


class NotAFile(UsageError):
    """A path that names a FIFO, a device or a directory where a regular file is expected."""


def read_regular_bytes_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """The content of the regular file `path`, at most `limit` bytes; `NotAFile` for anything
    else, checked before a byte is read: a FIFO never ends and never blocks the open
    (O_NONBLOCK), `/dev/zero` never ends.

    OSError propagates, as from `read_bytes_bounded`.
    """
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        regular = stat.S_ISREG(os.fstat(descriptor).st_mode)
    except OSError:
        os.close(descriptor)
        raise
    if not regular:
        os.close(descriptor)
        raise NotAFile(
            f"{what} {path} is not a regular file",
            hint="Point it at a file (not a FIFO, device or directory)",
        )
    with os.fdopen(descriptor, "rb") as stream:
        return _read_at_most(stream, limit, what, str(path))


def read_text_bounded(path: str | Path, limit: int, what: str, *, strip_bom: bool = False) -> str:
    """UTF-8 text of `path` ("-": standard input), at most `limit` bytes, else exit 2.

    `strip_bom`: a UTF-8 byte order mark at the start (as Windows editors write) is dropped.
    A file that is not UTF-8 raises UnicodeDecodeError, as `Path.read_text` does.
    """
    text = read_bytes_bounded(path, limit, what).decode("utf-8")
    if strip_bom and text.startswith(UTF8_BOM):
        return text[len(UTF8_BOM) :]
    return text


def _read_at_most(stream: BinaryIO, limit: int, what: str, name: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(what, name, limit)
    return data


def _read_at_most_text(stream: TextIO, limit: int, what: str) -> bytes:
    data = stream.read(limit + 1).encode("utf-8")
    if len(data) > limit:
        raise _too_large(what, "<stdin>", limit)
    return data


def _too_large(what: str, name: str, limit: int) -> FileTooLarge:
    return FileTooLarge(
        f"{what} {name} is larger than {_size(limit)}, more than dtrctl reads",
        hint="Check the path: it should name a regular file of the expected kind",
    )


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit >= MIB else f"{limit // KIB} KiB"
