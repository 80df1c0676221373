"""The LIST requests a boto3 client makes, recorded by its own event hooks: what each asked
(StartAfter, KeyMarker, ContinuationToken...) and every key the store answered with."""

from __future__ import annotations

from typing import Any

import pytest

from vigil.screening.backlog import s3_source

LIST_OPERATIONS = ("ListObjectsV2", "ListObjectVersions")


class ListingRequests:
    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.answered: list[str] = []  # keys of objects, versions and delete markers

    def attach(self, client: Any) -> Any:
        for operation in LIST_OPERATIONS:
            client.meta.events.register(f"provide-client-params.s3.{operation}", self._asked)
            client.meta.events.register(f"after-call.s3.{operation}", self._answered)
        return client

    def watch_sources(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every client an S3 source makes in this process (``vigil scan-jobs resume``)."""
        make = s3_source.s3_client
        monkeypatch.setattr(s3_source, "s3_client", lambda: self.attach(make()))

    def _asked(self, params: dict[str, Any], **_: Any) -> None:
        self.asked.append(dict(params))

    def _answered(self, parsed: dict[str, Any], **_: Any) -> None:
        for field in ("Contents", "Versions", "DeleteMarkers"):
            self.answered += [entry["Key"] for entry in parsed.get(field, [])]
