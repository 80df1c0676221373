"""Where a webhook may go: public internet addresses, plus the private networks an operator
names (``[webhooks] allowed_networks``). Anything else - loopback, private, link-local (the
cloud metadata service at 169.254.169.254), CGNAT, multicast, reserved, unspecified, and the
IPv6 forms that embed such an IPv4 address - is refused, so an API key that registers
endpoints cannot make Vigil probe its own network.

Names are resolved once and every address is checked; a name with any refused address is
refused. IPv4 spellings such as ``2130706433`` or ``0x7f.1`` need no rule of their own: the
resolver turns them into the address they mean, which is what is checked. The sender then
connects to the address that was checked (:func:`pinned`) rather than resolving again, so a
name cannot answer a public address to the check and a private one to the connection (DNS
rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]

REFUSED = "refused: the destination is not a public address"  # never says which address
UNRESOLVED = "the destination's host name does not resolve"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedDestination(ValueError):
    """A destination Vigil must not send to."""


class UnresolvedDestination(RefusedDestination):
    """A name that does not resolve (now): nothing to send to, nothing known to refuse."""


@dataclass(frozen=True, slots=True)
class Destination:
    url: httpx.URL
    addresses: tuple[IPAddress, ...]  # every one checked


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet (an IPv6 address that carries an IPv4
    one - mapped, 6to4, NAT64, Teredo - only if that one is too)."""
    if not address.is_global or address.is_multicast or address.is_reserved:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.is_site_local:
            return False
        return all(is_public(inner) for inner in _embedded_ipv4(address))
    return True


def is_allowed(address: IPAddress, allowed_networks: Iterable[IPNetwork] = ()) -> bool:
    """Public, or inside a network the operator allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.1.2.3 is 10.1.2.3 on the wire
    return is_public(address) or any(address in network for network in allowed_networks)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host``; UnresolvedDestination if none."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnresolvedDestination(UNRESOLVED) from None
    addresses = [ipaddress.ip_address(str(answer[4][0]).partition("%")[0]) for answer in answers]
    if not addresses:
        raise UnresolvedDestination(UNRESOLVED)
    return addresses


def check_destination(
    url: str, allowed_networks: Iterable[IPNetwork] = (), *, resolve: Resolver = resolve_host
) -> Destination:
    """Resolve ``url``'s host and check every address; raises RefusedDestination (or its
    UnresolvedDestination) otherwise."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise RefusedDestination("not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise RefusedDestination("not an absolute http(s) URL")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if not 0 < port < 65536:  # httpx accepts any number
        raise RefusedDestination("not a valid port")
    addresses = tuple(resolve(parsed.host, port))
    networks = tuple(allowed_networks)
    if not addresses:
        raise UnresolvedDestination(UNRESOLVED)
    if not all(is_allowed(address, networks) for address in addresses):
        raise RefusedDestination(REFUSED)
    return Destination(parsed, addresses)


def check_registration(
    url: str, allowed_networks: Iterable[IPNetwork] = (), *, resolve: Resolver = resolve_host
) -> None:
    """Refuse a URL that is, or resolves to, a destination Vigil must not send to. A name
    that does not resolve yet is accepted: every delivery checks again."""
    try:
        check_destination(url, allowed_networks, resolve=resolve)
    except UnresolvedDestination:
        return


def pinned(destination: Destination) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The request to send instead of ``destination.url``: the URL with the first checked
    address as its host, the original ``Host`` header, and for TLS the original name as SNI
    (httpcore's ``sni_hostname``), against which the certificate is verified too."""
    address = destination.addresses[0]
    url = destination.url.copy_with(host=str(address))
    headers = {"Host": destination.url.netloc.decode("ascii")}
    extensions: dict[str, Any] = {}
    if destination.url.scheme == "https":
        extensions["sni_hostname"] = destination.url.host
    return url, headers, extensions


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    inner = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in _NAT64:
        inner.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [candidate for candidate in inner if candidate is not None]
