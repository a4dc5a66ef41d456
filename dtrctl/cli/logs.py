"""The one place that configures logging: `-v` shows dtrctl's debug lines on stderr, else nothing.

Modules log to `logging.getLogger(__name__)` under the `dtrctl` logger; only the CLI decides where
that goes. This module is imported by the root callback, which `--help` never runs, so `--help`
does not load `logging`.
"""

from __future__ import annotations

import logging
import sys

ROOT_LOGGER = "dtrctl"
# Loggers whose messages are about finding credentials: `-v` prefixes them as it always did.
CREDENTIAL_LOGGERS = ("dtrctl.auth",)


class VerboseFormatter(logging.Formatter):
    """The message alone, as `-v` always printed it: no level names, never a traceback. Server
    text in it (URLs, error messages) is data: escaped like all text output."""

    def format(self, record: logging.LogRecord) -> str:
        from dtrctl.text import safe_lines

        message = safe_lines(record.getMessage())
        if record.levelno >= logging.WARNING:
            message = f"warning: {message}"
        if record.name.startswith(CREDENTIAL_LOGGERS):
            message = f"credentials: {message}"
        return message


def configure_logging(verbose: bool) -> None:
    """With `verbose`, every debug line on stderr; without, nothing at all (not even a warning
    through Python's last-resort handler: those lines are for `-v`)."""
    logger = logging.getLogger(ROOT_LOGGER)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.propagate = False
    handler: logging.Handler
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(VerboseFormatter())
    else:
        handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
