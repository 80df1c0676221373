"""Hash-list file formats: streaming readers that yield records or per-record errors,
writers for export, and format detection. Pure: no database, no network, no files opened.
"""

from vigil.lists.formats.detect import (
    DETECTION_BYTES,
    FormatNotRecognised,
    ListFormat,
    detect_format,
)
from vigil.lists.formats.json_lines import read_json_lines
from vigil.lists.formats.ncmec_xml import read_ncmec_xml
from vigil.lists.formats.plain_text import read_plain_text
from vigil.lists.formats.reading import DEFAULT_MAX_ERRORS, read_list
from vigil.lists.formats.records import (
    FormatWarning,
    ListRecord,
    ReadItem,
    RecordError,
    Signal,
    SignalType,
    VideoFrame,
)
from vigil.lists.formats.threatexchange_csv import read_threatexchange_csv
from vigil.lists.formats.vics_json import read_vics_json
from vigil.lists.formats.vigil_csv import read_csv
from vigil.lists.formats.writers import write_csv, write_json_lines, write_plain_text

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "DETECTION_BYTES",
    "FormatNotRecognised",
    "FormatWarning",
    "ListFormat",
    "ListRecord",
    "ReadItem",
    "RecordError",
    "Signal",
    "SignalType",
    "VideoFrame",
    "detect_format",
    "read_csv",
    "read_json_lines",
    "read_list",
    "read_ncmec_xml",
    "read_plain_text",
    "read_threatexchange_csv",
    "read_vics_json",
    "write_csv",
    "write_json_lines",
    "write_plain_text",
]
