"""Geolocation over databases the tests write themselves: the City and Country layouts,
IPv4 and IPv6, addresses no database may place, malformed input and damaged files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.triage.geo_database import (
    ALBANY,
    BERLIN_V6,
    CONTINENT_ONLY,
    LONDON_COUNTRY_ONLY,
    PRIVATE_LISTED,
    SACRAMENTO,
    SAO_PAULO,
    UNLISTED,
    write_city_database,
    write_country_database,
)
from vigil.triage.geolocation import (
    GeolocationError,
    Geolocator,
    Location,
    location_from_record,
    routable,
)


@pytest.fixture(scope="module")
def city_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_city_database(tmp_path_factory.mktemp("geo") / "city.mmdb")


@pytest.fixture(scope="module")
def city(city_path: Path) -> Iterator[Geolocator]:
    with Geolocator.open(city_path) as geolocator:
        yield geolocator


def test_city_layout_gives_country_region_and_city(city: Geolocator) -> None:
    assert city.locate(SACRAMENTO) == Location("US", "US-CA", "Sacramento")
    assert city.locate(ALBANY) == Location("US", "US-NY", "Albany")
    assert city.locate(SAO_PAULO) == Location("BR", "BR-SP", "São Paulo")
    assert city.locate(LONDON_COUNTRY_ONLY) == Location("GB", None, None)


def test_ipv6_and_ipv4_mapped_addresses(city: Geolocator) -> None:
    assert city.locate(BERLIN_V6) == Location("DE", "DE-BE", "Berlin")
    assert city.locate("2A02:CF40:0:0:0:0:0:17") == Location("DE", "DE-BE", "Berlin")
    assert city.locate(f"::ffff:{SACRAMENTO}") == Location("US", "US-CA", "Sacramento")


def test_unlisted_and_continent_only_addresses_place_nothing(city: Geolocator) -> None:
    assert city.locate(UNLISTED) is None
    assert city.locate("2001:4860:4860::8888") is None
    assert city.locate(CONTINENT_ONLY) is None  # a continent routes nowhere


def test_country_layout_on_an_ipv4_database(tmp_path: Path) -> None:
    with Geolocator.open(write_country_database(tmp_path / "country.mmdb")) as country:
        assert country.locate(SACRAMENTO) == Location("US", None, None)
        assert country.locate(SAO_PAULO) == Location("BR", None, None)
        assert country.locate(BERLIN_V6) is None  # IPv6 on an IPv4-only database
        assert country.describe().startswith("GeoLite2-Country ")


@pytest.mark.parametrize(
    "address",
    [
        PRIVATE_LISTED,
        "192.168.1.10",
        "172.16.5.4",
        "127.0.0.1",
        "::1",
        "169.254.1.1",
        "fe80::1",
        "fc00::1",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "192.0.2.1",
        "2001:db8::1",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "::ffff:10.0.0.1",
    ],
)
def test_addresses_no_database_may_place_are_never_looked_up(
    city: Geolocator, address: str
) -> None:
    # The database has a record for 10.0.0.0/8: a None here means no lookup happened.
    assert routable(address) is None
    assert city.locate(address) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "not an address",
        "256.1.1.1",
        "1.2.3",
        "1.2.3.4.5",
        "81.2.69.160/24",
        "81.2.69.160:443",
        "::g",
        "1" * 5000,
        "81.2.69.160\x00",
        "\uff18\uff11.2.69.160",
        "[::1]",
    ],
)
def test_malformed_addresses_give_none(city: Geolocator, text: str) -> None:
    assert city.locate(text) is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_location_or_none_never_an_error(city: Geolocator, text: str) -> None:
    found = city.locate(text)
    assert found is None or isinstance(found, Location)


def test_describe_names_the_type_and_build_date(city: Geolocator) -> None:
    kind, built = city.describe().split(" ")
    assert kind == "GeoIP2-City"
    assert abs((datetime.fromisoformat(built).date() - datetime.now(UTC).date()).days) <= 1


def test_truncated_database_is_refused(city_path: Path, tmp_path: Path) -> None:
    data = city_path.read_bytes()
    truncated = tmp_path / "truncated.mmdb"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(GeolocationError, match=r"truncated\.mmdb: not a MaxMind"):
        Geolocator.open(truncated)


def test_damaged_search_tree_is_refused(city_path: Path, tmp_path: Path) -> None:
    data = bytearray(city_path.read_bytes())
    data[:300] = bytes([0xFF]) * 300  # every node points past the tree
    damaged = tmp_path / "damaged.mmdb"
    damaged.write_bytes(bytes(data))
    with pytest.raises(GeolocationError, match="damaged"):
        Geolocator.open(damaged)


@pytest.mark.parametrize("content", [b"", b"hello world\n" * 50, b"\x89PNG\r\n\x1a\n" + bytes(64)])
def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "not.mmdb"
    path.write_bytes(content)
    with pytest.raises(GeolocationError, match="not a MaxMind-format database") as raised:
        Geolocator.open(path)
    assert "Traceback" not in str(raised.value)


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(GeolocationError, match="no such geolocation database"):
        Geolocator.open(tmp_path / "absent.mmdb")
    with pytest.raises(GeolocationError, match="no such geolocation database"):
        Geolocator.open(tmp_path)


def test_a_database_that_places_nothing_is_refused(tmp_path: Path) -> None:
    path = write_city_database(
        tmp_path / "asn.mmdb",
        {"81.2.69.0/24": {"autonomous_system_number": 64500}},
        database_type="GeoLite2-ASN",
    )
    with pytest.raises(GeolocationError, match="GeoLite2-ASN"):
        Geolocator.open(path)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {
                "country": {"iso_code": "US"},
                "subdivisions": [{"iso_code": "CA"}, {"iso_code": "X"}],
                "city": {"names": {"en": "Sacramento"}},
            },
            Location("US", "US-CA", "Sacramento"),
        ),
        ({"country": {"iso_code": "usa"}}, None),  # not an ISO code
        ({"country": {"iso_code": 840}}, None),
        ({"country": "US"}, None),
        ({"registered_country": {"iso_code": "US"}}, None),  # where the block is registered
        (
            {"country": {"iso_code": "US"}, "subdivisions": {"iso_code": "CA"}},
            Location("US", None, None),
        ),
        (
            {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "C-A"}]},
            Location("US", None, None),
        ),
        (
            {"country": {"iso_code": "US"}, "city": {"names": {"de": "Rom"}}},
            Location("US", None, None),
        ),
        (
            {"country": {"iso_code": "US"}, "city": {"names": {"en": "\x1b[31mX"}}},
            Location("US", None, None),
        ),
        (
            {"country": {"iso_code": "US"}, "city": {"names": {"en": "x" * 500}}},
            Location("US", None, "x" * 200),
        ),
        ([], None),
        ("US", None),
        (None, None),
    ],
)
def test_records_are_read_defensively(record: object, expected: Location | None) -> None:
    assert location_from_record(record) == expected
