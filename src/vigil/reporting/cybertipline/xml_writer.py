"""Model (model.py) to XML, in the schema's order: each dataclass field becomes the element,
attribute or text its metadata names, in declaration order, which is report.xsd's order.

The writer does not validate; schema.validate() does. It only refuses what it cannot
render honestly: a datetime without a time zone (the API needs one, and guessing it would
move the reported time).
"""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any

from lxml import etree

from vigil.reporting.cybertipline.model import FileDetailsModel, ReportModel

SCHEMA_LOCATION = "https://report.cybertip.org/ispws/xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def report_xml(model: ReportModel) -> bytes:
    return _document(build_element("report", model))


def file_details_xml(model: FileDetailsModel) -> bytes:
    return _document(build_element("fileDetails", model))


def build_element(name: str, value: Any) -> etree._Element:
    """One element for a model object (its fields as children) or a plain value."""
    node = etree.Element(name)
    _fill(node, value)
    return node


def xml_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with "Z", as the API's timestamp rules ask."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a report datetime needs a time zone")
    utc = value.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def xml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return xml_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a number in a report must be finite")
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} into a report")


def _document(root: etree._Element) -> bytes:
    root.set(f"{{{_XSI}}}noNamespaceSchemaLocation", SCHEMA_LOCATION)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _fill(node: etree._Element, value: Any) -> None:
    if not is_dataclass(value):
        node.text = xml_value(value)
        return
    for spec in fields(value):
        _write_field(node, spec.metadata, getattr(value, spec.name))


def _write_field(node: etree._Element, meta: Any, value: Any) -> None:
    if "text" in meta:
        node.text = xml_value(value)
    elif "attribute" in meta:
        if value is not None:
            node.set(meta["attribute"], xml_value(value))
    elif "flag" in meta:
        if value:
            etree.SubElement(node, meta["flag"]).text = "true"
    elif "choice" in meta:
        node.append(build_element(meta["choice"][type(value)], value))
    elif isinstance(value, tuple):
        for each in value:
            node.append(build_element(meta["element"], each))
    elif value is not None:
        node.append(build_element(meta["element"], value))
