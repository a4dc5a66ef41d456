"""Everything the sandbox knows: accounts, rights, repositories, registry content, tokens.

All methods are thread-safe. Handlers that check and then change (a push to an immutable
repository, say) hold `state.lock` around both steps; it is re-entrant.
"""

from __future__ import annotations

import bisect
import hmac
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from dtrctl.sandbox.accounts import DEFAULT_ORGANIZATIONS, DEMO_USERS
from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.exchange import Request
from dtrctl.sandbox.faults import Fault, make_fault
from dtrctl.sandbox.images import Artifact, Index, build_image
from dtrctl.sandbox.manifests import ManifestError, ParsedManifest, parse_manifest

LEVELS = ("read-only", "read-write", "admin")
TOKEN_LIFETIME_SECONDS = 300
# Enough history for any test, bounded so a long-running sandbox does not grow without end.
RECORDED_REQUESTS_LIMIT = 10_000


def utc_timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _higher(first: str | None, second: str | None) -> str | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second, key=LEVELS.index)


def at_least(level: str | None, required: str) -> bool:
    return level is not None and LEVELS.index(level) >= LEVELS.index(required)


@dataclass
class Account:
    name: str
    is_org: bool
    password: str = ""
    tokens: set[str] = field(default_factory=set)
    sysadmin: bool = False


@dataclass(frozen=True)
class StoredManifest:
    digest: str
    media_type: str
    body: bytes
    created_at: str
    config_digest: str = ""
    config_media_type: str = ""
    os: str = ""
    architecture: str = ""
    size: int = 0
    # The platform manifests of an index, in index order.
    children: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredTag:
    name: str
    digest: str
    author: str
    created_at: str
    updated_at: str
    # Orders updates that share a timestamp.
    sequence: int


@dataclass
class _Contents:
    manifests: dict[str, StoredManifest] = field(default_factory=dict)
    tags: dict[str, StoredTag] = field(default_factory=dict)
    blobs: set[str] = field(default_factory=set)


@dataclass
class Upload:
    id: str
    namespace: str
    repository: str
    data: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class RegistryToken:
    value: str
    username: str | None
    # "namespace/name" -> granted actions ("pull", "push", "delete", "*").
    access: dict[str, frozenset[str]]
    issued_at: float
    expires_at: float

    def allows(self, repository: str, action: str) -> bool:
        granted = self.access.get(repository, frozenset())
        return action in granted or "*" in granted


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    # The last value of each query parameter.
    query: dict[str, str]
    # Lower-cased names; Authorization keeps only its scheme.
    headers: dict[str, str]
    body: bytes


class SandboxState:
    def __init__(self, *, create_on_push: bool = False) -> None:
        self.lock = threading.RLock()
        self.create_on_push = create_on_push
        # The CA certificate (PEM) served at /ca, when the sandbox serves TLS with its own CA.
        self.ca_pem: bytes | None = None
        # Successful PATCHes of repository settings.
        self.patch_count = 0
        self._accounts: dict[str, Account] = {}
        self._grants: dict[tuple[str, str], str] = {}
        self._repositories: dict[tuple[str, str], RepositoryRecord] = {}
        self._sorted_keys: list[tuple[str, str]] = []
        self._keys_by_id: dict[str, tuple[str, str]] = {}
        self._contents: dict[tuple[str, str], _Contents] = {}
        self._blobs: dict[str, bytes] = {}
        self._uploads: dict[str, Upload] = {}
        self._tokens: dict[str, RegistryToken] = {}
        self._faults: list[Fault] = []
        self._requests: deque[RecordedRequest] = deque(maxlen=RECORDED_REQUESTS_LIMIT)
        self._sequence = 0
        for organization in DEFAULT_ORGANIZATIONS:
            self.add_organization(organization)
        for user in DEMO_USERS:
            self.add_user(user.username, user.password, user.token, sysadmin=user.sysadmin)
            for namespace, level in user.grants:
                self.grant(user.username, namespace, level)

    # Accounts and rights

    def add_organization(self, name: str) -> None:
        with self.lock:
            if name in self._accounts and not self._accounts[name].is_org:
                raise ValueError(f"{name!r} is a user")
            self._accounts.setdefault(name, Account(name, is_org=True))

    def add_user(
        self, username: str, password: str, token: str | None = None, sysadmin: bool = False
    ) -> None:
        with self.lock:
            if username in self._accounts and self._accounts[username].is_org:
                raise ValueError(f"{username!r} is an organization")
            self._accounts[username] = Account(
                username, is_org=False, password=password, sysadmin=sysadmin
            )
            if token is not None:
                self._accounts[username].tokens.add(token)

    def grant(self, username: str, namespace: str, level: str) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        with self.lock:
            if namespace not in self._accounts:
                raise ValueError(f"no namespace {namespace!r}")
            self._grants[(username, namespace)] = level

    def authenticate(self, username: str, secret: str) -> bool:
        """True when `secret` is the user's password or one of their access tokens."""
        with self.lock:
            account = self._accounts.get(username)
            if account is None or account.is_org:
                return False
            candidates = [account.password, *account.tokens]
        return any(hmac.compare_digest(secret, candidate) for candidate in candidates)

    def user_account(self, username: str) -> dict[str, object] | None:
        """A user as DTR's `responses.Account` shows it; None for an unknown user."""
        with self.lock:
            account = self._accounts.get(username)
            if account is None or account.is_org:
                return None
            return {
                "id": f"user-{account.name}",
                "name": account.name,
                "fullName": account.name,
                "isOrg": False,
                "isAdmin": account.sysadmin,
                "isActive": True,
                "isImported": False,
            }

    def is_sysadmin(self, username: str) -> bool:
        with self.lock:
            account = self._accounts.get(username)
            return account is not None and account.sysadmin

    def has_namespace(self, name: str) -> bool:
        with self.lock:
            return name in self._accounts

    def namespace_type(self, name: str) -> str:
        with self.lock:
            account = self._accounts.get(name)
            return "user" if account is not None and not account.is_org else "organization"

    def namespace_level(self, username: str | None, namespace: str) -> str | None:
        """The caller's rights on a namespace as such (public repositories aside)."""
        if username is None:
            return None
        with self.lock:
            account = self._accounts.get(username)
            if account is not None and account.sysadmin:
                return "admin"
            if username == namespace:
                return "admin"
            return self._grants.get((username, namespace))

    def access_level(
        self, username: str | None, namespace: str, repository: RepositoryRecord | None
    ) -> str | None:
        """The caller's rights on a repository; None means it is invisible to them."""
        public = (
            "read-only" if repository is not None and repository.visibility == "public" else None
        )
        return _higher(self.namespace_level(username, namespace), public)

    # Repositories

    def add_repository(self, repository: RepositoryRecord) -> RepositoryRecord:
        """Store a repository (creating its namespace as an organization if unknown)."""
        with self.lock:
            key = (repository.namespace, repository.name)
            if key in self._repositories:
                raise ValueError(f"repository {repository.full_name} exists")
            if repository.namespace not in self._accounts:
                self.add_organization(repository.namespace)
            stored = repository.with_changes(
                id=repository.id or str(uuid.uuid4()),
                namespace_type=self.namespace_type(repository.namespace),
            )
            self._repositories[key] = stored
            self._keys_by_id[stored.id] = key
            bisect.insort(self._sorted_keys, key)
            return stored

    def get_repository(self, namespace: str, name: str) -> RepositoryRecord | None:
        with self.lock:
            return self._repositories.get((namespace, name))

    def repository_by_id(self, repository_id: str) -> RepositoryRecord | None:
        with self.lock:
            key = self._keys_by_id.get(repository_id)
            return self._repositories.get(key) if key is not None else None

    def update_repository(self, namespace: str, name: str, **changes: Any) -> RepositoryRecord:
        """Change settings by RepositoryRecord attribute name, e.g. `immutable=True`."""
        if changes.keys() & {"namespace", "name", "id"}:
            raise ValueError("a repository's namespace, name and id cannot change")
        with self.lock:
            key = (namespace, name)
            if key not in self._repositories:
                raise KeyError(f"no repository {namespace}/{name}")
            updated = self._repositories[key].with_changes(**changes)
            self._repositories[key] = updated
            return updated

    def delete_repository(self, namespace: str, name: str) -> bool:
        with self.lock:
            key = (namespace, name)
            repository = self._repositories.pop(key, None)
            if repository is None:
                return False
            self._keys_by_id.pop(repository.id, None)
            del self._sorted_keys[bisect.bisect_left(self._sorted_keys, key)]
            self._contents.pop(key, None)
            return True

    def seed_repositories(
        self,
        count: int,
        namespaces: Iterable[str] = ("ci",),
        immutable_every: int = 0,
        prefix: str = "repo",
        visibility: str = "private",
    ) -> int:
        """Create `count` repositories `{prefix}-NNNNNN`, spread round-robin over `namespaces`.

        Every `immutable_every`-th one (0: none) is immutable. Fast enough for 100,000.
        """
        spaces = list(namespaces)
        if not spaces:
            raise ValueError("namespaces must not be empty")
        with self.lock:
            for namespace in spaces:
                if namespace not in self._accounts:
                    self.add_organization(namespace)
            types = {namespace: self.namespace_type(namespace) for namespace in spaces}
            width = max(6, len(str(count)))
            created: list[RepositoryRecord] = []
            for index in range(count):
                namespace = spaces[index % len(spaces)]
                name = f"{prefix}-{index:0{width}d}"
                if (namespace, name) in self._repositories:
                    raise ValueError(f"repository {namespace}/{name} exists")
                created.append(
                    RepositoryRecord(
                        namespace=namespace,
                        name=name,
                        immutable=bool(immutable_every) and index % immutable_every == 0,
                        visibility=visibility,
                        id=str(uuid.uuid4()),
                        namespace_type=types[namespace],
                    )
                )
            for repository in created:
                key = (repository.namespace, repository.name)
                self._repositories[key] = repository
                self._keys_by_id[repository.id] = key
            self._sorted_keys.extend((repo.namespace, repo.name) for repo in created)
            self._sorted_keys.sort()
            return len(created)

    def _visibility_filter(self, username: str | None) -> Callable[[RepositoryRecord], bool]:
        with self.lock:
            account = self._accounts.get(username) if username else None
            if account is not None and account.sysadmin:
                return lambda repository: True
            readable = {ns for (user, ns) in self._grants if user == username}
            if username is not None:
                readable.add(username)
        return lambda repository: (
            repository.visibility == "public" or repository.namespace in readable
        )

    def list_repositories(
        self,
        username: str | None,
        limit: int,
        namespace: str | None = None,
        start: RepositoryRecord | None = None,
    ) -> tuple[list[RepositoryRecord], RepositoryRecord | None]:
        """One page of the repositories the caller sees, sorted by namespace then name,
        beginning at `start`; also the first repository of the next page, if any."""
        visible = self._visibility_filter(username)
        with self.lock:
            if start is not None:
                position = bisect.bisect_left(self._sorted_keys, (start.namespace, start.name))
            elif namespace is not None:
                position = bisect.bisect_left(self._sorted_keys, (namespace, ""))
            else:
                position = 0
            page: list[RepositoryRecord] = []
            for index in range(position, len(self._sorted_keys)):
                key = self._sorted_keys[index]
                if namespace is not None and key[0] != namespace:
                    break
                repository = self._repositories[key]
                if not visible(repository):
                    continue
                if len(page) == limit:
                    return page, repository
                page.append(repository)
            return page, None

    def count_repositories(self, username: str | None, namespace: str | None = None) -> int:
        visible = self._visibility_filter(username)
        with self.lock:
            return sum(
                1
                for repository in self._repositories.values()
                if (namespace is None or repository.namespace == namespace) and visible(repository)
            )

    def record_settings_change(self) -> None:
        with self.lock:
            self.patch_count += 1

    # Registry content

    def _contents_of(self, namespace: str, name: str) -> _Contents:
        return self._contents.setdefault((namespace, name), _Contents())

    def _contents_or_empty(self, namespace: str, name: str) -> _Contents:
        """For reads: a repository without content must not get a record by being looked at."""
        return self._contents.get((namespace, name)) or _Contents()

    def add_blob(self, namespace: str, name: str, data: bytes, digest: str) -> None:
        with self.lock:
            self._blobs.setdefault(digest, bytes(data))
            self._contents_of(namespace, name).blobs.add(digest)

    def mount_blob(self, namespace: str, name: str, digest: str, source: tuple[str, str]) -> bool:
        """Link a blob of `source` into this repository; False when `source` lacks it."""
        with self.lock:
            if digest not in self._contents_or_empty(*source).blobs:
                return False
            self._contents_of(namespace, name).blobs.add(digest)
            return True

    def blob(self, namespace: str, name: str, digest: str) -> bytes | None:
        with self.lock:
            if digest not in self._contents_or_empty(namespace, name).blobs:
                return None
            return self._blobs.get(digest)

    def store_manifest(
        self, namespace: str, name: str, parsed: ParsedManifest, body: bytes, digest: str
    ) -> StoredManifest:
        """Store a manifest whose references all exist in the repository.

        Raises ManifestError (MANIFEST_BLOB_UNKNOWN) naming a missing blob or manifest.
        """
        with self.lock:
            contents = self._contents_of(namespace, name)
            existing = contents.manifests.get(digest)
            created_at = existing.created_at if existing else utc_timestamp()
            if parsed.is_index:
                for child in parsed.children:
                    if child.digest not in contents.manifests:
                        raise ManifestError(
                            "MANIFEST_BLOB_UNKNOWN",
                            f"manifest {child.digest} referenced by the index is unknown",
                            {"digest": child.digest},
                        )
                stored = StoredManifest(
                    digest=digest,
                    media_type=parsed.media_type,
                    body=body,
                    created_at=created_at,
                    size=len(body),
                    children=tuple(child.digest for child in parsed.children),
                )
            else:
                assert parsed.config is not None
                for blob in (parsed.config, *parsed.layers):
                    if blob.digest not in contents.blobs:
                        raise ManifestError(
                            "MANIFEST_BLOB_UNKNOWN",
                            f"blob {blob.digest} referenced by the manifest is unknown",
                            {"digest": blob.digest},
                        )
                platform = self._platform_of(parsed.config.digest)
                stored = StoredManifest(
                    digest=digest,
                    media_type=parsed.media_type,
                    body=body,
                    created_at=created_at,
                    config_digest=parsed.config.digest,
                    config_media_type=parsed.config.media_type,
                    os=platform.get("os", ""),
                    architecture=platform.get("architecture", ""),
                    size=parsed.config.size + sum(layer.size for layer in parsed.layers),
                )
            contents.manifests[digest] = stored
            return stored

    def _platform_of(self, config_digest: str) -> dict[str, str]:
        try:
            config = json.loads(self._blobs[config_digest])
        except (KeyError, ValueError):
            return {}
        if not isinstance(config, dict):
            return {}
        return {
            key: config[key] for key in ("os", "architecture") if isinstance(config.get(key), str)
        }

    def manifest(self, namespace: str, name: str, digest: str) -> StoredManifest | None:
        with self.lock:
            return self._contents_or_empty(namespace, name).manifests.get(digest)

    def delete_manifest(self, namespace: str, name: str, digest: str) -> bool:
        """Remove a manifest and every tag pointing at it."""
        with self.lock:
            contents = self._contents_of(namespace, name)
            if contents.manifests.pop(digest, None) is None:
                return False
            for tag in [tag for tag in contents.tags.values() if tag.digest == digest]:
                del contents.tags[tag.name]
            return True

    def get_tag(self, namespace: str, name: str, tag: str) -> StoredTag | None:
        with self.lock:
            return self._contents_or_empty(namespace, name).tags.get(tag)

    def list_tags(self, namespace: str, name: str) -> list[StoredTag]:
        """Tags sorted by name."""
        with self.lock:
            tags = self._contents_or_empty(namespace, name).tags
            return [tags[tag] for tag in sorted(tags)]

    def delete_tag(self, namespace: str, name: str, tag: str) -> bool:
        with self.lock:
            return self._contents_of(namespace, name).tags.pop(tag, None) is not None

    def push_tag(self, namespace: str, name: str, tag: str, digest: str, author: str) -> StoredTag:
        """Point `tag` at a stored manifest as a push does: count the push, keep createdAt
        of an overwritten tag, and evict the oldest tags beyond a mutable repository's limit.
        Immutability is the caller's check (it decides what the client is told)."""
        with self.lock:
            key = (namespace, name)
            repository = self._repositories[key]
            contents = self._contents_of(namespace, name)
            if digest not in contents.manifests:
                raise KeyError(f"no manifest {digest} in {namespace}/{name}")
            now = utc_timestamp()
            self._sequence += 1
            previous = contents.tags.get(tag)
            stored = StoredTag(
                name=tag,
                digest=digest,
                author=author,
                created_at=previous.created_at if previous else now,
                updated_at=now,
                sequence=self._sequence,
            )
            contents.tags[tag] = stored
            self._repositories[key] = repository.with_changes(pushes=repository.pushes + 1)
            limit = repository.tag_limit
            if previous is None and limit > 0 and not repository.immutable:
                by_age = sorted(contents.tags.values(), key=lambda item: item.sequence)
                for evicted in by_age[: max(0, len(by_age) - limit)]:
                    del contents.tags[evicted.name]
            return stored

    def record_pull(self, namespace: str, name: str) -> None:
        with self.lock:
            key = (namespace, name)
            repository = self._repositories.get(key)
            if repository is not None:
                self._repositories[key] = repository.with_changes(pulls=repository.pulls + 1)

    def put_image(
        self,
        namespace: str,
        name: str,
        tag: str,
        artifact: Artifact | None = None,
        author: str = "admin",
    ) -> str:
        """Store an image (default: one built from the reference) and tag it, without HTTP.

        Bypasses immutability, as arranging a test needs; returns the tagged digest.
        """
        image = artifact if artifact is not None else build_image(f"{namespace}/{name}:{tag}")
        with self.lock:
            if (namespace, name) not in self._repositories:
                raise KeyError(f"no repository {namespace}/{name}")
            for blob in image.blobs:
                self.add_blob(namespace, name, blob.data, blob.digest)
            members: list[Artifact] = (
                [*image.images, image] if isinstance(image, Index) else [image]
            )
            for member in members:
                parsed = parse_manifest(member.media_type, member.manifest)
                self.store_manifest(namespace, name, parsed, member.manifest, member.digest)
            self.push_tag(namespace, name, tag, image.digest, author)
            return image.digest

    # Uploads and tokens

    def start_upload(self, namespace: str, name: str) -> Upload:
        with self.lock:
            upload = Upload(str(uuid.uuid4()), namespace, name)
            self._uploads[upload.id] = upload
            return upload

    def upload(self, upload_id: str) -> Upload | None:
        with self.lock:
            return self._uploads.get(upload_id)

    def end_upload(self, upload_id: str) -> None:
        with self.lock:
            self._uploads.pop(upload_id, None)

    def issue_token(self, username: str | None, access: dict[str, frozenset[str]]) -> RegistryToken:
        now = time.time()
        token = RegistryToken(
            value=_jwt_shaped(username, access, now),
            username=username,
            access=access,
            issued_at=now,
            expires_at=now + TOKEN_LIFETIME_SECONDS,
        )
        with self.lock:
            expired = [value for value, known in self._tokens.items() if known.expires_at < now]
            for value in expired:
                del self._tokens[value]
            self._tokens[token.value] = token
        return token

    def token(self, value: str) -> RegistryToken | None:
        with self.lock:
            token = self._tokens.get(value)
        if token is None or token.expires_at < time.time():
            return None
        return token

    # Fault injection and request recording (for tests)

    def inject_fault(
        self,
        kind: str,
        path_prefix: str = "/",
        count: int = 1,
        method: str | None = None,
        **options: Any,
    ) -> Fault:
        """Make the next `count` requests whose path starts with `path_prefix` (and whose
        method is `method`, if given) misbehave; see dtrctl.sandbox.faults for the kinds."""
        fault = make_fault(kind, path_prefix, count, method, options)
        with self.lock:
            self._faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def record(self, request: Request) -> None:
        headers = dict(request.headers)
        if "authorization" in headers:
            headers["authorization"] = headers["authorization"].partition(" ")[0]
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query={key: values[-1] for key, values in request.query.items()},
            headers=headers,
            body=request.body,
        )
        with self.lock:
            self._requests.append(recorded)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the recorded requests, oldest first."""
        with self.lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self.lock:
            self._requests.clear()


def _jwt_shaped(username: str | None, access: dict[str, frozenset[str]], now: float) -> str:
    """A token shaped as the real token servers' JWTs, with the `access` claim listing the
    actions granted (clients read it to predict a refused push); the signature is random, and
    the token is looked up by value, never verified."""
    import base64

    def part(value: object) -> str:
        text = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    claims = {
        "iss": "dtrctl-sandbox",
        "sub": username or "",
        "iat": int(now),
        "exp": int(now + TOKEN_LIFETIME_SECONDS),
        "access": [
            {"type": "repository", "name": name, "actions": sorted(actions)}
            for name, actions in sorted(access.items())
        ],
    }
    return f"{part({'typ': 'JWT', 'alg': 'none'})}.{part(claims)}.{secrets.token_urlsafe(32)}"
