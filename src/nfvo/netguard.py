"""Outbound HTTP to addresses that users name: subscription callbacks, OAuth token endpoints
and package URIs (``upload_from_uri``).

Such a request must not become a way into nfvo's own side of the network (server-side
request forgery): a name or address that resolves to loopback, link-local (cloud metadata
at ``169.254.169.254``), private, shared (CGNAT), multicast or reserved space is refused
unless an operator lists it in the allow-list (``NFVO_OUTBOUND_ALLOW``, CIDRs, for labs).

The check sits where the socket is opened: the host is resolved once, every address it
resolves to is checked, and the connection goes to a checked address literally, so a DNS
answer that changes between the check and the connect (DNS rebinding) cannot switch it. The
same applies to every hop of a redirect and to every new pooled connection, because httpx
opens all of them through :class:`GuardedTransport`. TLS still verifies the certificate
against the host name of the URL.

Callers report failures with one message that does not tell a refused address, a closed
port, a silent port or a non-HTTP service apart, and never copy a remote body.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

log = logging.getLogger(__name__)

ALLOW_ENV = "NFVO_OUTBOUND_ALLOW"
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
UNREACHABLE = (
    "could not be reached: no HTTP answer came, or its address is one nfvo does not send "
    f"requests to (loopback, link-local, private or reserved; see {ALLOW_ENV})"
)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[..., list[tuple[Any, ...]]]

# Address space an outbound request never reaches unless allow-listed. Python's
# ``is_global`` is checked as well; these are spelled out so that the list is readable and
# covers what ``is_global`` lets through (multicast, a cloud host agent, site-local IPv6).
REFUSED: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network", including 0.0.0.0
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (CGNAT), some cloud metadata services
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, including broadcast
        "168.63.129.16/32",  # a cloud's host agent and metadata address
        "::/96",  # unspecified, loopback, IPv4-compatible
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, Teredo
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local (fd00:ec2::254 is a cloud metadata address)
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(httpx.ConnectError):
    """A host resolved to an address the outbound policy refuses (the message, for logs
    only, names the host and the address)."""


def parse_allow(text: str | Iterable[str]) -> tuple[Network, ...]:
    """The allow-list from comma- or space-separated CIDRs (a bare address is one host);
    ValueError names the first entry that is not one."""
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    out = []
    for item in items:
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP network in CIDR notation") from None
    return tuple(out)


def _embedded_ipv4(addr: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), which is where a
    connection to it ends up."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return None
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour


def refused_reason(addr: Address, allow: Iterable[Network] = ()) -> str | None:
    """Why ``addr`` may not be reached (None when it may): it lies outside the allow-list
    and in refused or non-global space (an IPv6 address carrying an IPv4 one is judged by
    the IPv4 address)."""
    inner = _embedded_ipv4(addr)
    forms = [addr] if inner is None else [addr, inner]
    if any(f.version == n.version and f in n for f in forms for n in allow):
        return None
    judged = inner or addr
    hit = next((n for n in REFUSED if judged.version == n.version and judged in n), None)
    if hit is not None:
        return f"{judged} lies in {hit}"
    if not judged.is_global or judged.is_multicast or judged.is_reserved:
        return f"{judged} is not a global unicast address"
    return None


class OutboundGuard:
    """The outbound policy: an allow-list of networks and the resolver used (a test can
    give one that changes its answer, as a rebinding DNS server does)."""

    def __init__(self, allow: str | Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.allow = parse_allow(allow)
        self._resolver = resolver or socket.getaddrinfo

    @classmethod
    def from_env(cls) -> OutboundGuard:
        """The policy ``NFVO_OUTBOUND_ALLOW`` describes (empty: only global addresses)."""
        return cls(os.environ.get(ALLOW_ENV, ""))

    def addresses(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, once; OutboundRefused when any is refused,
        httpcore.ConnectError when it does not resolve."""
        try:
            infos = self._resolver(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        out: list[str] = []
        for info in infos:
            raw = str(info[4][0]).split("%", 1)[0]
            addr = ipaddress.ip_address(raw)
            reason = refused_reason(addr, self.allow)
            if reason is not None:
                log.warning("outbound request to %r refused: %s (see %s)", host, reason, ALLOW_ENV)
                raise OutboundRefused(f"{host} resolves to {addr}: {reason}")
            if raw not in out:
                out.append(raw)
        if not out:
            raise httpcore.ConnectError(f"{host} has no address")
        return out

    def client(self, timeout: float, *, follow_redirects: bool = False) -> httpx.Client:
        """An httpx client whose every connection passes this policy (redirects, when
        followed, at most ``MAX_REDIRECTS``; no proxy or netrc from the environment)."""
        return httpx.Client(
            transport=GuardedTransport(self),
            timeout=timeout,
            follow_redirects=follow_redirects,
            max_redirects=MAX_REDIRECTS,
            trust_env=False,
        )


class _GuardedBackend(httpcore.SyncBackend):
    """Opens TCP connections only to addresses the guard accepts, by address."""

    def __init__(self, guard: OutboundGuard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for addr in self.guard.addresses(host, port):
            try:
                return super().connect_tcp(addr, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """httpcore's exceptions as the httpx ones of the same name, as httpx's own transport
    raises them."""
    try:
        yield
    except Exception as exc:
        if not type(exc).__module__.startswith("httpcore"):
            raise
        for cls in type(exc).__mro__:
            mapped = getattr(httpx, cls.__name__, None)
            if isinstance(mapped, type) and issubclass(mapped, httpx.HTTPError):
                raise mapped(str(exc)) from exc
        raise httpx.TransportError(str(exc)) from exc


class _Stream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport (http and https only) over an httpcore connection pool whose
    connections are opened by the guard."""

    def __init__(self, guard: OutboundGuard) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_GuardedBackend(guard),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request; the connection, when a new one is needed, is checked."""
        if request.url.scheme not in SCHEMES:
            raise httpx.UnsupportedProtocol(f"{request.url.scheme!r} is not http or https")
        assert isinstance(request.stream, httpx.SyncByteStream)
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            resp = self._pool.handle_request(req)
        assert isinstance(resp.stream, Iterable)
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_Stream(resp.stream),
            extensions=resp.extensions,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._pool.close()


class BodyTooLarge(httpx.HTTPError):
    """A response body longer than the caller reads."""


def read_bounded(response: httpx.Response, limit: int, seconds: float | None = None) -> bytes:
    """At most ``limit`` bytes of a streamed response's body, read within ``seconds`` when
    given (a server dripping bytes is cut off); BodyTooLarge or httpx.ReadTimeout beyond."""
    deadline = None if seconds is None else time.monotonic() + seconds
    buf = bytearray()
    for chunk in response.iter_bytes():
        buf += chunk
        if len(buf) > limit:
            raise BodyTooLarge(f"the answer is longer than {limit} bytes")
        if deadline is not None and time.monotonic() > deadline:
            raise httpx.ReadTimeout(f"the answer took longer than {seconds} s")
    return bytes(buf)


def describe(exc: BaseException) -> str:
    """A short, operator-facing label of an outbound failure: the exception class only
    (never a remote body nor a socket error text)."""
    if isinstance(exc, OutboundRefused):
        return "address refused by the outbound policy"
    return type(exc).__name__
