"""The rules of the CyberTipline Reporting API documentation that report.xsd cannot express:
lengths, "must be in the past", valid URLs, IP and e-mail addresses, rules between elements,
the documentation's stricter cardinalities, time zones (section 7.3) and the Viral/Potential
Meme batched-report rules (Appendix E.1).

Each rule is written once, as data: where the documentation states it, its own words, the
XPath of what it constrains and a small predicate. The clearinghouse intake refuses a document
that breaks one (4100 Validation failed); the platform's report builder checks its own
documents with the same rules before sending them. Rules on the transactions themselves
(which endpoint, which state) live with the intake.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeAlias
from urllib.parse import urlsplit

from lxml import etree

from vigil.reporting.cybertipline.schema import enumeration, safe_parse

VIRAL = "VIRAL_POTENTIAL_MEME"
# A reporter's clock may run a little ahead of ours; "in the past" allows for that much.
CLOCK_SKEW = timedelta(minutes=5)
# Appendix E.1: /finish of a viral batched report with more files fails with 400 and 4100.
VIRAL_FILE_LIMIT = 1
VIRAL_FILE_LIMIT_WORDING = (
    f"only {VIRAL_FILE_LIMIT} uploaded file is allowed in a {VIRAL} "
    "batched report; retract the report and submit it again "
    "(Appendix E.1)"
)

# An element, or an attribute's value.
Node: TypeAlias = etree._Element | etree._ElementUnicodeResult


@dataclass(frozen=True, slots=True)
class Checking:
    """What a rule may need beyond the document."""

    now: datetime
    # Whether a number names a CyberTipline report the sender may refer to; None where that
    # cannot be known (the platform side, which does not see the clearinghouse's reports).
    is_prior_report: Callable[[int], bool] | None = None
    # File details only: whether their report is a Viral/Potential Meme batched report.
    viral: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    section: str  # where the documentation states it
    wording: str  # the documentation's words
    where: str  # XPath, from the document root, of the elements or attributes it constrains
    holds: Callable[[Node, Checking], bool]

    def broken_by(self, root: etree._Element, checking: Checking) -> list[str]:
        return [
            f"{_path(node)}: {self.wording} ({self.section})"
            for node in root.xpath(self.where)
            if not self.holds(node, checking)
        ]


def problems(root: etree._Element, checking: Checking) -> list[str]:
    """Every documented rule a schema-valid <report> or <fileDetails> breaks, in words."""
    return [problem for rule in RULES for problem in rule.broken_by(root, checking)]


def document_problems(xml: bytes, checking: Checking) -> list[str]:
    """problems() of a document as bytes; check it against report.xsd first (validate)."""
    return problems(safe_parse(xml), checking)


# --- values -----------------------------------------------------------------------------------


def _text(node: Node) -> str:
    if isinstance(node, etree._Element):
        return (node.text or "").strip()
    return str(node).strip()


def _path(node: Node) -> str:
    if isinstance(node, etree._Element):
        return re.sub(r"\[1\]", "", node.getroottree().getpath(node))
    parent = node.getparent()
    return f"{_path(parent)}/@{node.attrname}"


def _true(value: str | None) -> bool:
    return (value or "").strip() in ("true", "1")


_DATE_TIME = re.compile(
    r"^(?P<year>-?\d{4,})-(?P<month>\d\d)-(?P<day>\d\d)T(?P<hour>\d\d):"
    r"(?P<minute>\d\d):(?P<second>\d\d)(?:\.\d+)?"
    r"(?P<zone>Z|[+-]\d\d:\d\d)?$"
)
_DATE = re.compile(r"^(?P<year>-?\d{4,})-(?P<month>\d\d)-(?P<day>\d\d)")


def _instant(text: str) -> datetime | None:
    """An xs:dateTime as an aware datetime (UTC when it has no zone); None if unreadable.
    Years outside 1..9999 come back as the earliest or latest representable instant."""
    found = _DATE_TIME.match(text.strip())
    if found is None:
        return None
    year = int(found["year"])
    if year < 1:
        return datetime.min.replace(tzinfo=UTC)
    if year > 9999:
        return datetime.max.replace(tzinfo=UTC)
    zone = found["zone"] or "Z"
    offset = (
        timedelta(0)
        if zone == "Z"
        else (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    )
    hour = int(found["hour"])  # xs:dateTime allows 24:00:00, the end of the day
    moment = datetime(
        year,
        int(found["month"]),
        int(found["day"]),
        min(hour, 23),
        int(found["minute"]),
        int(found["second"]),
        tzinfo=UTC,
    )
    return moment + timedelta(hours=hour - min(hour, 23)) - offset


def _day(text: str) -> date | None:
    found = _DATE.match(text.strip())
    if found is None:
        return None
    year = int(found["year"])
    if not 1 <= year <= 9999:
        return date.min if year < 1 else date.max
    return date(year, int(found["month"]), int(found["day"]))


# --- predicates -----------------------------------------------------------------------------


def _max_length(limit: int) -> Callable[[Node, Checking], bool]:
    return lambda node, _checking: len(_text(node)) <= limit


def _not_blank(node: Node, _checking: Checking) -> bool:
    return bool(_text(node))


def _in_the_past(node: Node, checking: Checking) -> bool:
    if isinstance(node, etree._Element) and node.tag == "dateOfBirth":
        day = _day(_text(node))
        return day is None or day <= checking.now.astimezone(UTC).date()
    moment = _instant(_text(node))
    return moment is None or moment <= checking.now + CLOCK_SKEW


def _between(low: int, high: int) -> Callable[[Node, Checking], bool]:
    def holds(node: Node, _checking: Checking) -> bool:
        text = _text(node)
        return not text or (text.lstrip("+-").isdigit() and low <= int(text) <= high)

    return holds


def _has_time_zone(node: Node, _checking: Checking) -> bool:
    found = _DATE_TIME.match(_text(node))
    return found is None or found["zone"] is not None


_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


def _valid_url(node: Node, _checking: Checking) -> bool:
    """An absolute URL: a scheme, "://", a host, and no spaces or control characters."""
    text = _text(node)
    if not text or any(c.isspace() or ord(c) < 0x20 for c in text) or "://" not in text:
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  # raises on a port that is not a number
    except ValueError:
        return False
    return bool(_URL_SCHEME.match(parts.scheme) and parts.hostname)


def _valid_ip(node: Node, _checking: Checking) -> bool:
    text = _text(node)
    if not text:  # the blank rule says so
        return True
    if "%" in text:  # an IPv6 zone (fe80::1%eth0) names an interface of the reporter's host
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")


def _well_formed_email(node: Node, _checking: Checking) -> bool:
    return bool(_EMAIL.match(_text(node)))


def _local_part_length(node: Node, _checking: Checking) -> bool:
    return len(_text(node).rsplit("@", 1)[0]) <= 64


def _no_calling_code_prefix(node: Node, _checking: Checking) -> bool:
    code = (node.get("countryCallingCode") or "").strip()
    return not code or not _text(node).startswith(code)


def _verified_when_dated(node: Node, _checking: Checking) -> bool:
    return node.get("verificationDate") is None or _true(node.get("verified"))


def _on_or_after_disabled(node: Node, _checking: Checking) -> bool:
    return _compared_with_disabled(node, lambda later, disabled: later >= disabled)


def _after_disabled(node: Node, _checking: Checking) -> bool:
    return _compared_with_disabled(node, lambda later, disabled: later > disabled)


def _compared_with_disabled(node: Node, order: Callable[[datetime, datetime], bool]) -> bool:
    disabled = _instant(node.getparent().get("disabledDate") or "")
    later = _instant(_text(node))
    return disabled is None or later is None or order(later, disabled)


def us_states() -> frozenset[str]:
    """The US state and territory postal abbreviations: report.xsd's own list (type state)."""
    return enumeration("state")


def _location_country(node: Node) -> str:
    return (node.getparent().findtext("countryCode") or "").strip()


def _us_region(node: Node, _checking: Checking) -> bool:
    return _location_country(node) != "US" or _text(node) in us_states()


def _us_city_has_region(node: Node, _checking: Checking) -> bool:
    return _location_country(node) != "US" or bool(
        (node.getparent().findtext("region") or "").strip()
    )


def _has_country_code(node: Node, _checking: Checking) -> bool:
    return bool((node.findtext("countryCode") or "").strip())


def _has_email(node: Node, _checking: Checking) -> bool:
    return node.find("email") is not None


_PARTY_EMAILS = (
    "/report/personOrUserReported//email | /report/intendedRecipient//email | /report/victim//email"
)


def _email_of_a_party(node: Node, _checking: Checking) -> bool:
    supplied = {_text(e).lower() for e in node.getroottree().xpath(_PARTY_EMAILS)}
    return _text(node).lower() in supplied


def _prior_report(node: Node, checking: Checking) -> bool:
    if checking.is_prior_report is None:
        return True
    text = _text(node)
    return text.isdigit() and 0 < int(text) < 2**63 and checking.is_prior_report(int(text))


def _never(_node: Node, _checking: Checking) -> bool:
    return False


def _only_in_viral_report(node: Node, _checking: Checking) -> bool:
    reason = node.getroottree().getroot().find("batchedReport")
    return reason is not None and reason.get("reason") == VIRAL


def _not_with(*siblings: str) -> Callable[[Node, Checking], bool]:
    """Not "Supplemental Reported" when one of ``siblings`` (paths from the parent) exists."""

    def holds(node: Node, _checking: Checking) -> bool:
        return _text(node) != "Supplemental Reported" or not any(
            node.getparent().find(path) is not None for path in siblings
        )

    return holds


def _viewed_with_exif(node: Node, _checking: Checking) -> bool:
    return not _true(node.findtext("exifViewedByEsp")) or _true(node.findtext("fileViewedByEsp"))


def _not_in_viral_details(_node: Node, checking: Checking) -> bool:
    return not checking.viral


def _viral_annotation(node: Node, checking: Checking) -> bool:
    return (
        not checking.viral
        or node.find("fileAnnotations/viral") is not None
        or node.find("fileAnnotations/potentialMeme") is not None
    )


def _reported_in_viral_details(node: Node, checking: Checking) -> bool:
    return not checking.viral or _text(node) == "Reported"


# --- where things are -------------------------------------------------------------------------


def _each(paths: str, step: str) -> str:
    """``step`` below each of the ``|``-separated ``paths``."""
    return " | ".join(f"{path.strip()}/{step}" for path in paths.split("|"))


PEOPLE = (
    "/report/reporter/reportingPerson | /report/reporter/contactPerson"
    " | /report/lawEnforcement/officerContact"
    " | /report/personOrUserReported/personOrUserReportedPerson"
    " | /report/intendedRecipient/intendedRecipientPerson | /report/victim/victimPerson"
)
ADDRESSES = "//incidentAddress | //address[not(parent::address or parent::incidentAddress)]"
PHONES = "//phone | //phoneNumber"
EMAILS = "//email | //emailAddress"
REPORTED = "/report/personOrUserReported"
RECIPIENT = "/report/intendedRecipient"
VICTIM = "/report/victim"
PARTIES = f"{REPORTED} | {RECIPIENT} | {VICTIM}"
ACCOUNT_STATES = "//accountTemporarilyDisabled | //accountPermanentlyDisabled"
VIRAL_REPORT = f"/report[batchedReport/@reason='{VIRAL}']"
VIRAL_ANNOTATIONS = "self::viral or self::potentialMeme"
DETAILS = "/fileDetails"

# Every xs:dateTime value of the schema: section 7.3 wants each with a time zone.
TIMESTAMPS = " | ".join(
    (
        "/report/incidentSummary/incidentDateTime",
        "//ipCaptureEvent/dateTime",
        "//deviceId/dateTime",
        _each(PHONES, "@verificationDate"),
        _each(EMAILS, "@verificationDate"),
        "//estimatedLocation/@timestamp",
        _each(ACCOUNT_STATES, "@disabledDate"),
        _each(ACCOUNT_STATES, "@userNotifiedDate"),
        "//accountTemporarilyDisabled/@reenabledDate",
        f"{DETAILS}/uploadedToEspTimestamp",
    )
)

# (section, XPath, limit) for every "max length is N characters" of the documentation.
MAX_LENGTHS: tuple[tuple[str, str, int], ...] = (
    ("Appendix A, <address>", _each(ADDRESSES, "address"), 255),
    ("Appendix A, <address>", _each(ADDRESSES, "city"), 100),
    ("Appendix A, <address>", _each(ADDRESSES, "zipCode"), 20),
    ("Appendix A, <address>", _each(ADDRESSES, "nonUsaState"), 100),
    ("Appendix A, <phone>", PHONES, 50),
    ("Appendix A, <phone>", _each(PHONES, "@extension"), 10),
    ("Appendix A, <email>", EMAILS, 255),
    ("Appendix A, <estimatedLocation>", "//estimatedLocation/city", 255),
    ("Appendix A, <estimatedLocation>", "//estimatedLocation/region", 255),
    ("Appendix A, <person>", _each(PEOPLE, "firstName"), 100),
    ("Appendix A, <person>", _each(PEOPLE, "lastName"), 100),
    ("Appendix A, <deviceId>", "//deviceId/idType", 255),
    ("Appendix A, <deviceId>", "//deviceId/idValue", 2083),
    ("Appendix B.1", "/report/incidentSummary/platform", 256),
    ("Appendix B.1", "/report/incidentSummary/escalateToHighPriority", 3000),
    ("Appendix B.1", "/report/incidentSummary/incidentDateTimeDescription", 3000),
    ("Appendix B.2.1", "//webPageIncident/url", 2083),
    ("Appendix B.2.3", "//newsgroupIncident/name", 255),
    ("Appendix B.2.4", "//chatImIncident/chatClient | //chatImIncident/chatRoomName", 255),
    ("Appendix B.2.5", "//onlineGamingIncident/gameName | //onlineGamingIncident/console", 255),
    ("Appendix B.2.7", "//nonInternetIncident/locationName", 255),
    ("Appendix B.2.8", "//peer2peerIncident/client", 255),
    ("Appendix B.3", "/report/lawEnforcement/agencyName", 255),
    ("Appendix B.3", "/report/lawEnforcement/caseNumber", 100),
    ("Appendix B.4", "/report/reporter/legalURL", 2083),
    ("Appendix B.5", f"{REPORTED}/vehicleDescription", 300),
    ("Appendix B.5-B.7", _each(PARTIES, "espIdentifier"), 255),
    ("Appendix B.5-B.7", _each(PARTIES, "espService"), 100),
    ("Appendix B.5-B.7", _each(PARTIES, "screenName"), 256),
    ("Appendix B.5-B.7", _each(PARTIES, "displayName"), 255),
    ("Appendix B.5-B.7", _each(PARTIES, "profileUrl"), 2083),
    ("Appendix B.5-B.6", _each(f"{REPORTED} | {RECIPIENT}", "groupIdentifier"), 255),
    ("Appendix B.7", f"{VICTIM}/schoolName", 255),
    ("Appendix B.8", "//associatedAccount/platform", 256),
    (
        "Appendix B.8",
        "//associatedAccount/firstName | //associatedAccount/middleName"
        " | //associatedAccount/lastName",
        256,
    ),
    ("Appendix B.8", "//associatedAccount/espService | //associatedAccount/espIdentifier", 256),
    ("Appendix B.8", "//associatedAccount/profileUrl", 2083),
    ("Appendix B.8", "//associatedAccount/screenName", 256),
    ("Appendix B.8", "//associatedAccount/displayName", 255),
    ("Appendix B.8", "//associatedAccount/groupIdentifier", 256),
    ("Appendix C", f"{DETAILS}/originalFileName", 2056),
    ("Appendix C", f"{DETAILS}/locationOfFile", 2083),
    ("Appendix C.2", "//originalFileHash/@hashType", 64),
    ("Appendix C.3", "//details/nameValuePair/name", 64),
)

# (section, XPath) for every "must be in the past".
IN_THE_PAST: tuple[tuple[str, str], ...] = (
    ("Appendix A, <ipCaptureEvent>", "//ipCaptureEvent/dateTime"),
    ("Appendix A, <deviceId>", "//deviceId/dateTime"),
    (
        "Appendix A, <phone> and <email>",
        f"{_each(PHONES, '@verificationDate')} | {_each(EMAILS, '@verificationDate')}",
    ),
    ("Appendix A, <estimatedLocation>", "//estimatedLocation/@timestamp"),
    (
        "Appendix A, <person>; B.8",
        f"{_each(PEOPLE, 'dateOfBirth')} | //associatedAccount/dateOfBirth",
    ),
    ("Appendix B.1", "/report/incidentSummary/incidentDateTime"),
    (
        "Appendix B.5-B.8",
        f"{_each(ACCOUNT_STATES, '@disabledDate')} | {_each(ACCOUNT_STATES, '@userNotifiedDate')}",
    ),
    ("Appendix C", f"{DETAILS}/uploadedToEspTimestamp"),
)

# (section, XPath) for every "must be a valid URL".
URLS: tuple[tuple[str, str], ...] = (
    ("Appendix B.2.1", "//webPageIncident/url"),
    ("Appendix B.4", "/report/reporter/legalURL"),
    ("Appendix B.5-B.8", f"{_each(PARTIES, 'profileUrl')} | //associatedAccount/profileUrl"),
    ("Appendix C", f"{DETAILS}/locationOfFile"),
)

_ONE_OF_PARTIES = (
    "must also be supplied as a <personOrUserReported> email address, "
    "<intendedRecipient> email address, or a <victim> email address"
)
_VIRAL_FORBIDDEN_REPORT = " | ".join(
    f"{VIRAL_REPORT}/{path}"
    for path in (
        "incidentSummary/escalateToHighPriority",
        "internetDetails",
        "lawEnforcement",
        "intendedRecipient",
        "victim",
        "additionalInfo",
    )
)
_VIRAL_FORBIDDEN_DETAILS = " | ".join(
    f"{DETAILS}/{name}"
    for name in (
        "originalFileName",
        "locationOfFile",
        "originalFileHash",
        "ipCaptureEvent",
        "deviceId",
        "details",
        "additionalInfo",
    )
)

RULES: tuple[Rule, ...] = (
    *(
        Rule(section, f"max length is {limit} characters", where, _max_length(limit))
        for section, where, limit in MAX_LENGTHS
    ),
    *(Rule(section, "must be in the past", where, _in_the_past) for section, where in IN_THE_PAST),
    *(Rule(section, "must be a valid URL", where, _valid_url) for section, where in URLS),
    Rule(
        "section 7.3",
        "ISO 8601 timestamps must have a time zone specified in the format +/-hh:mm or Z for UTC",
        TIMESTAMPS,
        _has_time_zone,
    ),
    # Appendix A: common types
    Rule(
        "Appendix A, <ipCaptureEvent>",
        "<ipAddress> must not be blank if <ipCaptureEvent> supplied",
        "//ipCaptureEvent/ipAddress",
        _not_blank,
    ),
    Rule(
        "Appendix A, <ipCaptureEvent>",
        "must be a valid IPv4, IPv6, or IPv4-mapped IPv6 address",
        "//ipCaptureEvent/ipAddress",
        _valid_ip,
    ),
    Rule(
        "Appendix A, <ipCaptureEvent>",
        "<port> must be between 1 and 65535",
        "//ipCaptureEvent/port",
        _between(1, 65535),
    ),
    Rule(
        "Appendix A, <deviceId>",
        "must not be blank if <deviceId> supplied",
        "//deviceId/idType | //deviceId/idValue",
        _not_blank,
    ),
    Rule(
        "Appendix A, <phone>",
        "if countryCallingCode supplied, must not start with country calling code",
        f"({PHONES})[@countryCallingCode]",
        _no_calling_code_prefix,
    ),
    Rule(
        "Appendix A, <phone> and <email>",
        "verified must be true when verificationDate is supplied",
        f"({PHONES} | {EMAILS})[@verificationDate]",
        _verified_when_dated,
    ),
    Rule("Appendix A, <email>", "must be a well-formed email address", EMAILS, _well_formed_email),
    Rule(
        "Appendix A, <email>",
        "max length of local part (before @ sign) is 64 characters",
        EMAILS,
        _local_part_length,
    ),
    Rule(
        "Appendix A, <estimatedLocation>",
        "<countryCode> must not be blank if <estimatedLocation> is supplied",
        "//estimatedLocation",
        _has_country_code,
    ),
    Rule(
        "Appendix A, <estimatedLocation>",
        "<region> must be a valid US state or territory "
        'postal abbreviation if supplied and <countryCode> is "US"',
        "//estimatedLocation/region",
        _us_region,
    ),
    Rule(
        "Appendix A, <estimatedLocation>",
        '<region> must not be blank if <city> is supplied and <countryCode> is "US"',
        "//estimatedLocation/city",
        _us_city_has_region,
    ),
    Rule(
        "Appendix A, <person>; B.8",
        "age must be between 0 and 150",
        f"{_each(PEOPLE, 'age')} | //associatedAccount/approximateAge",
        _between(0, 150),
    ),
    # Appendix B: report details
    Rule(
        "Appendix B.1",
        "<escalateToHighPriority> must not be blank if supplied",
        "/report/incidentSummary/escalateToHighPriority",
        _not_blank,
    ),
    Rule(
        "Appendix B.2.2, B.2.3",
        _ONE_OF_PARTIES,
        "//emailIncident/emailAddress | //newsgroupIncident/emailAddress",
        _email_of_a_party,
    ),
    Rule(
        "Appendix B.4",
        "<reportingPerson>: <email> is required",
        "/report/reporter/reportingPerson",
        _has_email,
    ),
    Rule(
        "Appendix B.5, E.1",
        f"at most 1 <personOrUserReported> may be supplied, except in a {VIRAL} batched report",
        f"{REPORTED}[2]",
        _only_in_viral_report,
    ),
    Rule(
        "Appendix B.6",
        "at most 1 <additionalInfo> may be supplied",
        f"{RECIPIENT}/additionalInfo[2]",
        _never,
    ),
    Rule(
        "Appendix B.5-B.8",
        "must be a valid CyberTipline report ID",
        f"{_each(PARTIES, 'priorCTReports')} | //associatedAccount/priorCTReport",
        _prior_report,
    ),
    Rule(
        "Appendix B.5-B.8",
        "must be on or after the disabledDate if both are supplied",
        _each(ACCOUNT_STATES, "@userNotifiedDate"),
        _on_or_after_disabled,
    ),
    Rule(
        "Appendix B.5-B.8",
        "must be after the disabledDate if both are supplied",
        "//accountTemporarilyDisabled/@reenabledDate",
        _after_disabled,
    ),
    Rule(
        "Appendix B.8",
        "<approximateAge> may not be set if <dateOfBirth> is supplied",
        "//associatedAccount[dateOfBirth]/approximateAge",
        _never,
    ),
    # Appendix C: file details
    Rule("Appendix C", "<fileId> must not be blank", f"{DETAILS}/fileId", _not_blank),
    Rule(
        "Appendix C",
        '<fileViewedByEsp> must be "true" when the value of <exifViewedByEsp> is "true"',
        DETAILS,
        _viewed_with_exif,
    ),
    Rule(
        "Appendix C",
        'may not be "Supplemental Reported" if a potential meme annotation is supplied',
        f"{DETAILS}/fileRelevance",
        _not_with("fileAnnotations/potentialMeme", "potentialMeme"),
    ),
    Rule(
        "Appendix C",
        'may not be "Supplemental Reported" if an <industryClassification> is supplied',
        f"{DETAILS}/fileRelevance",
        _not_with("industryClassification"),
    ),
    # Appendix E.1: Viral/Potential Meme batched reports
    Rule(
        "Appendix E.1", f"not allowed in a {VIRAL} batched report", _VIRAL_FORBIDDEN_REPORT, _never
    ),
    Rule(
        "Appendix E.1",
        "the only element allowed within a /report/personOrUserReported "
        f"element of a {VIRAL} batched report is espIdentifier",
        f"{VIRAL_REPORT}/personOrUserReported/*[not(self::espIdentifier)]",
        _never,
    ),
    Rule(
        "Appendix E.1",
        "the file must be annotated as viral and/or potential meme via "
        "/fileDetails/fileAnnotations/viral and/or /fileDetails/fileAnnotations/potentialMeme",
        DETAILS,
        _viral_annotation,
    ),
    Rule(
        "Appendix E.1",
        f"no annotation other than viral and potentialMeme is allowed in a {VIRAL} batched report",
        f"{DETAILS}/fileAnnotations/*[not({VIRAL_ANNOTATIONS})]",
        _not_in_viral_details,
    ),
    Rule(
        "Appendix E.1",
        f"not allowed in the file details of a {VIRAL} batched report",
        _VIRAL_FORBIDDEN_DETAILS,
        _not_in_viral_details,
    ),
    Rule(
        "Appendix E.1",
        f'the relevance of the file must be "Reported" in a {VIRAL} batched report',
        f"{DETAILS}/fileRelevance",
        _reported_in_viral_details,
    ),
)
