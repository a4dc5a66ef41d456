"""`dtrctl sandbox`: a local DTR- or Harbor-compatible server for demos, tests and CI rehearsals."""

from typing import Annotated, Any, NoReturn

import typer

from dtrctl.cli.completers import complete_flavor


def sandbox(
    flavor: Annotated[
        str,
        typer.Option(
            metavar="dtr|harbor",
            autocompletion=complete_flavor,
            help="Which registry to emulate: 'dtr' (DTR's /api/v0) or 'harbor' (MSR 4 / "
            "Harbor's /api/v2.0, its token service and immutable tag rules).",
        ),
    ] = "dtr",
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
            help="Start with data: 'demo' adds repositories (mutable and immutable) and "
            "images; on harbor also immutable tag rules (default: empty).",
        ),
    ] = None,
    seed_repos: Annotated[
        list[str] | None,
        typer.Option(
            "--seed-repos",
            metavar="PATTERN",
            help="Also create these repositories, mutable; brace ranges make a fleet: "
            "'ci/svc-{1..500}', '{web,api}/app-{01..20}' (repeatable).",
        ),
    ] = None,
    seed_file: Annotated[
        str | None,
        typer.Option(
            "--seed-file",
            metavar="FILE",
            help="Also create the repositories of FILE: one PATTERN a line, optionally "
            "followed by 'immutable'; # starts a comment.",
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
            "as on DTR). DTR only: Harbor always creates it on the first push.",
        ),
    ] = False,
    project_creation: Annotated[
        str,
        typer.Option(
            metavar="everyone|adminonly",
            help="Harbor only: who may create projects (Harbor's project_creation_restriction).",
        ),
    ] = "everyone",
) -> None:
    """Run a local DTR- or Harbor-compatible server for demos and tests.

    It serves the registry's API, its token server and a registry that refuses pushes to
    immutable tags as the real one does, keeps everything in memory, and runs until
    interrupted. It prints its URL (for DTRCTL_URL) and the demo accounts on start.

    With --flavor harbor: projects 'library' (public) and 'engineering' (private), the same
    demo users as on DTR plus carol (maintainer) and dave (project admin of engineering), and
    robots robot$engineering+ci and robot$dtrctl. --seed demo adds images and immutable tag
    rules: every tag of library/nginx and engineering/api, and v* tags of engineering/team/app.

    Examples:

    \b
      dtrctl sandbox --seed demo --port 8443
      dtrctl sandbox --seed demo --seed-repos 'ci/svc-{1..500}'
      dtrctl sandbox --flavor harbor --seed demo --project-creation adminonly
    """
    import ssl

    from dtrctl.sandbox.server import SandboxServer

    _check_options(flavor, project_creation, create_on_push, tls_cert, tls_key)
    _check_readable(("--tls-cert", tls_cert), ("--tls-key", tls_key), ("--tls-ca", tls_ca))
    try:
        server = SandboxServer(
            host=host,
            port=port,
            tls_cert=tls_cert,
            tls_key=tls_key,
            tls_ca=tls_ca,
            seed=seed,
            latency_ms=latency_ms,
            create_on_push=create_on_push,
            flavor=flavor,
            project_creation=project_creation,
        )
    except ValueError as error:  # an unknown seed
        _usage_error(str(error))
    except ssl.SSLError as error:
        _usage_error(f"cannot use --tls-cert/--tls-key: {error.reason or error}")
    except OSError as error:
        # Binding failed: the port is taken, or the address is not this machine's.
        typer.echo(f"Error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(5) from None
    seeded = _seed_fleet(server, seed_repos or [], seed_file)
    name = "Harbor" if flavor == "harbor" else "DTR"
    print(f"{name} sandbox listening on {server.url}", flush=True)
    if seeded:
        print(f"  seeded {seeded} repositories from --seed-repos / --seed-file", flush=True)
    print(f"  export DTRCTL_URL={server.url}", flush=True)
    for username, password, description in _accounts(flavor):
        print(f"  user {username}: password {password}  ({description})", flush=True)
    _print_how_to_push(server.host_port, dict((a[0], a[1]) for a in _accounts(flavor)))
    if flavor == "dtr" and not create_on_push and seed != "demo":
        # DTR refuses a push to a repository that does not exist (Harbor creates it).
        print("  (first: dtrctl repo create engineering/api, or --seed demo)", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _print_how_to_push(host_port: str, passwords: dict[str, str]) -> None:
    """How to point skopeo and docker at the sandbox: its TLS is never trusted (plain HTTP or a
    test certificate), and the password goes on stdin, never on a command line."""
    secret = passwords["alice"]
    image = f"{host_port}/engineering/api:1.4.2"
    lines = (
        "push as alice with skopeo (--tls-verify=false: plain HTTP or a test certificate):",
        f"  printf '%s' {secret} | skopeo login --tls-verify=false -u alice --password-stdin "
        f"{host_port}",
        f"  skopeo copy --dest-tls-verify=false oci:DIR:TAG docker://{image}",
        "or docker (plain HTTP: docker allows it for 127.0.0.1 only; elsewhere add the "
        'address to "insecure-registries" in /etc/docker/daemon.json):',
        f"  printf '%s' {secret} | docker login -u alice --password-stdin {host_port}",
        f"  docker tag IMAGE {image} && docker push {image}",
    )
    for line in lines:
        print(f"  {line}", flush=True)


def _check_options(
    flavor: str,
    project_creation: str,
    create_on_push: bool,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Options that contradict each other or name no choice: exit 2 before anything starts."""
    if (tls_cert is None) != (tls_key is None):
        _usage_error("--tls-cert and --tls-key go together")
    if flavor not in ("dtr", "harbor"):
        _usage_error(f"--flavor must be 'dtr' or 'harbor', not {flavor!r}")
    if project_creation not in ("everyone", "adminonly"):
        _usage_error(
            f"--project-creation must be 'everyone' or 'adminonly', not {project_creation!r}"
        )
    if flavor == "harbor" and create_on_push:
        _usage_error("--create-on-push is for --flavor dtr: Harbor creates on the first push")


def _seed_fleet(server: Any, patterns: list[str], seed_file: str | None) -> int:
    """Create the --seed-repos / --seed-file repositories; a bad pattern or file exits 2."""
    from dtrctl.files import NAME_LIST_LIMIT, read_text_bounded
    from dtrctl.sandbox.fleet import SeedError, expand_patterns, parse_seed_file, seed_fleet

    try:
        entries = expand_patterns(patterns)
        if seed_file is not None:
            text = read_text_bounded(seed_file, NAME_LIST_LIMIT, "--seed-file")
            entries += parse_seed_file(text, seed_file)
        return seed_fleet(server.state, entries)
    except (SeedError, OSError, UnicodeDecodeError) as error:
        server.stop()
        _usage_error(str(error))


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(2)


def _check_readable(*files: tuple[str, str | None]) -> None:
    """Each file given can be opened: a one-line error (exit 2) rather than a traceback."""
    for option, path in files:
        if path is None:
            continue
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            _usage_error(f"{option} {path}: {error.strerror or error}")


def _accounts(flavor: str) -> list[tuple[str, str, str]]:
    """(username, password, description) of the flavor's demo accounts."""
    if flavor == "harbor":
        from dtrctl.sandbox.harbor.seed import demo_accounts

        return [(a.username, a.password, a.description) for a in demo_accounts()]
    from dtrctl.sandbox.accounts import DEMO_USERS

    return [(u.username, u.password, u.description) for u in DEMO_USERS]
