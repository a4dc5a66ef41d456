"""Downloading DTR's CA certificate from `/ca` (trust on first use)."""

from __future__ import annotations

from dataclasses import replace

from dtrctl.client.http import RequestContext, send
from dtrctl.client.limits import CA_PEM_MAX_BYTES
from dtrctl.client.transport import TransportOptions, build_http_client


def fetch_ca_certificate(url: str, options: TransportOptions) -> str:
    """The PEM text DTR serves at `/ca`.

    Verification cannot apply to the certificate being fetched in order to be trusted: the user
    checks its fingerprint before it is saved.
    """
    with build_http_client(replace(options, insecure=True)) as http:
        response = send(
            http,
            "GET",
            f"{url.rstrip('/')}/ca",
            RequestContext("fetch the DTR CA"),
            max_bytes=CA_PEM_MAX_BYTES,
        )
    return response.text
