"""The CyberTipline report document: the schema as dataclasses (model), XML in schema order
(xml_writer), validation with plain-words problems and safe parsing (schema), a report built
from a confirmed case (from_case) and Appendix E batched viral/meme reports (batched).
report.xsd is NCMEC's published schema, shipped unchanged.
"""

from __future__ import annotations

from vigil.reporting.cybertipline.batched import (
    BatchedFile,
    BatchedReportDocument,
    batched_problems,
    build_batched_report,
)
from vigil.reporting.cybertipline.errors import ReportRefused
from vigil.reporting.cybertipline.from_case import FileDocument, ReportDocument, build_case_report
from vigil.reporting.cybertipline.reporter import ReporterDetails
from vigil.reporting.cybertipline.schema import Problem, UnsafeXml, safe_parse, validate
from vigil.reporting.cybertipline.xml_writer import file_details_xml, report_xml

__all__ = [
    "BatchedFile",
    "BatchedReportDocument",
    "FileDocument",
    "Problem",
    "ReportDocument",
    "ReportRefused",
    "ReporterDetails",
    "UnsafeXml",
    "batched_problems",
    "build_batched_report",
    "build_case_report",
    "file_details_xml",
    "report_xml",
    "safe_parse",
    "validate",
]
