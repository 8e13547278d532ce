# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Speaker similarity of two clips: cosine of resemblyzer (GE2E) utterance embeddings.

Pieces, and why each:

* Model: resemblyzer's `VoiceEncoder` (3-layer LSTM, 256 units, 40 mel bands at 16 kHz) with
  the trained weights the package ships (`resemblyzer/pretrained.pt`, 17 MB): nothing is
  downloaded. Its embeddings are non-negative and unit-norm, so cosine is a dot product in
  [0, 1].
* Input: any rate, mono. Resampled to 16 kHz by the project's `utils/audio.prepare_waveform`
  (soxr_hq: what resemblyzer's own `librosa.resample` does), then resemblyzer's preprocessing:
  volume raised to -30 dBFS (never lowered) and silences longer than about 0.2 s cut by
  webrtcvad, so pauses do not dilute the voice.
* Embedding: `embed_utterance` averages 1.6 s partial windows (1.3 per second). Below about
  1 s of voiced speech the single zero-padded window is a weak estimate: on the project's real
  clips, halves of 0.3-0.6 s of one speaker scored as low as 0.54 while two different speakers'
  halves reached 0.66 (tests/test_wer_validation.py). `embed` logs a warning below
  `MIN_RELIABLE_SECONDS`.

Bounty bars (tt-metal OpenVoice): a converted clip scores > 0.70 against the reference of its
target voice, and is closer to that reference than the unconverted source clip is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from loguru import logger

from models.demos.openvoice.text import pkg_resources_stand_in
from models.demos.openvoice.utils.audio import AudioError, prepare_waveform

RESEMBLYZER_RATE = 16000  # resemblyzer.hparams.sampling_rate
MIN_RELIABLE_SECONDS = 1.0  # voiced speech below this gives a noisy embedding (see module docstring)
BOUNTY_MIN_SIMILARITY = 0.70  # tt-metal OpenVoice bounty: speaker similarity > 70 %


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two embedding vectors."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


class SpeakerEncoder:
    """resemblyzer's trained voice encoder on the CPU, loaded once; `embed` is thread-safe."""

    def __init__(self) -> None:
        try:
            pkg_resources_stand_in.install()  # webrtcvad reads its version through pkg_resources
            from resemblyzer import VoiceEncoder
        except ImportError as error:
            raise ImportError(f"resemblyzer is not usable ({error}): pip install -r requirements-eval.in") from error

        self.encoder = VoiceEncoder("cpu", verbose=False)  # weights: the package's pretrained.pt
        self._lock = threading.Lock()
        logger.info("resemblyzer voice encoder loaded (bundled pretrained.pt)")

    def preprocess(self, audio: np.ndarray, rate: int, name: str = "clip") -> np.ndarray:
        """16 kHz, volume normalised, long silences removed (resemblyzer's `preprocess_wav`)."""
        from resemblyzer import normalize_volume, trim_long_silences
        from resemblyzer.hparams import audio_norm_target_dBFS

        wav = prepare_waveform(np.asarray(audio, dtype=np.float32), rate, RESEMBLYZER_RATE, name=name)
        if not np.any(wav):
            raise AudioError(f"{name}: all-zero audio has no speaker")
        wav = trim_long_silences(normalize_volume(wav, audio_norm_target_dBFS, increase_only=True))
        if wav.size == 0:
            raise AudioError(f"{name}: no voiced speech found (webrtcvad)")
        return wav

    def embed(self, audio: np.ndarray, rate: int, name: str = "clip") -> np.ndarray:
        """Unit-norm 256-d speaker embedding of a mono waveform at any rate."""
        wav = self.preprocess(audio, rate, name)
        seconds = wav.size / RESEMBLYZER_RATE
        if seconds < MIN_RELIABLE_SECONDS:
            logger.warning(f"{name}: {seconds:.2f} s of voiced speech; below {MIN_RELIABLE_SECONDS} s the speaker embedding is unreliable")
        with self._lock:
            return self.encoder.embed_utterance(wav)

    def similarity(self, a: np.ndarray, rate_a: int, b: np.ndarray, rate_b: int) -> float:
        """Speaker similarity (cosine) of two clips."""
        return cosine_similarity(self.embed(a, rate_a, "a"), self.embed(b, rate_b, "b"))


@lru_cache(maxsize=1)
def default_encoder() -> SpeakerEncoder:
    """One shared encoder per process."""
    return SpeakerEncoder()


@dataclass(frozen=True)
class CloneSimilarity:
    to_target: float  # converted clip vs the target speaker's reference
    source_to_target: float  # unconverted source clip vs the same reference
    to_source: float  # converted clip vs the source clip (how much of the source voice is left)

    def __str__(self) -> str:
        return f"converted~target {self.to_target:.3f}, source~target {self.source_to_target:.3f}, converted~source {self.to_source:.3f}"


def clone_similarity(
    converted: np.ndarray,
    reference: np.ndarray,
    source: np.ndarray,
    rate: int,
    reference_rate: int | None = None,
    source_rate: int | None = None,
    encoder: SpeakerEncoder | None = None,
) -> CloneSimilarity:
    """Similarities of a voice-conversion result: to the target reference, and the source's baseline."""
    encoder = encoder or default_encoder()
    e_conv = encoder.embed(converted, rate, "converted")
    e_ref = encoder.embed(reference, reference_rate or rate, "reference")
    e_src = encoder.embed(source, source_rate or rate, "source")
    return CloneSimilarity(cosine_similarity(e_conv, e_ref), cosine_similarity(e_src, e_ref), cosine_similarity(e_conv, e_src))


def check_voice_cloned(
    converted: np.ndarray,
    reference: np.ndarray,
    source: np.ndarray,
    rate: int,
    reference_rate: int | None = None,
    source_rate: int | None = None,
    min_similarity: float = BOUNTY_MIN_SIMILARITY,
    encoder: SpeakerEncoder | None = None,
) -> CloneSimilarity:
    """Bounty checks for a conversion: similarity to the reference > `min_similarity`, and closer to
    the reference than the source clip is. Raises AssertionError with the figures otherwise."""
    result = clone_similarity(converted, reference, source, rate, reference_rate, source_rate, encoder)
    logger.info(f"voice clone: {result}")
    assert result.to_target > min_similarity, f"similarity to the reference {result.to_target:.3f} is not above {min_similarity}: {result}"
    assert result.to_target > result.source_to_target, f"the converted clip is not closer to the target than the source clip: {result}"
    return result


def check_same_speaker(
    audio: np.ndarray,
    rate: int,
    reference: np.ndarray,
    reference_rate: int,
    min_similarity: float = BOUNTY_MIN_SIMILARITY,
    encoder: SpeakerEncoder | None = None,
) -> float:
    """Bounty check for TTS with a cloned voice: similarity of `audio` to `reference` > `min_similarity`."""
    value = (encoder or default_encoder()).similarity(audio, rate, reference, reference_rate)
    logger.info(f"speaker similarity to the reference: {value:.3f}")
    assert value > min_similarity, f"speaker similarity {value:.3f} is not above {min_similarity}"
    return value
