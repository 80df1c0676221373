"""Checkpoints the StopNCII, ThreatExchange and Tech Against Terrorism clients write: a small
JSON object naming the client that wrote it, so a checkpoint from another exchange (or a
hand-edited one) is refused with FailureKind.CHECKPOINT instead of starting a wrong fetch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from vigil.exchanges.protocol import ExchangeError, ExchangeType, FailureKind

MAX_CHECKPOINT_CHARS = 4096  # tokens and cursors are short; anything longer was not ours

CheckpointValue = str | int | float | None


def encode_checkpoint(kind: ExchangeType, fields: Mapping[str, CheckpointValue]) -> str:
    return json.dumps({"client": kind.value, **fields}, sort_keys=True, separators=(",", ":"))


def decode_checkpoint(kind: ExchangeType, text: str) -> dict[str, CheckpointValue]:
    """The fields ``encode_checkpoint`` wrote for ``kind``; the ``client`` key is removed."""
    if len(text) > MAX_CHECKPOINT_CHARS:
        raise _foreign(kind)
    try:
        value = json.loads(text)
    except ValueError:
        raise _foreign(kind) from None
    if not isinstance(value, dict) or value.pop("client", None) != kind.value:
        raise _foreign(kind)
    if not all(isinstance(item, str | int | float) or item is None for item in value.values()):
        raise _foreign(kind)
    return value


def _foreign(kind: ExchangeType) -> ExchangeError:
    return ExchangeError(
        FailureKind.CHECKPOINT, f"the stored checkpoint was not written by the {kind} client"
    )
