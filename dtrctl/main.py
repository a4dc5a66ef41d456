"""The `dtrctl` entry point: answers `--version` before loading the CLI framework."""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    # Loading the CLI creates long-lived objects only (modules, classes, the command tree), so
    # collecting garbage meanwhile is wasted work; each command turns the collector back on
    # when it starts (`dtrctl.cli.common.dtrctl_command`).
    gc.disable()
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
    finally:
        # The process ends here: the OS frees its memory at once, whereas the interpreter's
        # final collection would visit every object first (~10% of a short run).
        gc.freeze()
