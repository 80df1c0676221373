"""vPDQ semantics: the share of DISTINCT query frames decides a match; segments say where."""

from __future__ import annotations

import numpy as np
import pytest

from tests.index.synthetic import flipped, random_words
from vigil.fingerprint.video import FrameHash
from vigil.index.changes import Change, Kind
from vigil.index.codes import words_hex
from vigil.index.match_index import MatchIndex
from vigil.index.video_match import QueryFrames, Segment, find_segments

LISTED = 7
UNRELATED = 8


@pytest.fixture(scope="module")
def scenes() -> np.ndarray:
    return random_words(np.random.default_rng(40), 400)


def frames(hashes: np.ndarray, start: float = 0.0, quality: int = 90) -> list[FrameHash]:
    return [FrameHash(start + i, h, quality) for i, h in enumerate(words_hex(hashes))]


def noisy(hashes: np.ndarray, seed: int = 41) -> np.ndarray:
    """Re-encoded frames: a few bits off each listed frame."""
    return flipped(np.random.default_rng(seed), hashes, 6)


@pytest.fixture
def index(scenes: np.ndarray) -> MatchIndex:
    index = MatchIndex()
    index.apply(
        [
            Change.add_video(1, LISTED, 3, tuple(frames(scenes[:60]))),
            Change.add_video(2, UNRELATED, 4, tuple(frames(scenes[300:340]))),
        ]
    )
    return index


def test_clip_cut_from_a_listed_video(index: MatchIndex, scenes: np.ndarray) -> None:
    clip = frames(noisy(scenes[20:40]))  # query seconds 0-19 = listed seconds 20-39
    [match] = index.match_video(clip)
    assert (match.entry_id, match.list_id, match.is_match) == (LISTED, 3, True)
    assert match.query_share == 1.0
    assert match.listed_share == pytest.approx(20 / 60)
    assert match.segments == (Segment(0.0, 19.0, 20.0, 39.0, 20),)


@pytest.mark.parametrize(("matching", "expected"), [(8, True), (7, False)])
def test_eighty_percent_of_distinct_frames(index, scenes, matching: int, expected: bool) -> None:
    query = np.concatenate([noisy(scenes[:matching]), scenes[200 : 210 - matching]])
    [match] = index.match_video(frames(query))
    assert match.query_share == pytest.approx(matching / 10)
    assert match.is_match is expected


def test_repeated_frames_count_once(index: MatchIndex, scenes: np.ndarray) -> None:
    # Five frames of one listed scene and one unrelated scene: 5/6 frames but 1/2 distinct.
    query = np.concatenate([np.repeat(scenes[5:6], 5, axis=0), scenes[250:251]])
    [match] = index.match_video(frames(query))
    assert match.query_share == 0.5 and not match.is_match


def test_low_quality_frames_are_ignored(index: MatchIndex, scenes: np.ndarray) -> None:
    query = frames(noisy(scenes[:8])) + frames(scenes[200:202], start=8, quality=10)
    [match] = index.match_video(query)
    assert match.query_share == 1.0 and match.is_match
    assert index.match_video(frames(scenes[:8], quality=10)) == []


def test_listed_clip_inside_a_longer_upload(scenes: np.ndarray) -> None:
    index = MatchIndex()
    index.apply([Change.add_video(1, LISTED, 3, tuple(frames(scenes[:10])))])
    upload = np.concatenate([scenes[100:140], noisy(scenes[:10]), scenes[150:200]])
    [match] = index.match_video(frames(upload))
    assert not match.is_match and match.query_share == pytest.approx(0.1)
    assert match.listed_share == 1.0
    assert match.segments == (Segment(40.0, 49.0, 0.0, 9.0, 10),)


def test_two_excerpts_give_two_segments(index: MatchIndex, scenes: np.ndarray) -> None:
    upload = np.concatenate([noisy(scenes[0:10]), scenes[100:120], noisy(scenes[30:40])])
    [match] = index.match_video(frames(upload))
    assert match.segments == (Segment(0.0, 9.0, 0.0, 9.0, 10), Segment(30.0, 39.0, 30.0, 39.0, 10))
    assert match.is_match is False  # 20 of 40 distinct frames


def test_share_options_and_removal(index: MatchIndex, scenes: np.ndarray) -> None:
    clip = frames(noisy(scenes[20:40]))
    [match] = index.match_video(clip, min_listed_share=0.5)
    assert not match.is_match  # a third of the listed video
    index.apply([Change.remove(3, Kind.VIDEO, LISTED)])
    assert index.match_video(clip) == []


def test_segments_skip_a_noisy_frame_and_ignore_static_repeats() -> None:
    rng = np.random.default_rng(42)
    hashes = words_hex(random_words(rng, 12))
    query = QueryFrames.of([FrameHash(float(t), h, 90) for t, h in enumerate(hashes)])
    # Query frames 0-11 match listed seconds 100-111, except frame 5 (too noisy); frame 3
    # also matches a static listed scene at 500 s.
    matched = [i for i in range(12) if i != 5]
    index = np.array([*matched, 3])
    listed = np.array([100.0 + i for i in matched] + [500.0])
    assert find_segments(query, index, listed) == (Segment(0.0, 11.0, 100.0, 111.0, 11),)
