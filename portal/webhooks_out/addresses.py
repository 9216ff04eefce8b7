"""Where an outbound webhook may go, and a connection that goes only there.

A URL's host is resolved and every address it resolves to is checked: one private,
loopback, link-local or otherwise non-public address refuses the request (unless
PORTAL_WEBHOOKS_ALLOW_PRIVATE says so, as tests and a local setup do). The connection
is then made to the address that was checked, not to a second lookup's answer, so a
name that resolves differently the next time (DNS rebinding) cannot slip past. The
TLS handshake still names the host, so the certificate is checked against it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext


class UnsafeURL(ValueError):
    """The URL is not one a webhook may be sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_url(url: str) -> Target:
    """The URL's parts, or UnsafeURL when its form alone rules it out."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(gettext("That is not a valid URL.")) from exc
    allowed = ("https", "http") if current_app.config["PORTAL_WEBHOOKS_ALLOW_HTTP"] else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeURL(gettext("The URL must start with https://."))
    if not parts.hostname:
        raise UnsafeURL(gettext("The URL needs a host name."))
    if parts.username or parts.password:
        raise UnsafeURL(gettext("Put no user name or password in the URL; use the signature."))
    if parts.fragment:
        raise UnsafeURL(gettext("A URL with a #fragment is not sent anywhere; leave it out."))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or (443 if parts.scheme == "https" else 80),
        path=path,
    )


def refusal(address: str) -> str | None:
    """Why a request must not go to this address, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast or ip.is_unspecified:
        return gettext("%(address)s is not a host address", address=ip)
    if not ip.is_global and not current_app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"]:
        return gettext("%(address)s is a private, loopback or reserved address", address=ip)
    return None


def check_literal_host(target: Target) -> None:
    """At registration: refuse a host that is an address (or localhost) we would
    refuse to call anyway. Names are checked when called, since DNS may change."""
    host = target.host
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return
    reason = refusal(host)
    if reason:
        raise UnsafeURL(gettext("Webhooks cannot be sent there: %(reason)s.", reason=reason))


def resolve(target: Target) -> str:
    """The address to connect to, after checking every address the host has."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL(
            gettext(
                "%(host)s does not resolve: %(problem)s", host=target.host, problem=exc.strerror
            )
        ) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise UnsafeURL(
                gettext("%(host)s resolves to %(reason)s", host=target.host, reason=reason)
            )
    return addresses[0]


def connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `address` that speaks to `target.host` (Host header, TLS SNI and
    certificate check). http.client follows no redirect, which is what we want: a 3xx
    is an answer like any other, not an invitation to go elsewhere."""
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(_address, timeout, source_address=None):
        return socket.create_connection((address, target.port), timeout, source_address)

    conn._create_connection = pinned
    return conn
