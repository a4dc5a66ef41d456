"""What differs between registries served by the sandbox's one /v2 implementation.

`RegistryFlavor` answers as DTR does; the Harbor flavor subclasses it
(dtrctl.sandbox.harbor.registry). The /v2 code (dtrctl.sandbox.registry) asks it who may do
what, which repositories exist or appear on push, whether an existing tag may be written or a
manifest deleted, and where the token service is.
"""

from __future__ import annotations

from dtrctl.sandbox.api import REPOSITORY_NAME
from dtrctl.sandbox.dtr_bodies import RepositoryRecord
from dtrctl.sandbox.exchange import ApiError, Request
from dtrctl.sandbox.state import SandboxState, at_least

# What a challenge asks the client to fetch a token for, per required action.
CHALLENGE_ACTIONS = {"pull": "pull", "push": "pull,push", "delete": "delete"}


class RegistryFlavor:
    """DTR's answers to the questions where registries differ; subclass for another registry."""

    token_path = "/auth/token"
    # Repository names with more than one `/` (`project/team/app`); DTR has none.
    nested_names = False
    # Whether /v2 takes Basic credentials as well as bearer tokens.
    accepts_basic = False

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def service(self, request: Request) -> str:
        return request.host

    def authenticate(self, username: str, secret: str) -> bool:
        return self.state.authenticate(username, secret)

    def grantable(self, username: str | None, repository: str) -> set[str]:
        """The actions ("pull", "push", "delete", "*") the caller may have on `repository`."""
        state = self.state
        namespace, _, name = repository.partition("/")
        if not name or "/" in name:
            return set()
        existing = state.get_repository(namespace, name)
        level = (
            state.access_level(username, namespace, existing)
            if existing is not None
            else state.namespace_level(username, namespace)
        )
        actions: set[str] = set()
        if level is not None:
            actions.add("pull")
        if at_least(level, "read-write"):
            actions.add("push")
        if at_least(level, "admin"):
            actions |= {"delete", "*"}
        return actions

    def open_repository(self, full_name: str, action: str) -> tuple[str, str]:
        """(namespace, name) of an existing repository, created first when a push may create
        it; otherwise raises the registry's 404. Called under `state.lock`."""
        state = self.state
        namespace, _, name = full_name.partition("/")
        if state.get_repository(namespace, name) is None:
            creatable = (
                action == "push"
                and state.create_on_push
                and state.has_namespace(namespace)
                and REPOSITORY_NAME.fullmatch(name)
            )
            if not creatable:
                raise ApiError(
                    404,
                    "NAME_UNKNOWN",
                    "repository name not known to registry",
                    {"name": full_name},
                )
            state.add_repository(RepositoryRecord(namespace=namespace, name=name))
        return namespace, name

    def check_tag_write(self, request: Request, namespace: str, name: str, tag: str) -> None:
        """Raise the registry's refusal when an existing `tag` may not be pushed again.
        Called under `state.lock`, only for tags that exist."""
        repository = self.state.get_repository(namespace, name)
        if repository is not None and repository.immutable:
            raise ApiError(
                400,
                "UNKNOWN",
                f"tag={tag} cannot be overwritten because "
                f"{request.host}/{namespace}/{name} is an immutable repository",
            )

    def check_manifest_delete(self, namespace: str, name: str, reference: str) -> None:
        """Raise the registry's refusal when a manifest or tag may not be deleted."""

    def denied(self, request: Request, repository: str | None, action: str, error: str) -> ApiError:
        """The 401 for a caller without the right token."""
        return bearer_challenge(self, request, repository, action, error)


def bearer_challenge(
    flavor: RegistryFlavor, request: Request, repository: str | None, action: str, error: str
) -> ApiError:
    realm = f"{request.base_url}{flavor.token_path}"
    value = f'Bearer realm="{realm}",service="{flavor.service(request)}"'
    detail = None
    if repository is not None:
        value += f',scope="repository:{repository}:{CHALLENGE_ACTIONS[action]}"'
        detail = [{"Type": "repository", "Class": "", "Name": repository, "Action": action}]
    if error:
        value += f',error="{error}"'
    return ApiError(
        401, "UNAUTHORIZED", "authentication required", detail, [("WWW-Authenticate", value)]
    )
