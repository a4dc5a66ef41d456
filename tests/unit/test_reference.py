"""Repository names and image references: DTR's grammar, normalisation and error messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dtrctl.errors import ExitCode, InvalidReference
from dtrctl.reference import (
    ImageReference,
    Registry,
    RepositoryName,
    parse_image_reference,
    parse_registry,
    parse_repository_name,
    validate_digest,
    validate_namespace,
    validate_tag,
)

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "0f" * 64


def rejected(parse: object, text: str) -> InvalidReference:
    assert callable(parse)
    with pytest.raises(InvalidReference) as caught:
        parse(text)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value


# Repository names (`repo` commands)


@pytest.mark.parametrize(
    ("text", "namespace", "name"),
    [
        ("library/nginx", "library", "nginx"),
        ("engineering/api-server", "engineering", "api-server"),
        ("my.org/web_app", "my.org", "web_app"),
        ("a0/b1", "a0", "b1"),
        ("team-1/svc.v2-beta_3", "team-1", "svc.v2-beta_3"),
    ],
)
def test_valid_repository_names_parse_into_namespace_and_name(
    text: str, namespace: str, name: str
) -> None:
    parsed = parse_repository_name(text)
    assert parsed == RepositoryName(namespace, name)
    assert str(parsed) == text


@pytest.mark.parametrize(
    ("text", "named_part"),
    [
        ("Library/nginx", "'Library'"),
        ("library/Nginx", "'Nginx'"),
        ("library/-nginx", "'-nginx'"),
        ("library/nginx-", "'nginx-'"),
        ("library/ng__inx", "'ng__inx'"),
        ("lib..rary/nginx", "'lib..rary'"),
        ("library/ngi nx", "'ngi nx'"),
        ("library/nginx:1.25", "tag or digest"),
        (f"library/nginx@{SHA256}", "tag or digest"),
        ("nginx", "NAMESPACE/NAME"),
        ("a/b/c", "NAMESPACE/NAME"),
        # A host is named as such, not as a tag or a third part.
        ("dtr.example.com/library/nginx", "registry host (dtr.example.com)"),
        ("127.0.0.1:5000/library/nginx", "registry host (127.0.0.1:5000)"),
        ("", "NAMESPACE/NAME"),
        ("/nginx", "empty namespace"),
        ("library/", "empty repository name"),
    ],
)
def test_invalid_repository_names_exit_2_naming_the_bad_part(text: str, named_part: str) -> None:
    error = rejected(parse_repository_name, text)
    assert named_part in error.message
    assert error.to_dict()["code"] == "usage"


def test_repository_name_may_be_255_characters_but_not_256() -> None:
    namespace = "n" * 100
    longest = f"{namespace}/{'r' * (255 - 101)}"
    assert str(parse_repository_name(longest)) == longest
    error = rejected(parse_repository_name, longest + "r")
    assert "255" in error.message


def test_namespace_validation_names_the_namespace() -> None:
    assert validate_namespace("engineering") == "engineering"
    assert "'Eng'" in rejected(validate_namespace, "Eng").message
    assert "empty namespace" in rejected(validate_namespace, "").message


# Image references


def test_reference_without_tag_means_latest() -> None:
    reference = parse_image_reference("library/nginx")
    assert reference == ImageReference(None, RepositoryName("library", "nginx"), "latest")
    assert str(reference) == "library/nginx:latest"


def test_full_reference_with_host_port_tag_and_digest() -> None:
    reference = parse_image_reference(f"dtr.example.com:4443/library/nginx:1.25-alpine@{SHA256}")
    assert reference.registry == Registry("dtr.example.com", 4443)
    assert reference.repository == RepositoryName("library", "nginx")
    assert reference.tag == "1.25-alpine"
    assert reference.digest == SHA256


@pytest.mark.parametrize(
    "host_part",
    ["dtr.example.com", "DTR.Example.COM", "dtr.example.com:443", "DTR.example.com:443"],
)
def test_default_port_and_host_case_name_the_same_registry(host_part: str) -> None:
    reference = parse_image_reference(f"{host_part}/library/nginx:1")
    assert reference.registry == Registry("dtr.example.com")
    assert str(reference) == "dtr.example.com/library/nginx:1"


@pytest.mark.parametrize(
    ("first", "registry"),
    [
        ("localhost", Registry("localhost")),
        ("localhost:5000", Registry("localhost", 5000)),
        ("dtr:8443", Registry("dtr", 8443)),
        ("10.0.0.7", Registry("10.0.0.7")),
        ("[::1]:5000", Registry("[::1]", 5000)),
    ],
)
def test_first_component_is_a_host_as_docker_decides(first: str, registry: Registry) -> None:
    reference = parse_image_reference(f"{first}/team/app:v1")
    assert reference.registry == registry
    assert reference.repository == RepositoryName("team", "app")


@pytest.mark.parametrize(
    ("text", "named_part"),
    [
        ("library/nginx:", "invalid tag ''"),
        ("library/nginx:-dash", "'-dash'"),
        ("library/nginx:.dot", "'.dot'"),
        ("library/nginx:" + "t" * 129, "invalid tag"),
        ("library/nginx:a/b", "NAMESPACE/NAME"),
        ("library/nginx@sha256:abc", "'sha256:abc'"),
        ("library/nginx@" + "sha256:" + "A" * 64, "invalid digest"),
        ("library/Nginx:1", "'Nginx'"),
        ("Library/nginx:1", "invalid namespace 'Library'"),
        ("dtr.example.com:http/library/nginx", "invalid port"),
        ("dtr.example.com:70000/library/nginx", "invalid port"),
        ("dtr.example.com:0/library/nginx", "invalid port"),
        ("bad_host.com/library/nginx", "invalid registry host"),
        ("dtr.example.com/nginx", "NAMESPACE/NAME"),
        ("nginx", "NAMESPACE/NAME"),
        (" library/nginx", "invalid reference"),
        ("library/nginx\n", "invalid reference"),
        ("", "invalid reference"),
    ],
)
def test_invalid_references_exit_2_naming_the_bad_part(text: str, named_part: str) -> None:
    assert named_part in rejected(parse_image_reference, text).message


def test_digest_can_be_refused_with_a_hint_to_use_a_tag() -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_image_reference(f"library/nginx@{SHA256}", allow_digest=False)
    assert "--digest" in (caught.value.hint or "")


# Registries, tags, digests


@pytest.mark.parametrize(
    ("text", "registry"),
    [
        ("dtr", Registry("dtr")),
        ("dtr:443", Registry("dtr")),
        ("DTR.Example.com:8443", Registry("dtr.example.com", 8443)),
        ("[2001:db8::1]:443", Registry("[2001:db8::1]")),
        ("[::1]", Registry("[::1]")),
    ],
)
def test_registry_is_normalised(text: str, registry: Registry) -> None:
    assert parse_registry(text) == registry


def test_port_443_is_the_same_registry_as_no_port() -> None:
    assert parse_registry("dtr:443") == parse_registry("dtr")
    assert str(parse_registry("dtr:443")) == "dtr"
    assert str(parse_registry("dtr:5000")) == "dtr:5000"


@pytest.mark.parametrize(
    "text",
    ["", ":5000", "dtr:", "dtr:-1", "dtr:65536", "dtr:５０００", "dtr:²", "::1", "[::1]:", "-dtr"],
)
def test_invalid_registries_are_refused(text: str) -> None:
    assert repr(text) in rejected(parse_registry, text).message


@pytest.mark.parametrize("tag", ["latest", "v1.2.3", "_private", "A" * 128, "1.0-rc_1"])
def test_valid_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize("tag", ["", ".hidden", "-x", "A" * 129, "a b", "a:b", "é"])
def test_invalid_tags_name_the_tag(tag: str) -> None:
    assert repr(tag) in rejected(validate_tag, tag).message


@pytest.mark.parametrize("digest", [SHA256, SHA512])
def test_valid_digests(digest: str) -> None:
    assert validate_digest(digest) == digest


@pytest.mark.parametrize(
    "digest", ["", "sha256:" + "a" * 63, "sha256:" + "A" * 64, "md5:" + "a" * 32, "a" * 64]
)
def test_invalid_digests_name_the_digest(digest: str) -> None:
    assert repr(digest) in rejected(validate_digest, digest).message


# Properties

ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
alnum_runs = st.text(alphabet=ALNUM, min_size=1, max_size=8)


@st.composite
def components(draw: st.DrawFn, separators: str = "._-") -> str:
    runs = draw(st.lists(alnum_runs, min_size=1, max_size=4))
    joined = runs[0]
    for run in runs[1:]:
        joined += draw(st.sampled_from(separators)) + run
    return joined


tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}", fullmatch=True)
digests = st.from_regex(r"sha256:[a-f0-9]{64}", fullmatch=True)
hosts_with_dot = st.lists(components("-"), min_size=2, max_size=3).map(".".join)
ports = st.integers(min_value=1, max_value=65535).filter(lambda port: port != 443)
registries = st.one_of(
    hosts_with_dot,
    st.builds(lambda host, port: f"{host}:{port}", components("-"), ports),
    st.builds(lambda host, port: f"{host}:{port}", hosts_with_dot, ports),
    st.just("localhost"),
)


@given(namespace=components(), name=components())
def test_generated_repository_names_round_trip(namespace: str, name: str) -> None:
    text = f"{namespace}/{name}"
    assert str(parse_repository_name(text)) == text


@given(
    registry=st.none() | registries,
    namespace=components(),
    name=components(),
    tag=tags,
    digest=st.none() | digests,
)
def test_generated_canonical_references_round_trip(
    registry: str | None, namespace: str, name: str, tag: str, digest: str | None
) -> None:
    if registry is None and "." in namespace:
        # Docker reads a first component with a dot as a host: such a namespace needs one.
        registry = "dtr.example.com"
    text = f"{registry}/" if registry else ""
    text += f"{namespace}/{name}:{tag}"
    text += f"@{digest}" if digest else ""
    assert str(parse_image_reference(text)) == text


@given(host=hosts_with_dot, port=ports)
def test_generated_registries_round_trip(host: str, port: int) -> None:
    assert str(parse_registry(host)) == host
    assert str(parse_registry(f"{host}:{port}")) == f"{host}:{port}"
    assert parse_registry(f"{host.upper()}:443") == parse_registry(host)


REFERENCE_ALPHABET = "aZ09._-:/@[]sha256 é²٣\n"
texts = st.one_of(st.text(), st.text(alphabet=REFERENCE_ALPHABET, max_size=40))


@given(text=texts)
def test_arbitrary_text_never_raises_anything_but_invalid_reference(text: str) -> None:
    for parse in (
        parse_repository_name,
        parse_image_reference,
        parse_registry,
        validate_tag,
        validate_digest,
        validate_namespace,
    ):
        try:
            parse(text)
        except InvalidReference as error:
            assert error.exit_code == ExitCode.USAGE
            assert error.message


class TestNestedNames:
    """Harbor's repository paths nest; a run whose backend is Harbor takes them."""

    def test_nested_paths_are_accepted_only_when_allowed(self) -> None:
        from functools import partial

        rejected(parse_repository_name, "library/team/app")
        nested_name = partial(parse_repository_name, nested=True)
        assert nested_name("library/team/app") == RepositoryName("library", "team/app")
        reference = parse_image_reference("host.example/library/team/app:v1", nested=True)
        assert reference.repository == RepositoryName("library", "team/app")
        rejected(nested_name, "library/team//app")
        rejected(nested_name, "library/Team/app")
