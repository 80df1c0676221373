"""The report model written as XML: many generated reports and file details (hypothesis),
every kind of internet detail and person, all valid against NCMEC's report.xsd, elements
in the schema's order and values in the forms the schema needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.reporting.cybertipline.model import (
    AccountPermanentlyDisabled,
    AccountTemporarilyDisabled,
    Address,
    AssociatedAccount,
    AssociatedPlatform,
    BatchedReport,
    CellPhoneIncident,
    ChatImIncident,
    ContactPerson,
    Details,
    DeviceId,
    Email,
    EmailIncident,
    EstimatedLocation,
    FileAnnotations,
    FileDetailsModel,
    IncidentSummary,
    IntendedRecipient,
    InternetDetails,
    IpCaptureEvent,
    LawEnforcement,
    NameValuePair,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    OriginalFileHash,
    Peer2PeerIncident,
    Person,
    PersonOrUserReported,
    Phone,
    ReportAnnotations,
    Reporter,
    ReportModel,
    ServedLegalProcessInternational,
    Victim,
    WebPageIncident,
)
from vigil.reporting.cybertipline.schema import safe_parse, validate
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml, xml_datetime
from vigil.store.shared.vocabulary import FILE_ANNOTATIONS, INCIDENT_TYPES, INDUSTRY_CLASSIFICATIONS

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- strategies: every field the schema has, with values of the kinds it accepts -----------

words = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x2FFF, blacklist_categories=("Cs", "Cc")),
    min_size=1,
    max_size=20,
)
maybe_words = st.none() | words
some_words = st.lists(words, max_size=2).map(tuple)
flag_or_none = st.none() | st.booleans()
moments = st.datetimes(
    min_value=datetime(2001, 1, 1),
    max_value=datetime(2024, 12, 31),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
    ),
)
maybe_moment = st.none() | moments
days = st.dates(min_value=date(1950, 1, 1), max_value=date(2020, 12, 31))
report_ids = st.integers(min_value=1, max_value=2**62)
countries = st.sampled_from(["US", "GB", "DE", "CA", "A1", ""])
events = st.sampled_from(["Login", "Registration", "Purchase", "Upload", "Other", "Unknown"])
ips = st.ip_addresses().map(str)
emails = st.builds(
    Email,
    address=st.emails(),
    type=st.none() | st.sampled_from(["Home", "Work", "Business", "Recovery"]),
    verified=flag_or_none,
    verification_date=maybe_moment,
)
phones = st.builds(
    Phone,
    number=st.from_regex(r"\A[0-9 ]{4,15}\Z"),
    type=st.none()
    | st.sampled_from(["Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery"]),
    verified=flag_or_none,
    verification_date=maybe_moment,
    country_calling_code=st.none() | st.from_regex(r"\A\+[0-9]{1,3}\Z"),
    extension=st.none() | st.from_regex(r"\A[0-9]{1,10}\Z"),
)
addresses = st.builds(
    Address,
    address=maybe_words,
    city=maybe_words,
    zip_code=maybe_words,
    state=st.none() | st.sampled_from(["AK", "AL", "CA", ""]),
    non_usa_state=maybe_words,
    country=st.none() | countries,
    type=st.none() | st.sampled_from(["Home", "Business", "Billing", "Shipping", "Technical"]),
)
persons = st.builds(
    Person,
    first_name=maybe_words,
    last_name=maybe_words,
    phone=st.lists(phones, max_size=2).map(tuple),
    email=st.lists(emails, max_size=2).map(tuple),
    address=st.lists(addresses, max_size=1).map(tuple),
    age=st.none() | st.integers(0, 150),
    date_of_birth=st.none() | days,
)
contacts = st.builds(
    ContactPerson,
    first_name=maybe_words,
    last_name=maybe_words,
    phone=st.lists(phones, max_size=1).map(tuple),
    email=st.lists(emails, max_size=1).map(tuple),
    address=st.lists(addresses, max_size=1).map(tuple),
)
ip_events = st.builds(
    IpCaptureEvent,
    ip_address=ips,
    event_name=st.none() | events,
    date_time=maybe_moment,
    possible_proxy=flag_or_none,
    port=st.none() | st.integers(1, 65535),
)
device_ids = st.builds(
    DeviceId,
    id_type=st.sampled_from(["IMEI", "ICCID", "SSID"]),
    id_value=words,
    event_name=st.none() | events,
    date_time=maybe_moment,
)
locations = st.builds(
    EstimatedLocation,
    city=maybe_words,
    region=maybe_words,
    country_code=st.none() | countries,
    verified=flag_or_none,
    timestamp=maybe_moment,
)
temporarily = st.none() | st.builds(
    AccountTemporarilyDisabled,
    disabled=st.booleans(),
    disabled_date=maybe_moment,
    user_notified=flag_or_none,
    user_notified_date=maybe_moment,
    reenabled_date=maybe_moment,
)
permanently = st.none() | st.builds(
    AccountPermanentlyDisabled,
    disabled=st.booleans(),
    disabled_date=maybe_moment,
    user_notified=flag_or_none,
    user_notified_date=maybe_moment,
)
prior_reports = st.lists(report_ids, max_size=2).map(tuple)
associated = st.builds(
    AssociatedAccount,
    type=st.sampled_from(["Billing", "Linked", "Business", "Creator", "Parent/Guardian", "Other"]),
    platform=st.none() | st.builds(AssociatedPlatform, name=words, third_party_user=flag_or_none),
    first_name=maybe_words,
    middle_name=maybe_words,
    last_name=maybe_words,
    approximate_age=st.none() | st.integers(0, 150),
    date_of_birth=st.none() | days,
    phone=st.lists(phones, max_size=1).map(tuple),
    email=st.lists(emails, max_size=1).map(tuple),
    all_emails_reported=flag_or_none,
    address=st.lists(addresses, max_size=1).map(tuple),
    esp_service=maybe_words,
    esp_identifier=maybe_words,
    profile_url=some_words,
    screen_name=maybe_words,
    display_name=some_words,
    profile_bio=maybe_words,
    group_identifier=maybe_words,
    compromised_account=flag_or_none,
    account_temporarily_disabled=temporarily,
    account_permanently_disabled=permanently,
    ip_capture_event=st.lists(ip_events, max_size=2).map(tuple),
    device_id=st.lists(device_ids, max_size=1).map(tuple),
    prior_ct_report=prior_reports,
    additional_info=maybe_words,
)
incidents = st.one_of(
    st.builds(
        WebPageIncident,
        url=some_words,
        additional_info=maybe_words,
        third_party_hosted_content=flag_or_none,
    ),
    st.builds(
        EmailIncident,
        email_address=st.lists(emails, max_size=2).map(tuple),
        content=maybe_words,
        additional_info=maybe_words,
    ),
    st.builds(
        NewsgroupIncident,
        name=maybe_words,
        email_address=st.lists(emails, max_size=1).map(tuple),
        content=maybe_words,
        additional_info=maybe_words,
    ),
    st.builds(
        ChatImIncident,
        chat_client=maybe_words,
        chat_room_name=maybe_words,
        content=maybe_words,
        additional_info=maybe_words,
    ),
    st.builds(
        OnlineGamingIncident,
        game_name=maybe_words,
        console=maybe_words,
        content=maybe_words,
        additional_info=maybe_words,
    ),
    st.builds(
        CellPhoneIncident,
        phone_number=st.none() | phones,
        latitude=st.none() | st.floats(-90, 90),
        longitude=st.none() | st.floats(-180, 180),
        additional_info=maybe_words,
    ),
    st.builds(
        NonInternetIncident,
        location_name=maybe_words,
        incident_address=st.lists(addresses, max_size=2).map(tuple),
        additional_info=maybe_words,
    ),
    st.builds(
        Peer2PeerIncident,
        client=maybe_words,
        ip_capture_event=st.lists(ip_events, max_size=2).map(tuple),
        file_names=maybe_words,
        additional_info=maybe_words,
    ),
)
people_fields = {
    "esp_identifier": maybe_words,
    "esp_service": maybe_words,
    "compromised_account": flag_or_none,
    "screen_name": maybe_words,
    "display_name": some_words,
    "profile_url": some_words,
    "profile_bio": maybe_words,
    "ip_capture_event": st.lists(ip_events, max_size=2).map(tuple),
    "device_id": st.lists(device_ids, max_size=1).map(tuple),
    "prior_ct_reports": prior_reports,
    "account_temporarily_disabled": temporarily,
    "account_permanently_disabled": permanently,
    "estimated_location": st.none() | locations,
    "all_emails_reported": flag_or_none,
}
reported_users = st.builds(
    PersonOrUserReported,
    person=st.none() | persons,
    vehicle_description=maybe_words,
    third_party_user_reported=flag_or_none,
    group_identifier=maybe_words,
    associated_account=st.lists(associated, max_size=1).map(tuple),
    additional_info=maybe_words,
    **people_fields,
)
recipients = st.builds(
    IntendedRecipient,
    person=st.none() | persons,
    group_identifier=maybe_words,
    additional_info=some_words,
    **people_fields,
)
victims = st.builds(
    Victim,
    person=persons,
    school_name=maybe_words,
    associated_account=st.lists(associated, max_size=1).map(tuple),
    additional_info=maybe_words,
    **people_fields,
)
summaries = st.builds(
    IncidentSummary,
    incident_type=st.sampled_from(INCIDENT_TYPES),
    platform=maybe_words,
    escalate_to_high_priority=maybe_words,
    report_annotations=st.none()
    | st.builds(
        ReportAnnotations,
        sextortion=st.booleans(),
        csam_solicitation=st.booleans(),
        minor_to_minor_interaction=st.booleans(),
        spam=st.booleans(),
        sadistic_online_exploitation=st.booleans(),
    ),
    incident_date_time=moments,
    incident_date_time_description=maybe_words,
)
law_enforcement = st.builds(
    LawEnforcement,
    agency_name=words,
    case_number=maybe_words,
    officer_contact=st.none() | contacts,
    reported_to_le=flag_or_none,
    served_legal_process_domestic=flag_or_none,
    served_legal_process_international=st.none()
    | st.builds(
        ServedLegalProcessInternational, served=st.booleans(), flea_country=st.none() | countries
    ),
)
reporters = st.builds(
    Reporter,
    reporting_person=persons.map(
        lambda p: Person(
            first_name=p.first_name,
            last_name=p.last_name,
            email=p.email or (Email(address="safety@example.org"),),
        )
    ),
    contact_person=st.none() | contacts,
    company_template=maybe_words,
    terms_of_service=maybe_words,
    legal_url=maybe_words,
)
reports = st.builds(
    ReportModel,
    batched_report=st.none() | st.just(BatchedReport(reason="VIRAL_POTENTIAL_MEME")),
    incident_summary=summaries,
    internet_details=st.lists(st.builds(InternetDetails, incident=incidents), max_size=3).map(
        tuple
    ),
    law_enforcement=st.none() | law_enforcement,
    reporter=reporters,
    person_or_user_reported=st.lists(reported_users, max_size=2).map(tuple),
    intended_recipient=st.lists(recipients, max_size=1).map(tuple),
    victim=st.lists(victims, max_size=1).map(tuple),
    additional_info=maybe_words,
)
annotation_sets = st.lists(st.sampled_from(list(FILE_ANNOTATIONS)), unique=True)
hex_digests = st.from_regex(r"\A[0-9a-f]{32,64}\Z")
file_details = st.builds(
    FileDetailsModel,
    report_id=report_ids,
    file_id=st.from_regex(r"\A[0-9a-f]{32}\Z"),
    file_name=maybe_words,
    original_file_name=maybe_words,
    uploaded_to_esp_timestamp=maybe_moment,
    location_of_file=maybe_words,
    file_viewed_by_esp=flag_or_none,
    exif_viewed_by_esp=flag_or_none,
    publicly_available=flag_or_none,
    file_relevance=st.none() | st.sampled_from(["Reported", "Supplemental Reported"]),
    file_annotations=st.none() | annotation_sets.map(FileAnnotations.from_names),
    industry_classification=st.none() | st.sampled_from(INDUSTRY_CLASSIFICATIONS),
    original_file_hash=st.lists(
        st.builds(
            OriginalFileHash, value=hex_digests, hash_type=st.sampled_from(["MD5", "SHA256"])
        ),
        max_size=2,
    ).map(tuple),
    ip_capture_event=st.none() | ip_events,
    device_id=st.lists(device_ids, max_size=1).map(tuple),
    details=st.lists(
        st.builds(
            Details,
            type=st.none() | st.sampled_from(["EXIF", "HASH"]),
            name_value_pair=st.lists(
                st.builds(NameValuePair, name=words, value=words), min_size=1, max_size=2
            ).map(tuple),
        ),
        max_size=1,
    ).map(tuple),
    additional_info=some_words,
)


# --- generated documents validate ----------------------------------------------------------


@EXAMPLES
@given(reports)
def test_generated_reports_are_valid_against_the_schema(model: ReportModel) -> None:
    xml = report_xml(model)
    assert validate(xml, root="report") == []
    root = safe_parse(xml)
    assert root.findtext("incidentSummary/incidentType") == model.incident_summary.incident_type
    assert len(root.findall("internetDetails")) == len(model.internet_details)
    assert len(root.findall("personOrUserReported")) == len(model.person_or_user_reported)


@EXAMPLES
@given(file_details)
def test_generated_file_details_are_valid_against_the_schema(model: FileDetailsModel) -> None:
    xml = file_details_xml(model)
    assert validate(xml, root="fileDetails") == []
    root = safe_parse(xml)
    assert root.findtext("reportId") == str(model.report_id)
    hashes = [(h.get("hashType"), h.text) for h in root.findall("originalFileHash")]
    assert hashes == [(h.hash_type, h.value) for h in model.original_file_hash]
    written = (
        [child.tag for child in root.find("fileAnnotations")] if model.file_annotations else []
    )
    assert written == (model.file_annotations.names() if model.file_annotations else [])


def test_every_kind_of_internet_detail_has_its_element() -> None:
    kinds = [
        WebPageIncident(url=("https://example.org/a",)),
        EmailIncident(),
        NewsgroupIncident(name="alt.example"),
        ChatImIncident(chat_client="chat"),
        OnlineGamingIncident(game_name="game"),
        CellPhoneIncident(latitude=1.5),
        NonInternetIncident(location_name="a park"),
        Peer2PeerIncident(client="p2p"),
    ]
    model = ReportModel(
        incident_summary=_summary(),
        internet_details=tuple(InternetDetails(incident=k) for k in kinds),
        reporter=_reporter(),
    )
    xml = report_xml(model)
    assert validate(xml) == []
    tags = [child[0].tag for child in safe_parse(xml).findall("internetDetails")]
    assert tags == [
        "webPageIncident",
        "emailIncident",
        "newsgroupIncident",
        "chatImIncident",
        "onlineGamingIncident",
        "cellPhoneIncident",
        "nonInternetIncident",
        "peer2peerIncident",
    ]


# --- order, forms and flags ----------------------------------------------------------------


def test_children_follow_the_schema_order_whatever_the_keyword_order() -> None:
    model = ReportModel(
        additional_info="note",
        victim=(Victim(person=Person(age=9)),),
        reporter=_reporter(),
        incident_summary=_summary(),
        batched_report=None,
        law_enforcement=LawEnforcement(agency_name="Agency"),
    )
    root = safe_parse(report_xml(model))
    assert [child.tag for child in root] == [
        "incidentSummary",
        "lawEnforcement",
        "reporter",
        "victim",
        "additionalInfo",
    ]
    assert [c.tag for c in root.find("incidentSummary")] == ["incidentType", "incidentDateTime"]


def test_datetimes_are_written_in_utc_with_a_zone() -> None:
    pacific = datetime(2012, 10, 15, 8, 0, tzinfo=timezone(timedelta(hours=-7)))
    assert xml_datetime(pacific) == "2012-10-15T15:00:00Z"
    assert (
        xml_datetime(datetime(2020, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == "2020-01-02T03:04:05.12Z"
    )


def test_a_datetime_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        report_xml(
            ReportModel(
                incident_summary=IncidentSummary(
                    incident_type=INCIDENT_TYPES[0], incident_date_time=datetime(2020, 1, 1)
                ),
                reporter=_reporter(),
            )
        )


def test_annotation_flags_are_written_only_when_set() -> None:
    details = FileDetailsModel(
        report_id=5, file_id="f1", file_annotations=FileAnnotations(viral=True, infant=True)
    )
    root = safe_parse(file_details_xml(details))
    assert [(c.tag, c.text) for c in root.find("fileAnnotations")] == [
        ("viral", "true"),
        ("infant", "true"),
    ]
    assert FileAnnotations.from_names(["infant", "viral", "nonsense"]) == FileAnnotations(
        viral=True, infant=True
    )


def test_text_is_escaped_not_interpreted() -> None:
    hostile = '<victim>&amp; ]]> "quoted"'
    model = ReportModel(incident_summary=_summary(), reporter=_reporter(), additional_info=hostile)
    xml = report_xml(model)
    assert validate(xml) == []
    root = safe_parse(xml)
    assert root.findtext("additionalInfo") == hostile and root.find("victim") is None


def _summary() -> IncidentSummary:
    return IncidentSummary(
        incident_type=INCIDENT_TYPES[0], incident_date_time=datetime(2024, 1, 1, tzinfo=UTC)
    )


def _reporter() -> Reporter:
    return Reporter(reporting_person=Person(email=(Email(address="safety@example.org"),)))
