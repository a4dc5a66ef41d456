"""A DTR-compatible HTTP server for tests, demos and CI rehearsals.

It speaks the parts of the DTR API dtrctl uses (`/api/v0`), the registry token flow
(`/auth/token`) and enough of the Docker Registry HTTP API v2 (`/v2`) for skopeo to push and
pull, including DTR's refusal to overwrite tags of immutable repositories.

Import `dtrctl.sandbox.server.SandboxServer` to run it; this package import stays light.
"""
