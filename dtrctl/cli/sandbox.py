"""`dtrctl sandbox`: a local DTR-compatible server for demos, tests and CI rehearsals."""

from __future__ import annotations

from typing import Annotated

import typer


def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (0 picks a free one).")] = 0,
    tls_cert: Annotated[
        str | None, typer.Option(help="PEM certificate: serve HTTPS (with --tls-key).")
    ] = None,
    tls_key: Annotated[str | None, typer.Option(help="PEM private key for --tls-cert.")] = None,
    seed: Annotated[
        str | None, typer.Option(help="Seed data: 'demo' adds organizations and repositories.")
    ] = None,
    latency_ms: Annotated[
        int, typer.Option(min=0, help="Delay every answer by this many milliseconds.")
    ] = 0,
    create_on_push: Annotated[
        bool, typer.Option(help="Create a repository when an image is pushed to it.")
    ] = False,
) -> None:
    """Serve a DTR-compatible sandbox (API, token server and registry) until interrupted.

    It keeps everything in memory. Its URL and demo accounts are printed on start.

    Examples:

      dtrctl sandbox --seed demo --port 8443

      dtrctl sandbox --tls-cert cert.pem --tls-key key.pem
    """
    from dtrctl.sandbox.accounts import DEMO_USERS
    from dtrctl.sandbox.server import SandboxServer

    if (tls_cert is None) != (tls_key is None):
        typer.echo("Error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(2)
    server = SandboxServer(
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        seed=seed,
        latency_ms=latency_ms,
        create_on_push=create_on_push,
    )
    print(f"DTR sandbox listening on {server.url}", flush=True)
    print(f"  export DTRCTL_URL={server.url}", flush=True)
    for user in DEMO_USERS:
        print(f"  user {user.username}: password {user.password}  ({user.description})", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
