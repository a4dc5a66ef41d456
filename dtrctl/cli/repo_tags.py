"""`dtrctl repo tags NS/NAME`: a repository's tags with digest, platform, pusher and push time."""

from typing import TYPE_CHECKING, Annotated, Any

import typer

from dtrctl.cli.common import Run, dtrctl_command
from dtrctl.cli.completers import complete_repository
from dtrctl.cli.options import ListOutputOption
from dtrctl.cli.output import write_csv

if TYPE_CHECKING:
    from dtrctl.cli.output import Output
    from dtrctl.records.repository import Tag

CSV_COLUMNS = ("name", "digest", "platform", "pusher", "pushed_at", "created_at", "media_type")


@dtrctl_command
def tags(
    ctx: typer.Context,
    repository: Annotated[
        str,
        typer.Argument(
            help="Repository as NAMESPACE/NAME.",
            metavar="NS/NAME",
            autocompletion=complete_repository,
            show_default=False,
        ),
    ],
    output: ListOutputOption = "text",  # type: ignore[assignment]
) -> None:
    """List a repository's tags: digest, platform, who pushed and when (all pages).

    A multi-platform tag is listed once per platform when the registry lists it so.
    Exit code 4 when the repository does not exist (or the user may not see it).

    Examples:

    \b
      dtrctl repo tags engineering/api
      dtrctl repo tags engineering/api -o json | jq -r '.tags[].name'
      dtrctl repo tags engineering/api -o csv > api-tags.csv
    """
    run = Run(ctx, output)  # first: it says whether names may nest (Harbor)
    name = run.repository_name(repository)
    with run.session(write=False) as session:
        found = list(session.backend.list_tags(name))
    rows = [tag_json(tag) for tag in found]
    if run.out.format == "csv":
        _print_csv(rows)
        return
    run.out.emit({"repository": str(name), "tags": rows}, lambda out: _print_table(out, rows))
    if not run.out.is_json:
        distinct = len({row["name"] for row in rows})
        run.out.info(f"{distinct} tag{'' if distinct == 1 else 's'} in {name}")


def tag_json(tag: "Tag") -> dict[str, Any]:
    """A tag for `-o json`: the tag API's fields plus platform, pusher and push time."""
    manifest = tag.manifest
    platform = "/".join(part for part in (manifest.os, manifest.architecture) if part)
    return {
        **tag.to_json(),
        "platform": platform,
        "pusher": tag.author,
        # DTR's updatedAt is the last push of the tag; createdAt the first.
        "pushed_at": tag.updated_at or tag.created_at,
    }


def _print_table(out: "Output", rows: list[dict[str, Any]]) -> None:
    out.table(
        ("TAG", "DIGEST", "PLATFORM", "PUSHER", "PUSHED"),
        [
            (
                row["name"],
                row["digest"],
                row["platform"] or "-",
                row["pusher"] or "-",
                row["pushed_at"] or "-",
            )
            for row in rows
        ],
    )


def _print_csv(rows: list[dict[str, Any]]) -> None:
    write_csv(CSV_COLUMNS, ([row[column] for column in CSV_COLUMNS] for row in rows))
