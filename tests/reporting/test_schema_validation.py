"""Validation against report.xsd in plain words, and safe parsing of untrusted XML: entity
bombs, external entities and oversized documents are refused or inert, never expanded."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.reporting.test_cybertipline_xml import reports
from vigil.core.xml import MAX_XML_BYTES, hardened_parser
from vigil.reporting.cybertipline import schema
from vigil.reporting.cybertipline.model import (
    Email,
    FileDetailsModel,
    IncidentSummary,
    OriginalFileHash,
    Person,
    Reporter,
    ReportModel,
)
from vigil.reporting.cybertipline.schema import (
    INCIDENT_TYPE_MISSING,
    UnsafeXml,
    report_schema,
    safe_parse,
    validate,
)
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml
from vigil.store.shared.vocabulary import INCIDENT_TYPES

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "cybertipline"


def valid_report() -> bytes:
    return report_xml(
        ReportModel(
            incident_summary=IncidentSummary(
                incident_type=INCIDENT_TYPES[0], incident_date_time=datetime(2024, 1, 1, tzinfo=UTC)
            ),
            reporter=Reporter(reporting_person=Person(email=(Email(address="a@example.org"),))),
        )
    )


def messages(xml: bytes, **kwargs: str) -> list[str]:
    return [p.message for p in validate(xml, **kwargs)]


# --- the shipped schema --------------------------------------------------------------------


def test_the_shipped_schema_is_the_published_one() -> None:
    shipped = Path(schema.__file__).with_name("report.xsd").read_bytes()
    assert shipped == (REFERENCE / "report.xsd").read_bytes()
    assert report_schema() is report_schema()  # loaded once


def test_the_documentation_example_report_is_valid() -> None:
    example = b"""<?xml version="1.0" encoding="UTF-8"?>
<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:noNamespaceSchemaLocation="https://report.cybertip.org/ispws/xsd">
    <incidentSummary>
        <incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>
        <reportAnnotations><sextortion /><spam /></reportAnnotations>
        <incidentDateTime>2012-10-15T08:00:00-07:00</incidentDateTime>
    </incidentSummary>
    <internetDetails><webPageIncident><url>http://x.example/a</url></webPageIncident>
    </internetDetails>
    <reporter><reportingPerson><firstName>John</firstName><lastName>Smith</lastName>
        <email>jsmith@example.com</email></reportingPerson></reporter>
</report>"""
    assert validate(example, root="report") == []


# --- invalid documents: problems in plain words, never an exception ------------------------


def test_a_missing_incident_type_is_named_plainly() -> None:
    xml = valid_report().replace(f"<incidentType>{INCIDENT_TYPES[0]}</incidentType>".encode(), b"")
    assert messages(xml) == [INCIDENT_TYPE_MISSING]


def test_an_unknown_incident_type_lists_the_eight() -> None:
    xml = valid_report().replace(INCIDENT_TYPES[0].encode(), b"Something else")
    [message] = messages(xml)
    assert "'Something else' is not one of the eight CyberTipline incident types" in message
    assert all(kind in message for kind in INCIDENT_TYPES)


def test_a_bad_enumeration_value_names_the_place_and_the_choices() -> None:
    xml = file_details_xml(
        FileDetailsModel(
            report_id=1, file_id="f", file_relevance="Maybe", industry_classification="C9"
        )
    )  # type: ignore[arg-type]
    found = validate(xml)
    assert [p.path for p in found] == [
        "/fileDetails/fileRelevance",
        "/fileDetails/industryClassification",
    ]
    assert "'Maybe' is not one of the accepted values" in found[0].message
    assert "'Reported', 'Supplemental Reported'" in found[0].message
    assert found[1].message.startswith("fileDetails/industryClassification: 'C9'")
    assert all(p.line and p.line > 1 for p in found)


def test_elements_out_of_order_say_what_was_expected() -> None:
    xml = valid_report()
    root = safe_parse(xml)
    root.insert(0, root.find("reporter"))  # reporter before incidentSummary
    from lxml import etree

    [message] = messages(etree.tostring(root))
    assert "<reporter> is not allowed here" in message
    assert "schema's order" in message and "incidentSummary" in message


def test_a_missing_required_element_is_required() -> None:
    xml = file_details_xml(FileDetailsModel(file_id="abc"))
    assert messages(xml) == ["fileDetails: reportId is required (found <fileId> where it belongs)."]
    xml = file_details_xml(FileDetailsModel(report_id=3))
    assert messages(xml) == ["fileDetails: fileId is required."]


def test_type_errors_say_which_form_is_needed() -> None:
    good = valid_report()
    bad_time = good.replace(b"2024-01-01T00:00:00Z", b"yesterday")
    [message] = messages(bad_time)
    assert message.startswith("report/incidentSummary/incidentDateTime: the value 'yesterday'")
    assert "with a time zone" in message
    xml = file_details_xml(FileDetailsModel(report_id=1, file_id="x", file_viewed_by_esp=True))
    [message] = messages(xml.replace(b">true<", b">perhaps<"))
    assert "must be true or false" in message


def test_a_missing_attribute_and_a_false_annotation_are_explained() -> None:
    xml = file_details_xml(
        FileDetailsModel(
            report_id=1,
            file_id="x",
            original_file_hash=(OriginalFileHash(value="ab", hash_type="MD5"),),
        )
    )
    [message] = messages(xml.replace(b' hashType="MD5"', b""))
    assert message == "fileDetails/originalFileHash: the hashType attribute is required."
    annotated = (
        b"<fileDetails><reportId>1</reportId><fileId>x</fileId>"
        b"<fileAnnotations><viral>false</viral></fileAnnotations></fileDetails>"
    )
    [message] = messages(annotated)
    assert "leave it out" in message


def test_the_wrong_document_and_unknown_roots_are_reported() -> None:
    assert "Expected a <fileDetails> document" in messages(valid_report(), root="fileDetails")[0]
    [message] = messages(b"<invoice><total>3</total></invoice>")
    assert "not a CyberTipline document" in message


@pytest.mark.parametrize("junk", [b"", b"not xml", b"<report>", b"\xff\xfe<r/>", b"<a></b>"])
def test_malformed_input_is_a_problem_not_an_exception(junk: bytes) -> None:
    [problem] = validate(junk)
    assert problem.message.startswith("The document cannot be read")
    assert "Traceback" not in problem.message


def test_non_bytes_input_is_a_problem() -> None:
    [problem] = validate("<report/>")  # type: ignore[arg-type]
    assert "must be bytes" in problem.message


@settings(max_examples=40, deadline=None)
@given(reports, st.data())
def test_dropping_the_incident_type_from_any_report_is_caught(
    model: ReportModel, data: st.DataObject
) -> None:
    root = safe_parse(report_xml(model))
    summary = root.find("incidentSummary")
    summary.remove(summary.find("incidentType"))
    from lxml import etree

    assert INCIDENT_TYPE_MISSING in messages(etree.tostring(root))


# --- hostile XML ---------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<reportResponse><responseCode>0</responseCode><responseDescription>&lol4;</responseDescription>
</reportResponse>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<reportResponse><responseCode>0</responseCode><responseDescription>&xxe;</responseDescription>
</reportResponse>"""

NETWORK_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">
<reportResponse><responseCode>0</responseCode><responseDescription>x</responseDescription>
</reportResponse>"""


@pytest.mark.parametrize(
    "hostile",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        NETWORK_DTD,
        BILLION_LAUGHS.replace(b"DOCTYPE", b"doctype"),
        EXTERNAL_ENTITY.decode().encode("utf-16"),
    ],
)
def test_documents_with_entities_or_a_dtd_are_refused(hostile: bytes) -> None:
    with pytest.raises(UnsafeXml):
        safe_parse(hostile)
    [problem] = validate(hostile)
    assert "root:" not in problem.message  # nothing of /etc/passwd leaks


def test_an_external_entity_is_never_resolved_even_past_the_byte_check() -> None:
    # Parsed by the same parser directly: the entity stays a reference, the file unread.
    from lxml import etree

    root = etree.fromstring(EXTERNAL_ENTITY, parser=hardened_parser())
    assert "root:" not in "".join(root.itertext())


def test_an_oversized_document_is_refused_before_parsing() -> None:
    huge = (
        b"<reportResponse><responseDescription>"
        + b"a" * MAX_XML_BYTES
        + b"</responseDescription></reportResponse>"
    )
    with pytest.raises(UnsafeXml, match="larger than"):
        safe_parse(huge)
    assert "larger than" in validate(huge)[0].message


def test_deep_nesting_is_refused_not_crashing() -> None:
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    with pytest.raises(UnsafeXml):
        safe_parse(deep)


def test_a_plain_response_parses() -> None:
    root = safe_parse(
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b"<reportResponse><responseCode>0</responseCode>"
        b"<responseDescription>Success</responseDescription>"
        b"<reportId>4564654</reportId></reportResponse>"
    )
    assert (root.tag, root.findtext("reportId")) == ("reportResponse", "4564654")
    assert (
        validate(
            b"<reportResponse><responseCode>0</responseCode>"
            b"<responseDescription>Success</responseDescription></reportResponse>"
        )
        == []
    )
