"""Credentials: the credential record, the resolution chain, docker and podman configs and
their helpers, the secret store, and login."""
