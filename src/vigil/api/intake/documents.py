"""The response documents of Appendix D: <reportResponse> and <reportDoneResponse>, as the
documentation's examples show them. Section 4 names the root of every answer: <reportDoneResponse>
for /finish, success or not, and <reportResponse> for the other endpoints."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

from starlette.responses import Response

from vigil.clearinghouse.codes import IntakeRefused, ResponseCode

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MEDIA_TYPE = "application/xml"
NO_REPORT = 0  # report ids start at 1


def report_response(
    code: ResponseCode,
    description: str | None = None,
    *,
    report_id: int | None = None,
    file_id: str | None = None,
    md5: str | None = None,
) -> bytes:
    parts = [
        f"<responseCode>{code.value}</responseCode>",
        f"<responseDescription>{_text(description or code.description)}</responseDescription>",
    ]
    if report_id is not None:
        parts.append(f"<reportId>{report_id}</reportId>")
    if file_id is not None:
        parts.append(f"<fileId>{_text(file_id)}</fileId>")
    if md5 is not None:
        parts.append(f"<hash>{_text(md5)}</hash>")
    return _document("reportResponse", parts)


def report_done_response(
    report_id: int,
    file_ids: list[str],
    code: ResponseCode = ResponseCode.SUCCESS,
    description: str | None = None,
) -> bytes:
    """<reportDoneResponse>. Its schema has no description element, so a refusal's plain
    words travel as an XML comment, which every parser and the schema ignore."""
    files = "".join(f"<fileId>{_text(f)}</fileId>" for f in file_ids)
    note = [] if description is None else [f"<!-- {_comment(description)} -->"]
    return _document(
        "reportDoneResponse",
        [
            f"<responseCode>{code.value}</responseCode>",
            *note,
            f"<reportId>{report_id}</reportId>",
            f"<files>{files}</files>",
        ],
    )


def refusal_response(refused: IntakeRefused, status: int = 400, *, done: bool = False) -> Response:
    """The error document for a refusal; ``done`` for /finish (<reportDoneResponse>)."""
    return xml_response(
        error_body(refused.code, refused.description, report_id=refused.report_id, done=done),
        status,
    )


def error_body(
    code: ResponseCode,
    description: str | None = None,
    *,
    report_id: int | None = None,
    done: bool = False,
) -> bytes:
    """An error answer in the endpoint's own document. <reportDoneResponse> requires a
    reportId: 0, which names no report, when the request named none that could be read."""
    if done:
        return report_done_response(
            report_id or NO_REPORT, [], code, description or code.description
        )
    return report_response(code, description, report_id=report_id)


def xml_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _document(root: str, parts: list[str]) -> bytes:
    return (XML_DECLARATION + f"<{root}>" + "".join(parts) + f"</{root}>").encode()


def _comment(value: str) -> str:
    # "--" may not occur inside an XML comment, nor may it end with "-".
    return re.sub(r"-(?=-)", "- ", _clean(value)).rstrip("-")


def _text(value: str) -> str:
    return escape(_clean(value))


def _clean(value: str) -> str:
    # Only characters XML 1.0 allows; a description may quote what a reporter sent.
    return "".join(
        c for c in value if c in "\t\n\r" or (ord(c) >= 0x20 and c not in "\ufffe\uffff")
    )
