"""Reading the reporters' documents: the parsed form kept beside the raw bytes, and which kind
of batched report a report is. The documented rules report.xsd cannot express are in
vigil.reporting.cybertipline.report_rules."""

from __future__ import annotations

from typing import Any

from lxml import etree


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


def _name(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]
