"""Reading an exchange's credentials file once, for `vigil exchanges add` and
`set-credentials`: JSON with exactly the fields the exchange's client names.

Whatever goes wrong, the message names the file and the expected fields, never the file's
content (not even a JSON parser's excerpt of it). A file others can read is still used, with a
warning: the credentials are stored sealed, and the file is better deleted or made private.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

from vigil.exchanges.configuring import checked_credentials, required_credentials
from vigil.exchanges.protocol import ExchangeType
from vigil.store.exchanges.errors import InvalidExchangeSetting

MAX_BYTES = 64 * 1024


class CredentialsFileError(InvalidExchangeSetting):
    """The file cannot be read as the exchange's credentials."""


def read_credentials_file(path: Path, kind: ExchangeType) -> dict[str, str]:
    expected = ", ".join(required_credentials(kind))
    where = f"credentials file {path}"
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CredentialsFileError(
            f"cannot read {where}: {exc.strerror or 'unreadable'}; it should hold "
            f"{{{expected}}} as JSON text"
        ) from None
    if len(raw) > MAX_BYTES:
        raise CredentialsFileError(f"{where} is larger than {MAX_BYTES} bytes")
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise CredentialsFileError(
            f"{where} is not a JSON object; it should hold {{{expected}}} as text"
        ) from None
    try:
        return checked_credentials(kind, fields)
    except InvalidExchangeSetting as exc:
        raise CredentialsFileError(f"{where}: {exc}") from None


def readable_by_others(path: Path) -> bool:
    """True when the group or anyone else may read the file (POSIX permissions)."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False
