"""Profiles: the config file `config.toml` in dtrctl's config directory.

The directory is `$DTRCTL_CONFIG_DIR` when set, else the platform's config directory:
`$XDG_CONFIG_HOME/dtrctl` (or `~/.config/dtrctl`) on Linux and other Unix systems,
`~/Library/Application Support/dtrctl` on macOS, `%APPDATA%\\dtrctl` on Windows.

The file holds named profiles; every key is optional::

    default_profile = "prod"           # the profile used without --profile or DTRCTL_PROFILE

    [profiles.prod]
    url = "https://dtr.example.com"    # the DTR URL
    username = "alice"                 # the UCP/MKE user; the secret lives in the keyring
    ca_file = "/etc/dtr/ca.pem"        # extra CA bundle (PEM) to trust for this DTR
    bundle = "/home/alice/ucp-bundle"  # a UCP client bundle directory
    backend = "dtr"                    # auto (default), dtr, harbor or registry
    insecure = false                   # true skips TLS verification
    protect = ["v*"]                   # tag globs that must never be overwritten

Secrets are never written here. Unknown keys and values of the wrong type are errors that name
the file and the line, so a typo does not silently change what dtrctl does. `save_profile` and
`remove_profile` rewrite the whole file: comments in it are not kept.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dtrctl.errors import UsageError
from dtrctl.records.kinds import BACKEND_KINDS

if TYPE_CHECKING:
    # Imported where a config file is read: most runs (CI's) have none.
    from dtrctl.tomlfile import TomlLines

CONFIG_FILE_NAME = "config.toml"
DEFAULT_PROFILE_NAME = "default"
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

_STRING_KEYS = ("url", "username", "ca_file", "bundle", "backend")
_PROFILE_KEYS = (*_STRING_KEYS, "insecure", "protect")
_TOP_LEVEL_KEYS = ("default_profile", "profiles")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


class ConfigError(UsageError):
    """The config (or credentials) file cannot be read as dtrctl's format."""

    def __init__(self, path: Path, message: str, *, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(
            f"{where}: {message}",
            hint="Fix the file, or point DTRCTL_CONFIG_DIR at another directory",
        )
        self.path = path
        self.line = line


@dataclass
class Profile:
    """One `[profiles.NAME]` table of the config file."""

    name: str
    url: str | None = None
    username: str | None = None
    ca_file: str | None = None
    bundle: str | None = None
    # The registry kind (dtrctl.records.kinds.BACKEND_KINDS); None: detect it.
    backend: str | None = None
    insecure: bool = False
    protect: list[str] = field(default_factory=list)


@dataclass
class Config:
    """The config file's contents: its profiles and the default one."""

    path: Path
    default_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    def get_profile(self, name: str) -> Profile | None:
        return self.profiles.get(name)


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """dtrctl's config directory (see the module docstring); it may not exist yet."""
    env = os.environ if environ is None else environ
    if env.get("DTRCTL_CONFIG_DIR"):
        return Path(env["DTRCTL_CONFIG_DIR"])
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    if sys.platform == "win32":
        appdata = env.get("APPDATA")
        return (Path(appdata) if appdata else home / "AppData" / "Roaming") / "dtrctl"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "dtrctl"
    xdg = env.get("XDG_CONFIG_HOME")
    # The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else home / ".config"
    return base / "dtrctl"


def unlock_journal_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where `repo unlock` journals its open windows (`dtrctl.repos.journal`): here, so that
    every command can look for one without loading the journal."""
    return config_dir(environ) / "unlock-journal"


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    return config_dir(environ) / CONFIG_FILE_NAME


def active_profile_name(
    cli_value: str | None,
    environ: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> str:
    """`--profile`, else `DTRCTL_PROFILE`, else the file's `default_profile`, else "default"."""
    env = os.environ if environ is None else environ
    if cli_value:
        return cli_value
    if env.get("DTRCTL_PROFILE"):
        return env["DTRCTL_PROFILE"]
    if config is not None and config.default_profile:
        return config.default_profile
    return DEFAULT_PROFILE_NAME


def read_toml(path: Path, what: str = "the config file") -> tuple[dict[str, Any], str] | None:
    """The parsed document and its text, or None when the file does not exist.

    Only a regular file is read (`NotAFile` otherwise): a FIFO or a device would hang or never end.
    """
    from dtrctl.files import CONFIG_FILE_LIMIT, read_regular_bytes_bounded

    try:
        text = read_regular_bytes_bounded(path, CONFIG_FILE_LIMIT, what).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, f"cannot read the file ({error})") from error
    from dtrctl.tomlfile import TomlSyntaxError, parse_toml

    try:
        return parse_toml(text), text
    except TomlSyntaxError as error:
        raise ConfigError(path, error.message, line=error.line) from error


def load_config(path: Path | None = None) -> Config:
    """Read the config file; a missing file is an empty config."""
    config_file = config_path() if path is None else path
    parsed = read_toml(config_file)
    if parsed is None:
        return Config(config_file)
    document, text = parsed
    from dtrctl.tomlfile import TomlLines

    locate = TomlLines(text)
    for key in document:
        if key not in _TOP_LEVEL_KEYS:
            raise ConfigError(
                config_file,
                f"unknown key {key!r} (expected one of: {', '.join(_TOP_LEVEL_KEYS)})",
                line=_top_level_line(locate, key),
            )
    default_profile = document.get("default_profile")
    if default_profile is not None and not isinstance(default_profile, str):
        raise ConfigError(
            config_file,
            f"default_profile must be a string, not {_describe(default_profile)}",
            line=_top_level_line(locate, "default_profile"),
        )
    profiles_table = document.get("profiles", {})
    if not isinstance(profiles_table, dict):
        raise ConfigError(
            config_file,
            f"profiles must be a table ([profiles.NAME]), not {_describe(profiles_table)}",
            line=_top_level_line(locate, "profiles"),
        )
    profiles = {
        name: _profile_from_table(name, table, config_file, locate)
        for name, table in profiles_table.items()
    }
    return Config(config_file, default_profile, profiles)


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Add or replace one profile, keeping the others; returns the file written."""
    config = load_config(path)
    config.profiles[profile.name] = profile
    _write_config(config)
    return config.path


def remove_profile(name: str, path: Path | None = None) -> bool:
    """Remove a profile; False when there was none of that name."""
    config = load_config(path)
    if name not in config.profiles:
        return False
    del config.profiles[name]
    if config.default_profile == name:
        config.default_profile = None
    _write_config(config)
    return True


def set_default_profile(name: str, path: Path | None = None) -> Path:
    """Make an existing profile the default one; returns the file written."""
    config = load_config(path)
    if name not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise UsageError(
            f"profile {name!r} is not in {config.path}",
            hint=f"Known profiles: {known}. Create one with `dtrctl login --profile NAME`",
        )
    config.default_profile = name
    _write_config(config)
    return config.path


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` and its missing parents with mode 0700. An existing directory keeps
    its mode: dtrctl never changes one it did not create (a shared /tmp must stay 1777)."""
    missing = [path for path in (directory, *directory.parents) if not path.exists()]
    directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    for created in missing:
        # mkdir's mode is filtered by the umask.
        os.chmod(created, PRIVATE_DIR_MODE)


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` atomically with a 0600 file (in a 0700 directory, if dtrctl creates it)."""
    ensure_private_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, PRIVATE_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def toml_key(key: str) -> str:
    return key if _BARE_KEY_RE.fullmatch(key) else toml_string(key)


def toml_string(value: str) -> str:
    escapes = {
        '"': '\\"',
        "\\": "\\\\",
        "\b": "\\b",
        "\t": "\\t",
        "\n": "\\n",
        "\f": "\\f",
        "\r": "\\r",
    }
    out = []
    for char in value:
        if char in escapes:
            out.append(escapes[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: str | bool | list[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    return "[" + ", ".join(toml_string(item) for item in value) + "]"


def _render_config(config: Config) -> str:
    lines = ["# dtrctl configuration; secrets are never stored in this file."]
    if config.default_profile:
        lines.append(f"default_profile = {toml_string(config.default_profile)}")
    for name, profile in config.profiles.items():
        lines += ["", f"[profiles.{toml_key(name)}]"]
        for key in _STRING_KEYS:
            value = getattr(profile, key)
            if value is not None:
                lines.append(f"{key} = {toml_value(value)}")
        lines.append(f"insecure = {toml_value(profile.insecure)}")
        if profile.protect:
            lines.append(f"protect = {toml_value(profile.protect)}")
    return "\n".join(lines) + "\n"


def _write_config(config: Config) -> None:
    write_private_file(config.path, _render_config(config))


def _profile_from_table(name: str, table: object, path: Path, locate: TomlLines) -> Profile:
    if not isinstance(table, dict):
        raise ConfigError(
            path,
            f"profile {name!r} must be a table ([profiles.{toml_key(name)}]), "
            f"not {_describe(table)}",
            line=_top_level_line(locate, name),
        )
    for key in table:
        if key not in _PROFILE_KEYS:
            raise ConfigError(
                path,
                f"unknown key {key!r} in profile {name!r} "
                f"(expected one of: {', '.join(_PROFILE_KEYS)})",
                line=_profile_line(locate, name, key),
            )
    _check_profile_values(name, table, path, locate)
    return Profile(
        name=name,
        url=table.get("url"),
        username=table.get("username"),
        ca_file=table.get("ca_file"),
        bundle=table.get("bundle"),
        backend=table.get("backend"),
        insecure=table.get("insecure", False),
        protect=list(table.get("protect", [])),
    )


def _check_profile_values(name: str, table: dict[str, Any], path: Path, locate: TomlLines) -> None:
    """Each known key of a profile holds a value of its type."""
    for key in _STRING_KEYS:
        if key in table and not isinstance(table[key], str):
            raise ConfigError(
                path,
                f"{key} in profile {name!r} must be a string, not {_describe(table[key])}",
                line=_profile_line(locate, name, key),
            )
    backend = table.get("backend")
    if backend is not None and backend not in BACKEND_KINDS:
        raise ConfigError(
            path,
            f"backend in profile {name!r} must be one of {', '.join(BACKEND_KINDS)}, "
            f"not {backend!r}",
            line=_profile_line(locate, name, "backend"),
        )
    insecure = table.get("insecure", False)
    if not isinstance(insecure, bool):
        raise ConfigError(
            path,
            f"insecure in profile {name!r} must be true or false, not {_describe(insecure)}",
            line=_profile_line(locate, name, "insecure"),
        )
    protect = table.get("protect", [])
    wrong = (
        protect
        if not isinstance(protect, list)
        else next((item for item in protect if not isinstance(item, str)), None)
    )
    if wrong is not None:
        what = _describe(wrong) if wrong is protect else f"a list containing {_describe(wrong)}"
        raise ConfigError(
            path,
            f"protect in profile {name!r} must be a list of strings (tag globs), not {what}",
            line=_profile_line(locate, name, "protect"),
        )


def _top_level_line(lines: TomlLines, key: str) -> int | None:
    return lines.key(key) or lines.anywhere(key)


def _profile_line(lines: TomlLines, profile: str, key: str) -> int | None:
    return lines.key(key, "profiles", profile) or lines.anywhere(key)


def _describe(value: object) -> str:
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"
