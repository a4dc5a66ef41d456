"""The content a pipeline is about to push, as a digest to compare with the registry's.

One source at most: `--digest` (manifest or index digest), `--config-digest` (the image ID,
compared with the remote manifest's config), `--oci-layout DIR[:REF]` (an OCI image layout's
`index.json`) or `--metadata-file FILE` (what `docker buildx build --metadata-file` writes).
Pure: reads files, knows nothing of the terminal or the network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from dtrctl.errors import InvalidReference, UsageError
from dtrctl.files import METADATA_FILE_LIMIT, OCI_INDEX_LIMIT, read_bytes_bounded
from dtrctl.reference import validate_digest

REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
BUILDX_DIGEST_KEY = "containerimage.digest"


class DigestKind(str, Enum):
    MANIFEST = "manifest"  # the top-level manifest or index digest (Docker-Content-Digest)
    CONFIG = "config"  # the image configuration digest (the image ID)


@dataclass(frozen=True)
class ExpectedContent:
    """The digest the pipeline will push, and whether it is a manifest or a config digest."""

    digest: str
    kind: DigestKind
    source: str  # where it came from, for messages


def read_expected_content(
    *,
    digest: str | None = None,
    config_digest: str | None = None,
    oci_layout: str | None = None,
    metadata_file: str | Path | None = None,
) -> ExpectedContent | None:
    """The expected digest from the one source given, or None when none is."""
    given = {
        "--digest": digest,
        "--config-digest": config_digest,
        "--oci-layout": oci_layout,
        "--metadata-file": metadata_file,
    }
    named = [option for option, value in given.items() if value is not None]
    if len(named) > 1:
        raise UsageError(
            f"{' and '.join(named)} cannot be combined",
            hint="Give the expected content one way only",
        )
    if digest is not None:
        return ExpectedContent(_checked_digest(digest, "--digest"), DigestKind.MANIFEST, "--digest")
    if config_digest is not None:
        return ExpectedContent(
            _checked_digest(config_digest, "--config-digest"), DigestKind.CONFIG, "--config-digest"
        )
    if oci_layout is not None:
        return ExpectedContent(
            digest_from_oci_layout(oci_layout), DigestKind.MANIFEST, f"--oci-layout {oci_layout}"
        )
    if metadata_file is not None:
        return ExpectedContent(
            digest_from_metadata_file(Path(metadata_file)),
            DigestKind.MANIFEST,
            f"--metadata-file {metadata_file}",
        )
    return None


def _checked_digest(text: str, origin: str) -> str:
    try:
        return validate_digest(text.strip())
    except InvalidReference as error:
        raise UsageError(f"{origin}: {error.message}", hint=error.hint) from None


def split_layout_argument(text: str) -> tuple[Path, str | None]:
    """`DIR` or `DIR:REF`; a directory whose name holds a colon is taken whole."""
    whole = Path(text)
    if whole.is_dir() or ":" not in text:
        return whole, None
    directory, ref = text.rsplit(":", 1)
    if not directory or not ref:
        raise UsageError(f"--oci-layout {text!r} is not DIR or DIR:REF")
    return Path(directory), ref


def _read_json(path: Path, origin: str, limit: int) -> Any:
    try:
        return json.loads(read_bytes_bounded(path, limit, f"{origin}:"))
    except FileNotFoundError:
        raise UsageError(f"{origin}: {path} does not exist") from None
    except OSError as error:
        raise UsageError(f"{origin}: cannot read {path}: {error.strerror or error}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(f"{origin}: {path} is not JSON: {error}") from None
    except RecursionError:
        raise UsageError(f"{origin}: {path} nests JSON too deeply") from None


def digest_from_oci_layout(argument: str) -> str:
    """The digest of the one manifest in `index.json`, or of the one whose ref name is REF."""
    directory, ref = split_layout_argument(argument)
    origin = "--oci-layout"
    if not directory.is_dir():
        raise UsageError(f"{origin}: {directory} is not a directory")
    index = _read_json(directory / "index.json", origin, OCI_INDEX_LIMIT)
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not all(isinstance(m, dict) for m in manifests):
        raise UsageError(f"{origin}: {directory / 'index.json'} is not an OCI image index")
    names = [_ref_name(entry) for entry in manifests]
    if ref is None:
        if len(manifests) != 1:
            raise UsageError(
                f"{origin}: {directory} holds {len(manifests)} images",
                hint=_choose_hint(directory, names),
            )
        chosen = manifests[0]
    else:
        matching = [entry for entry, name in zip(manifests, names, strict=True) if name == ref]
        if not matching:
            raise UsageError(
                f"{origin}: {directory} has no image named {ref!r}",
                hint=_choose_hint(directory, names),
            )
        if len({entry.get("digest") for entry in matching}) > 1:
            raise UsageError(f"{origin}: {directory} names different images {ref!r}")
        chosen = matching[0]
    digest = chosen.get("digest")
    if not isinstance(digest, str):
        raise UsageError(f"{origin}: an entry of {directory / 'index.json'} has no digest")
    return _checked_digest(digest, origin)


def _ref_name(entry: dict[str, Any]) -> str | None:
    annotations = entry.get("annotations")
    name = annotations.get(REF_NAME_ANNOTATION) if isinstance(annotations, dict) else None
    return name if isinstance(name, str) else None


def _choose_hint(directory: Path, names: list[str | None]) -> str:
    known = sorted({name for name in names if name})
    if not known:
        return "Its images carry no org.opencontainers.image.ref.name annotation to choose by"
    return f"Choose one as {directory}:REF; names: {', '.join(known)}"


def digest_from_metadata_file(path: Path) -> str:
    """`containerimage.digest` from `docker buildx build --metadata-file`."""
    origin = "--metadata-file"
    metadata = _read_json(path, origin, METADATA_FILE_LIMIT)
    digest = metadata.get(BUILDX_DIGEST_KEY) if isinstance(metadata, dict) else None
    if not isinstance(digest, str):
        raise UsageError(
            f"{origin}: {path} has no {BUILDX_DIGEST_KEY!r}",
            hint="It is written by `docker buildx build --metadata-file FILE`; a bake file's "
            "metadata holds one such object per target",
        )
    return _checked_digest(digest, origin)
