"""Which webhook destinations Vigil sends to: the address rules, names, and the pinned request.
Resolvers are plain functions here; only numeric hosts go to the system resolver, which
reads them without the network."""

from __future__ import annotations

import ipaddress

import pytest

from vigil.screening.webhooks.destinations import (
    RefusedDestination,
    UnresolvedDestination,
    check_destination,
    check_registration,
    is_allowed,
    is_public,
    pinned,
)

ip = ipaddress.ip_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "198.18.0.1",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "2002:7f00:1::1",
        "2002:a00:1::1",
        "64:ff9b::7f00:1",
        "::7f00:1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo whose client is 127.0.0.1
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ip(address))
    assert not is_allowed(ip(address))


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2002:808:808::1"],
)
def test_public_addresses(address: str) -> None:
    assert is_public(ip(address)) and is_allowed(ip(address))


def test_allowed_networks_admit_only_themselves() -> None:
    allowed = [ipaddress.ip_network("10.1.2.0/24"), ipaddress.ip_network("fd00:1::/64")]
    assert is_allowed(ip("10.1.2.200"), allowed)
    assert is_allowed(ip("::ffff:10.1.2.200"), allowed)  # the same host, mapped
    assert is_allowed(ip("fd00:1::5"), allowed)
    assert not is_allowed(ip("10.1.3.1"), allowed)
    assert not is_allowed(ip("127.0.0.1"), allowed)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://[::ffff:7f00:1]/",
    ],
)
def test_other_spellings_of_loopback_are_refused(url: str) -> None:
    with pytest.raises(RefusedDestination):
        check_destination(url)
    with pytest.raises(RefusedDestination):
        check_registration(url)


@pytest.mark.parametrize(
    "url",
    ["ftp://8.8.8.8/", "http:///path", "not a url", "http://[::1/", "https://8.8.8.8:99999/", ""],
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(RefusedDestination):
        check_destination(url, resolve=lambda _h, _p: [ip("8.8.8.8")])


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    def answers(*addresses: str):  # type: ignore[no-untyped-def]
        return lambda _host, _port: [ip(a) for a in addresses]

    found = check_destination("https://hooks.example/x", resolve=answers("8.8.8.8", "1.1.1.1"))
    assert found.addresses == (ip("8.8.8.8"), ip("1.1.1.1"))
    with pytest.raises(RefusedDestination):
        check_destination("https://hooks.example/x", resolve=answers("8.8.8.8", "10.0.0.1"))
    with pytest.raises(RefusedDestination):
        check_registration("https://hooks.example/x", resolve=answers("::1"))


def test_a_name_that_does_not_resolve_waits_for_delivery() -> None:
    def nothing(_host: str, _port: int) -> list[ipaddress.IPv4Address]:
        raise UnresolvedDestination("no such name")

    check_registration("https://later.example/x", resolve=nothing)  # accepted for now
    with pytest.raises(UnresolvedDestination):
        check_destination("https://later.example/x", resolve=nothing)
    with pytest.raises(UnresolvedDestination):
        check_destination("https://later.example/x", resolve=lambda _h, _p: [])


def test_the_port_resolved_is_the_one_meant() -> None:
    asked: list[tuple[str, int]] = []

    def record(host: str, port: int) -> list[ipaddress.IPv4Address]:
        asked.append((host, port))
        return [ip("8.8.8.8")]

    for url in ("https://a.example/", "http://a.example/", "https://a.example:8443/"):
        check_destination(url, resolve=record)
    assert asked == [("a.example", 443), ("a.example", 80), ("a.example", 8443)]


def test_the_pinned_request_keeps_the_name_for_host_and_tls() -> None:
    destination = check_destination(
        "https://hooks.example:8443/in?x=1", resolve=lambda _h, _p: [ip("2606:4700::1")]
    )
    url, headers, extensions = pinned(destination)
    assert str(url) == "https://[2606:4700::1]:8443/in?x=1"
    assert headers == {"Host": "hooks.example:8443"}
    assert extensions == {"sni_hostname": "hooks.example"}
    plain = check_destination("http://hooks.example/in", resolve=lambda _h, _p: [ip("8.8.8.8")])
    url, headers, extensions = pinned(plain)
    assert (str(url), headers, extensions) == ("http://8.8.8.8/in", {"Host": "hooks.example"}, {})
