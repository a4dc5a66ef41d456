"""The `dtrctl` entry point: answers `--version` before loading the CLI framework, tunes the
garbage collector for a short-lived process, and turns Ctrl-C into exit 130 wherever it lands,
without waiting for requests in flight (dtrctl.interrupts)."""

from __future__ import annotations

import gc
import os
import sys

# Loading the CLI creates long-lived objects only (modules, classes, the command tree), and
# collecting garbage among them is wasted work (about 10% of a short run with the defaults of
# 700, 10, 10). With these thresholds start-up never triggers a collection, while a long run (a
# bulk change of 100,000 repositories, the sandbox) still collects regularly.
GC_THRESHOLDS = (100_000, 50, 100)
# Set by a shell's completion script on TAB (see dtrctl.cli.completion.COMPLETE_VARIABLE).
COMPLETE_VARIABLE = "_DTRCTL_COMPLETE"


def main() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    from dtrctl import interrupts

    try:
        # `dtrctl --version` runs in scripts and health checks: it needs no command tree.
        if sys.argv[1:] == ["--version"]:
            from dtrctl import __version__

            print(f"dtrctl {__version__}")
            return
        if COMPLETE_VARIABLE in os.environ:
            from dtrctl.cli.completion import enable_shell_completion

            enable_shell_completion()
        from dtrctl.cli.app import app

        interrupts.arm()
        app(prog_name="dtrctl")
    except KeyboardInterrupt:
        if os.environ.get("DTRCTL_DEBUG"):
            raise
        print("Interrupted", file=sys.stderr)
        interrupts.exit_if_workers_remain(130)
        sys.exit(130)
    except SystemExit as exit:
        # After Ctrl-C, requests may still block worker threads: do not wait for them.
        if isinstance(exit.code, int):
            interrupts.exit_if_workers_remain(exit.code)
        raise
    finally:
        # The process ends here: the OS frees its memory at once, whereas the interpreter's
        # final collection would visit every object first.
        gc.freeze()
