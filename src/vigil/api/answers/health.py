"""Answers of the health checks."""

from __future__ import annotations

from typing import Literal

from vigil.api.answers import Answer


class Liveness(Answer):
    status: Literal["ok"]


class Readiness(Answer):
    """A service that is not ready answers 503 with the error document instead."""

    status: Literal["ready"]
