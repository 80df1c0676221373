"""The SOURCE of a backlog scan, from one string, into the source that lists and reads it.

* ``s3://BUCKET/PREFIX``: objects under the prefix, listed live (an empty prefix: the bucket)
* ``manifest:PATH_OR_S3_URI``: the objects an S3 Inventory's manifest.json lists
* ``keys:BUCKET:PATH_OR_S3_URI``: a list of keys in BUCKET, one per line
* anything else: a local file or folder (``file:///abs/path`` too)

Each source's ``describe()`` is such a string again, so a job stores it and a worker process
reopens the same source from it. Other URL schemes (``gs://``, ``https://``) are refused, not
taken for local paths. Problems are :class:`SourceError` with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from vigil.screening.backlog.local_source import LocalSource
from vigil.screening.backlog.manifest_source import KeyListSource, ManifestSource
from vigil.screening.backlog.objects import ObjectSource, SourceError
from vigil.screening.backlog.s3_source import S3Source, split_s3_uri
from vigil.screening.backlog.throttle import Throttle

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def open_source(uri: str, *, throttle: Throttle | None = None) -> ObjectSource:
    if not uri or not uri.strip():
        raise SourceError("no source given: a folder, s3://bucket/prefix, manifest:... or keys:...")
    if uri.startswith("s3://"):
        bucket, prefix = split_s3_uri(uri)
        return S3Source(bucket, prefix, throttle=throttle)
    if uri.startswith("manifest:"):
        return ManifestSource(uri.removeprefix("manifest:"), throttle=throttle)
    if uri.startswith("keys:"):
        bucket, separator, location = uri.removeprefix("keys:").partition(":")
        if not separator:
            raise SourceError(f"{uri!r}: a key list is keys:BUCKET:PATH_OR_S3_URI")
        return KeyListSource(bucket, location, throttle=throttle)
    if uri.startswith("file://"):
        path = uri.removeprefix("file://")
        if not path.startswith("/"):
            raise SourceError(f"{uri!r}: a file:// address needs an absolute path (file:///...)")
        return LocalSource(Path(path), throttle=throttle)
    if _URL.match(uri):
        raise SourceError(f"{uri!r}: only s3://, manifest:, keys: and local paths can be scanned")
    return LocalSource(Path(uri), throttle=throttle)
