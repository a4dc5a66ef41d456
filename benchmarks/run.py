"""Run dtrctl's benchmarks and write `benchmarks/RESULTS.md`.

    python benchmarks/run.py            # the full run (a few minutes)
    python benchmarks/run.py --quick    # smaller sizes, fewer repetitions
    python benchmarks/run.py --smoke    # tiny sizes, seconds; prints, writes nothing

Use the interpreter of the environment dtrctl is installed in (e.g. `.venv/bin/python`): the
benchmarks run its `dtrctl` console script and compare with the same interpreter's floors.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make `benchmarks` and `dtrctl` importable from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import bulk, push_check, scale, startup
from benchmarks.common import DTRCTL, PROFILES, Profile, Workspace, machine_description
from benchmarks.report import Section, render

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
Benchmark = Callable[[Workspace, Profile], Section]
BENCHMARKS: dict[str, Benchmark] = {
    "startup": startup.run,
    "push-check-loopback": push_check.run_loopback,
    "push-check-network": push_check.run_network,
    "push-check-harbor": push_check.run_network_harbor,
    "bulk": bulk.run,
    "scale": scale.run,
}


def run_all(
    profile: Profile,
    workspace: Workspace,
    only: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Section]:
    sections = []
    for name, benchmark in BENCHMARKS.items():
        if only and name not in only:
            continue
        started = time.perf_counter()
        sections.append(benchmark(workspace, profile))
        if progress is not None:
            progress(f"{name}: {time.perf_counter() - started:.1f} s")
    return with_side_by_side(sections, profile)


def with_side_by_side(sections: list[Section], profile: Profile) -> list[Section]:
    """push-check's network figures of both kinds in one more table, after the second."""
    titles = [section.title for section in sections]
    dtr = next((s for s in sections if s.title.startswith("3. ")), None)
    harbor = next((s for s in sections if s.title.startswith("3b. ")), None)
    if dtr is None or harbor is None:
        return sections
    summary = push_check.side_by_side(dtr, harbor, profile.network_delay_ms)
    at = max(titles.index(dtr.title), titles.index(harbor.title)) + 1
    return [*sections[:at], summary, *sections[at:]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    size.add_argument("--smoke", action="store_true", help="tiny sizes; print, write nothing")
    parser.add_argument("--only", action="append", choices=list(BENCHMARKS), help="repeatable")
    parser.add_argument("--output", type=Path, help=f"where to write (default {RESULTS})")
    options = parser.parse_args(argv)
    if not Path(DTRCTL).exists():
        parser.error(f"{DTRCTL} is missing: run with the interpreter dtrctl is installed in")
    profile = PROFILES["smoke" if options.smoke else "quick" if options.quick else "full"]
    workspace = Workspace.create()
    try:
        sections = run_all(
            profile, workspace, options.only, lambda line: print(line, file=sys.stderr)
        )
    finally:
        shutil.rmtree(workspace.root, ignore_errors=True)
    command = "python benchmarks/run.py" + {"full": "", "quick": " --quick"}.get(
        profile.name, f" --{profile.name}"
    )
    text = render(sections, machine_description(), profile.name, command)
    if options.smoke and options.output is None:
        print(text)
        return 0
    output = options.output or RESULTS
    output.write_text(text, encoding="utf-8")
    print(text)
    print(f"written to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
