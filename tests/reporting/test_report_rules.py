"""The documented rules report.xsd cannot express (report_rules), on hostile and edge values:
what the intake and the report builder both rely on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.reporting.cybertipline.report_rules import RULES, Checking, problems
from vigil.reporting.cybertipline.schema import safe_parse

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _report(when: str = "2012-10-15T08:00:00-07:00", parties: str = "") -> bytes:
    return (
        "<report><incidentSummary><incidentType>Child Sex Tourism</incidentType>"
        f"<incidentDateTime>{when}</incidentDateTime></incidentSummary><reporter>"
        "<reportingPerson><email>a@example.com</email></reportingPerson></reporter>"
        f"{parties}</report>"
    ).encode()


def _broken(xml: bytes, **checking: object) -> list[str]:
    return problems(safe_parse(xml), Checking(NOW, **checking))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("when", "past"),
    [
        ("2026-01-01T12:04:00Z", True),  # within the clock skew allowed
        ("2026-01-01T12:06:00Z", False),
        ("2026-01-01T13:00:00+01:00", True),  # the same instant as 12:00Z
        ("2026-01-01T07:30:00-05:00", False),  # 12:30Z
        ("2025-12-31T24:00:00Z", True),  # xs:dateTime's end of day is 2026-01-01T00:00Z
        ("10000-01-01T00:00:00Z", False),  # beyond datetime's years: the far future
        ("-0044-03-15T12:00:00Z", True),
    ],
)
def test_in_the_past_across_zones_and_odd_years(when: str, past: bool) -> None:
    broken = [p for p in _broken(_report(when)) if "in the past" in p]
    assert (broken == []) is past, broken


def test_a_timestamp_without_a_zone_is_refused_once_per_value() -> None:
    broken = _broken(_report("2012-10-15T08:00:00"))
    assert len(broken) == 1 and "time zone" in broken[0]


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "javascript:alert(1)",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "://example.com",
        "1http://example.com/",
        "http://example.com/a\tb",
    ],
)
def test_invalid_urls(url: str) -> None:
    xml = _report(
        parties=f"<personOrUserReported><profileUrl>{url}</profileUrl></personOrUserReported>"
    )
    assert any("valid URL" in p for p in _broken(xml)), url


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("::ffff:192.0.2.1", True),
        ("2001:db8::1", True),
        ("192.0.2.1", True),
        ("192.0.2.256", False),
        ("192.000.002.001", False),
        ("fe80::1%eth0", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_ip_addresses(address: str, valid: bool) -> None:
    xml = _report(
        parties="<victim><victimPerson/><ipCaptureEvent><ipAddress>"
        f"{address}</ipAddress></ipCaptureEvent></victim>"
    )
    assert (_broken(xml) == []) is valid


def test_a_prior_report_is_asked_only_for_a_plausible_number() -> None:
    asked: list[int] = []
    xml = _report(
        parties="<victim><victimPerson/><priorCTReports>-5</priorCTReports>"
        "<priorCTReports>0</priorCTReports><priorCTReports>42</priorCTReports>"
        "</victim>"
    )
    broken = _broken(xml, is_prior_report=lambda n: asked.append(n) or False)
    assert asked == [42] and len(broken) == 3
    assert (
        _broken(
            xml.replace(b">-5<", b">42<").replace(b">0<", b">42<"), is_prior_report=lambda n: True
        )
        == []
    )
    assert _broken(xml) == []  # the platform side cannot know: not checked there


def test_every_rule_names_its_section_and_a_valid_xpath() -> None:
    document = safe_parse(_report())
    for rule in RULES:
        assert rule.section and rule.wording
        document.xpath(rule.where)  # compiles and runs
