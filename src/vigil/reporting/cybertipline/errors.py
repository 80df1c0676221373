"""Why a CyberTipline document was not built: the message is for the person reporting."""

from __future__ import annotations


class ReportRefused(ValueError):
    """A case or batch that cannot be reported as asked; the message says what to fix."""
