"""The response documents of Appendix D: <reportResponse> and <reportDoneResponse>, as the
documentation's examples show them."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.responses import Response

from vigil.clearinghouse.codes import IntakeRefused, ResponseCode

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MEDIA_TYPE = "application/xml"


def report_response(code: ResponseCode, description: str | None = None, *,
                    report_id: int | None = None, file_id: str | None = None,
                    md5: str | None = None) -> bytes:
    parts = [f"<responseCode>{code.value}</responseCode>",
             f"<responseDescription>{_text(description or code.description)}"
             "</responseDescription>"]
    if report_id is not None:
        parts.append(f"<reportId>{report_id}</reportId>")
    if file_id is not None:
        parts.append(f"<fileId>{_text(file_id)}</fileId>")
    if md5 is not None:
        parts.append(f"<hash>{_text(md5)}</hash>")
    return _document("reportResponse", parts)


def report_done_response(report_id: int, file_ids: list[str]) -> bytes:
    files = "".join(f"<fileId>{_text(f)}</fileId>" for f in file_ids)
    return _document("reportDoneResponse", [
        f"<responseCode>{ResponseCode.SUCCESS.value}</responseCode>",
        f"<reportId>{report_id}</reportId>", f"<files>{files}</files>"])


def refusal_response(refused: IntakeRefused, status: int = 400) -> Response:
    """The error document for a refusal. A /finish refusal is still a <reportResponse>: the
    documentation defines no error form of <reportDoneResponse>."""
    return xml_response(report_response(refused.code, refused.description,
                                        report_id=refused.report_id), status)


def error_body(code: ResponseCode, description: str | None = None) -> bytes:
    return report_response(code, description)


def xml_response(body: bytes, status: int = 200,
                 headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _document(root: str, parts: list[str]) -> bytes:
    return (XML_DECLARATION + f"<{root}>" + "".join(parts) + f"</{root}>").encode()


def _text(value: str) -> str:
    # Only characters XML 1.0 allows; a description may quote what a reporter sent.
    clean = "".join(c for c in value if c in "\t\n\r" or ord(c) >= 0x20)
    return escape(clean)
