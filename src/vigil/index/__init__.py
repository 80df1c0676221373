"""Match structures over fingerprints: exact PDQ range search (multi-index hashing), digest
lookup, vPDQ video matching; kept as memory-mapped snapshots plus a change log, not in the database.
"""

from vigil.index.changes import Change, Kind, Op
from vigil.index.digest_index import DigestIndex, DigestMatches
from vigil.index.distances import DEFAULT_DISTANCE, MAX_DISTANCE, ListDistances
from vigil.index.errors import (
    CorruptIndexError,
    InvalidHashError,
    SequenceError,
    VigilIndexError,
)
from vigil.index.match_index import MatchIndex
from vigil.index.pdq_index import PdqIndex, PdqMatches
from vigil.index.photo_match import PhotoMatch
from vigil.index.video_match import Segment, VideoMatch

__all__ = [
    "DEFAULT_DISTANCE",
    "MAX_DISTANCE",
    "Change",
    "CorruptIndexError",
    "DigestIndex",
    "DigestMatches",
    "InvalidHashError",
    "Kind",
    "ListDistances",
    "MatchIndex",
    "Op",
    "PdqIndex",
    "PdqMatches",
    "PhotoMatch",
    "Segment",
    "SequenceError",
    "VideoMatch",
    "VigilIndexError",
]
