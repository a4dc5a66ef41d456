"""How a run over many repositories shows itself: progress while it runs, then each result, a
summary and the exit code."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from dtrctl.errors import ExitCode

if TYPE_CHECKING:
    from rich.progress import Progress

    from dtrctl.cli.output import Output
    from dtrctl.records.changes import ImmutabilityResult
    from dtrctl.repos.bulk import BulkOutcome

# Below this many repositories a run is quick: no progress lines off a terminal.
PLAIN_PROGRESS_MINIMUM = 50


class BulkProgress:
    """A Rich bar on stderr when it is a terminal; otherwise, for long runs only, a plain line
    every tenth of the way, so logs show progress without animation."""

    def __init__(self, out: Output, total: int, verb: str) -> None:
        self.out = out
        self.total = total
        self.verb = verb
        self.done = 0
        self.changed = 0
        self.failed = 0
        self._step = max(1, total // 10)
        self._plain = total >= PLAIN_PROGRESS_MINIMUM
        self._bar: Progress | None = None

    def __enter__(self) -> BulkProgress:
        if self.out.stderr_is_terminal and self.total > 1:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=self.out.err_console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self._description(), total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _description(self) -> str:
        return f"{self.changed} {self.verb}, {self.failed} failed"

    def advance(self, changed: bool, failed: bool) -> None:
        self.done += 1
        self.changed += changed
        self.failed += failed
        if self._bar is not None:
            self._bar.update(self._task, advance=1, description=self._description())
        elif self._plain and self.done % self._step == 0 and self.done < self.total:
            self.out.info(f"progress: {self.done}/{self.total} repositories, {self._description()}")


def bulk_summary(outcome: BulkOutcome[ImmutabilityResult]) -> dict[str, int]:
    results = outcome.results
    return {
        "selected": outcome.total,
        "changed": sum(result.changed for result in results),
        "unchanged": sum(not result.changed and result.error is None for result in results),
        "failed": sum(result.error is not None for result in results),
        "not_started": outcome.not_started,
    }


def bulk_json(outcome: BulkOutcome[ImmutabilityResult], *, dry_run: bool) -> dict[str, object]:
    return {
        "results": [result_json(result) for result in outcome.results],
        "dry_run": dry_run,
        "interrupted": outcome.interrupted,
        "summary": bulk_summary(outcome),
    }


def report_immutability(
    out: Output, outcome: BulkOutcome[ImmutabilityResult], *, on: bool, dry_run: bool
) -> None:
    """Results on stdout; the summary (with every failure and its reason) on stderr."""
    if out.is_json:
        out.print_json(bulk_json(outcome, dry_run=dry_run))
        return
    print_results(out, outcome.results, dry_run=dry_run)
    for result in outcome.results:
        if result.error is not None:
            out.info(f"Error: {result.error.message}")
        for warning in result.warnings:
            out.warn(warning)
    summary = bulk_summary(outcome)
    state = "immutable" if on else "mutable"
    changed = f"{summary['changed']} {'would change' if dry_run else 'changed'}"
    counts = f"{changed}, {summary['unchanged']} already {state}, {summary['failed']} failed"
    if outcome.interrupted:
        out.info(
            f"Interrupted: {len(outcome.results)} of {outcome.total} repositories done "
            f"({counts}); {outcome.not_started} not started."
        )
        if dry_run:
            out.info("Nothing was changed (dry run).")
        else:
            changed_names = [result.repository for result in outcome.results if result.changed]
            out.info(f"Changed before the interrupt: {', '.join(changed_names) or 'none'}")
    elif dry_run:
        out.info(f"Dry run: {counts}; nothing was changed.")
    else:
        out.info(f"{counts} (of {outcome.total}).")


def bulk_exit_code(outcome: BulkOutcome[Any]) -> int:
    """130 after Ctrl-C; 1 for a partial failure, or the common code when all failed alike."""
    from dtrctl.repos.bulk import common_failure

    if outcome.interrupted:
        return int(ExitCode.INTERRUPTED)
    failures = [result.error for result in outcome.results if result.error is not None]
    if not failures:
        return int(ExitCode.OK)
    common = common_failure(failures) if len(failures) == len(outcome.results) else None
    return int(common.exit_code if common else ExitCode.FAILED)


def result_json(result: ImmutabilityResult) -> dict[str, object]:
    return {
        "repository": result.repository,
        "immutable": result.immutable,
        "changed": result.changed,
        "tag_limit_cleared": result.tag_limit_cleared,
        "error": result.error.to_dict() if result.error else None,
        **({"warnings": list(result.warnings)} if result.warnings else {}),
        # Harbor, turning off: the ids of the rules that still make some tags immutable.
        **({"rules_left": list(result.rules_left)} if result.rules_left is not None else {}),
    }


def print_results(
    out: Output, results: Sequence[ImmutabilityResult], *, dry_run: bool = False
) -> None:
    for result in results:
        if result.error is not None:
            out.line(f"{result.repository}: ", ("failed", "red"), f" ({result.error.code})")
            continue
        state = "immutable" if result.immutable else "mutable"
        if result.changed:
            what = ("would become " if dry_run else "now ") + state
        else:
            what = "already " + state
        cleared = "would be cleared" if dry_run else "cleared"
        extra = (
            f" (tag limit {cleared}: DTR treats it as exclusive)"
            if result.tag_limit_cleared
            else ""
        )
        if result.still_immutable:
            extra += f"; tags {result.still_immutable} stay immutable"
        out.line(f"{result.repository}: {what}{extra}")
