"""Entity extraction, normalisation (edge cases and hostile values) and linking reports
across companies, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.clearinghouse.intake_rows import add_report, company_row, made_up, report_xml
from vigil.clearinghouse.entities import (
    MAX_ENTITIES,
    MAX_VALUE_CHARS,
    EntityKind,
    cluster,
    device_value,
    esp_user_value,
    extract_entities,
    link_report,
    linked_reports,
    normalise_email,
    normalise_ip,
    normalise_phone,
    normalise_screen_name,
    normalise_url,
)
from vigil.reporting.cybertipline.schema import UnsafeXml
from vigil.store import Database
from vigil.store.models import FileVerdict, IntakeEntity, IntakeFile

HUGE = "a" * 100_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Someone@Example.ORG \n", "someone@example.org"),
        ("mailto:a.b@example.org", "a.b@example.org"),
        ("user@example.org.", "user@example.org"),
        ("no-at-sign.example.org", None),
        ("two@@example.org", None),
        ("spa ce@example.org", None),
        ("user@localhost", None),
        ("zero\u200bwidth@example.org", None),
        ("", None),
        (None, None),
        (42, None),
        (HUGE + "@example.org", None),
    ],
)
def test_email(raw: object, expected: str | None) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 192.0.2.10 ", "192.0.2.10"),
        ("192.0.2.10:8080", "192.0.2.10"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::ffff:192.0.2.10", "192.0.2.10"),
        ("fe80::1%eth0", "fe80::1"),
        ("999.1.1.1", None),
        ("192.0.2", None),
        ("not an ip", None),
        ("1.2.3.4.5", None),
        (HUGE, None),
        ("", None),
    ],
)
def test_ip(raw: str, expected: str | None) -> None:
    assert normalise_ip(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "expected"),
    [
        ("+1 (555) 010-0199", None, "+15550100199"),
        ("0044 20 7946 0000", None, "+442079460000"),
        ("020 7946 0000", "+44", "+442079460000"),
        ("555-010-0199 ext. 12", None, "5550100199"),
        ("\uff15\uff15\uff15\uff10\uff11\uff10\uff10\uff11\uff19\uff19", None, "5550100199"),
        ("12", None, None),
        ("1" * 30, None, None),
        ("call me", None, None),
        (HUGE, None, None),
    ],
)
def test_phone(raw: str, code: str | None, expected: str | None) -> None:
    assert normalise_phone(raw, code) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://Example.COM:443/Path?q=1#frag", "https://example.com/Path?q=1"),
        ("http://example.com:80", "http://example.com/"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("example.com/page", "http://example.com/page"),
        ("https://user:pw@example.com/", "https://example.com/"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://[2001:db8::1]:443/", "https://[2001:db8::1]/"),
        ("http://example.com:99999/", None),
        ("http:///nohost", None),
        ("http://exa mple.com/", None),
        ("", None),
        ("https://" + HUGE, None),
    ],
)
def test_url(raw: str, expected: str | None) -> None:
    assert normalise_url(raw) == expected


def test_names_ids_and_devices() -> None:
    assert normalise_screen_name("  @Straße_User ") == "strasse_user"
    assert normalise_screen_name("bad\x00name") is None
    assert esp_user_value(" Insta  Gram ", " 12345 ") == "insta gram|12345"
    assert esp_user_value(None, "12345") is None
    assert esp_user_value("a|b", "1") == "a/b|1"
    assert device_value("IMEI", " 35-209900-176148-1 ") == "imei|35-209900-176148-1"
    assert device_value("IDFA", "AB CD") == device_value("idfa", "abcd")
    assert esp_user_value("x", "1" * (MAX_VALUE_CHARS + 1)) is None  # dropped, not truncated


def test_extracts_every_kind_and_skips_the_reporter() -> None:
    xml = report_xml(
        email="User@Example.org",
        ip="192.0.2.10",
        screen_name="Nick",
        esp_id="777",
        esp_service="ChatApp",
        phone="020 7946 0000",
        calling_code="+44",
        url="HTTP://Example.com/x#y",
        device=("IMEI", "490154203237518"),
        reporter_email="staff@esp.example",
    )
    found = {(e.kind, e.value): e for e in extract_entities(xml, platform="Fallback")}
    assert set(found) == {
        (EntityKind.EMAIL, "user@example.org"),
        (EntityKind.IP, "192.0.2.10"),
        (EntityKind.SCREEN_NAME, "nick"),
        (EntityKind.ESP_USER, "chatapp|777"),
        (EntityKind.PHONE, "+442079460000"),
        (EntityKind.URL, "http://example.com/x"),
        (EntityKind.DEVICE, "imei|490154203237518"),
    }
    assert found[(EntityKind.IP, "192.0.2.10")].seen_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert (
        found[(EntityKind.IP, "192.0.2.10")].context == "report/personOrUserReported/ipCaptureEvent"
    )


def test_esp_id_without_service_takes_the_company() -> None:
    [entity] = extract_entities(report_xml(esp_id="42"), platform="Alpha Social")
    assert entity.value == "alpha social|42"


def test_parsed_dict_form() -> None:
    parsed = {
        "report": {
            "personOrUserReported": [
                {"screenName": "Nick", "ipCaptureEvent": {"ipAddress": "::ffff:192.0.2.1"}},
                {
                    "personOrUserReportedPerson": {
                        "phone": {"@countryCallingCode": "+1", "#text": "555 010 0199"}
                    }
                },
            ],
            "reporter": {"reportingPerson": {"email": "staff@esp.example"}},
        }
    }
    assert {(e.kind, e.value) for e in extract_entities(parsed)} == {
        (EntityKind.SCREEN_NAME, "nick"),
        (EntityKind.IP, "192.0.2.1"),
        (EntityKind.PHONE, "+15550100199"),
    }


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<report><screenName>&b;</screenName></report>",
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><report>&x;</report>',
        b"<report><screenName>unclosed</report>",
        b"",
        b"<report>\x00</report>",
    ],
)
def test_hostile_documents_are_refused(document: bytes) -> None:
    with pytest.raises(UnsafeXml):
        extract_entities(document)


def test_identifiers_outside_the_schema_are_ignored_and_documents_bounded() -> None:
    stray = (
        b"<report>"
        + b"<a>" * 10
        + b"<email>x@example.org</email>"
        + b"</a>" * 10
        + b"<screenName>loose</screenName></report>"
    )
    assert extract_entities(stray) == []  # only the schema's places are read
    with pytest.raises(UnsafeXml):  # libxml2's own nesting limit
        extract_entities(b"<a>" * 5000 + b"</a>" * 5000)
    events = "".join(
        f"<ipCaptureEvent><ipAddress>192.0.{i // 250}.{i % 250 + 1}</ipAddress></ipCaptureEvent>"
        for i in range(1500)
    )
    urls = "".join(f"<profileUrl>https://example.org/u{i}</profileUrl>" for i in range(1500))
    devices = "".join(
        f"<deviceId><idType>IMEI</idType><idValue>{i}</idValue></deviceId>" for i in range(1500)
    )
    wide = f"<report><personOrUserReported>{urls}{events}{devices}</personOrUserReported></report>"
    assert len(extract_entities(wide.encode())) == MAX_ENTITIES  # 3000 read, capped


def _link(session, company, xml: bytes, *files):  # type: ignore[no-untyped-def]
    report = add_report(session, company, xml, files=files)
    link_report(session, report)
    return report


def test_reports_from_two_companies_link_by_email_and_ip(database: Database) -> None:
    with database.transaction(write=True) as session:
        alpha, beta = company_row(session, "Alpha"), company_row(session, "Beta")
        first = _link(
            session,
            alpha,
            report_xml(
                email="Suspect@Example.org", ip="192.0.2.7", reporter_email="staff@alpha.example"
            ),
        )
        second = _link(
            session,
            beta,
            report_xml(
                email="  suspect@example.ORG ",
                ip="::ffff:192.0.2.7",
                when="2024-06-01T08:00:00+02:00",
                reporter_email="staff@alpha.example",
            ),
        )
        unrelated = _link(
            session, beta, report_xml(email="someone@else.example", ip="198.51.100.1")
        )
        assert link_report(session, second) == 2  # idempotent
        [linked] = linked_reports(session, first.id)
        assert (linked.report_id, linked.company) == (second.id, "Beta")
        assert {(s.kind, s.value) for s in linked.shared} == {
            ("email", "suspect@example.org"),
            ("ip", "192.0.2.7"),
        }
        assert linked_reports(session, unrelated.id) == []
        assert session.scalar(select(func.count()).select_from(IntakeEntity)) == 4


def test_new_files_link_reports_but_known_ones_do_not(database: Database) -> None:
    new, known = made_up("new file"), made_up("known file")
    with database.transaction(write=True) as session:
        alpha, beta = company_row(session, "Alpha"), company_row(session, "Beta")
        first = _link(session, alpha, b"<report/>", new, known)
        second = _link(session, beta, b"<report/>", new, known)
        for file in session.scalars(select(IntakeFile)):
            file.verdict = FileVerdict.NEW if file.sha256 == new.sha256 else FileVerdict.KNOWN
        session.flush()
        [linked] = linked_reports(session, first.id)
        assert linked.report_id == second.id
        assert [(s.kind, s.value) for s in linked.shared] == [("file", new.sha256)]


def test_cluster_is_a_bounded_graph(database: Database) -> None:
    with database.transaction(write=True) as session:
        alpha = company_row(session, "Alpha")
        # a chain: r0 -email- r1 -ip- r2 -phone- r3
        chain = [
            _link(session, alpha, report_xml(email="a@example.org")),
            _link(session, alpha, report_xml(email="a@example.org", ip="192.0.2.1")),
            _link(session, alpha, report_xml(ip="192.0.2.1", phone="+1 555 010 0199")),
            _link(session, alpha, report_xml(phone="+15550100199")),
        ]
        graph = cluster(session, chain[0].id, depth=2)
        assert {n.report_id: n.depth for n in graph.nodes} == {
            chain[0].id: 0,
            chain[1].id: 1,
            chain[2].id: 2,
        }
        assert {(e.source, e.target) for e in graph.edges} == {
            (chain[0].id, chain[1].id),
            (chain[1].id, chain[2].id),
        }
        assert not graph.truncated
        assert len(cluster(session, chain[0].id, depth=3).nodes) == 4
        small = cluster(session, chain[0].id, depth=3, limit=2)
        assert len(small.nodes) == 2 and small.truncated
        assert cluster(session, 10**9).nodes == []


def test_hostile_report_links_nothing_and_does_not_fail(database: Database) -> None:
    bomb = (
        b'<!DOCTYPE r [<!ENTITY a "x@example.org">]>'
        b"<report><personOrUserReported><screenName>&a;</screenName>"
        b"</personOrUserReported></report>"
    )
    with database.transaction(write=True) as session:
        report = add_report(session, company_row(session, "Alpha"), bomb)
        assert link_report(session, report) == 0
