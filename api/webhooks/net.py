"""The network side of webhooks: which URLs may be called (the SSRF guard) and one POST.

A webhook URL is chosen by an integrator, so without a guard it would let them make the CRM
call its own network (the database, the cloud metadata service at 169.254.169.254…). URLs must
be https and every address the host resolves to must be public. The check is made when a
subscription is saved *and* before every request, and the request then connects to the very
address that was checked — the host is not resolved a second time — so a DNS answer that
changes between the check and the connection (DNS rebinding) cannot slip through.
``WEBHOOKS_ALLOW_PRIVATE_URLS`` (on in development and tests) turns the guard off and allows
plain http."""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

USER_AGENT = "AllianceCRM-Webhooks/1.0"
EXCERPT_BYTES = 1024


class UnsafeURL(Exception):
    """The URL may not be called; the message says why, for the integrator."""


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", False))


def timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", 10))


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string


def parse(url: str) -> Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("This is not a valid URL.")) from exc
    allowed = ("https", "http") if allow_private() else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeURL(_("Webhook URLs must use https."))
    if not parts.hostname:
        raise UnsafeURL(_("This is not a valid URL."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Webhook URLs may not contain a user name or password."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default_port, path)


def resolve(target: Target) -> str:
    """The address to connect to: the first one the host resolves to, after checking that
    every one of them is public (unless private URLs are allowed)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(_("The host %(host)s cannot be resolved.") % {"host": target.host}) from exc
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeURL(_("The host %(host)s cannot be resolved.") % {"host": target.host})
    if not allow_private():
        for address in addresses:
            if not is_public(ipaddress.ip_address(address.split("%", 1)[0])):
                raise UnsafeURL(
                    _(
                        "The host %(host)s resolves to a private, loopback or reserved "
                        "address (%(address)s); webhooks only go to public addresses."
                    )
                    % {"host": target.host, "address": address}
                )
    return addresses[0]


def check_url(url: str) -> None:
    """Raise :class:`UnsafeURL` unless ``url`` may be called now."""
    resolve(parse(url))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address; the certificate is verified against the host name
    (SNI and hostname check), as for any https request."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Response:
    status: int
    excerpt: str
    duration_ms: int


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` once, without following redirects. Raises :class:`UnsafeURL` when the URL
    may not be called, ``OSError`` (time-outs, refused connections, TLS errors) or
    ``http.client.HTTPException`` when no answer came."""
    target = parse(url)
    address = resolve(target)
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = cls(target.host, target.port, address, timeout_seconds())
    started = time.monotonic()
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        answer = connection.getresponse()
        # Only the start of the answer is kept; a receiver cannot make us read megabytes.
        excerpt = answer.read(EXCERPT_BYTES).decode("utf-8", errors="replace")
        return Response(answer.status, excerpt, int((time.monotonic() - started) * 1000))
    finally:
        connection.close()
