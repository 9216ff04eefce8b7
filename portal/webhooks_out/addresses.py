"""Where an outbound webhook may go, and a connection that goes only there.

A URL's host is resolved and every address it resolves to is checked: one private,
loopback, link-local or otherwise non-public address refuses the request (unless
PORTAL_WEBHOOKS_ALLOW_PRIVATE says so, as tests and a local setup do). The connection
is then made to the address that was checked, not to a second lookup's answer, so a
name that resolves differently the next time (DNS rebinding) cannot slip past. The
TLS handshake still names the host, so the certificate is checked against it.

Nothing here waits without a deadline: the lookup runs on a thread of its own and is
abandoned when the attempt's time is up (getaddrinfo cannot be interrupted), and the
connection is cut at the same moment whatever it is doing.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

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

    @property
    def url(self) -> str:
        """The URL in its one normal form: what registration stores."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        port = "" if self.port == default else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"


# A host name's labels after IDNA: letters, digits, hyphens (and underscores, which
# some DNS names carry).
_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOST_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*\.?$")
# What may stay as it is in a path or query; anything else (a space, a quote, a
# non-ASCII letter) is percent-encoded, so http.client never refuses the request line.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def _normal_host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise UnsafeURL(gettext("That host name is not valid.")) from exc
    if len(host) > 253 or not _HOST_NAME.match(host):
        raise UnsafeURL(gettext("That host name is not valid."))
    return host


def parse_url(url: str) -> Target:
    """The URL's parts, normalised (host in lower-case ASCII, path and query
    percent-encoded), or UnsafeURL when its form alone rules it out."""
    url = url.strip()
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise UnsafeURL(
            gettext(
                "A URL cannot contain spaces or control characters; encode them (%(example)s).",
                example="%20",
            )
        )
    try:
        parts = urlsplit(url)
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
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return Target(
        scheme=parts.scheme,
        host=_normal_host(parts.hostname),
        port=port or (443 if parts.scheme == "https" else 80),
        path=path,
    )


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# RFC 8215's local-use translation prefix: a private network's NAT64, never global.
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped, 6to4, NAT64 (the well-known
    prefix) and the deprecated IPv4-compatible form all carry one, and Python calls most
    of them global whatever IPv4 address is inside."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(address: str) -> str | None:
    """Why a request must not go to this address, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    reached = ip
    if isinstance(ip, ipaddress.IPv6Address):
        reached = _embedded_ipv4(ip) or ip
    shown = str(ip) if reached == ip else f"{ip} ({reached})"
    if reached.is_multicast or reached.is_unspecified:
        return gettext("%(address)s is not a host address", address=shown)
    # Site-local (fec0::/10) is deprecated but still routed inside some networks.
    site_local = isinstance(ip, ipaddress.IPv6Address) and (ip.is_site_local or ip in _LOCAL_NAT64)
    if (site_local or not reached.is_global) and not current_app.config[
        "PORTAL_WEBHOOKS_ALLOW_PRIVATE"
    ]:
        return gettext("%(address)s is a private, loopback or reserved address", address=shown)
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


def system_lookup(host: str, port: int) -> list[str]:
    """The operating system's answer for a host name (DNS, /etc/hosts...)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


class Resolver:
    """Host name lookups that give up at a deadline. Each runs on a daemon thread of
    its own, at most `threads` at once, so lookups that hang (a name server that never
    answers) hold a few threads of their own and never the caller past its deadline.
    `lookup` is replaceable: tests put a slow or failing one in its place."""

    def __init__(self, lookup: Callable[[str, int], list[str]] = system_lookup, threads: int = 8):
        self.lookup = lookup
        self._slots = threading.BoundedSemaphore(threads)

    def addresses(self, host: str, port: int, deadline: float) -> list[str]:
        """Every address `host` has, or TimeoutError once time.monotonic() passes `deadline`."""
        if not self._slots.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise TimeoutError(f"{host}: no lookup slot free before the deadline")
        answer: list = []
        done = threading.Event()

        def run() -> None:
            try:
                answer.append(self.lookup(host, port))
            except Exception as exc:  # noqa: BLE001 - handed to the caller below
                answer.append(exc)
            finally:
                self._slots.release()
                done.set()

        threading.Thread(target=run, name="webhook-lookup", daemon=True).start()
        if not done.wait(max(deadline - time.monotonic(), 0)):
            raise TimeoutError(f"{host} did not resolve in time")
        if isinstance(answer[0], Exception):
            raise answer[0]
        return answer[0]


resolver = Resolver()


def resolve(target: Target, deadline: float) -> str:
    """The address to connect to, after checking every address the host has."""
    try:
        ipaddress.ip_address(target.host)
        found = [target.host]
    except ValueError:
        try:
            found = resolver.addresses(target.host, target.port, deadline)
        except socket.gaierror as exc:
            raise UnsafeURL(
                gettext(
                    "%(host)s does not resolve: %(problem)s",
                    host=target.host,
                    problem=exc.strerror,
                )
            ) from exc
    addresses = list(dict.fromkeys(found))
    if not addresses:
        raise UnsafeURL(gettext("%(host)s has no address", host=target.host))
    for address in addresses:
        reason = refusal(address)
        if reason:
            raise UnsafeURL(
                gettext("%(host)s resolves to %(reason)s", host=target.host, reason=reason)
            )
    return addresses[0]


class Cutoff:
    """Cuts a connection when the attempt's deadline passes, whatever it is waiting
    for: a socket timeout bounds one read, and a receiver sending a byte a second
    would never trip it."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.fired = False
        self._timer: threading.Timer | None = None

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.fired = True
            raise TimeoutError("the attempt's deadline passed")
        return left

    def arm(self, sock: socket.socket) -> None:
        def cut() -> None:
            self.fired = True
            # The plain socket's shutdown, under any TLS layer: a blocked read wakes.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

        self._timer = threading.Timer(self.left(), cut)
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def connection(target: Target, address: str, cutoff: Cutoff) -> http.client.HTTPConnection:
    """A connection to `address` that speaks to `target.host` (Host header, TLS SNI and
    certificate check), cut at `cutoff`. http.client follows no redirect, which is what
    we want: a 3xx is an answer like any other, not an invitation to go elsewhere."""
    timeout = cutoff.left()
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(_address, _timeout, source_address=None):
        sock = socket.create_connection((address, target.port), cutoff.left(), source_address)
        try:
            cutoff.arm(sock)
        except TimeoutError:
            sock.close()
            raise
        return sock

    conn._create_connection = pinned
    return conn
