"""Small MaxMind-format databases the routing tests write themselves (mmdb_writer): a few
made-up networks in different countries and regions, in the GeoIP2 City and Country record
layouts. Never a downloaded database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdb_writer import MMDBWriter
from netaddr import IPSet

# Public addresses with made-up places: only these databases say where they are.
SACRAMENTO = "81.2.69.160"  # US-CA
ALBANY = "89.160.20.112"  # US-NY
SAO_PAULO = "175.16.199.7"  # BR-SP
LONDON_COUNTRY_ONLY = "2.125.160.216"  # GB, no region
BERLIN_V6 = "2a02:cf40::17"  # DE-BE
CONTINENT_ONLY = "67.43.156.1"  # a record with a continent and no country
UNLISTED = "9.9.9.9"  # public, in no network of the database
PRIVATE_LISTED = "10.1.2.3"  # private, yet the database has a record for 10.0.0.0/8


def _city(country: str, region: str | None, city: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"country": {"iso_code": country, "names": {"en": country}}}
    if region:
        record["subdivisions"] = [{"iso_code": region, "names": {"en": region}}]
    if city:
        record["city"] = {"names": {"en": city, "de": city.upper()}}
    return record


CITY_NETWORKS: dict[str, dict[str, Any]] = {
    "81.2.69.0/24": _city("US", "CA", "Sacramento"),
    "89.160.20.0/24": _city("US", "NY", "Albany"),
    "175.16.199.0/24": _city("BR", "SP", "São Paulo"),
    "2.125.160.0/24": _city("GB", None, None),
    "2a02:cf40::/29": _city("DE", "BE", "Berlin"),
    "67.43.156.0/24": {"continent": {"code": "EU"}},
    "10.0.0.0/8": _city("US", "CA", "Private"),
}


def write_city_database(
    path: Path,
    networks: dict[str, dict[str, Any]] | None = None,
    database_type: str = "GeoIP2-City",
) -> Path:
    """An IPv6 database (IPv4 networks at ::/96, as MaxMind's own) in the City layout."""
    writer = MMDBWriter(
        ip_version=6,
        database_type=database_type,
        languages=["en"],
        description="Vigil test database",
        ipv4_compatible=True,
    )
    for network, record in (networks or CITY_NETWORKS).items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


def write_country_database(path: Path) -> Path:
    """An IPv4-only database in the Country layout (no subdivisions, no city)."""
    writer = MMDBWriter(
        ip_version=4,
        database_type="GeoLite2-Country",
        languages=["en"],
        description="Vigil test database",
    )
    writer.insert_network(IPSet(["81.2.69.0/24"]), {"country": {"iso_code": "US"}})
    writer.insert_network(IPSet(["175.16.199.0/24"]), {"country": {"iso_code": "BR"}})
    writer.to_db_file(str(path))
    return path
