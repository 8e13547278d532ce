# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""VoiceCloner host logic on the reference backend: long references are segmented and averaged."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
import torch

from models.demos.openvoice.utils.audio import AudioError, load_audio
from models.demos.openvoice.utils.config import load_config
from models.demos.openvoice.demo.backends import ReferenceBackend
from models.demos.openvoice.demo.pipeline import SE_SEGMENT_SECONDS, SpeakerEmbeddingCache, VoiceCloner, split_segments
from models.demos.openvoice.tests.helpers import CONFIG, clip_path, reference_encoder
from models.demos.openvoice.tests.shared_data import require_shared_data

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
    config = load_config(require_shared_data() / CONFIG)
    backend = ReferenceBackend(config, reference_encoder())
    cloner = VoiceCloner(config, backend, SpeakerEmbeddingCache("test"))
    jfk = load_audio(clip_path("jfk"), RATE)
    long = np.tile(jfk, int(np.ceil(70 * RATE / jfk.size)))[: 70 * RATE]
    expected = torch.stack([backend.speaker_embedding([s]) for s in np.array_split(long, 3)]).mean(0)
    torch.testing.assert_close(cloner.extract_se([long]), expected)


def _cloner() -> VoiceCloner:
    config = load_config(require_shared_data() / CONFIG)
    return VoiceCloner(config, ReferenceBackend(config, reference_encoder()), SpeakerEmbeddingCache("test"))


def test_array_inputs_get_the_file_checks():
    """Arrays go through the same validation as files: NaN, stereo, rate."""
    cloner = _cloner()
    speech = load_audio(clip_path("counting"), RATE)
    bad = speech.copy()
    bad[100] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        cloner.extract_se([bad])
    stereo = np.stack([speech, speech], axis=1)
    torch.testing.assert_close(cloner.extract_se([stereo]), cloner.extract_se([speech]))
    # (waveform, rate): a 16 kHz array is resampled like a 16 kHz file.
    wave_16k, _ = soundfile.read(clip_path("counting"), dtype="float32")
    torch.testing.assert_close(cloner.extract_se([(wave_16k, 16000)]), cloner.extract_se([clip_path("counting")]))


def test_convert_checks_its_arguments():
    cloner = _cloner()
    g = torch.zeros(1, cloner.config.model.gin_channels, 1)
    speech = load_audio(clip_path("hello_world"), RATE)
    with pytest.raises(ValueError, match="tau"):
        cloner.convert(speech, g, g, tau=float("nan"))
    with pytest.raises(ValueError, match="shape"):
        cloner.convert(speech, torch.zeros(1, 32, 1), g)
    with pytest.raises(AudioError, match="too short"):
        cloner.convert(np.ones(100, dtype=np.float32), g, g)


def test_dc_offset_is_silence():
    with pytest.raises(AudioError, match="silent"):
        _cloner().extract_se([np.full(RATE, 0.3, dtype=np.float32)])


def test_disk_cache_survives_a_corrupt_entry(tmp_path):
    config = load_config(require_shared_data() / CONFIG)
    backend = ReferenceBackend(config, reference_encoder())
    speech = load_audio(clip_path("hello_world"), RATE)
    first = VoiceCloner(config, backend, SpeakerEmbeddingCache("m", tmp_path)).extract_se([speech])
    (entry,) = tmp_path.glob("*.pt")
    assert not list(tmp_path.glob("*.partial"))
    reread = VoiceCloner(config, backend, SpeakerEmbeddingCache("m", tmp_path))
    torch.testing.assert_close(reread.extract_se([speech]), first)
    assert reread.cache.hits == 1
    entry.write_bytes(b"truncated")
    again = VoiceCloner(config, backend, SpeakerEmbeddingCache("m", tmp_path))
    torch.testing.assert_close(again.extract_se([speech]), first)  # recomputed, not trusted
    assert again.cache.hits == 0
