"""The `dtrctl` entry point: answers `--version` before loading the CLI framework."""

from __future__ import annotations

import os
import sys


def main() -> None:
    try:
        # `dtrctl --version` runs in scripts and health checks: it needs no command tree.
        if sys.argv[1:] == ["--version"]:
            from dtrctl import __version__

            print(f"dtrctl {__version__}")
            return
        from dtrctl.cli.app import main as run_cli

        run_cli()
    except KeyboardInterrupt:
        if os.environ.get("DTRCTL_DEBUG"):
            raise
        # Ctrl-C while the CLI is still being loaded: the same exit as anywhere later.
        print("Interrupted", file=sys.stderr)
        sys.exit(130)
