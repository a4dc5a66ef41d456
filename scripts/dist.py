"""`make dist`: a release's files in dist/: the sdist, the wheel and SHA256SUMS.

The version is dtrctl/__init__.py's `__version__`; the release's tag is `v` and that version.
Refuses (exit 1) when the built wheel's `dtrctl --version` says another version, or when HEAD
carries a `v*` tag that is not this version's, so a tag, the files and `dtrctl --version`
always agree. Prints the tag to create when HEAD has none.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_RE = re.compile(r'^__version__ = "([^"]+)"$', re.MULTILINE)
TIMEOUT = 600


def source_version() -> str:
    match = VERSION_RE.search((ROOT / "dtrctl" / "__init__.py").read_text(encoding="utf-8"))
    if match is None:
        sys.exit("dtrctl/__init__.py has no __version__ line")
    return match.group(1)


def built_version(wheel: Path) -> str:
    """What `dtrctl --version` of the wheel prints: its package's __version__."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("dtrctl/__init__.py").decode("utf-8")
    match = VERSION_RE.search(text)
    return match.group(1) if match else "?"


def head_tags() -> list[str]:
    """The `v*` tags on HEAD; none outside a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "tag", "--points-at", "HEAD", "--list", "v*"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except OSError:
        return []
    return completed.stdout.split() if completed.returncode == 0 else []


def sha256sums(files: list[Path]) -> str:
    """The lines `sha256sum` writes and `sha256sum --check` reads."""
    return "".join(
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n" for path in files
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    version = source_version()
    tag = f"v{version}"
    other_tags = [name for name in head_tags() if name != tag]
    if other_tags:
        print(
            f"HEAD is tagged {', '.join(other_tags)}, but the version is {version}", file=sys.stderr
        )
        return 1
    shutil.rmtree(args.outdir, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(args.outdir), str(ROOT)],
        check=True,
        timeout=TIMEOUT,
    )
    files = sorted(args.outdir.glob("dtrctl-*"))
    wheels = [path for path in files if path.suffix == ".whl"]
    if len(wheels) != 1 or len(files) != 2:
        print(f"expected one wheel and one sdist in {args.outdir}: {files}", file=sys.stderr)
        return 1
    if built_version(wheels[0]) != version:
        print(f"the wheel's dtrctl --version is not {version}", file=sys.stderr)
        return 1
    (args.outdir / "SHA256SUMS").write_text(sha256sums(files), encoding="utf-8")
    print(f"{args.outdir}: {', '.join(path.name for path in files)}, SHA256SUMS")
    if tag not in head_tags():
        print(f"tag the release: git tag -a {tag} -m 'dtrctl {version}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
