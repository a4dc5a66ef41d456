"""The MSR 4 / Harbor backend: immutability as Harbor's per-project tag immutability rules."""


def token_endpoint(url: str) -> tuple[str, str]:
    """Harbor's token service and its service name, as its `/v2/` challenge names them
    (FACTS.md); here, not in `backend`, so that detection names it without importing Harbor's
    backend."""
    return f"{url.rstrip('/')}/service/token", "harbor-registry"
