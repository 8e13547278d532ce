# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Audio input for the demo: decode, downmix, resample, and refuse what cannot be used.

Upstream reads every clip with `librosa.load(path, sr=22050)`: mono by channel mean,
resampled with soxr (high quality). This file does the same, and turns each kind of bad
input into an `AudioError` that says what is wrong instead of a silent wrong result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr
from loguru import logger

SILENCE_RMS = 1e-4  # below this (about -80 dBFS) a clip holds no voice to clone
CLIP_LEVEL = 0.999  # samples at full scale
MAX_SECONDS = 600.0  # longer inputs are refused: split them (see README, "Long inputs")


class AudioError(ValueError):
    """An audio input that cannot be used; the message names the file and the reason."""


def to_mono(audio: np.ndarray, name: str) -> np.ndarray:
    """[samples, channels] -> [samples] by channel mean (as librosa.load); 1-D passes through."""
    if audio.ndim == 2:
        if audio.shape[1] > 1:
            logger.info(f"{name}: {audio.shape[1]} channels, averaged to mono (as librosa.load does)")
        audio = audio.mean(axis=1)
    return audio


def load_audio(path: str | Path, sampling_rate: int, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """Decode `path` to mono float32 at `sampling_rate`.

    Raises AudioError for a missing, undecodable, empty, non-finite or over-long file.
    Clipping is kept (it is the signal the user gave) but logged as a warning.
    """
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    try:
        # Header first: an over-long file is refused before it is decoded into memory.
        info = soundfile.info(path)
        if info.samplerate > 0 and info.frames / info.samplerate > max_seconds:
            raise AudioError(f"{path}: {info.frames / info.samplerate:.0f} s is longer than the {max_seconds:.0f} s limit; split the file")
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as error:
        raise AudioError(f"{path}: cannot decode audio ({error})") from error
    audio = to_mono(audio, str(path))
    return prepare_waveform(audio, rate, sampling_rate, name=str(path), max_seconds=max_seconds)


def prepare_waveform(
    audio: np.ndarray, rate: int, sampling_rate: int, name: str = "waveform", max_seconds: float = MAX_SECONDS
) -> np.ndarray:
    """Validate an in-memory mono waveform and resample it to `sampling_rate` (soxr_hq, like librosa.load)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise AudioError(f"{name}: expected a mono waveform, got shape {audio.shape}")
    if audio.size == 0:
        raise AudioError(f"{name}: empty audio (0 samples)")
    if rate <= 0:
        raise AudioError(f"{name}: invalid sample rate {rate}")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{name}: audio contains NaN or infinite samples")
    seconds = audio.size / rate
    if seconds > max_seconds:
        raise AudioError(f"{name}: {seconds:.0f} s is longer than the {max_seconds:.0f} s limit; split the file")
    clipped = float(np.mean(np.abs(audio) >= CLIP_LEVEL))
    if clipped > 0.001:
        logger.warning(f"{name}: {clipped:.2%} of samples are clipped at full scale; the result will carry the distortion")
    if rate != sampling_rate:
        logger.debug(f"{name}: resampling {rate} Hz -> {sampling_rate} Hz")
        # What librosa.load(sr=...) does (soxr_hq, then fixed to ceil(n * ratio) samples),
        # without librosa's import cost.
        target = int(np.ceil(audio.size * sampling_rate / rate))
        audio = soxr.resample(audio, rate, sampling_rate, quality="soxr_hq").astype(np.float32)
        audio = np.pad(audio, (0, max(0, target - audio.size)))[:target]
    return audio


def check_not_silent(audio: np.ndarray, name: str) -> None:
    """Refuse a clip with no signal: its speaker embedding would be meaningless."""
    # DC removed first: a constant offset (a bad ADC, a stuck sample) carries no voice either.
    centred = audio.astype(np.float64) - float(np.mean(audio, dtype=np.float64))
    rms = float(np.sqrt(np.mean(np.square(centred))))
    if rms < SILENCE_RMS:
        raise AudioError(f"{name}: the clip is silent (RMS {rms:.1e}); a voice cannot be cloned from it")


def write_wav(path: str | Path, audio: np.ndarray, sampling_rate: int) -> Path:
    """Write mono float audio as 16-bit PCM wav, creating the folder."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name such as cloned.wav")
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.asarray(audio, dtype=np.float32), sampling_rate, subtype="PCM_16")
    return path
