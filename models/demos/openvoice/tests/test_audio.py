# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Audio input: every kind of bad input gets a clear error or a correct result."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from models.demos.openvoice.utils.audio import AudioError, check_not_silent, load_audio, prepare_waveform

RATE = 22050


def _write(path, audio, rate, **kwargs):
    soundfile.write(path, audio, rate, **kwargs)
    return path


def test_matches_upstream_librosa_load(shared_data):
    """Upstream reads clips with librosa.load(path, sr=22050): same samples, bit for bit."""
    import librosa

    for name in ("jfk.flac", "one_two_three.wav", "hello_world.wav"):
        path = shared_data / "audio" / name
        expected, _ = librosa.load(path, sr=RATE)
        actual = load_audio(path, RATE)
        assert actual.dtype == np.float32 and actual.shape == expected.shape, name
        np.testing.assert_allclose(actual, expected, atol=1e-6, err_msg=name)


def test_stereo_is_averaged(tmp_path):
    left = np.sin(np.linspace(0, 200, RATE)).astype(np.float32) * 0.5
    right = np.zeros_like(left)
    path = _write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path, RATE), (left + right) / 2, atol=1e-7)


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 44100, 48000, 96000])
def test_any_rate_is_resampled(tmp_path, rate):
    seconds = 1.5
    t = np.arange(int(rate * seconds)) / rate
    path = _write(tmp_path / f"tone_{rate}.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    audio = load_audio(path, RATE)
    assert abs(audio.size - seconds * RATE) <= 1
    # A 440 Hz tone stays a 440 Hz tone: the resampler kept the time base.
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * RATE / audio.size - 440) < 2


def test_clipped_audio_is_kept_and_logged(tmp_path):
    audio = np.clip(np.sin(np.linspace(0, 300, RATE)) * 3, -1, 1).astype(np.float32)
    path = _write(tmp_path / "clipped.wav", audio, RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path, RATE), audio)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="file not found"):
        load_audio(tmp_path / "nope.wav", RATE)


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" + bytes(100))
    with pytest.raises(AudioError, match="cannot decode"):
        load_audio(path, RATE)


def test_empty_file(tmp_path):
    path = _write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), RATE)
    with pytest.raises(AudioError, match="empty"):
        load_audio(path, RATE)


def test_non_finite_samples():
    audio = np.ones(RATE, dtype=np.float32)
    audio[10] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        prepare_waveform(audio, RATE, RATE)


def test_too_long_is_refused():
    with pytest.raises(AudioError, match="longer than"):
        prepare_waveform(np.zeros(RATE * 11, dtype=np.float32), RATE, RATE, max_seconds=10)


def test_silence_is_refused_for_cloning():
    with pytest.raises(AudioError, match="silent"):
        check_not_silent(np.zeros(RATE, dtype=np.float32), "silence")
    check_not_silent(0.01 * np.sin(np.linspace(0, 2000, RATE)).astype(np.float32), "quiet but present")
    with pytest.raises(AudioError, match="silent"):  # a DC offset carries no voice
        check_not_silent(np.full(RATE, 0.3, dtype=np.float32), "offset")
