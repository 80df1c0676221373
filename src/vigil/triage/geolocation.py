"""Where an IP address is, from a MaxMind-format (.mmdb) database the operator supplies
(GeoIP2 or GeoLite2 City or Country, or another database with the same record layout).

Vigil ships no database: the licences forbid it, and a stale one misroutes reports. The file
is memory-mapped (MODE_MMAP_EXT, else MODE_MMAP), so the service's workers share its pages.
Addresses that are not globally routable (private, loopback, link-local, reserved,
documentation ranges) are never looked up: no database can place them.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import maxminddb
from maxminddb.errors import InvalidDatabaseError

logger = logging.getLogger(__name__)

MAX_ADDRESS_CHARS = 64
MAX_CITY_CHARS = 200  # ReportLocation.city
_COUNTRY = re.compile(r"[A-Z]{2}")
_SUBDIVISION = re.compile(r"[A-Z0-9]{1,3}")
_LOCATION_TYPES = ("city", "country")  # database_type must name one: ASN or ISP data place nothing
_PROBES = ("1.1.1.1", "8.8.8.8", "2001:4860:4860::8888")  # read once at open: corruption shows


class GeolocationError(Exception):
    """The geolocation database cannot be used; the message is for the operator."""


@dataclass(frozen=True, slots=True)
class Location:
    country: str | None  # ISO 3166-1 alpha-2, e.g. "US"
    region: str | None  # ISO 3166-2, e.g. "US-CA" (country prefix always included)
    city: str | None  # the English name


def routable(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if it is well formed and globally routable; IPv4-mapped IPv6 addresses
    become IPv4. None for anything else."""
    if not isinstance(text, str) or len(text) > MAX_ADDRESS_CHARS:
        return None
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_global or address.is_multicast:
        return None
    return address


class Geolocator:
    """A reader over one database file; thread-safe for lookups. Close it when done."""

    def __init__(self, reader: Any, path: Path) -> None:
        self._reader = reader
        self.path = path

    @classmethod
    def open(cls, path: Path | str) -> Geolocator:
        """Raises GeolocationError, with a plain message, when the file cannot be read or is
        not a City or Country database."""
        path = Path(path)
        if not path.is_file():
            raise GeolocationError(f"{path}: no such geolocation database file")
        reader = _open_reader(path)
        geolocator = cls(reader, path)
        try:
            geolocator._check()
        except GeolocationError:
            reader.close()
            raise
        return geolocator

    def _check(self) -> None:
        kind = str(self._reader.metadata().database_type)
        if not any(word in kind.lower() for word in _LOCATION_TYPES):
            raise GeolocationError(
                f"{self.path}: a {kind!r} database places no address; "
                "supply a City or Country database"
            )
        for probe in _PROBES:
            try:
                self._reader.get(probe)
            except ValueError as exc:  # an IPv6 probe on an IPv4-only database
                if "IPv6" not in str(exc):
                    raise GeolocationError(f"{self.path}: the database is damaged") from None
            except (InvalidDatabaseError, OSError, UnicodeDecodeError):
                raise GeolocationError(f"{self.path}: the database is damaged") from None

    def locate(self, address: str) -> Location | None:
        """The address's location; None when it is malformed, not routable, absent from the
        database or placed nowhere more precise than a continent."""
        parsed = routable(address)
        if parsed is None:
            return None
        try:
            record = self._reader.get(parsed.compressed)
        except ValueError:  # an IPv6 address on an IPv4-only database
            return None
        except (InvalidDatabaseError, OSError, UnicodeDecodeError):
            # The file changed under us or is damaged where this address lies; the address
            # itself is never logged.
            logger.warning("geolocation database %s could not be read", self.path)
            return None
        return location_from_record(record)

    def describe(self) -> str:
        """The database type and build date, e.g. "GeoLite2-City 2026-03-03"."""
        metadata = self._reader.metadata()
        built = datetime.fromtimestamp(int(metadata.build_epoch), UTC).date().isoformat()
        return f"{metadata.database_type} {built}"[:200]

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> Geolocator:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _open_reader(path: Path) -> Any:
    for mode in (maxminddb.MODE_MMAP_EXT, maxminddb.MODE_MMAP):
        try:
            return maxminddb.open_database(str(path), mode)
        except ImportError:
            continue  # no C extension here: the pure-Python reader maps the file too
        except InvalidDatabaseError:
            raise GeolocationError(f"{path}: not a MaxMind-format database, or damaged") from None
        except ValueError as exc:
            if mode == maxminddb.MODE_MMAP_EXT and "extension" in str(exc).lower():
                continue
            raise GeolocationError(f"{path}: not a MaxMind-format database, or damaged") from None
        except OSError as exc:
            raise GeolocationError(f"{path}: {exc.strerror or 'cannot be read'}") from None
    raise GeolocationError(f"{path}: no MaxMind reader is available")


def location_from_record(record: object) -> Location | None:
    """A GeoIP2/GeoLite2 City or Country record as a Location; malformed parts are dropped."""
    if not isinstance(record, dict):
        return None
    country = _iso_code(record.get("country"), _COUNTRY)
    if country is None:
        return None  # a continent alone (e.g. an EU-wide block) routes nowhere
    subdivisions = record.get("subdivisions")
    first = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
    subdivision = _iso_code(first, _SUBDIVISION)
    return Location(
        country, f"{country}-{subdivision}" if subdivision else None, _city(record.get("city"))
    )


def _iso_code(part: object, shape: re.Pattern[str]) -> str | None:
    code = part.get("iso_code") if isinstance(part, dict) else None
    return code if isinstance(code, str) and shape.fullmatch(code) else None


def _city(part: object) -> str | None:
    names = part.get("names") if isinstance(part, dict) else None
    name = names.get("en") if isinstance(names, dict) else None
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        return None
    return name.strip()[:MAX_CITY_CHARS]
