"""Credentials podman, Buildah and skopeo keep (`podman login`), read in podman's order.

containers-auth.json(5): `$REGISTRY_AUTH_FILE` when set (and then only it); otherwise
`${XDG_RUNTIME_DIR}/containers/auth.json` (on Linux without XDG_RUNTIME_DIR,
`/run/containers/$UID/auth.json`, as root's podman and skopeo keep it), then
`${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`. The format is docker's config.json
(`auths`, `credHelpers`), so `dtrctl.auth.docker_config` searches these documents as it
searches docker's, whose config comes after them as podman's own fallback. The source name is
"podman-auth"; `-v` names the file.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dtrctl.auth.bounded import read_credential_file

PODMAN_SOURCE = "podman-auth"
AUTH_FILE_VARIABLE = "REGISTRY_AUTH_FILE"
PER_UID_RUNTIME_DIR = Path("/run/containers")

logger = logging.getLogger(__name__)

# docker_config's parser (passed in: that module imports this one).
ConfigParser = Callable[[str, str], "dict[str, Any] | None"]


def podman_auth_paths(env: Mapping[str, str]) -> list[Path]:
    """The files podman would read, in its order; they may not exist."""
    if env.get(AUTH_FILE_VARIABLE):
        return [Path(env[AUTH_FILE_VARIABLE])]
    paths = []
    if env.get("XDG_RUNTIME_DIR"):
        paths.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    elif sys.platform.startswith("linux") and hasattr(os, "getuid"):
        # containers/image's defaultPerUIDPathFormat: where root's `podman login` and skopeo's
        # keep the login when XDG_RUNTIME_DIR is unset.
        paths.append(PER_UID_RUNTIME_DIR / str(os.getuid()) / "auth.json")
    xdg_config = env.get("XDG_CONFIG_HOME")
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    config_home = Path(xdg_config) if xdg_config and Path(xdg_config).is_absolute() else None
    paths.append((config_home or home / ".config") / "containers" / "auth.json")
    return list(dict.fromkeys(paths))


def podman_configs(
    env: Mapping[str, str], parse_config: ConfigParser
) -> list[tuple[str, dict[str, Any]]]:
    """(source name, parsed document) of each podman auth file that exists and parses; what
    was tried goes to the module logger, never a secret."""
    configs = []
    for path in podman_auth_paths(env):
        try:
            text = read_credential_file(path, *_describe(env))
        except FileNotFoundError:
            logger.debug(f"podman: no {path}")
            continue
        except PermissionError as error:
            if path.is_relative_to(PER_UID_RUNTIME_DIR):  # another user's (root's) directory
                logger.debug(f"podman: cannot read {path} ({error.strerror})")
                continue
            logger.warning(f"podman: cannot read {path} ({error})")
            continue
        except (OSError, UnicodeDecodeError) as error:
            logger.warning(f"podman: cannot read {path} ({error})")
            continue
        document = parse_config(text, str(path))
        if document is not None:
            logger.debug(f"podman: reading {path}")
            configs.append((PODMAN_SOURCE, document))
    return configs


def _describe(env: Mapping[str, str]) -> tuple[str, str]:
    """What the file is, and what to do when it cannot be read."""
    if env.get(AUTH_FILE_VARIABLE):
        return (
            f"podman's auth file (${AUTH_FILE_VARIABLE})",
            f"Point {AUTH_FILE_VARIABLE} at an auth.json file, or unset it",
        )
    return "podman's auth file", "Fix or remove it: podman login writes it again"
