from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dtrctl.config import (
    Config,
    ConfigError,
    Profile,
    active_profile_name,
    config_dir,
    config_path,
    load_config,
    remove_profile,
    save_profile,
)
from dtrctl.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from tests.unit.conftest import IsolatedEnv

pytestmark = pytest.mark.usefixtures("isolated_env")

EXAMPLE = """\
default_profile = "prod"   # optional

[profiles.prod]
url = "https://dtr.example.com"
username = "alice"
ca_file = "/etc/dtr/ca.pem"
bundle = "/home/alice/ucp-bundle"
insecure = false
protect = ["v*"]

[profiles.lab]
url = "https://dtr.lab.example.com"
insecure = true
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_config(isolated_env: IsolatedEnv, text: str) -> Path:
    isolated_env.config_dir.mkdir(parents=True, exist_ok=True)
    path = isolated_env.config_dir / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# config_dir


def test_config_dir_override_wins(tmp_path: Path) -> None:
    environ = {"DTRCTL_CONFIG_DIR": str(tmp_path / "mine"), "XDG_CONFIG_HOME": "/xdg"}
    assert config_dir(environ) == tmp_path / "mine"


def test_config_dir_linux_uses_xdg_config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert config_dir({"HOME": "/home/a", "XDG_CONFIG_HOME": "/xdg"}) == Path("/xdg/dtrctl")


def test_config_dir_linux_defaults_to_dot_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    assert config_dir({"HOME": "/home/a"}) == Path("/home/a/.config/dtrctl")


def test_config_dir_ignores_relative_xdg_config_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    environ = {"HOME": "/home/a", "XDG_CONFIG_HOME": "relative"}
    assert config_dir(environ) == Path("/home/a/.config/dtrctl")


def test_config_dir_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    environ = {"HOME": "/Users/a", "XDG_CONFIG_HOME": "/xdg"}
    assert config_dir(environ) == Path("/Users/a/Library/Application Support/dtrctl")


def test_config_dir_windows_uses_appdata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    environ = {"HOME": "/home/a", "APPDATA": "/appdata/Roaming"}
    assert config_dir(environ) == Path("/appdata/Roaming/dtrctl")


def test_config_dir_reads_the_process_environment_by_default(isolated_env: IsolatedEnv) -> None:
    assert config_path() == isolated_env.config_dir / "config.toml"


# active_profile_name


def test_active_profile_flag_beats_env_and_file(tmp_path: Path) -> None:
    config = Config(tmp_path / "config.toml", default_profile="from-file")
    assert active_profile_name("flag", {"DTRCTL_PROFILE": "env"}, config) == "flag"


def test_active_profile_env_beats_file(tmp_path: Path) -> None:
    config = Config(tmp_path / "config.toml", default_profile="from-file")
    assert active_profile_name(None, {"DTRCTL_PROFILE": "env"}, config) == "env"


def test_active_profile_from_file_then_default(isolated_env: IsolatedEnv) -> None:
    write_config(isolated_env, EXAMPLE)
    assert active_profile_name(None, {}, load_config()) == "prod"
    assert active_profile_name(None, {}) == "default"


# load_config


def test_missing_file_is_an_empty_config(isolated_env: IsolatedEnv) -> None:
    config = load_config()
    assert config.profiles == {}
    assert config.default_profile is None
    assert config.get_profile("default") is None
    assert not isolated_env.config_dir.exists()


def test_load_reads_every_field(isolated_env: IsolatedEnv) -> None:
    write_config(isolated_env, EXAMPLE)
    config = load_config()
    assert config.default_profile == "prod"
    assert config.get_profile("prod") == Profile(
        name="prod",
        url="https://dtr.example.com",
        username="alice",
        ca_file="/etc/dtr/ca.pem",
        bundle="/home/alice/ucp-bundle",
        insecure=False,
        protect=["v*"],
    )
    assert config.get_profile("lab") == Profile(
        name="lab", url="https://dtr.lab.example.com", insecure=True
    )


def test_load_from_an_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('[profiles.x]\nurl = "https://x.example.com"\n', encoding="utf-8")
    assert load_config(path).get_profile("x") == Profile(name="x", url="https://x.example.com")


# errors name the file and the line


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[profiles.prod]\nurl = "https://x"\ninsecure = yes\n', 3, "invalid TOML"),
        ('[profiles.prod]\nurl = "https://x\n', 2, "invalid TOML"),
        ('[profiles.prod]\nurl = "https://x"\ninsecure = "yes"\n', 3, "true or false"),
        ('[profiles.prod]\nurl = "https://x"\n\nusername = 42\n', 4, "must be a string"),
        ('[profiles.prod]\nurl = "https://x"\nprotect = "v*"\n', 3, "list of strings"),
        ('[profiles.prod]\nprotect = ["v*", 1]\n', 2, "the number 1"),
        ('[profiles.prod]\nurl = "https://x"\nusrname = "alice"\n', 3, "unknown key 'usrname'"),
        ('default_profile = "a"\nverbose = true\n', 2, "unknown key 'verbose'"),
        ("default_profile = 3\n", 1, "default_profile must be a string"),
        ('profiles = "prod"\n', 1, "profiles must be a table"),
        ('[profiles]\nprod = "https://x"\n', 2, "profile 'prod' must be a table"),
        ('profiles.prod.insecure = "no"\n', 1, "true or false"),
    ],
)
def test_config_errors_name_file_and_line(
    isolated_env: IsolatedEnv, text: str, line: int, words: str
) -> None:
    path = write_config(isolated_env, text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.message.startswith(f"{path}:{line}: ")
    assert words in caught.value.message
    assert caught.value.line == line


def test_key_line_is_found_in_the_right_profile(isolated_env: IsolatedEnv) -> None:
    write_config(
        isolated_env,
        '[profiles.a]\ninsecure = false\n\n[profiles."b"]\nurl = "https://b"\ninsecure = "yes"\n',
    )
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert caught.value.line == 6
    assert "profile 'b'" in caught.value.message


def test_config_error_is_a_usage_error_exit_2(isolated_env: IsolatedEnv) -> None:
    write_config(isolated_env, "[profiles.prod\n")
    with pytest.raises(UsageError) as caught:
        load_config()
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_config_file_over_1_mib_is_refused_naming_it(isolated_env: IsolatedEnv) -> None:
    path = write_config(isolated_env, "# padding\n" * 120_000)
    with pytest.raises(UsageError) as caught:
        load_config()
    assert str(path) in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE


# save_profile / remove_profile


def test_save_creates_private_file_in_private_dir(isolated_env: IsolatedEnv) -> None:
    written = save_profile(Profile(name="prod", url="https://dtr.example.com", username="alice"))
    assert written == isolated_env.config_dir / "config.toml"
    assert mode(written) == 0o600
    assert mode(isolated_env.config_dir) == 0o700
    assert load_config().get_profile("prod") == Profile(
        name="prod", url="https://dtr.example.com", username="alice"
    )


def test_save_fixes_the_file_mode_and_never_changes_an_existing_directory(
    isolated_env: IsolatedEnv,
) -> None:
    path = write_config(isolated_env, EXAMPLE)
    path.chmod(0o644)
    isolated_env.config_dir.chmod(0o755)
    save_profile(Profile(name="new"))
    assert mode(path) == 0o600
    assert mode(isolated_env.config_dir) == 0o755


def test_save_keeps_other_profiles_and_default(isolated_env: IsolatedEnv) -> None:
    write_config(isolated_env, EXAMPLE)
    save_profile(Profile(name="lab", url="https://new-lab.example.com", protect=["release-*"]))
    config = load_config()
    assert config.default_profile == "prod"
    prod = config.get_profile("prod")
    assert prod is not None
    assert prod.protect == ["v*"]
    assert config.get_profile("lab") == Profile(
        name="lab", url="https://new-lab.example.com", protect=["release-*"]
    )


def test_saved_values_with_special_characters_round_trip(isolated_env: IsolatedEnv) -> None:
    profile = Profile(
        name='team "blue".prod',
        url="https://dtr.example.com/path",
        username='domain\\alice "the admin"',
        ca_file="/tmp/ca\tfile\n.pem",
        bundle="/home/zoë/bündle\x01",
        insecure=True,
        protect=["v*", 'it"s', "back\\slash", ""],
    )
    save_profile(profile)
    assert load_config().get_profile(profile.name) == profile


def test_save_into_an_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "config.toml"
    assert save_profile(Profile(name="x", url="https://x"), path) == path
    assert load_config(path).get_profile("x") == Profile(name="x", url="https://x")
    assert mode(path.parent) == 0o700


def test_save_refuses_to_overwrite_a_broken_file(isolated_env: IsolatedEnv) -> None:
    path = write_config(isolated_env, "[profiles.prod\nurl = 1\n")
    with pytest.raises(ConfigError):
        save_profile(Profile(name="x"))
    assert path.read_text(encoding="utf-8") == "[profiles.prod\nurl = 1\n"


def test_remove_profile(isolated_env: IsolatedEnv) -> None:
    write_config(isolated_env, EXAMPLE)
    assert remove_profile("lab") is True
    assert remove_profile("lab") is False
    config = load_config()
    assert set(config.profiles) == {"prod"}
    assert config.default_profile == "prod"


def test_removing_the_default_profile_clears_default_profile(isolated_env: IsolatedEnv) -> None:
    write_config(isolated_env, EXAMPLE)
    assert remove_profile("prod") is True
    config = load_config()
    assert config.default_profile is None
    assert set(config.profiles) == {"lab"}


def test_remove_from_missing_file_creates_nothing(isolated_env: IsolatedEnv) -> None:
    assert remove_profile("prod") is False
    assert not (isolated_env.config_dir / "config.toml").exists()
