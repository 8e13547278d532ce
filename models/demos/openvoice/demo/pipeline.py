# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Voice cloning pipeline: `extract_se` (clone), `convert` and MeloTTS `synthesize`, on the reference or on TTNN.

Host steps, in one place (see TRADEOFFS.md): decoding and resampling the audio files,
cutting long references into segments, and the speaker-embedding cache. Everything from
the uploaded waveform (or the text ids) to the embedding / audio runs in the selected backend.
The text-to-speech path around `synthesize` (sentences, frontend, streaming) is demo/speak.py.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from loguru import logger

from models.demos.openvoice.demo.backends import (
    Backend,
    ConversionRequest,
    SynthesisRequest,
    SynthesisResult,
    merge_key,
    merge_requests,
    split_result,
)
from models.demos.openvoice.runner.batcher import RequestBatcher
from models.demos.openvoice.tt.buckets import CONVERTER_BATCH_FRAMES, MELO_BATCH_TOKENS, bucket_length
from models.demos.openvoice.utils.audio import AudioError, check_not_silent, load_audio, prepare_waveform, to_mono
from models.demos.openvoice.utils.config import OpenVoiceConfig
from models.demos.openvoice.reference.spectrogram import spectrogram_lengths

# Reference clips longer than this are cut into equal segments that are embedded one by one
# and averaged with the other clips, as upstream's se_extractor averages its VAD segments.
# It bounds the reference encoder's input (conv2d image of T x 513, GRU steps T / 64).
SE_SEGMENT_SECONDS = 30.0
MIN_REFERENCE_SECONDS = 0.5  # shorter clips hold too few frames for a stable embedding
# Concurrent requests per device batch, and how long the first waits for company (TRADEOFFS.md "Serving").
MAX_BATCH = 8
BATCH_WAIT_MS = 5.0

class SpeakerEmbeddingCache:
    """Embeddings keyed by (model, backend, audio content): repeated clones of one reference are free.

    In memory always; also on disk (`<dir>/<key>.pt`) when a directory is given.
    """

    def __init__(self, model_id: str, directory: Path | None = None) -> None:
        self.model_id = model_id
        self.directory = directory
        self._memory: dict[str, torch.Tensor] = {}
        self.hits = 0

    def key(self, backend: str, waveforms: Sequence[np.ndarray]) -> str:
        digest = hashlib.sha256(f"{self.model_id}|{backend}".encode())
        for waveform in waveforms:
            digest.update(np.ascontiguousarray(waveform, dtype=np.float32).tobytes())
            digest.update(b"|")
        return digest.hexdigest()

    def get(self, key: str) -> torch.Tensor | None:
        value = self._memory.get(key)
        path = self.directory / f"{key}.pt" if self.directory is not None else None
        if value is None and path is not None and path.is_file():
            try:
                loaded = torch.load(path, map_location="cpu", weights_only=True)
            except Exception as error:  # a truncated or foreign file: recompute, do not trust it
                logger.warning(f"ignoring unreadable cached embedding {path}: {error}")
                loaded = None
            if isinstance(loaded, torch.Tensor) and loaded.dim() == 3 and bool(torch.isfinite(loaded).all()):
                value = self._memory[key] = loaded
        if value is not None:
            self.hits += 1
        return value

    def put(self, key: str, value: torch.Tensor) -> None:
        self._memory[key] = value
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = self.directory / f"{key}.pt.partial"
            torch.save(value, partial)
            os.replace(partial, self.directory / f"{key}.pt")  # readers never see half a file


def model_fingerprint(state_dict: dict[str, torch.Tensor]) -> str:
    """Short content hash of the weights an embedding depends on (for cache keys)."""
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        digest.update(name.encode())
        digest.update(state_dict[name].detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def split_segments(waveform: np.ndarray, sampling_rate: int, max_seconds: float = SE_SEGMENT_SECONDS) -> list[np.ndarray]:
    """Cut a waveform into the fewest equal segments of at most `max_seconds`."""
    max_samples = int(max_seconds * sampling_rate)
    count = -(-waveform.size // max_samples)
    return [segment for segment in np.array_split(waveform, count)]


@dataclass
class Timing:
    """Wall-clock seconds of one call and the audio seconds it covered (RTF = seconds / audio)."""

    seconds: float = 0.0
    audio_seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def rtf(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else float("nan")


Clip = str | Path | np.ndarray | tuple[np.ndarray, int]  # path, waveform at the model's rate, or (waveform, rate)


class VoiceCloner:
    """Upstream `ToneColorConverter.extract_se` / `convert`, with validated inputs and a cache.

    Safe to share between threads (a server's request handlers): decoding and validation run on the caller's
    thread; `convert` and `synthesize` requests that arrive while the device is busy are gathered into one
    device batch (`runner/batcher.py`): at most `max_batch` requests, waiting at most `batch_wait_ms` for more,
    conversions of one shape bucket within `CONVERTER_BATCH_FRAMES` per chip, syntheses of one model and one set of
    style controls within `MELO_BATCH_TOKENS` per chip (a mesh backend shares each batch out over its chips;
TRADEOFFS.md "Serving": the limits and why). Each request gets
    what it gets alone (at the batch-vs-alone bar). Clones and the cache are used by one caller at a time.
    `last_timing` is per thread (it includes the wait for the batch).
    """

    def __init__(
        self,
        config: OpenVoiceConfig,
        backend: Backend,
        cache: SpeakerEmbeddingCache,
        max_batch: int | None = None,
        batch_wait_ms: float = BATCH_WAIT_MS,
    ) -> None:
        """`max_batch` None: `MAX_BATCH` requests per chip of the backend (an N300 mesh takes 16, 8 per chip)."""
        chips = getattr(backend, "chips", 1)
        self.config = config
        self.backend = backend
        self.cache = cache
        self._lock = threading.Lock()
        self._local = threading.local()
        d = config.data
        frames = lambda r: bucket_length(int(spectrogram_lengths([r.waveform.size], d.filter_length, d.hop_length)[0]))  # noqa: E731
        self.conversions: RequestBatcher[ConversionRequest, np.ndarray] = RequestBatcher(
            backend.voice_conversions, max_batch or MAX_BATCH * chips, batch_wait_ms, key=frames, cost=frames,
            max_cost=CONVERTER_BATCH_FRAMES * chips, name="convert-batcher",
        )  # fmt: skip
        self.syntheses: RequestBatcher[SynthesisRequest, SynthesisResult] = RequestBatcher(
            self._synthesize_merged, max_batch or MAX_BATCH * chips, batch_wait_ms, key=merge_key,
            cost=lambda r: r.x.numel(), max_cost=MELO_BATCH_TOKENS * chips, name="synthesis-batcher",
        )  # fmt: skip

    @property
    def sampling_rate(self) -> int:
        return self.config.data.sampling_rate

    @property
    def last_timing(self) -> Timing:
        """Timing of this thread's last `extract_se` / `convert`."""
        return getattr(self._local, "timing", Timing())

    def _waveform(self, clip: Clip, name: str) -> np.ndarray:
        """Any clip form -> validated mono float32 at the model's rate (arrays get the file checks too)."""
        if isinstance(clip, (str, Path)):
            return load_audio(clip, self.sampling_rate)
        audio, rate = clip if isinstance(clip, tuple) else (clip, self.sampling_rate)
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 2:
            audio = to_mono(audio, name)
        return prepare_waveform(audio, rate, self.sampling_rate, name=name)

    def _reference_waveforms(self, clips: Sequence[Clip]) -> list[np.ndarray]:
        if not clips:
            raise AudioError("extract_se needs at least one reference clip")
        waveforms = []
        for index, clip in enumerate(clips):
            name = str(clip) if isinstance(clip, (str, Path)) else f"clip {index}"
            audio = self._waveform(clip, name)
            if audio.size < MIN_REFERENCE_SECONDS * self.sampling_rate:
                raise AudioError(f"{name}: {audio.size / self.sampling_rate:.2f} s is too short; give at least {MIN_REFERENCE_SECONDS} s of speech")
            check_not_silent(audio, name)
            waveforms.extend(split_segments(audio, self.sampling_rate))
        return waveforms

    def extract_se(self, clips: Sequence[Clip]) -> torch.Tensor:
        """Speaker embedding [1, gin, 1] of one or more reference clips, averaged.

        Each clip is a path, a waveform at the model's rate, or a (waveform, rate) pair.
        """
        waveforms = self._reference_waveforms(clips)
        # The data config is part of the key: another STFT gives other embeddings.
        key = self.cache.key(f"{self.backend.name}|{self.config.data}", waveforms)
        with self._lock:
            start = time.perf_counter()
            se = self.cache.get(key)
            if se is None:
                se = self.backend.speaker_embedding(waveforms)
                self.cache.put(key, se)
            else:
                logger.info("speaker embedding taken from the cache")
            elapsed = time.perf_counter() - start
        self._local.timing = Timing(elapsed, sum(w.size for w in waveforms) / self.sampling_rate)
        return se

    def _check_embedding(self, se: torch.Tensor, name: str) -> None:
        gin = self.config.model.gin_channels
        if not isinstance(se, torch.Tensor) or tuple(se.shape) != (1, gin, 1) or not bool(torch.isfinite(se).all()):
            shape = tuple(se.shape) if isinstance(se, torch.Tensor) else type(se).__name__
            raise ValueError(f"{name}: expected a finite speaker embedding of shape (1, {gin}, 1), got {shape}")

    def convert(
        self, source: Clip, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float = 0.3, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        """Re-voice `source` (path, waveform at the model's rate, or (waveform, rate)) from speaker
        `g_src` to `g_tgt` [1, gin, 1]; `tau` (>= 0) scales the posterior noise, whose standard-normal
        draw `noise` [1, inter, T_spec] is sampled when None."""
        return self.convert_many([(source, g_src, g_tgt, tau, noise)])[0]

    def convert_many(
        self, requests: Sequence[tuple[Clip, torch.Tensor, torch.Tensor, float, torch.Tensor | None]]
    ) -> list[np.ndarray]:
        """Several `convert(source, g_src, g_tgt, tau, noise)` queued at once (they share device batches)."""
        checked = [self._conversion_request(*r) for r in requests]
        start = time.perf_counter()
        out = self.conversions.submit_many(checked)
        self._local.timing = Timing(time.perf_counter() - start, sum(r.waveform.size for r in checked) / self.sampling_rate)
        return out

    def _conversion_request(
        self, source: Clip, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float, noise: torch.Tensor | None
    ) -> ConversionRequest:
        if not np.isfinite(tau) or tau < 0:
            raise ValueError(f"tau must be a finite number >= 0, got {tau}")
        self._check_embedding(g_src, "source embedding")
        self._check_embedding(g_tgt, "target embedding")
        name = str(source) if isinstance(source, (str, Path)) else "source"
        audio = self._waveform(source, name)
        try:
            spectrogram_lengths([audio.size], self.config.data.filter_length, self.config.data.hop_length)
        except ValueError as error:
            raise AudioError(f"{name}: too short to convert ({error})") from error
        return ConversionRequest(audio, g_src, g_tgt, tau, noise)

    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        """MeloTTS on the backend: the request's padded batch, merged with concurrent requests of its `merge_key`."""
        start = time.perf_counter()
        result = self.syntheses.submit(request)
        audio_seconds = sum(a.size for a in result.audio) / result.sampling_rate
        self._local.timing = Timing(time.perf_counter() - start, audio_seconds)
        return result

    def _synthesize_merged(self, requests: list[SynthesisRequest]) -> list[SynthesisResult]:
        counts = [len(r.x_lengths) for r in requests]
        return split_result(self.backend.synthesize(merge_requests(requests)), counts)

    def close(self) -> None:
        """Stop the batchers' worker threads (waiting requests are served first)."""
        self.conversions.close()
        self.syntheses.close()
