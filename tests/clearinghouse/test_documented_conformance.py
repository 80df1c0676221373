"""Conformance of the intake with the CyberTipline Reporting API documentation
(../shared/reference/cybertipline/api-documentation.txt and the report.xsd it serves), written
from that documentation alone: every expected answer below is derived from the section cited
beside it, never from Vigil's code.

Every documented transaction is exercised (status, xsd, submit, upload, fileinfo, finish,
retract), and for every validation rule the documentation states that report.xsd cannot
express, one violating document must be refused with 4100 "Validation failed" (Appendix D)
and one conforming document accepted with 0. Every answer must carry a Request-ID header
(section 7.5), be the response document section 4 names for its endpoint, and be valid
against the schema.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from lxml import etree

from tests.clearinghouse.conftest import USERNAME, Intake, basic
from tests.clearinghouse.documented import DOCUMENTATION, file_details_xml, report_xml

SCHEMA_FILE = DOCUMENTATION.parent / "report.xsd"
SUCCESS, VALIDATION_FAILED = "0", "4100"  # Appendix D.1
PAST = "2012-10-15T08:00:00-07:00"  # section 6.1's example incidentDateTime
FUTURE = "2999-01-01T00:00:00Z"
CHILD_PORNOGRAPHY = "Child Pornography (possession, manufacture, and distribution)"
REPORTING_PERSON = (
    "<firstName>John</firstName><lastName>Smith</lastName>"
    "<email>jsmith@example.com</email>"
)  # section 6.1


@functools.cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))


def _answer(response: object, endpoint: str) -> etree._Element:
    """The answer's document, checked against sections 4 and 7.5 and the schema."""
    assert response.headers.get("Request-ID"), endpoint  # type: ignore[attr-defined]
    root = etree.fromstring(response.content)  # type: ignore[attr-defined]
    # Section 4: <reportDoneResponse> answers /finish; <reportResponse> the others.
    expected = "reportDoneResponse" if endpoint == "finish" else "reportResponse"
    assert root.tag == expected, (endpoint, response.content)  # type: ignore[attr-defined]
    assert _schema().validate(root.getroottree()), (endpoint, response.content)  # type: ignore[attr-defined]
    return root


def _code(response: object, endpoint: str) -> str:
    return _answer(response, endpoint).findtext("responseCode") or ""


# --- documents ------------------------------------------------------------------------------


def report(
    *,
    batched: str = "",
    summary: str = "",
    when: str = PAST,
    summary_after: str = "",
    internet: str = "",
    law: str = "",
    person: str = REPORTING_PERSON,
    reporter_after: str = "",
    parties: str = "",
    additional: str = "",
) -> bytes:
    """A <report> in the order report.xsd gives its elements (Appendix B, <report>)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><report>{batched}<incidentSummary>'
        f"<incidentType>{CHILD_PORNOGRAPHY}</incidentType>{summary}"
        f"<incidentDateTime>{when}</incidentDateTime>{summary_after}</incidentSummary>"
        f"{internet}{law}<reporter><reportingPerson>{person}</reportingPerson>"
        f"{reporter_after}</reporter>{parties}{additional}</report>"
    ).encode()


def reported(inner: str) -> str:
    return f"<personOrUserReported>{inner}</personOrUserReported>"


def reported_person(inner: str) -> str:
    return reported(f"<personOrUserReportedPerson>{inner}</personOrUserReportedPerson>")


def account(inner: str) -> str:  # Appendix B.8 inside B.5; type is required by report.xsd
    return reported(f'<associatedAccount type="Linked">{inner}</associatedAccount>')


def web(url: str) -> str:
    return f"<internetDetails><webPageIncident><url>{url}</url></webPageIncident></internetDetails>"


def ip_event(inner: str) -> str:  # Appendix A <ipCaptureEvent>, inside B.8 peer2peerIncident
    return (
        f"<internetDetails><peer2peerIncident><ipCaptureEvent>{inner}</ipCaptureEvent>"
        "</peer2peerIncident></internetDetails>"
    )


def device(inner: str) -> str:  # Appendix A <deviceId>, inside B.5
    return reported(f"<deviceId>{inner}</deviceId>")


def location(inner: str) -> str:  # Appendix A <estimatedLocation>, inside B.5
    return reported(f"<estimatedLocation>{inner}</estimatedLocation>")


def disabled(kind: str, attributes: str) -> str:  # B.5 accountTemporarily/PermanentlyDisabled
    return reported(f"<account{kind}Disabled {attributes}>true</account{kind}Disabled>")


def chars(n: int, prefix: str = "") -> str:
    return prefix + "a" * (n - len(prefix))


def url_of(n: int) -> str:
    return chars(n, "http://badsite.com/")


@dataclass(frozen=True)
class Case:
    rule: str  # the documentation's words, with its section
    violating: bytes
    conforming: bytes


def same(rule: str, make: object, bad: str, good: str) -> Case:
    """A case whose two documents differ in one value."""
    return Case(rule, make(bad), make(good))  # type: ignore[operator]


# Appendix B, and the Appendix A types as Appendix B uses them. "{prior}" becomes the id of a
# finished report of the same company; 999999999 names no report.
REPORT_CASES: tuple[Case, ...] = (
    same(
        "B.1 <platform> max length is 256 characters",
        lambda v: report(summary=f"<platform>{v}</platform>"),
        chars(257),
        chars(256),
    ),
    same(
        "B.1 <escalateToHighPriority> must not be blank if supplied",
        lambda v: report(summary=f"<escalateToHighPriority>{v}</escalateToHighPriority>"),
        " ",
        "Immediate risk to a child",
    ),
    same(
        "B.1 <escalateToHighPriority> max length is 3000 characters",
        lambda v: report(summary=f"<escalateToHighPriority>{v}</escalateToHighPriority>"),
        chars(3001),
        chars(3000),
    ),
    same("B.1 <incidentDateTime> must be in the past", lambda v: report(when=v), FUTURE, PAST),
    same(
        "7.3 ISO 8601 timestamps must have a time zone",
        lambda v: report(when=v),
        "2012-10-15T08:00:00",
        "2012-10-15T15:00:00Z",
    ),
    same(
        "B.1 <incidentDateTimeDescription> max length is 3000 characters",
        lambda v: report(
            summary_after=f"<incidentDateTimeDescription>{v}</incidentDateTimeDescription>"
        ),
        chars(3001),
        chars(3000),
    ),
    same(
        "B.2.1 <url> must be a valid URL",
        lambda v: report(internet=web(v)),
        "not a url",
        "http://badsite.com/baduri.html",
    ),
    same(
        "B.2.1 <url> max length is 2083 characters",
        lambda v: report(internet=web(v)),
        url_of(2084),
        url_of(2083),
    ),
    same(
        "B.2.2 <emailAddress> must also be supplied as a <personOrUserReported>, "
        "<intendedRecipient> or <victim> email address",
        lambda v: report(
            internet="<internetDetails><emailIncident><emailAddress>"
            "bad@example.com</emailAddress></emailIncident></internetDetails>",
            parties=v,
        ),
        reported_person("<email>other@example.com</email>"),
        reported_person("<email>bad@example.com</email>"),
    ),
    same(
        "B.2.3 <emailAddress> must also be supplied as a party's email address",
        lambda v: report(
            internet="<internetDetails><newsgroupIncident><emailAddress>"
            "kid@example.com</emailAddress></newsgroupIncident>"
            "</internetDetails>",
            parties=v,
        ),
        "",
        "<victim><victimPerson><email>kid@example.com</email></victimPerson></victim>",
    ),
    same(
        "B.2.3 newsgroup <name> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><newsgroupIncident><name>{v}</name>"
            "</newsgroupIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.2.4 <chatClient> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><chatImIncident><chatClient>{v}"
            "</chatClient></chatImIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.2.4 <chatRoomName> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><chatImIncident><chatRoomName>{v}"
            "</chatRoomName></chatImIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.2.5 <gameName> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><onlineGamingIncident><gameName>{v}"
            "</gameName></onlineGamingIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.2.5 <console> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><onlineGamingIncident><console>{v}"
            "</console></onlineGamingIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.2.6 <phoneNumber> (A <phone>) max length is 50 characters",
        lambda v: report(
            internet=f"<internetDetails><cellPhoneIncident><phoneNumber>{v}"
            "</phoneNumber></cellPhoneIncident></internetDetails>"
        ),
        "5" * 51,
        "5" * 50,
    ),
    same(
        "B.2.7 <locationName> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><nonInternetIncident><locationName>{v}"
            "</locationName></nonInternetIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.2.7 <incidentAddress> (A <address>) <city> max length is 100 characters",
        lambda v: report(
            internet="<internetDetails><nonInternetIncident><incidentAddress>"
            f"<city>{v}</city></incidentAddress></nonInternetIncident>"
            "</internetDetails>"
        ),
        chars(101),
        chars(100),
    ),
    same(
        "B.2.8 <client> max length is 255 characters",
        lambda v: report(
            internet=f"<internetDetails><peer2peerIncident><client>{v}</client>"
            "</peer2peerIncident></internetDetails>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "A <ipAddress> must be a valid IPv4, IPv6, or IPv4-mapped IPv6 address",
        lambda v: report(internet=ip_event(f"<ipAddress>{v}</ipAddress>")),
        "63.116.246.300",
        "::ffff:63.116.246.17",
    ),
    same(
        "A <ipAddress> must not be blank if <ipCaptureEvent> supplied",
        lambda v: report(internet=ip_event(f"<ipAddress>{v}</ipAddress>")),
        "",
        "2001:db8::1",
    ),
    same(
        "A <ipCaptureEvent> <dateTime> must be in the past",
        lambda v: report(
            internet=ip_event(f"<ipAddress>63.116.246.17</ipAddress><dateTime>{v}</dateTime>")
        ),
        FUTURE,
        "2011-10-31T12:00:00Z",
    ),
    same(
        "A <ipCaptureEvent> <port> must be between 1 and 65535",
        lambda v: report(
            internet=ip_event(f"<ipAddress>63.116.246.17</ipAddress><port>{v}</port>")
        ),
        "65536",
        "65535",
    ),
    same(
        "B.3 <agencyName> max length is 255 characters",
        lambda v: report(law=f"<lawEnforcement><agencyName>{v}</agencyName></lawEnforcement>"),
        chars(256),
        chars(255),
    ),
    same(
        "B.3 <caseNumber> max length is 100 characters",
        lambda v: report(
            law="<lawEnforcement><agencyName>Police</agencyName>"
            f"<caseNumber>{v}</caseNumber></lawEnforcement>"
        ),
        chars(101),
        chars(100),
    ),
    same(
        "B.3 <officerContact> (A <contactPerson>) <lastName> max length is 100 characters",
        lambda v: report(
            law="<lawEnforcement><agencyName>Police</agencyName><officerContact>"
            f"<lastName>{v}</lastName></officerContact></lawEnforcement>"
        ),
        chars(101),
        chars(100),
    ),
    same(
        "B.4 <reportingPerson>: <email> is required",
        lambda v: report(person=v),
        "<firstName>John</firstName>",
        "<email>jsmith@example.com</email>",
    ),
    same(
        "B.4 <legalURL> must be a valid URL",
        lambda v: report(reporter_after=f"<legalURL>{v}</legalURL>"),
        "example.com/legal",
        "https://example.com/legal",
    ),
    same(
        "B.4 <legalURL> max length is 2083 characters",
        lambda v: report(reporter_after=f"<legalURL>{v}</legalURL>"),
        url_of(2084),
        url_of(2083),
    ),
    same(
        "A <person> <firstName> max length is 100 characters",
        lambda v: report(person=f"<firstName>{v}</firstName><email>j@example.com</email>"),
        chars(101),
        chars(100),
    ),
    same(
        "A <email> must be a well-formed email address",
        lambda v: report(person=f"<email>{v}</email>"),
        "jsmith at example",
        "j@example.com",
    ),
    same(
        "A <email> max length of local part (before @ sign) is 64 characters",
        lambda v: report(person=f"<email>{v}@example.com</email>"),
        chars(65),
        chars(64),
    ),
    same(
        "A <email> max length is 255 characters",
        lambda v: report(person=f"<email>j@{v}.com</email>"),
        "a." * 124 + "ab",
        "a." * 124 + "a",
    ),
    same(
        "A <email> verified must be true when verificationDate is supplied",
        lambda v: report(
            person=f'<email {v} verificationDate="2020-01-01T00:00:00Z">j@example.com</email>'
        ),
        'verified="false"',
        'verified="true"',
    ),
    same(
        "A <email> verificationDate must be in the past",
        lambda v: report(
            person=f'<email verified="true" verificationDate="{v}">j@example.com</email>'
        ),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "A <phone> if countryCallingCode supplied, must not start with country calling code",
        lambda v: report(
            person=f'<phone countryCallingCode="+1">{v}</phone><email>j@example.com</email>'
        ),
        "+1 555 0100",
        "555 0100",
    ),
    same(
        "A <phone> verified must be true when verificationDate is supplied",
        lambda v: report(
            person=f'<phone {v} verificationDate="2020-01-01T00:00:00Z">'
            "555 0100</phone><email>j@example.com</email>"
        ),
        "",
        'verified="true"',
    ),
    same(
        "A <phone> extension max length is 10 characters",
        lambda v: report(
            person=f'<phone extension="{v}">555 0100</phone><email>j@example.com</email>'
        ),
        "1" * 11,
        "1" * 10,
    ),
    same(
        "A <address> <zipCode> max length is 20 characters",
        lambda v: report(
            person=f"<email>j@example.com</email><address><zipCode>{v}</zipCode></address>"
        ),
        "1" * 21,
        "1" * 20,
    ),
    same(
        "A <address> <address> max length is 255 characters",
        lambda v: report(
            person=f"<email>j@example.com</email><address><address>{v}</address></address>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "A <address> <nonUsaState> max length is 100 characters",
        lambda v: report(
            person=f"<email>j@example.com</email><address><nonUsaState>{v}</nonUsaState></address>"
        ),
        chars(101),
        chars(100),
    ),
    same(
        "A <person> <age> must be between 0 and 150",
        lambda v: report(parties=reported_person(f"<age>{v}</age>")),
        "151",
        "150",
    ),
    same(
        "A <person> <dateOfBirth> must be in the past",
        lambda v: report(parties=reported_person(f"<dateOfBirth>{v}</dateOfBirth>")),
        "2999-01-01",
        "1990-01-31",
    ),
    same(
        "B.5 <personOrUserReported> 0|1: at most 1 element may be supplied",
        lambda v: report(parties=v),
        reported("<espIdentifier>a</espIdentifier>") * 2,
        reported("<espIdentifier>a</espIdentifier>"),
    ),
    same(
        "B.5 <vehicleDescription> max length is 300 characters",
        lambda v: report(parties=reported(f"<vehicleDescription>{v}</vehicleDescription>")),
        chars(301),
        chars(300),
    ),
    same(
        "B.5 <espIdentifier> max length is 255 characters",
        lambda v: report(parties=reported(f"<espIdentifier>{v}</espIdentifier>")),
        chars(256),
        chars(255),
    ),
    same(
        "B.5 <espService> max length is 100 characters",
        lambda v: report(parties=reported(f"<espService>{v}</espService>")),
        chars(101),
        chars(100),
    ),
    same(
        "B.5 <screenName> max length is 256 characters",
        lambda v: report(parties=reported(f"<screenName>{v}</screenName>")),
        chars(257),
        chars(256),
    ),
    same(
        "B.5 <displayName> max length is 255 characters",
        lambda v: report(
            parties=reported(f"<displayName>x</displayName><displayName>{v}</displayName>")
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.5 <profileUrl> must be a valid URL",
        lambda v: report(parties=reported(f"<profileUrl>{v}</profileUrl>")),
        "http//example.com/u",
        "https://example.com/u",
    ),
    same(
        "B.5 <profileUrl> max length is 2083 characters",
        lambda v: report(parties=reported(f"<profileUrl>{v}</profileUrl>")),
        url_of(2084),
        url_of(2083),
    ),
    same(
        "B.5 <priorCTReports> must be a valid CyberTipline report ID",
        lambda v: report(parties=reported(f"<priorCTReports>{v}</priorCTReports>")),
        "999999999",
        "{prior}",
    ),
    same(
        "B.5 <groupIdentifier> max length is 255 characters",
        lambda v: report(parties=reported(f"<groupIdentifier>{v}</groupIdentifier>")),
        chars(256),
        chars(255),
    ),
    same(
        "B.5 <accountTemporarilyDisabled> disabledDate must be in the past",
        lambda v: report(parties=disabled("Temporarily", f'disabledDate="{v}"')),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "B.5 <accountTemporarilyDisabled> userNotifiedDate must be in the past",
        lambda v: report(parties=disabled("Temporarily", f'userNotifiedDate="{v}"')),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "B.5 <accountTemporarilyDisabled> userNotifiedDate must be on or after the "
        "disabledDate if both are supplied",
        lambda v: report(
            parties=disabled(
                "Temporarily", f'disabledDate="2020-01-02T00:00:00Z" userNotifiedDate="{v}"'
            )
        ),
        "2020-01-01T00:00:00Z",
        "2020-01-02T00:00:00Z",
    ),
    same(
        "B.5 <accountTemporarilyDisabled> reenabledDate must be after the disabledDate if "
        "both are supplied",
        lambda v: report(
            parties=disabled(
                "Temporarily", f'disabledDate="2020-01-02T00:00:00Z" reenabledDate="{v}"'
            )
        ),
        "2020-01-02T00:00:00Z",
        "2020-01-03T00:00:00Z",
    ),
    same(
        "B.5 <accountPermanentlyDisabled> disabledDate must be in the past",
        lambda v: report(parties=disabled("Permanently", f'disabledDate="{v}"')),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "B.5 <accountPermanentlyDisabled> userNotifiedDate must be in the past",
        lambda v: report(parties=disabled("Permanently", f'userNotifiedDate="{v}"')),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "B.5 <accountPermanentlyDisabled> userNotifiedDate must be on or after the "
        "disabledDate if both are supplied",
        lambda v: report(
            parties=disabled(
                "Permanently", f'disabledDate="2020-01-02T00:00:00Z" userNotifiedDate="{v}"'
            )
        ),
        "2020-01-01T23:59:59Z",
        "2020-01-02T01:00:00+01:00",
    ),
    same(
        "A <estimatedLocation> <countryCode> must not be blank if <estimatedLocation> is supplied",
        lambda v: report(parties=location(v)),
        "<city>Lyon</city>",
        "<city>Lyon</city><countryCode>FR</countryCode>",
    ),
    same(
        "A <estimatedLocation> <region> must be a valid US state or territory postal "
        'abbreviation if supplied and <countryCode> is "US"',
        lambda v: report(parties=location(f"<region>{v}</region><countryCode>US</countryCode>")),
        "Texas",
        "TX",
    ),
    same(
        "A <estimatedLocation> <region> must not be blank if <city> is supplied and "
        '<countryCode> is "US"',
        lambda v: report(parties=location(f"<city>Austin</city>{v}<countryCode>US</countryCode>")),
        "",
        "<region>TX</region>",
    ),
    same(
        "A <estimatedLocation> <city> max length is 255 characters",
        lambda v: report(parties=location(f"<city>{v}</city><countryCode>FR</countryCode>")),
        chars(256),
        chars(255),
    ),
    same(
        "A <estimatedLocation> timestamp must be in the past",
        lambda v: report(
            parties=reported(
                f'<estimatedLocation timestamp="{v}"><countryCode>FR'
                "</countryCode></estimatedLocation>"
            )
        ),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "A <deviceId> <idType> must not be blank if <deviceId> supplied",
        lambda v: report(parties=device(f"<idType>{v}</idType><idValue>1234</idValue>")),
        " ",
        "IMEI",
    ),
    same(
        "A <deviceId> <idValue> must not be blank if <deviceId> supplied",
        lambda v: report(parties=device(f"<idType>IMEI</idType><idValue>{v}</idValue>")),
        "",
        "1234",
    ),
    same(
        "A <deviceId> <idType> max length is 255 characters",
        lambda v: report(parties=device(f"<idType>{v}</idType><idValue>1234</idValue>")),
        chars(256),
        chars(255),
    ),
    same(
        "A <deviceId> <idValue> max length is 2083 characters",
        lambda v: report(parties=device(f"<idType>IMEI</idType><idValue>{v}</idValue>")),
        chars(2084),
        chars(2083),
    ),
    same(
        "A <deviceId> <dateTime> must be in the past",
        lambda v: report(
            parties=device(f"<idType>IMEI</idType><idValue>1234</idValue><dateTime>{v}</dateTime>")
        ),
        FUTURE,
        "2020-01-01T00:00:00Z",
    ),
    same(
        "B.6 <intendedRecipient> <additionalInfo> 0|1",
        lambda v: report(parties=f"<intendedRecipient>{v}</intendedRecipient>"),
        "<additionalInfo>a</additionalInfo><additionalInfo>b</additionalInfo>",
        "<additionalInfo>a</additionalInfo>",
    ),
    same(
        "B.6 <intendedRecipient> <espService> max length is 100 characters",
        lambda v: report(
            parties=f"<intendedRecipient><espService>{v}</espService></intendedRecipient>"
        ),
        chars(101),
        chars(100),
    ),
    same(
        "B.6 <intendedRecipient> <groupIdentifier> max length is 255 characters",
        lambda v: report(
            parties=f"<intendedRecipient><groupIdentifier>{v}</groupIdentifier></intendedRecipient>"
        ),
        chars(256),
        chars(255),
    ),
    same(
        "B.7 <victim> <schoolName> max length is 255 characters",
        lambda v: report(parties=f"<victim><victimPerson/><schoolName>{v}</schoolName></victim>"),
        chars(256),
        chars(255),
    ),
    same(
        "B.7 <victim> <priorCTReports> must be a valid CyberTipline report ID",
        lambda v: report(
            parties=f"<victim><victimPerson/><priorCTReports>{v}</priorCTReports></victim>"
        ),
        "0",
        "{prior}",
    ),
    same(
        "B.8 <platform> max length is 256 characters",
        lambda v: report(parties=account(f"<platform>{v}</platform>")),
        chars(257),
        chars(256),
    ),
    same(
        "B.8 <firstName> max length is 256 characters",
        lambda v: report(parties=account(f"<firstName>{v}</firstName>")),
        chars(257),
        chars(256),
    ),
    same(
        "B.8 <middleName> max length is 256 characters",
        lambda v: report(parties=account(f"<middleName>{v}</middleName>")),
        chars(257),
        chars(256),
    ),
    same(
        "B.8 <approximateAge> must be between 0 and 150",
        lambda v: report(parties=account(f"<approximateAge>{v}</approximateAge>")),
        "-1",
        "0",
    ),
    same(
        "B.8 <approximateAge> may not be set if <dateOfBirth> is supplied",
        lambda v: report(parties=account(f"{v}<dateOfBirth>1990-01-31</dateOfBirth>")),
        "<approximateAge>30</approximateAge>",
        "",
    ),
    same(
        "B.8 <dateOfBirth> must be in the past",
        lambda v: report(parties=account(f"<dateOfBirth>{v}</dateOfBirth>")),
        "2999-12-31",
        "2000-02-29",
    ),
    same(
        "B.8 <espIdentifier> max length is 256 characters",
        lambda v: report(parties=account(f"<espIdentifier>{v}</espIdentifier>")),
        chars(257),
        chars(256),
    ),
    same(
        "B.8 <displayName> max length is 255 characters",
        lambda v: report(parties=account(f"<displayName>{v}</displayName>")),
        chars(256),
        chars(255),
    ),
    same(
        "B.8 <groupIdentifier> max length is 256 characters",
        lambda v: report(parties=account(f"<groupIdentifier>{v}</groupIdentifier>")),
        chars(257),
        chars(256),
    ),
    same(
        "B.8 <priorCTReport> must be a valid CyberTipline report ID",
        lambda v: report(parties=account(f"<priorCTReport>{v}</priorCTReport>")),
        "999999999",
        "{prior}",
    ),
)

VIRAL_BATCH = '<batchedReport reason="VIRAL_POTENTIAL_MEME"/>'
# Appendix E.1: the main report of a Viral/Potential Meme batched report.
VIRAL_REPORT_CASES: tuple[Case, ...] = (
    Case(
        "E.1 multiple /report/personOrUserReported elements are allowed (conforming only)",
        report(parties=reported("<espService>x</espService>") * 2, batched=VIRAL_BATCH),
        report(
            parties=reported("<espIdentifier>a</espIdentifier>")
            + reported("<espIdentifier>b</espIdentifier>"),
            batched=VIRAL_BATCH,
        ),
    ),
    Case(
        "E.1 the only element allowed within personOrUserReported is espIdentifier",
        report(
            batched=VIRAL_BATCH,
            parties=reported("<espIdentifier>a</espIdentifier><screenName>s</screenName>"),
        ),
        report(batched=VIRAL_BATCH, parties=reported("<espIdentifier>a</espIdentifier>")),
    ),
    Case(
        "E.1 /report/incidentSummary/escalateToHighPriority is not allowed",
        report(batched=VIRAL_BATCH, summary="<escalateToHighPriority>now</escalateToHighPriority>"),
        report(batched=VIRAL_BATCH),
    ),
    Case(
        "E.1 /report/internetDetails is not allowed",
        report(batched=VIRAL_BATCH, internet=web("http://badsite.com/")),
        report(batched=VIRAL_BATCH),
    ),
    Case(
        "E.1 /report/lawEnforcement is not allowed",
        report(
            batched=VIRAL_BATCH,
            law="<lawEnforcement><agencyName>Police</agencyName></lawEnforcement>",
        ),
        report(batched=VIRAL_BATCH),
    ),
    Case(
        "E.1 /report/intendedRecipient is not allowed",
        report(batched=VIRAL_BATCH, parties="<intendedRecipient/>"),
        report(batched=VIRAL_BATCH),
    ),
    Case(
        "E.1 /report/victim is not allowed",
        report(batched=VIRAL_BATCH, parties="<victim><victimPerson/></victim>"),
        report(batched=VIRAL_BATCH),
    ),
    Case(
        "E.1 /report/additionalInfo is not allowed",
        report(batched=VIRAL_BATCH, additional="<additionalInfo>x</additionalInfo>"),
        report(batched=VIRAL_BATCH),
    ),
)


def details(inner: str = "", *, before: str = "") -> str:
    """<fileDetails> in report.xsd's order; {report} and {file} are filled in per file."""
    return (
        f"<fileDetails><reportId>{{report}}</reportId><fileId>{{file}}</fileId>{before}"
        f"{inner}</fileDetails>"
    )


# Appendix C (and the Appendix A types it uses), for an ordinary report.
DETAILS_CASES: tuple[tuple[str, str, str], ...] = (
    (
        "C <fileId> must not be blank",
        "<fileDetails><reportId>{report}</reportId><fileId> </fileId></fileDetails>",
        details(),
    ),
    (
        "C <originalFileName> max length is 2056 characters",
        details(f"<originalFileName>{chars(2057)}</originalFileName>"),
        details(f"<originalFileName>{chars(2056)}</originalFileName>"),
    ),
    (
        "C <uploadedToEspTimestamp> must be in the past",
        details(f"<uploadedToEspTimestamp>{FUTURE}</uploadedToEspTimestamp>"),
        details("<uploadedToEspTimestamp>2011-10-31T12:00:00Z</uploadedToEspTimestamp>"),
    ),
    (
        "7.3 <uploadedToEspTimestamp> must have a time zone",
        details("<uploadedToEspTimestamp>2011-10-31T12:00:00</uploadedToEspTimestamp>"),
        details("<uploadedToEspTimestamp>2011-10-31T12:00:00+02:00</uploadedToEspTimestamp>"),
    ),
    (
        "C <locationOfFile> must be a valid URL",
        details("<locationOfFile>/uploads/pic.jpg</locationOfFile>"),
        details("<locationOfFile>https://cdn.example.com/uploads/pic.jpg</locationOfFile>"),
    ),
    (
        "C <locationOfFile> max length is 2083 characters",
        details(f"<locationOfFile>{url_of(2084)}</locationOfFile>"),
        details(f"<locationOfFile>{url_of(2083)}</locationOfFile>"),
    ),
    (
        'C <fileViewedByEsp> must be "true" when the value of <exifViewedByEsp> is "true"',
        details("<fileViewedByEsp>false</fileViewedByEsp><exifViewedByEsp>true</exifViewedByEsp>"),
        details("<fileViewedByEsp>true</fileViewedByEsp><exifViewedByEsp>true</exifViewedByEsp>"),
    ),
    (
        'C <fileRelevance> may not be "Supplemental Reported" if a potential meme annotation is '
        "supplied",
        details(
            "<fileRelevance>Supplemental Reported</fileRelevance><fileAnnotations>"
            "<potentialMeme/></fileAnnotations>"
        ),
        details(
            "<fileRelevance>Reported</fileRelevance><fileAnnotations><potentialMeme/>"
            "</fileAnnotations>"
        ),
    ),
    (
        'C <fileRelevance> may not be "Supplemental Reported" if an <industryClassification> is '
        "supplied",
        details(
            "<fileRelevance>Supplemental Reported</fileRelevance>"
            "<industryClassification>B2</industryClassification>"
        ),
        details("<industryClassification>B2</industryClassification>"),
    ),
    (
        "C.2 hashType max length is 64 characters",
        details(f'<originalFileHash hashType="{chars(65)}">abc</originalFileHash>'),
        details(f'<originalFileHash hashType="{chars(64)}">abc</originalFileHash>'),
    ),
    (
        "C.3 <name> max length is 64 characters",
        details(
            f"<details><nameValuePair><name>{chars(65)}</name><value>v</value>"
            "</nameValuePair></details>"
        ),
        details(
            f'<details type="EXIF"><nameValuePair><name>{chars(64)}</name><value>v</value>'
            "</nameValuePair></details>"
        ),
    ),
    (
        "A <ipCaptureEvent> <ipAddress> must be a valid IP address",
        details("<ipCaptureEvent><ipAddress>localhost</ipAddress></ipCaptureEvent>"),
        details("<ipCaptureEvent><ipAddress>63.116.246.17</ipAddress></ipCaptureEvent>"),
    ),
    (
        "A <deviceId> <idValue> must not be blank",
        details("<deviceId><idType>IMEI</idType><idValue/></deviceId>"),
        details("<deviceId><idType>IMEI</idType><idValue>1</idValue></deviceId>"),
    ),
)

VIRAL_DETAILS_OK = "<fileAnnotations><viral/></fileAnnotations>"
# Appendix E.1: file details of a Viral/Potential Meme batched report.
VIRAL_DETAILS_CASES: tuple[tuple[str, str, str], ...] = (
    (
        "E.1 the file must be annotated as viral and/or potential meme",
        details(),
        details("<fileAnnotations><potentialMeme/></fileAnnotations>"),
    ),
    (
        "E.1 the file may optionally be annotated with an industry classification",
        details("<fileAnnotations><viral/><infant/></fileAnnotations>"),
        details(f"{VIRAL_DETAILS_OK}<industryClassification>A1</industryClassification>"),
    ),
    *(
        (
            f"E.1 /fileDetails/fileAnnotations/{name} is not allowed",
            details(f"<fileAnnotations><viral/><{name}/></fileAnnotations>"),
            details("<fileAnnotations><viral/><potentialMeme/></fileAnnotations>"),
        )
        for name in (
            "animeDrawingVirtualHentai",
            "possibleSelfProduction",
            "physicalHarm",
            "violenceGore",
            "bestiality",
            "liveStreaming",
            "infant",
            "generativeAi",
        )
    ),
    (
        "E.1 /fileDetails/originalFileName is not allowed",
        details(VIRAL_DETAILS_OK, before="<originalFileName>a.jpg</originalFileName>"),
        details(VIRAL_DETAILS_OK),
    ),
    (
        "E.1 /fileDetails/locationOfFile is not allowed",
        details(VIRAL_DETAILS_OK, before="<locationOfFile>https://example.com/a</locationOfFile>"),
        details(VIRAL_DETAILS_OK),
    ),
    (
        "E.1 /fileDetails/originalFileHash is not allowed",
        details(f'{VIRAL_DETAILS_OK}<originalFileHash hashType="MD5">abc</originalFileHash>'),
        details(VIRAL_DETAILS_OK),
    ),
    (
        "E.1 /fileDetails/ipCaptureEvent is not allowed",
        details(
            f"{VIRAL_DETAILS_OK}<ipCaptureEvent><ipAddress>63.116.246.17</ipAddress>"
            "</ipCaptureEvent>"
        ),
        details(VIRAL_DETAILS_OK),
    ),
    (
        "E.1 /fileDetails/deviceId is not allowed",
        details(
            f"{VIRAL_DETAILS_OK}<deviceId><idType>IMEI</idType><idValue>1</idValue></deviceId>"
        ),
        details(VIRAL_DETAILS_OK),
    ),
    (
        "E.1 /fileDetails/details is not allowed",
        details(
            f"{VIRAL_DETAILS_OK}<details><nameValuePair><name>n</name><value>v</value>"
            "</nameValuePair></details>"
        ),
        details(VIRAL_DETAILS_OK),
    ),
    (
        "E.1 /fileDetails/additionalInfo is not allowed",
        details(f"{VIRAL_DETAILS_OK}<additionalInfo>x</additionalInfo>"),
        details(VIRAL_DETAILS_OK),
    ),
    (
        'E.1 the relevance of the file must be "Reported"',
        details(
            f"{VIRAL_DETAILS_OK}", before="<fileRelevance>Supplemental Reported</fileRelevance>"
        ),
        details(f"{VIRAL_DETAILS_OK}", before="<fileRelevance>Reported</fileRelevance>"),
    ),
)


# --- talking to the intake ------------------------------------------------------------------


def _submit(intake: Intake, body: bytes) -> tuple[str, str]:
    """(responseCode, reportId) of a /submit."""
    root = _answer(intake.post_xml("submit", body), "submit")
    return root.findtext("responseCode") or "", root.findtext("reportId") or ""


def _open(intake: Intake, body: bytes | None = None) -> str:
    code, report_id = _submit(intake, body or report_xml())
    assert code == SUCCESS and report_id.isdigit()
    return report_id


def _upload(intake: Intake, report_id: str, content: bytes) -> str:
    answer = intake.post_form("upload", {"id": report_id}, {"file": ("file.jpg", content)})
    root = _answer(answer, "upload")
    assert root.findtext("responseCode") == SUCCESS
    # Section 6.2: the answer carries the file ID and the MD5 hash of the uploaded file.
    assert root.findtext("hash") == hashlib.md5(content, usedforsecurity=False).hexdigest()
    return root.findtext("fileId") or ""


def _finished_report(intake: Intake) -> str:
    report_id = _open(intake)
    assert _code(intake.post_form("finish", {"id": report_id}), "finish") == SUCCESS
    return report_id


def _description(response: object) -> str:
    return _answer(response, "submit").findtext("responseDescription") or ""


def _check_reports(intake: Intake, cases: tuple[Case, ...]) -> list[str]:
    prior = _finished_report(intake)
    wrong = []
    for case in cases:
        bad = case.violating.replace(b"{prior}", prior.encode())
        good = case.conforming.replace(b"{prior}", prior.encode())
        refused = intake.post_xml("submit", bad)
        if _code(refused, "submit") != VALIDATION_FAILED:
            wrong.append(f"accepted: {case.rule}")
        elif len(_description(refused)) <= len("Validation failed"):
            wrong.append(f"refused without saying why: {case.rule}")
        if _submit(intake, good)[0] != SUCCESS:
            wrong.append(f"refused: {case.rule}: {_description(intake.post_xml('submit', good))}")
    return wrong


def _check_details(
    intake: Intake, report_id: str, cases: tuple[tuple[str, str, str], ...]
) -> list[str]:
    wrong = []
    for n, (rule, violating, conforming) in enumerate(cases):
        file_id = _upload(intake, report_id, f"benign test file {n}\n".encode() * 20)

        def send(template: str, file_id: str = file_id) -> object:
            body = template.replace("{report}", report_id).replace("{file}", file_id)
            return intake.post_xml("fileinfo", body.encode())

        refused = send(violating)
        if _code(refused, "fileinfo") != VALIDATION_FAILED:
            wrong.append(f"accepted: {rule}")
        accepted = send(conforming)
        if _code(accepted, "fileinfo") != SUCCESS:
            wrong.append(f"refused: {rule}: {accepted.content!r}")  # type: ignore[attr-defined]
    return wrong


# --- Appendix B, C and E rules ----------------------------------------------------------------


def test_documented_example_report_is_accepted(intake: Intake) -> None:
    """Section 6.1's example report, as printed, opens a report."""
    code, report_id = _submit(intake, report_xml())
    assert code == SUCCESS and report_id.isdigit()


def test_every_appendix_b_rule(intake: Intake) -> None:
    assert _check_reports(intake, REPORT_CASES) == []


def test_every_appendix_e_report_rule(intake: Intake) -> None:
    assert _check_reports(intake, VIRAL_REPORT_CASES) == []


def test_every_appendix_c_rule(intake: Intake) -> None:
    assert _check_details(intake, _open(intake), DETAILS_CASES) == []


def test_every_appendix_e_file_details_rule(intake: Intake) -> None:
    viral = _open(intake, report(batched=VIRAL_BATCH))
    assert _check_details(intake, viral, VIRAL_DETAILS_CASES) == []


def test_appendix_e_finish_takes_one_uploaded_file(intake: Intake) -> None:
    """E.1: more than 1 uploaded file fails /finish with HTTP 400 and application status
    4100; the reporter then retracts the report. With 1 file the report finishes."""
    viral = _open(intake, report(batched=VIRAL_BATCH))
    _upload(intake, viral, b"benign one\n" * 20)
    _upload(intake, viral, b"benign two\n" * 20)
    refused = intake.post_form("finish", {"id": viral})
    assert refused.status_code == 400
    assert _code(refused, "finish") == VALIDATION_FAILED
    assert _code(intake.post_form("retract", {"id": viral}), "retract") == SUCCESS

    single = _open(intake, report(batched=VIRAL_BATCH))
    _upload(intake, single, b"benign one\n" * 20)
    assert _code(intake.post_form("finish", {"id": single}), "finish") == SUCCESS


# --- the transactions (sections 3, 5, 6, 7 and Appendix D) ------------------------------------


def test_status(intake: Intake) -> None:
    """Section 7.1: code 0 and "Remote User : {username}, Remote Ip : {ip address}"."""
    answer = intake.client.get("/ispws/status", headers=basic())
    root = _answer(answer, "status")
    assert root.findtext("responseCode") == SUCCESS
    assert (root.findtext("responseDescription") or "").startswith(
        f"Remote User : {USERNAME}, Remote Ip : "
    )


def test_authentication_is_required_everywhere(intake: Intake) -> None:
    """Section 2: authentication is required; Appendix D: 2000 Authentication required."""
    for endpoint in ("status", "submit", "upload", "fileinfo", "finish", "retract"):
        method = intake.client.get if endpoint == "status" else intake.client.post
        answer = method(f"/ispws/{endpoint}", headers=basic(password="wrong-password"))
        assert _code(answer, endpoint) == "2000", endpoint


def test_xsd_is_the_schema(intake: Intake) -> None:
    """Section 3: GET /xsd downloads the latest XML schema definition."""
    answer = intake.client.get("/ispws/xsd", headers=basic())
    assert answer.status_code == 200
    schema = etree.XMLSchema(etree.fromstring(answer.content))
    assert schema.validate(etree.fromstring(report_xml()))


def test_submit_takes_one_document(intake: Intake) -> None:
    """Section 3: only one XML document may be submitted per request (4110 Malformed XML)."""
    twice = report_xml() + report_xml().split(b"?>", 1)[1]
    assert _code(intake.post_xml("submit", twice), "submit") == "4110"


def test_upload_fileinfo_finish(intake: Intake) -> None:
    """Sections 5 and 6: one file with details and one without, then finish."""
    report_id = _open(intake)
    first = _upload(intake, report_id, b"benign first\n" * 20)
    second = _upload(intake, report_id, b"benign second\n" * 20)
    assert first != second
    described = intake.post_xml("fileinfo", file_details_xml(report_id, first))
    root = _answer(described, "fileinfo")
    assert (root.findtext("responseCode"), root.findtext("reportId")) == (SUCCESS, report_id)
    # Section 3: file details may be made once per uploaded file.
    assert (
        _code(intake.post_xml("fileinfo", file_details_xml(report_id, first)), "fileinfo")
        != SUCCESS
    )
    # Appendix D: 5002 File does not exist.
    assert (
        _code(intake.post_xml("fileinfo", file_details_xml(report_id, "0" * 32)), "fileinfo")
        == "5002"
    )
    finished = _answer(intake.post_form("finish", {"id": report_id}), "finish")
    assert finished.findtext("responseCode") == SUCCESS
    assert finished.findtext("reportId") == report_id
    assert [f.text for f in finished.iterfind("files/fileId")] == [first, second]


def test_nothing_changes_after_finish(intake: Intake) -> None:
    """Section 3: once finished, no files or file details are added and the report cannot be
    cancelled; Appendix D: 5102 Report already finished."""
    report_id = _open(intake)
    file_id = _upload(intake, report_id, b"benign\n" * 20)
    assert _code(intake.post_form("finish", {"id": report_id}), "finish") == SUCCESS
    late = intake.post_form("upload", {"id": report_id}, {"file": ("b.jpg", b"late")})
    assert _code(late, "upload") == "5102"
    assert (
        _code(intake.post_xml("fileinfo", file_details_xml(report_id, file_id)), "fileinfo")
        == "5102"
    )
    assert _code(intake.post_form("retract", {"id": report_id}), "retract") == "5102"
    assert _code(intake.post_form("finish", {"id": report_id}), "finish") == "5102"


def test_retract(intake: Intake) -> None:
    """Sections 5 and 6.5: retract after an upload; Appendix D: 5101 Report already
    retracted afterwards, whichever endpoint is asked."""
    report_id = _open(intake)
    _upload(intake, report_id, b"benign\n" * 20)
    root = _answer(intake.post_form("retract", {"id": report_id}), "retract")
    assert (root.findtext("responseCode"), root.findtext("reportId")) == (SUCCESS, report_id)
    assert _code(intake.post_form("finish", {"id": report_id}), "finish") == "5101"
    assert _code(intake.post_form("retract", {"id": report_id}), "retract") == "5101"
    again = intake.post_form("upload", {"id": report_id}, {"file": ("b.jpg", b"late")})
    assert _code(again, "upload") == "5101"


def test_reports_that_do_not_exist(intake: Intake) -> None:
    """Section 3: an upload needs a report opened before; Appendix D: 5001 Report does not
    exist, each answer in its endpoint's document (section 4)."""
    for endpoint in ("upload", "finish", "retract"):
        files = {"file": ("a.jpg", b"benign")} if endpoint == "upload" else None
        answer = intake.post_form(endpoint, {"id": "987654321"}, files)
        assert _code(answer, endpoint) == "5001", endpoint
    assert (
        _code(intake.post_xml("fileinfo", file_details_xml("987654321", "0" * 32)), "fileinfo")
        == "5001"
    )


def test_finish_refusals_are_report_done_responses(intake: Intake) -> None:
    """Section 4: <reportDoneResponse> is the root of the response to a /finish request;
    it carries the report ID (Appendix D.2) also when the finish is refused."""
    report_id = _open(intake)
    assert _code(intake.post_form("retract", {"id": report_id}), "retract") == SUCCESS
    refused = _answer(intake.post_form("finish", {"id": report_id}), "finish")
    assert refused.findtext("reportId") == report_id
    assert _code(intake.post_form("finish", {}), "finish") not in ("", SUCCESS)
    assert _code(intake.post_form("finish", {"id": "not a number"}), "finish") not in ("", SUCCESS)
