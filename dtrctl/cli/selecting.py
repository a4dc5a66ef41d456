"""Which repositories a command works on: its arguments, --namespace, --from-file and
--exclude, read and resolved against the registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dtrctl.errors import UsageError

if TYPE_CHECKING:
    from dtrctl.cli.output import Output
    from dtrctl.repos.bulk import RepositoryLister
    from dtrctl.repos.selection import Resolution, Selection


def read_selection(
    arguments: Sequence[str] | None,
    namespaces: Sequence[str] | None,
    from_file: str | None,
    excludes: Sequence[str] | None,
    *,
    bare_is_namespace: bool = False,
    nested: bool = False,
) -> Selection:
    from dtrctl.repos.selection import parse_name_list, parse_selection

    if not bare_is_namespace:
        _refuse_bare_namespaces(arguments or [])
    file_names = []
    if from_file is not None:
        file_names = parse_name_list(read_text(from_file), source_label(from_file), nested=nested)
    return parse_selection(
        arguments or [],
        namespaces=namespaces or [],
        file_names=file_names,
        excludes=excludes or [],
        bare_is_namespace=bare_is_namespace,
        nested=nested,
    )


def _refuse_bare_namespaces(arguments: Sequence[str]) -> None:
    """A command that changes something takes no bare namespace: `team` alone is too easily
    meant as one repository. Read-only selections (list, audit) read it as `team/*`."""
    for text in arguments:
        if "/" in text or any(character in text for character in "*?[:@"):
            continue
        raise UsageError(
            f"{text!r} is a namespace, not NAMESPACE/NAME",
            hint=f"To select every repository in it, give '{text}/*' (quoted) "
            f"or --namespace {text}",
        )


def source_label(path: str) -> str:
    return "<stdin>" if path == "-" else path


def read_text(path: str, limit: int | None = None, what: str = "--from-file") -> str:
    """A file (or stdin) the user named, bounded (dtrctl.files); a leading UTF-8 BOM dropped."""
    from dtrctl.files import NAME_LIST_LIMIT, read_text_bounded

    try:
        return read_text_bounded(path, limit or NAME_LIST_LIMIT, what, strip_bom=True)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None


def or_every_repository(selection: Selection) -> Selection:
    """No selection means every visible repository (exclusions still apply)."""
    if not selection.is_empty:
        return selection
    from dtrctl.repos.selection import EVERY_REPOSITORY, parse_pattern

    return selection.with_patterns(parse_pattern(EVERY_REPOSITORY))


def resolve(out: Output, api: RepositoryLister, selection: Selection) -> Resolution:
    from dtrctl.repos.bulk import resolve_selection

    resolution = resolve_selection(api, selection)
    for warning in resolution.warnings():
        out.warn(warning)
    return resolution
