"""Hostile and malformed input through the CLI: a message and exit 2, no traceback, no request.

Thousands of generated repository names, references, patterns, option values and files go
through the command line. Each input here is invalid by construction: anything that could be
valid is filtered out with loose patterns that know nothing of dtrctl's parsers. respx is active
with no routes and `assert_all_mocked`, so a request sent for any of them fails the test.

The examples are derandomized and not stored (the same inputs on every run, in CI too), and the
Typer command is built once: Typer otherwise rebuilds it on every invocation (~20 ms).
"""

from __future__ import annotations

import math
import re
import string
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
import typer.main
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dtrctl.cli.app import MAX_TIMEOUT, app
from tests.conftest import hypothesis_examples

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

HOSTILE = settings(
    max_examples=hypothesis_examples(150),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
URL = "https://dtr.test"
DIGEST = "sha256:" + "a" * 64
RUNNER = CliRunner()

# Supersets of what dtrctl accepts: text they do not match is invalid whatever the parser says.
LOOSE_NAME = re.compile(r"[a-z0-9._-]+/[a-z0-9._-]+")
LOOSE_PATTERN = re.compile(r"[a-z0-9._\-*?\[\]!]+/[a-z0-9._\-*?\[\]!]+")
LOOSE_NAMESPACE = re.compile(r"[a-z0-9._-]+")
LOOSE_REFERENCE = re.compile(r"(?:[^/]+/)?[a-z0-9._-]+/[a-z0-9._-]+(?::[A-Za-z0-9_.-]*)?")
LOOSE_DIGEST = re.compile(r"\s*sha(?:256|512):[a-f0-9]+\s*")
LOOSE_URL = re.compile(r"\s*(?:https?://)?[A-Za-z0-9.\-\[\]:]+(?:/[^?#@]*)?\s*")


@pytest.fixture(scope="module", autouse=True)
def no_requests() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@pytest.fixture(scope="module", autouse=True)
def command_built_once() -> Iterator[None]:
    command = typer.main.get_command(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("typer.testing._get_command", lambda _: command)
        yield


@pytest.fixture(autouse=True)
def connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_URL", URL)
    monkeypatch.setenv("DTRCTL_USERNAME", "alice")
    monkeypatch.setenv("DTRCTL_PASSWORD", "s3cret-token")


def refused(*args: str, code: int = 2, input: str | None = None) -> str:
    """Run dtrctl; it must exit `code` with a message on stderr and no traceback. The stderr."""
    result = RUNNER.invoke(app, list(args), input=input, catch_exceptions=False)
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    assert "Traceback" not in output
    assert "Error" in result.stderr, output
    return result.stderr


# Strategies

# Real argv may carry undecodable bytes as lone surrogates (surrogateescape), never a NUL.
odd_characters = st.sampled_from([" ", "\t", "\n", "\x7f", "é", "ä", "\u200b", "\udcff"])
any_text = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00") | odd_characters, max_size=40
)
components = st.from_regex(r"[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}", fullmatch=True)


@st.composite
def broken_names(draw: st.DrawFn) -> str:
    """A valid NAMESPACE/NAME, broken in one of the ways people and scripts break names."""
    namespace, name = draw(components), draw(components)
    position = draw(st.integers(0, len(name)))
    return draw(
        st.sampled_from(
            [
                f"{namespace}/{name}Z",
                f"{namespace.upper()}X/{name}",
                f"{namespace}__x/{name}",
                f"-{namespace}/{name}",
                f"{namespace}/{name}.",
                f"{namespace}/{name}/extra",
                f"{namespace}",
                f"{namespace}/",
                f"/{name}",
                f"{namespace}//{name}",
                f"{namespace}/{name}:1.0",
                f"{namespace}/{name}@{DIGEST}",
                f"{namespace}/{'a' * 256}",
                f"{namespace}/{name[:position]}{draw(odd_characters)}{name[position:]}",
            ]
        )
    )


def unless(pattern: re.Pattern[str]) -> st.SearchStrategy[str]:
    return any_text.filter(lambda text: not pattern.fullmatch(text))


invalid_names = broken_names() | unless(LOOSE_NAME)
invalid_patterns = (
    broken_names().filter(lambda text: not LOOSE_PATTERN.fullmatch(text))
    | unless(LOOSE_PATTERN)
    | st.sampled_from(["*", "*/*/*", "ns/*/", "/*", "Ns/*", "ns/ *", "**/é"])
)


@st.composite
def broken_references(draw: st.DrawFn) -> str:
    namespace, name = draw(components), draw(components)
    return draw(
        st.sampled_from(
            [
                f"{draw(broken_names())}:latest",
                f"{namespace}/{name}:",
                f"{namespace}/{name}:.hidden",
                f"{namespace}/{name}:-dash",
                f"{namespace}/{name}:{'t' * 129}",
                f"{namespace}/{name}:{draw(odd_characters)}",
                f"{namespace}/{name}@{DIGEST}",
                f"{namespace}/{name}:1.0@{DIGEST}",
                # Another registry than the configured URL: one registry per run.
                f"other.example.com/{namespace}/{name}:1.0",
                f"dtr.test:5000/{namespace}/{name}:1.0",
                f"bad_host.example.com/{namespace}/{name}:1.0",
            ]
        )
    )


invalid_references = broken_references() | unless(LOOSE_REFERENCE)


def not_a_number_between(low: float, high: float) -> st.SearchStrategy[str]:
    def valid(text: str) -> bool:
        try:
            return low <= float(text) <= high
        except ValueError:
            return False

    numbers = st.floats(allow_nan=True, allow_infinity=True).map(repr)
    return (numbers | any_text | st.sampled_from(["nan", "-inf", "1e400", "0x10"])).filter(
        lambda text: not valid(text)
    )


def not_an_integer_between(low: float, high: float) -> st.SearchStrategy[str]:
    def valid(text: str) -> bool:
        try:
            return low <= int(text) <= high
        except ValueError:
            return False

    return (st.integers().map(str) | any_text).filter(lambda text: not valid(text))


def environment_safe(text: str) -> bool:
    """What a process environment can hold (encodable), and not empty (which means unset)."""
    return bool(text) and all(not "\ud800" <= char <= "\udfff" for char in text)


# Names, patterns and references


@HOSTILE
@given(name=invalid_names, command=st.sampled_from(["show", "create", "set-immutable"]))
def test_invalid_repository_names_are_refused(name: str, command: str) -> None:
    refused("repo", command, "--", name)


@HOSTILE
@given(pattern=invalid_patterns)
def test_invalid_patterns_and_exclusions_are_refused(pattern: str) -> None:
    refused("repo", "set-immutable", "--", pattern)
    refused("repo", "set-immutable", "engineering/*", f"--exclude={pattern}")
    refused("repo", "list", "engineering", f"--exclude={pattern}")


@HOSTILE
@given(namespace=unless(LOOSE_NAMESPACE))
def test_invalid_namespaces_are_refused(namespace: str) -> None:
    refused("repo", "list", f"--namespace={namespace}")
    refused("repo", "set-immutable", f"--namespace={namespace}")


@HOSTILE
@given(references=st.lists(invalid_references, min_size=1, max_size=3))
def test_invalid_push_check_references_are_refused(references: list[str]) -> None:
    refused("push-check", "engineering/api:1.0", "--", *references)


@HOSTILE
@given(
    digest=any_text.filter(lambda text: not LOOSE_DIGEST.fullmatch(text))
    | st.sampled_from([DIGEST[:-1], DIGEST.upper(), "sha384:" + "a" * 96, "sha512:" + "a" * 64])
)
def test_invalid_digests_are_refused(digest: str) -> None:
    refused("push-check", "engineering/api:1.0", f"--digest={digest}")
    refused("push-check", "engineering/api:1.0", f"--config-digest={digest}")


# Option values


def test_immutability_and_a_tag_limit_together_are_refused() -> None:
    message = refused("repo", "create", "engineering/api", "--immutable", "--tag-limit=5")
    assert "cannot be combined" in message


def refused_in_environment(variable: str, value: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(variable, value)
        refused("repo", "show", "engineering/api")


@HOSTILE
@given(value=not_a_number_between(0.1, MAX_TIMEOUT))
def test_timeouts_outside_the_range_are_refused(value: str) -> None:
    # NaN and infinities included: NaN passes range checks, infinity overflows a socket timeout.
    refused(f"--timeout={value}", "repo", "show", "engineering/api")
    if environment_safe(value):
        refused_in_environment("DTRCTL_TIMEOUT", value)


@HOSTILE
@given(
    retries=not_an_integer_between(0, 20),
    concurrency=not_an_integer_between(1, 64),
)
def test_retries_and_concurrency_outside_the_range_are_refused(
    retries: str, concurrency: str
) -> None:
    refused(f"--retries={retries}", "repo", "show", "engineering/api")
    if environment_safe(retries):
        refused_in_environment("DTRCTL_RETRIES", retries)
    refused("repo", "set-immutable", "engineering/*", f"--concurrency={concurrency}")


@HOSTILE
@given(
    visibility=any_text.filter(lambda text: text not in ("private", "public")),
    tag_limit=st.integers(max_value=-1).map(str) | not_an_integer_between(-1, math.inf),
    description=st.text(st.characters(exclude_characters="\x00"), min_size=141, max_size=300),
    output=any_text.filter(lambda text: text not in ("text", "json", "csv")),
)
def test_invalid_settings_for_a_new_repository_are_refused(
    visibility: str, tag_limit: str, description: str, output: str
) -> None:
    refused("repo", "create", "engineering/api", f"--visibility={visibility}")
    refused("repo", "create", "engineering/api", f"--tag-limit={tag_limit}")
    refused("repo", "create", "engineering/api", f"--description={description}")
    refused("repo", "show", "engineering/api", f"--output={output}")
    refused("repo", "list", f"--output={output}")


@HOSTILE
@given(
    # An empty --url is no --url: DTRCTL_URL applies.
    url=unless(LOOSE_URL).filter(bool)
    | st.sampled_from(
        [
            "http://dtr.internal",
            "http://10.0.0.1:8080",
            "ftp://dtr.test",
            "https://alice:pw@dtr.test",
            "https://dtr.test?x=1",
            "https://[::1",
            "https://dtr.test:99999",
            "https://dtr.test:0",
            "https://bad_host",
        ]
    )
)
def test_invalid_urls_are_refused(url: str) -> None:
    refused(f"--url={url}", "repo", "show", "engineering/api")
    refused("login", "--password-stdin", "--", url, input="s3cret-token\n")


@HOSTILE
@given(profile=any_text.filter(bool))
def test_unknown_profiles_are_refused(profile: str) -> None:
    refused(f"--profile={profile}", "repo", "show", "engineering/api")


# Files


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def written(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogateescape")
    return path


garbage = any_text | st.binary(max_size=60) | st.just("[" * 3_000)


@HOSTILE
@given(content=garbage, missing=any_text.filter(lambda text: "/" not in text and text != "."))
def test_unreadable_expected_content_files_are_refused(
    scratch: Path, content: str | bytes, missing: str
) -> None:
    layout = scratch / "layout"
    layout.mkdir(exist_ok=True)
    written(layout, "index.json", content)
    metadata = written(scratch, "metadata.json", content)
    absent = scratch / "absent" / missing
    refused("push-check", "engineering/api:1.0", f"--oci-layout={layout}")
    refused("push-check", "engineering/api:1.0", f"--metadata-file={metadata}")
    refused("push-check", "engineering/api:1.0", f"--oci-layout={absent}")
    refused("push-check", "engineering/api:1.0", f"--metadata-file={absent}")


@settings(HOSTILE, max_examples=hypothesis_examples(40))
@given(content=garbage)
def test_unusable_ca_files_and_bundles_are_refused(scratch: Path, content: str | bytes) -> None:
    ca_file = written(scratch, "ca.pem", content)
    refused(f"--ca-file={ca_file}", "repo", "show", "engineering/api")
    refused(f"--bundle={ca_file}", "repo", "show", "engineering/api")
    refused(f"--ca-file={scratch / 'absent.pem'}", "repo", "show", "engineering/api")


def an_invalid_line(text: str) -> bool:
    """One line that stays invalid once the list reader drops its comment and blanks."""
    entry = text.split("#", 1)[0].strip()
    # A lone surrogate is written as a byte that is not UTF-8: the whole file is refused unread.
    if any("\ud800" <= character <= "\udfff" for character in text):
        return False
    return len(text.splitlines()) == 1 and bool(entry) and not LOOSE_NAME.fullmatch(entry)


@HOSTILE
@given(
    lines=st.lists(st.sampled_from(["engineering/api", "# comment", ""]), max_size=4),
    bad=invalid_names.filter(an_invalid_line),
)
def test_name_lists_with_an_invalid_line_are_refused(
    scratch: Path, lines: list[str], bad: str
) -> None:
    content = "\n".join([*lines, bad])
    names = written(scratch, "names.txt", content)
    message = refused("repo", "set-immutable", f"--from-file={names}")
    assert f"{names}:{len(lines) + 1}:" in message
    refused("repo", "set-immutable", "--from-file=-", input=content)


POLICY_LINES = [
    "[defaults]",
    "immutable = true",
    "[[repository]]",
    'name = "engineering/api"',
    'visibility = "private"',
]
POLICY_MISTAKES = [
    'name = "Engineering/API"',
    "name = 1",
    "immutable = 1",
    'visibility = "secret"',
    "description = 5",
    "typo = true",
    "[unknown]",
    "defaults = 3",
    "a = [",
    'b = "unterminated',
]


@HOSTILE
@given(
    lines=st.lists(st.sampled_from(POLICY_LINES), max_size=5),
    mistake=st.sampled_from(POLICY_MISTAKES),
    where=st.integers(min_value=0),
)
def test_invalid_policy_files_are_refused(
    scratch: Path, lines: list[str], mistake: str, where: int
) -> None:
    lines = ["[[repository]]", 'name = "engineering/web"', *lines]
    lines.insert(2 + where % (len(lines) - 1), mistake)
    policy = written(scratch, "policy.toml", "\n".join(lines))
    message = refused("apply", f"--file={policy}")
    assert str(policy) in message


CONFIG_MISTAKES = [
    ("url = 1", "url"),
    ("insecure = 'yes'", "insecure"),
    ("protect = [1]", "protect"),
    ("protect = 'v*'", "protect"),
    ("username = {}", "username"),
    ("typo = true", "typo"),
    ("url = ", "TOML"),
    ('url = "unterminated', "TOML"),
    ("[profiles.default", "TOML"),
]
profile_names = st.sampled_from(["default", "prod", "with space", "é"])
string_values = st.text(string.ascii_letters + string.digits + ":/.-", max_size=20)


@HOSTILE
@given(
    name=profile_names,
    url=string_values,
    mistake=st.sampled_from(CONFIG_MISTAKES),
    before=st.booleans(),
)
def test_config_files_with_wrong_types_unknown_keys_or_bad_toml_name_file_and_line(
    name: str, url: str, mistake: tuple[str, str], before: bool
) -> None:
    from dtrctl.config import config_path, toml_key

    line, word = mistake
    settings = {"url": f'url = "https://{url}"', "username": 'username = "alice"'}
    body = [text for key, text in settings.items() if not line.startswith(f"{key} ")]
    body.insert(0 if before else len(body), line)
    text = "\n".join([f'default_profile = "{name}"', "", f"[profiles.{toml_key(name)}]", *body])
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    message = refused("repo", "show", "engineering/api")
    expected_line = text.splitlines().index(line) + 1
    assert f"{path}:{expected_line}: " in message
    assert word in message


def not_toml(raw: bytes) -> bool:
    """What no TOML reader accepts (so not dtrctl's either): not UTF-8, or not TOML."""
    try:
        tomllib.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and TOMLDecodeError are ValueErrors
        return True
    return False


@HOSTILE
@given(content=garbage)
def test_garbled_config_files_name_the_file(content: str | bytes) -> None:
    from dtrctl.config import config_path

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    written(path.parent, path.name, content)
    assume(not_toml(path.read_bytes()))
    message = refused("repo", "show", "engineering/api")
    assert str(path) in message
