"""Credentials podman, Buildah and skopeo keep (`podman login`), read in podman's order.

containers-auth.json(5): `$REGISTRY_AUTH_FILE` when set (and then only it); otherwise
`${XDG_RUNTIME_DIR}/containers/auth.json`, then `${XDG_CONFIG_HOME:-~/.config}/containers/
auth.json`. The format is docker's config.json (`auths`, `credHelpers`), so
`dtrctl.auth.docker_config` searches these documents as it searches docker's, whose config
comes after them as podman's own fallback. The source name is "podman-auth"; `-v` names the
file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PODMAN_SOURCE = "podman-auth"
AUTH_FILE_VARIABLE = "REGISTRY_AUTH_FILE"

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
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            logger.debug(f"podman: no {path}")
            continue
        except (OSError, UnicodeDecodeError) as error:
            logger.warning(f"podman: cannot read {path} ({error})")
            continue
        document = parse_config(text, str(path))
        if document is not None:
            logger.debug(f"podman: reading {path}")
            configs.append((PODMAN_SOURCE, document))
    return configs
