"""The CyberTipline ``<report>`` and ``<fileDetails>`` documents as frozen dataclasses.

Every class mirrors one type of report.xsd: its fields are declared in the schema's order and
carry the XML name in their metadata (``element``, ``attribute``, ``text`` or ``flag``), so
the writer (xml_writer.py) walks them without knowing the schema. Optional values are
``None``, repeatable ones tuples. Datetimes must be timezone-aware (the API requires an
ISO 8601 time zone); the writer renders them in UTC.

Values are not checked here beyond what the types say: report.xsd is the authority and
schema.validate() tells a submitter, in plain words, what is wrong with a document.
"""

# The field helpers below return dataclasses.field(...), which RUF009 cannot see through.
# ruff: noqa: RUF009

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Literal

IpCaptureType = Literal["Login", "Registration", "Purchase", "Upload", "Other", "Unknown"]
AddressType = Literal["Home", "Business", "Billing", "Shipping", "Technical"]
EmailType = Literal["Home", "Work", "Business", "Recovery"]
PhoneType = Literal["Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery"]
AssociatedAccountType = Literal[
    "Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other"
]
FileRelevance = Literal["Reported", "Supplemental Reported"]
MetadataType = Literal["EXIF", "HASH"]
BatchedReportReason = Literal["VIRAL_POTENTIAL_MEME"]


# --- field declarations: the XML name and kind travel in the metadata ----------------------


def element(name: str) -> Any:
    """A required child element."""
    return field(metadata={"element": name})


def optional(name: str) -> Any:
    """A child element that may be absent (``None``)."""
    return field(default=None, metadata={"element": name})


def repeated(name: str) -> Any:
    """A child element that may occur any number of times (a tuple)."""
    return field(default=(), metadata={"element": name})


def attribute(name: str, *, required: bool = False) -> Any:
    if required:
        return field(metadata={"attribute": name})
    return field(default=None, metadata={"attribute": name})


def text() -> Any:
    """The element's own text (simple content with attributes)."""
    return field(metadata={"text": True})


def flag(name: str) -> Any:
    """An xs:boolean fixed="true" annotation: written only when set."""
    return field(default=False, metadata={"flag": name})


_FROZEN = {"frozen": True, "slots": True, "kw_only": True}


# --- common types (Appendix A) -------------------------------------------------------------


@dataclass(**_FROZEN)
class Phone:
    number: str = text()
    type: PhoneType | None = attribute("type")
    verified: bool | None = attribute("verified")
    verification_date: datetime | None = attribute("verificationDate")
    country_calling_code: str | None = attribute("countryCallingCode")  # "+1"
    extension: str | None = attribute("extension")


@dataclass(**_FROZEN)
class Email:
    address: str = text()
    type: EmailType | None = attribute("type")
    verified: bool | None = attribute("verified")
    verification_date: datetime | None = attribute("verificationDate")


@dataclass(**_FROZEN)
class Address:
    address: str | None = optional("address")
    city: str | None = optional("city")
    zip_code: str | None = optional("zipCode")
    state: str | None = optional("state")  # US postal abbreviation
    non_usa_state: str | None = optional("nonUsaState")
    country: str | None = optional("country")  # ISO 3166-1 alpha-2
    type: AddressType | None = attribute("type")


@dataclass(**_FROZEN)
class Person:
    first_name: str | None = optional("firstName")
    last_name: str | None = optional("lastName")
    phone: tuple[Phone, ...] = repeated("phone")
    email: tuple[Email, ...] = repeated("email")
    address: tuple[Address, ...] = repeated("address")
    age: int | None = optional("age")
    date_of_birth: date | None = optional("dateOfBirth")


@dataclass(**_FROZEN)
class ContactPerson:
    first_name: str | None = optional("firstName")
    last_name: str | None = optional("lastName")
    phone: tuple[Phone, ...] = repeated("phone")
    email: tuple[Email, ...] = repeated("email")
    address: tuple[Address, ...] = repeated("address")


@dataclass(**_FROZEN)
class IpCaptureEvent:
    ip_address: str = element("ipAddress")
    event_name: IpCaptureType | None = optional("eventName")
    date_time: datetime | None = optional("dateTime")
    possible_proxy: bool | None = optional("possibleProxy")
    port: int | None = optional("port")


@dataclass(**_FROZEN)
class DeviceId:
    id_type: str = element("idType")  # IMEI, ICCID, SSID, ...
    id_value: str = element("idValue")
    event_name: IpCaptureType | None = optional("eventName")
    date_time: datetime | None = optional("dateTime")


@dataclass(**_FROZEN)
class EstimatedLocation:
    city: str | None = optional("city")
    region: str | None = optional("region")
    country_code: str | None = optional("countryCode")
    verified: bool | None = attribute("verified")
    timestamp: datetime | None = attribute("timestamp")


@dataclass(**_FROZEN)
class AccountTemporarilyDisabled:
    disabled: bool = text()
    disabled_date: datetime | None = attribute("disabledDate")
    user_notified: bool | None = attribute("userNotified")
    user_notified_date: datetime | None = attribute("userNotifiedDate")
    reenabled_date: datetime | None = attribute("reenabledDate")


@dataclass(**_FROZEN)
class AccountPermanentlyDisabled:
    disabled: bool = text()
    disabled_date: datetime | None = attribute("disabledDate")
    user_notified: bool | None = attribute("userNotified")
    user_notified_date: datetime | None = attribute("userNotifiedDate")


@dataclass(**_FROZEN)
class AssociatedPlatform:
    name: str = text()
    third_party_user: bool | None = attribute("thirdPartyUser")


@dataclass(**_FROZEN)
class AssociatedAccount:
    type: AssociatedAccountType = attribute("type", required=True)
    platform: AssociatedPlatform | None = optional("platform")
    first_name: str | None = optional("firstName")
    middle_name: str | None = optional("middleName")
    last_name: str | None = optional("lastName")
    approximate_age: int | None = optional("approximateAge")
    date_of_birth: date | None = optional("dateOfBirth")
    phone: tuple[Phone, ...] = repeated("phone")
    email: tuple[Email, ...] = repeated("email")
    all_emails_reported: bool | None = optional("allEmailsReported")
    address: tuple[Address, ...] = repeated("address")
    esp_service: str | None = optional("espService")
    esp_identifier: str | None = optional("espIdentifier")
    profile_url: tuple[str, ...] = repeated("profileUrl")
    screen_name: str | None = optional("screenName")
    display_name: tuple[str, ...] = repeated("displayName")
    profile_bio: str | None = optional("profileBio")
    group_identifier: str | None = optional("groupIdentifier")
    compromised_account: bool | None = optional("compromisedAccount")
    account_temporarily_disabled: AccountTemporarilyDisabled | None = optional(
        "accountTemporarilyDisabled"
    )
    account_permanently_disabled: AccountPermanentlyDisabled | None = optional(
        "accountPermanentlyDisabled"
    )
    ip_capture_event: tuple[IpCaptureEvent, ...] = repeated("ipCaptureEvent")
    device_id: tuple[DeviceId, ...] = repeated("deviceId")
    prior_ct_report: tuple[int, ...] = repeated("priorCTReport")  # singular in the schema
    additional_info: str | None = optional("additionalInfo")


# --- report: incident summary --------------------------------------------------------------


@dataclass(**_FROZEN)
class BatchedReport:
    reason: BatchedReportReason = attribute("reason", required=True)


@dataclass(**_FROZEN)
class ReportAnnotations:
    sextortion: bool = flag("sextortion")
    csam_solicitation: bool = flag("csamSolicitation")
    minor_to_minor_interaction: bool = flag("minorToMinorInteraction")
    spam: bool = flag("spam")
    sadistic_online_exploitation: bool = flag("sadisticOnlineExploitation")


@dataclass(**_FROZEN)
class IncidentSummary:
    incident_type: str = element("incidentType")  # one of vocabulary.INCIDENT_TYPES
    platform: str | None = optional("platform")
    escalate_to_high_priority: str | None = optional("escalateToHighPriority")  # the reason
    report_annotations: ReportAnnotations | None = optional("reportAnnotations")
    incident_date_time: datetime = element("incidentDateTime")
    incident_date_time_description: str | None = optional("incidentDateTimeDescription")


# --- report: internet details (exactly one kind per InternetDetails) -----------------------


@dataclass(**_FROZEN)
class WebPageIncident:
    url: tuple[str, ...] = repeated("url")
    additional_info: str | None = optional("additionalInfo")
    third_party_hosted_content: bool | None = attribute("thirdPartyHostedContent")


@dataclass(**_FROZEN)
class EmailIncident:
    email_address: tuple[Email, ...] = repeated("emailAddress")
    content: str | None = optional("content")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class NewsgroupIncident:
    name: str | None = optional("name")
    email_address: tuple[Email, ...] = repeated("emailAddress")
    content: str | None = optional("content")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class ChatImIncident:
    chat_client: str | None = optional("chatClient")
    chat_room_name: str | None = optional("chatRoomName")
    content: str | None = optional("content")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class OnlineGamingIncident:
    game_name: str | None = optional("gameName")
    console: str | None = optional("console")
    content: str | None = optional("content")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class CellPhoneIncident:
    phone_number: Phone | None = optional("phoneNumber")
    latitude: float | None = optional("latitude")
    longitude: float | None = optional("longitude")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class NonInternetIncident:
    location_name: str | None = optional("locationName")
    incident_address: tuple[Address, ...] = repeated("incidentAddress")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class Peer2PeerIncident:
    client: str | None = optional("client")
    ip_capture_event: tuple[IpCaptureEvent, ...] = repeated("ipCaptureEvent")
    file_names: str | None = optional("fileNames")
    additional_info: str | None = optional("additionalInfo")


INCIDENT_ELEMENTS: dict[type, str] = {
    WebPageIncident: "webPageIncident",
    EmailIncident: "emailIncident",
    NewsgroupIncident: "newsgroupIncident",
    ChatImIncident: "chatImIncident",
    OnlineGamingIncident: "onlineGamingIncident",
    CellPhoneIncident: "cellPhoneIncident",
    NonInternetIncident: "nonInternetIncident",
    Peer2PeerIncident: "peer2peerIncident",
}

Incident = (
    WebPageIncident
    | EmailIncident
    | NewsgroupIncident
    | ChatImIncident
    | OnlineGamingIncident
    | CellPhoneIncident
    | NonInternetIncident
    | Peer2PeerIncident
)


@dataclass(**_FROZEN)
class InternetDetails:
    """An xs:choice: the writer names the child after the incident's class."""

    incident: Incident = field(metadata={"choice": INCIDENT_ELEMENTS})


# --- report: law enforcement and reporter --------------------------------------------------


@dataclass(**_FROZEN)
class ServedLegalProcessInternational:
    served: bool = text()
    flea_country: str | None = attribute("fleaCountry")  # foreign LE agency's country


@dataclass(**_FROZEN)
class LawEnforcement:
    agency_name: str = element("agencyName")
    case_number: str | None = optional("caseNumber")
    officer_contact: ContactPerson | None = optional("officerContact")
    reported_to_le: bool | None = optional("reportedToLe")
    served_legal_process_domestic: bool | None = optional("servedLegalProcessDomestic")
    served_legal_process_international: ServedLegalProcessInternational | None = optional(
        "servedLegalProcessInternational"
    )


@dataclass(**_FROZEN)
class Reporter:
    reporting_person: Person = element("reportingPerson")  # the API requires its email
    contact_person: ContactPerson | None = optional("contactPerson")
    company_template: str | None = optional("companyTemplate")
    terms_of_service: str | None = optional("termsOfService")
    legal_url: str | None = optional("legalURL")


# --- report: the people --------------------------------------------------------------------


@dataclass(**_FROZEN)
class PersonOrUserReported:
    person: Person | None = optional("personOrUserReportedPerson")
    vehicle_description: str | None = optional("vehicleDescription")
    esp_identifier: str | None = optional("espIdentifier")
    esp_service: str | None = optional("espService")
    compromised_account: bool | None = optional("compromisedAccount")
    screen_name: str | None = optional("screenName")
    display_name: tuple[str, ...] = repeated("displayName")
    profile_url: tuple[str, ...] = repeated("profileUrl")
    profile_bio: str | None = optional("profileBio")
    ip_capture_event: tuple[IpCaptureEvent, ...] = repeated("ipCaptureEvent")
    device_id: tuple[DeviceId, ...] = repeated("deviceId")
    third_party_user_reported: bool | None = optional("thirdPartyUserReported")
    prior_ct_reports: tuple[int, ...] = repeated("priorCTReports")
    group_identifier: str | None = optional("groupIdentifier")
    account_temporarily_disabled: AccountTemporarilyDisabled | None = optional(
        "accountTemporarilyDisabled"
    )
    account_permanently_disabled: AccountPermanentlyDisabled | None = optional(
        "accountPermanentlyDisabled"
    )
    estimated_location: EstimatedLocation | None = optional("estimatedLocation")
    all_emails_reported: bool | None = optional("allEmailsReported")
    associated_account: tuple[AssociatedAccount, ...] = repeated("associatedAccount")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class IntendedRecipient:
    person: Person | None = optional("intendedRecipientPerson")
    esp_identifier: str | None = optional("espIdentifier")
    esp_service: str | None = optional("espService")
    compromised_account: bool | None = optional("compromisedAccount")
    screen_name: str | None = optional("screenName")
    display_name: tuple[str, ...] = repeated("displayName")
    profile_url: tuple[str, ...] = repeated("profileUrl")
    profile_bio: str | None = optional("profileBio")
    ip_capture_event: tuple[IpCaptureEvent, ...] = repeated("ipCaptureEvent")
    device_id: tuple[DeviceId, ...] = repeated("deviceId")
    prior_ct_reports: tuple[int, ...] = repeated("priorCTReports")
    group_identifier: str | None = optional("groupIdentifier")
    account_temporarily_disabled: AccountTemporarilyDisabled | None = optional(
        "accountTemporarilyDisabled"
    )
    account_permanently_disabled: AccountPermanentlyDisabled | None = optional(
        "accountPermanentlyDisabled"
    )
    estimated_location: EstimatedLocation | None = optional("estimatedLocation")
    all_emails_reported: bool | None = optional("allEmailsReported")
    additional_info: tuple[str, ...] = repeated("additionalInfo")  # repeatable here only


@dataclass(**_FROZEN)
class Victim:
    person: Person = element("victimPerson")
    esp_identifier: str | None = optional("espIdentifier")
    esp_service: str | None = optional("espService")
    compromised_account: bool | None = optional("compromisedAccount")
    screen_name: str | None = optional("screenName")
    display_name: tuple[str, ...] = repeated("displayName")
    profile_url: tuple[str, ...] = repeated("profileUrl")
    profile_bio: str | None = optional("profileBio")
    ip_capture_event: tuple[IpCaptureEvent, ...] = repeated("ipCaptureEvent")
    device_id: tuple[DeviceId, ...] = repeated("deviceId")
    school_name: str | None = optional("schoolName")
    prior_ct_reports: tuple[int, ...] = repeated("priorCTReports")
    account_temporarily_disabled: AccountTemporarilyDisabled | None = optional(
        "accountTemporarilyDisabled"
    )
    account_permanently_disabled: AccountPermanentlyDisabled | None = optional(
        "accountPermanentlyDisabled"
    )
    estimated_location: EstimatedLocation | None = optional("estimatedLocation")
    all_emails_reported: bool | None = optional("allEmailsReported")
    associated_account: tuple[AssociatedAccount, ...] = repeated("associatedAccount")
    additional_info: str | None = optional("additionalInfo")


# --- the two documents ---------------------------------------------------------------------


@dataclass(**_FROZEN)
class ReportModel:
    """The ``<report>`` document opened with /submit."""

    batched_report: BatchedReport | None = optional("batchedReport")
    incident_summary: IncidentSummary = element("incidentSummary")
    internet_details: tuple[InternetDetails, ...] = repeated("internetDetails")
    law_enforcement: LawEnforcement | None = optional("lawEnforcement")
    reporter: Reporter = element("reporter")
    person_or_user_reported: tuple[PersonOrUserReported, ...] = repeated("personOrUserReported")
    intended_recipient: tuple[IntendedRecipient, ...] = repeated("intendedRecipient")
    victim: tuple[Victim, ...] = repeated("victim")
    additional_info: str | None = optional("additionalInfo")


@dataclass(**_FROZEN)
class FileAnnotations:
    anime_drawing_virtual_hentai: bool = flag("animeDrawingVirtualHentai")
    potential_meme: bool = flag("potentialMeme")
    viral: bool = flag("viral")
    possible_self_production: bool = flag("possibleSelfProduction")
    physical_harm: bool = flag("physicalHarm")
    violence_gore: bool = flag("violenceGore")
    bestiality: bool = flag("bestiality")
    live_streaming: bool = flag("liveStreaming")
    infant: bool = flag("infant")
    generative_ai: bool = flag("generativeAi")

    @classmethod
    def from_names(cls, names: tuple[str, ...] | list[str]) -> FileAnnotations:
        """From the schema's names (CaseItem.annotations); unknown names are ignored."""
        by_xml = {f.metadata["flag"]: f.name for f in _fields(cls)}
        return cls(**{by_xml[name]: True for name in names if name in by_xml})

    def names(self) -> list[str]:
        """The set annotations' schema names, in the schema's order."""
        return [f.metadata["flag"] for f in _fields(type(self)) if getattr(self, f.name)]


@dataclass(**_FROZEN)
class OriginalFileHash:
    value: str = text()
    hash_type: str = attribute("hashType", required=True)  # "MD5", "SHA1", "SHA256", ...


@dataclass(**_FROZEN)
class NameValuePair:
    name: str = element("name")
    value: str = element("value")


@dataclass(**_FROZEN)
class Details:
    name_value_pair: tuple[NameValuePair, ...] = repeated("nameValuePair")  # one or more
    type: MetadataType | None = attribute("type")


@dataclass(**_FROZEN)
class FileDetailsModel:
    """The ``<fileDetails>`` document sent with /fileinfo. ``report_id`` and ``file_id`` are
    assigned by the clearinghouse (/submit, /upload): ``None`` until then."""

    report_id: int | None = optional("reportId")
    file_id: str | None = optional("fileId")
    file_name: str | None = optional("fileName")
    original_file_name: str | None = optional("originalFileName")
    uploaded_to_esp_timestamp: datetime | None = optional("uploadedToEspTimestamp")
    location_of_file: str | None = optional("locationOfFile")
    file_viewed_by_esp: bool | None = optional("fileViewedByEsp")
    exif_viewed_by_esp: bool | None = optional("exifViewedByEsp")
    publicly_available: bool | None = optional("publiclyAvailable")
    file_relevance: FileRelevance | None = optional("fileRelevance")
    # The schema offers a choice of the two: the older potentialMeme or fileAnnotations.
    potential_meme: bool | None = optional("potentialMeme")
    file_annotations: FileAnnotations | None = optional("fileAnnotations")
    industry_classification: str | None = optional("industryClassification")  # A1..B2
    original_file_hash: tuple[OriginalFileHash, ...] = repeated("originalFileHash")
    ip_capture_event: IpCaptureEvent | None = optional("ipCaptureEvent")
    device_id: tuple[DeviceId, ...] = repeated("deviceId")
    details: tuple[Details, ...] = repeated("details")
    additional_info: tuple[str, ...] = repeated("additionalInfo")


def _fields(cls: type) -> tuple[Any, ...]:
    return fields(cls)
