"""What review refuses, and why; messages name ids and rules, never content."""

from __future__ import annotations


class ReviewError(Exception):
    """Base class for every error raised by ``vigil.review``."""


class UnknownCase(ReviewError, LookupError):
    pass


class UnknownItem(ReviewError, LookupError):
    pass


class UnknownRequest(ReviewError, LookupError):
    pass


class UnknownReviewer(ReviewError, LookupError):
    pass


class InvalidReviewInput(ReviewError, ValueError):
    """A value outside the vocabulary, a missing reason, an out-of-range filter."""


class DecisionRefused(ReviewError):
    """The decision breaks a rule: a closed case, an item already decided, a confirmation
    without classification, approving one's own request."""
