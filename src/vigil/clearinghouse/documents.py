"""Reading the reporters' documents: the parsed form kept beside the raw bytes, and the extra
rules of Appendix E (Viral/Potential Meme batched reports) that report.xsd cannot express."""

from __future__ import annotations

from typing import Any

from lxml import etree

VIRAL = "VIRAL_POTENTIAL_MEME"

# Appendix E.1, main report: none of these (nor their children) may appear.
_VIRAL_REPORT_FORBIDDEN = ("incidentSummary/escalateToHighPriority", "internetDetails",
                           "lawEnforcement", "intendedRecipient", "victim", "additionalInfo")
_VIRAL_PERSON_ALLOWED = frozenset({"espIdentifier"})
# Appendix E.1, file details.
_VIRAL_ANNOTATIONS = frozenset({"viral", "potentialMeme"})
_VIRAL_DETAILS_FORBIDDEN = ("originalFileName", "locationOfFile", "originalFileHash",
                            "ipCaptureEvent", "deviceId", "details", "additionalInfo")


def as_dict(element: etree._Element) -> dict[str, Any]:
    """{tag: content}; content is the text, or a dict of children (repeated ones as lists),
    with attributes under "@name". Comments and processing instructions were removed."""
    return {_name(element.tag): _content(element)}


def _content(element: etree._Element) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    if not children and not element.attrib:
        return (element.text or "").strip()
    content: dict[str, Any] = {f"@{_name(k)}": v for k, v in element.attrib.items()
                               if not str(k).startswith("{http://www.w3.org/2001/XMLSchema")}
    for child in children:
        name, value = _name(child.tag), _content(child)
        if name not in content:
            content[name] = value
        elif isinstance(content[name], list):
            content[name].append(value)
        else:
            content[name] = [content[name], value]
    text = (element.text or "").strip()
    if text:
        content["#text"] = text
    return content


def batched_reason(report: etree._Element) -> str | None:
    batched = report.find("batchedReport")
    return None if batched is None else batched.get("reason")


def viral_report_problems(report: etree._Element) -> list[str]:
    """Why a Viral/Potential Meme batched report breaks Appendix E.1; empty when it does not."""
    problems = [f"/report/{path} is not allowed in a {VIRAL} batched report"
                for path in _VIRAL_REPORT_FORBIDDEN if report.find(path) is not None]
    for person in report.findall("personOrUserReported"):
        extra = sorted({_name(c.tag) for c in person if isinstance(c.tag, str)}
                       - _VIRAL_PERSON_ALLOWED)
        if extra:
            problems.append(f"/report/personOrUserReported may only hold espIdentifier in a "
                            f"{VIRAL} batched report, not {', '.join(extra)}")
    return problems


def viral_details_problems(details: etree._Element) -> list[str]:
    """Why file details of a Viral/Potential Meme batched report break Appendix E.1."""
    problems = [f"/fileDetails/{path} is not allowed in a {VIRAL} batched report"
                for path in _VIRAL_DETAILS_FORBIDDEN if details.find(path) is not None]
    annotations = details.find("fileAnnotations")
    named = set() if annotations is None else {
        _name(c.tag) for c in annotations if isinstance(c.tag, str)}
    if not named & _VIRAL_ANNOTATIONS:
        problems.append("the file must be annotated viral and/or potentialMeme")
    if named - _VIRAL_ANNOTATIONS:
        problems.append("no file annotation other than viral and potentialMeme is allowed: "
                        + ", ".join(sorted(named - _VIRAL_ANNOTATIONS)))
    relevance = (details.findtext("fileRelevance") or "").strip()
    if relevance and relevance != "Reported":  # absent: the schema leaves it optional
        problems.append('the file relevance must be "Reported"')
    return problems


def _name(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]
