"""VoiceCloner host logic on the reference backend: long references are segmented and averaged."""

from __future__ import annotations

import numpy as np
import torch

from models.demos.openvoice.common.audio import load_audio
from models.demos.openvoice.common.config import load_config
from models.demos.openvoice.demo.pipeline import SE_SEGMENT_SECONDS, ReferenceBackend, SpeakerEmbeddingCache, VoiceCloner, split_segments
from models.demos.openvoice.tests.real_speech import CONFIG, clip_path, data_dir, reference_encoder

RATE = 22050


def test_split_segments_is_the_fewest_equal_pieces():
    original = np.arange(int(2.5 * SE_SEGMENT_SECONDS * RATE), dtype=np.float32)
    pieces = split_segments(original, RATE)
    assert len(pieces) == 3 and max(p.size for p in pieces) - min(p.size for p in pieces) <= 1
    assert all(p.size <= SE_SEGMENT_SECONDS * RATE for p in pieces)
    np.testing.assert_array_equal(np.concatenate(pieces), original)  # nothing dropped or repeated
    assert len(split_segments(np.zeros(RATE, dtype=np.float32), RATE)) == 1


def test_long_reference_is_the_mean_of_its_segments():
    """A 70 s reference (jfk looped) = mean of the embeddings of its three ~23 s segments."""
    config = load_config(data_dir() / CONFIG)
    backend = ReferenceBackend(config, reference_encoder())
    cloner = VoiceCloner(config, backend, SpeakerEmbeddingCache("test"))
    jfk = load_audio(clip_path("jfk"), RATE)
    long = np.tile(jfk, int(np.ceil(70 * RATE / jfk.size)))[: 70 * RATE]
    expected = torch.stack([backend.speaker_embedding([s]) for s in np.array_split(long, 3)]).mean(0)
    torch.testing.assert_close(cloner.extract_se([long]), expected)
