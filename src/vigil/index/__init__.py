"""Match structures over fingerprints: exact PDQ range search (multi-index hashing), digest
lookup, vPDQ video matching; kept as memory-mapped snapshots plus a change log, not in the
database. Copy descriptors (exact cosine search) are kept in one checked file each.
"""

from vigil.index.changes import Change, Kind, Op
from vigil.index.descriptor_index import DescriptorChange, DescriptorIndex, DescriptorMatch
from vigil.index.digest_index import DigestIndex, DigestMatches
from vigil.index.distances import DEFAULT_DISTANCE, MAX_DISTANCE, ListDistances
from vigil.index.errors import (
    CorruptIndexError,
    InvalidHashError,
    InvalidVectorError,
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
    "DescriptorChange",
    "DescriptorIndex",
    "DescriptorMatch",
    "DigestIndex",
    "DigestMatches",
    "InvalidHashError",
    "InvalidVectorError",
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
