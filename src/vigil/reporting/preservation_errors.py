"""What can go wrong preserving reports and answering law-enforcement requests; every message
is fit for an operator and holds neither secrets nor media."""

from __future__ import annotations


class PreservationError(Exception):
    """Base class for preservation and legal-request errors."""


class ReportNotFiled(PreservationError):
    """Only a FINISHED report (the destination has it) is preserved as a package."""


class UnknownReport(PreservationError):
    """No report has this id."""


class UnknownRequest(PreservationError):
    """No legal request has this id."""


class InvalidRequest(PreservationError, ValueError):
    """A legal request or link is malformed; the message says which field."""


class RequestNotOpen(PreservationError):
    """The request was already answered or closed."""


class PackageUnavailable(PreservationError):
    """The report's package manifest cannot be read (purged, missing or altered)."""
