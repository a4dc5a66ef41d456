"""Where credentials may travel: never plain http to another host, never along a redirect, and
only over verified TLS, the registry's token server included; `--insecure` says so once.

The CLI runs in-process: against respx mocks where only the requests matter, against two TLS
sandboxes (one CA trusted, one not) for the token flow.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import trustme
from typer.testing import CliRunner

from dtrctl.cli.app import app
from dtrctl.sandbox.server import SandboxServer
from tests.cli.conftest import repository_body

pytestmark = pytest.mark.integration

MANIFEST = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
INSECURE_WARNING = "Warning: TLS certificate verification is off (--insecure)"


def dtrctl(*args: str, input: str | None = None, **variables: str) -> Any:
    return CliRunner().invoke(app, list(args), input=input, env=variables, catch_exceptions=False)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DTRCTL_USERNAME", "alice")
    monkeypatch.setenv("DTRCTL_PASSWORD", "s3cret-token")
    monkeypatch.setenv("DTRCTL_RETRIES", "0")


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


# Plain http


@pytest.mark.parametrize(
    "args",
    [
        ("--url", "http://dtr.internal", "repo", "show", "engineering/api"),
        ("--url", "http://dtr.internal:8080", "repo", "list"),
        ("login", "http://dtr.internal", "-u", "alice", "--password-stdin"),
    ],
    ids=["repo-show", "repo-list", "login"],
)
def test_no_credentials_over_plain_http_to_another_host(mock, args):
    other_host = mock.route(host="dtr.internal")
    result = dtrctl(*args, input="s3cret-token\n")
    assert result.exit_code == 2
    assert "refusing to send credentials over plain HTTP" in result.stderr
    assert "--allow-http" in result.stderr
    assert not other_host.called


@pytest.mark.parametrize(
    ("args", "variables"),
    [(("--allow-http",), {}), ((), {"DTRCTL_ALLOW_HTTP": "1"})],
    ids=["option", "environment"],
)
def test_allow_http_lets_them_go(mock, args, variables):
    route = mock.get("http://dtr.internal/api/v0/repositories/engineering/api").respond(
        200, json=repository_body()
    )
    result = dtrctl(
        *args, "--url", "http://dtr.internal", "repo", "show", "engineering/api", **variables
    )
    assert result.exit_code == 0, result.stderr
    assert route.calls.last.request.headers["Authorization"].startswith("Basic ")


def test_plain_http_to_loopback_needs_no_permission(mock):
    route = mock.get("http://127.0.0.1:5000/api/v0/repositories/engineering/api").respond(
        200, json=repository_body()
    )
    result = dtrctl("--url", "http://127.0.0.1:5000", "repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert route.called


def registry_routes(mock: respx.MockRouter, base: str, realm: str) -> None:
    """A DTR whose engineering/web is immutable and whose registry asks for a token at `realm`."""
    web = repository_body(name="web", immutableTags=True)
    access = f"{base}/api/v0/accounts/alice/repositoryAccess/engineering/web"
    mock.get(access).respond(200, json={"accessLevel": "read-write", "repository": web})
    mock.get(f"{base}/api/v0/repositories/engineering/web/tags/v1").respond(
        404, json={"errors": [{"code": "NO_SUCH_REF"}]}
    )
    mock.get(f"{base}/v2/").respond(
        401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="dtr"'}
    )
    if not realm.startswith(f"{base}/"):
        # DTR's own token endpoint, tried first, serves no token here: the challenge decides.
        mock.get(f"{base}/auth/token").respond(404, text="404 page not found")


def test_a_plain_http_token_realm_on_another_host_gets_no_credentials(mock):
    base = "http://127.0.0.1:5000"
    registry_routes(mock, base, realm="http://auth.example.com/token")
    token_server = mock.route(host="auth.example.com")
    result = dtrctl("--url", base, "push-check", "engineering/web:v1", "-o", "json")
    assert result.exit_code == 5
    assert "plain-http token realm" in json.loads(result.stdout)["results"][0]["reason"]
    assert not token_server.called


def test_a_plain_http_registry_may_use_its_own_host_as_token_realm(mock):
    base = "http://127.0.0.1:5000"
    registry_routes(mock, base, realm=f"{base}/auth/token")
    token = mock.get(f"{base}/auth/token").respond(200, json={"token": "registry-token"})
    mock.get(f"{base}/v2/engineering/web/manifests/v1").respond(
        200, content=MANIFEST, headers={"Docker-Content-Digest": DIGEST}
    )
    result = dtrctl("--url", base, "push-check", "engineering/web:v1")
    assert result.exit_code == 1, result.stderr  # the tag exists: collision
    assert token.calls.last.request.headers["Authorization"].startswith("Basic ")


# Redirects


def test_a_redirect_from_the_dtr_api_is_not_followed(mock):
    mock.get("https://dtr.test/api/v0/repositories/engineering/api").respond(
        302, headers={"Location": "https://evil.test/api/v0/repositories/engineering/api"}
    )
    elsewhere = mock.route(host="evil.test")
    result = dtrctl("--url", "https://dtr.test", "repo", "show", "engineering/api")
    assert result.exit_code == 5
    assert "HTTP 302" in result.stderr
    assert not elsewhere.called


@pytest.mark.parametrize("redirected", ["token", "manifest"])
def test_a_redirect_in_the_registry_flow_is_not_followed(mock, redirected):
    base = "https://dtr.test"
    registry_routes(mock, base, realm=f"{base}/auth/token")
    away = {"Location": "https://evil.test/steal"}
    token = mock.get(f"{base}/auth/token")
    manifest = mock.get(f"{base}/v2/engineering/web/manifests/v1")
    if redirected == "token":
        token.respond(302, headers=away)
    else:
        token.respond(200, json={"token": "registry-token"})
        manifest.respond(307, headers=away)
    elsewhere = mock.route(host="evil.test")
    result = dtrctl("--url", base, "push-check", "engineering/web:v1", "-o", "json")
    assert result.exit_code == 5
    assert json.loads(result.stdout)["results"][0]["verdict"] == "error"
    assert not elsewhere.called


# TLS for the token server


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The DTR's certificate from a CA the user trusts; the token server's from another."""
    directory = tmp_path_factory.mktemp("tls")
    trusted, other = trustme.CA(), trustme.CA()
    files = {}
    for name, ca, host in (("registry", trusted, "127.0.0.1"), ("token", other, "localhost")):
        issued = ca.issue_cert(host)
        files[name] = directory / f"{name}.pem"
        files[f"{name}-key"] = directory / f"{name}-key.pem"
        issued.cert_chain_pems[0].write_to_path(str(files[name]))
        issued.private_key_pem.write_to_path(str(files[f"{name}-key"]))
    files["trusted-ca"] = directory / "trusted-ca.pem"
    trusted.cert_pem.write_to_path(str(files["trusted-ca"]))
    files["both-cas"] = directory / "both-cas.pem"
    files["both-cas"].write_bytes(trusted.cert_pem.bytes() + other.cert_pem.bytes())
    return files


@pytest.fixture
def servers(certificates: dict[str, Path]) -> Iterator[tuple[SandboxServer, SandboxServer]]:
    """A TLS DTR whose registry sends clients to a token server on another host, over TLS."""
    registry = SandboxServer(
        seed="demo",
        tls_cert=str(certificates["registry"]),
        tls_key=str(certificates["registry-key"]),
    ).start()
    token = SandboxServer(
        tls_cert=str(certificates["token"]), tls_key=str(certificates["token-key"])
    ).start()
    port = token.url.rsplit(":", 1)[1]
    realm = f'Bearer realm="https://localhost:{port}/auth/token",service="dtr"'
    # The registry's own /auth/token, which dtrctl tries first as DTR's, serves no token here.
    registry.state.inject_fault("status", path_prefix="/auth/token", count=100, status=404)
    registry.state.inject_fault(
        "status", path_prefix="/v2/", count=1, status=401, headers={"WWW-Authenticate": realm}
    )
    yield registry, token
    registry.stop()
    token.stop()


def test_the_token_server_certificate_is_verified_too(servers, certificates):
    registry, token = servers
    result = dtrctl(
        *("--url", registry.url, "--ca-file", str(certificates["trusted-ca"])),
        *("push-check", "engineering/web:v1", "-o", "json"),
        DTRCTL_USERNAME="admin",
        DTRCTL_PASSWORD="sandbox-admin-password",
    )
    assert result.exit_code == 5
    error = json.loads(result.stdout)["results"][0]["error"]
    assert error["code"] == "tls"
    assert "cannot verify the TLS certificate of localhost" in error["message"]
    assert token.state.requests == []  # the handshake failed: nothing was sent


def test_a_certificate_that_fails_verification_is_not_retried(servers):
    registry, _ = servers
    result = dtrctl(
        *("-v", "--retries", "3", "--url", registry.url, "repo", "show", "engineering/web"),
        DTRCTL_USERNAME="admin",
        DTRCTL_PASSWORD="sandbox-admin-password",
    )
    assert result.exit_code == 5
    assert "cannot verify the TLS certificate of 127.0.0.1" in result.stderr
    assert "(retry" not in result.stderr


def test_a_trusted_token_server_the_user_allowed_gets_the_credentials(servers, certificates):
    registry, token = servers
    dtrctl(
        *("--url", registry.url, "--ca-file", str(certificates["both-cas"])),
        *("push-check", "engineering/web:v1"),
        DTRCTL_USERNAME="admin",
        DTRCTL_PASSWORD="sandbox-admin-password",
        DTRCTL_ALLOW_REALM_HOST=f"localhost:{token.url.rsplit(':', 1)[1]}",
    )
    asked = [r for r in token.state.requests if r.path == "/auth/token"]
    assert [r.headers.get("authorization") for r in asked] == ["Basic"]


def test_a_token_server_on_another_origin_gets_no_credentials(servers, certificates):
    registry, token = servers
    result = dtrctl(
        *("--url", registry.url, "--ca-file", str(certificates["both-cas"])),
        *("push-check", "engineering/web:v1"),
        DTRCTL_USERNAME="admin",
        DTRCTL_PASSWORD="sandbox-admin-password",
    )
    asked = [r for r in token.state.requests if r.path == "/auth/token"]
    assert [r.headers.get("authorization") for r in asked] == [None]
    assert result.exit_code == 3, result.stderr


# --insecure


def test_insecure_warns_once_however_many_requests(mock):
    base = "https://dtr.test"
    mock.get(f"{base}/api/v0/repositories").mock(
        side_effect=[
            httpx.Response(
                200,
                json={"repositories": [repository_body()]},
                headers={"X-Next-Page-Start": "next"},
            ),
            httpx.Response(200, json={"repositories": [repository_body(name="web")]}),
        ]
    )
    listed = dtrctl("--insecure", "--url", base, "repo", "list")
    assert listed.exit_code == 0, listed.stderr
    assert listed.stderr.count(INSECURE_WARNING) == 1

    registry_routes(mock, base, realm=f"{base}/auth/token")
    mock.get(f"{base}/auth/token").respond(200, json={"token": "registry-token"})
    head = mock.get(f"{base}/v2/engineering/web/manifests/v1").respond(
        200, content=MANIFEST, headers={"Docker-Content-Digest": DIGEST}
    )
    checked = dtrctl("--insecure", "--url", base, "push-check", "engineering/web:v1")
    assert head.called and checked.exit_code == 1
    assert checked.stderr.count(INSECURE_WARNING) == 1


def test_insecure_from_the_profile_and_the_option_warns_once(mock, isolated_environment):
    from dtrctl.config import Profile, save_profile

    save_profile(Profile("default", url="https://dtr.test", insecure=True))
    mock.get("https://dtr.test/api/v0/repositories/engineering/api").respond(
        200, json=repository_body()
    )
    result = dtrctl("--insecure", "repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count(INSECURE_WARNING) == 1


def test_verification_is_on_without_insecure(mock):
    mock.get("https://dtr.test/api/v0/repositories/engineering/api").respond(
        200, json=repository_body()
    )
    result = dtrctl("--url", "https://dtr.test", "repo", "show", "engineering/api")
    assert result.exit_code == 0, result.stderr
    assert "Warning" not in result.stderr
