"""Write the shell completion scripts in completions/ from dtrctl's CLI (`dtrctl completion`).

python scripts/generate_completions.py                 # rewrite completions/
python scripts/generate_completions.py --check         # exit 1 when a committed one is stale
python scripts/generate_completions.py --output-dir D  # write them to D instead
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dtrctl.cli.completion import SCRIPT_FILES, completion_script

COMPLETIONS_DIR = Path(__file__).resolve().parent.parent / "completions"


def expected_scripts() -> dict[str, str]:
    """File name in completions/ → its content."""
    return {file_name: completion_script(shell) for shell, file_name in SCRIPT_FILES.items()}


def stale_files(directory: Path) -> list[str]:
    """The scripts in `directory` that are missing or differ from what the CLI prints."""
    return [
        file_name
        for file_name, text in expected_scripts().items()
        if not (directory / file_name).is_file()
        or (directory / file_name).read_text(encoding="utf-8") != text
    ]


def write_scripts(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, text in expected_scripts().items():
        path = directory / file_name
        # newline="" keeps \n line ends on Windows too: the committed files are compared bytewise.
        with path.open("w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=COMPLETIONS_DIR)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a script is stale"
    )
    options = parser.parse_args(argv)
    if options.check:
        stale = stale_files(options.output_dir)
        for file_name in stale:
            print(f"stale: {options.output_dir / file_name}", file=sys.stderr)
        if stale:
            print("Run: python scripts/generate_completions.py", file=sys.stderr)
        return 1 if stale else 0
    for path in write_scripts(options.output_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
