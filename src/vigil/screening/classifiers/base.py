"""The classifier interface every plug-in implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


class ClassifierError(Exception):
    """The classifier could not give a score (unreachable, timed out, bad answer, bad model).

    Screening goes on without the score; the error is reported with the result."""


@dataclass(frozen=True, slots=True)
class ClassifierResult:
    name: str  # the configured classifier's name
    score: float  # 0..1, higher means more likely to need review
    labels: tuple[str, ...] = ()
    threshold: float = 1.0
    details: dict[str, Any] = field(default_factory=dict)  # e.g. model version

    @property
    def needs_review(self) -> bool:
        return self.score > self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "labels": list(self.labels),
            "threshold": self.threshold,
            "needs_review": self.needs_review,
            **({"details": self.details} if self.details else {}),
        }


@runtime_checkable
class Classifier(Protocol):
    name: str
    threshold: float

    def classify(self, media: bytes, media_type: str) -> ClassifierResult:
        """Score the media (``media_type`` "photo" or "video"); raise ClassifierError."""
        ...
