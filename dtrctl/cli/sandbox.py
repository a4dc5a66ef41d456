"""`dtrctl sandbox`: a local DTR-compatible server for demos, tests and CI rehearsals."""

from typing import Annotated

import typer


def sandbox(
    host: Annotated[
        str, typer.Option(metavar="ADDRESS", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            metavar="PORT", min=0, max=65535, help="Port to listen on; 0 picks a free one."
        ),
    ] = 0,
    tls_cert: Annotated[
        str | None,
        typer.Option(
            metavar="PEM",
            help="Certificate (PEM) to serve HTTPS with, together with --tls-key (default: "
            "plain HTTP).",
        ),
    ] = None,
    tls_key: Annotated[
        str | None, typer.Option(metavar="PEM", help="Private key (PEM) of --tls-cert.")
    ] = None,
    tls_ca: Annotated[
        str | None,
        typer.Option(
            metavar="PEM", help="CA certificate to serve at /ca, as DTR does (for `ca fetch`)."
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Start with data: 'demo' adds organizations, repositories (mutable and "
            "immutable) and images (default: empty).",
        ),
    ] = None,
    latency_ms: Annotated[
        int,
        typer.Option(metavar="MS", min=0, help="Delay every answer by this many milliseconds."),
    ] = 0,
    create_on_push: Annotated[
        bool,
        typer.Option(
            "--create-on-push",
            help="Create a repository when an image is pushed to it (default: the push fails, "
            "as on DTR).",
        ),
    ] = False,
) -> None:
    """Run a local DTR-compatible server for demos and tests.

    It serves the DTR API, the token server and a registry, keeps everything in memory, and
    runs until interrupted. It prints its URL (for DTRCTL_URL) and the demo accounts on start.

    Examples:

    \b
      dtrctl sandbox --seed demo --port 8443
      dtrctl sandbox --seed demo --tls-cert cert.pem --tls-key key.pem
      dtrctl sandbox --seed demo --latency-ms 25 --create-on-push
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
        tls_ca=tls_ca,
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
