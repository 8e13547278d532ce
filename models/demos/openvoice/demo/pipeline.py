"""Voice cloning pipeline: `extract_se` (clone) and `convert`, on the reference or on TTNN.

Host steps, in one place (see TRADEOFFS.md): decoding and resampling the audio files,
cutting long references into segments, and the speaker-embedding cache. Everything from
the uploaded waveform to the embedding / converted audio runs in the selected backend.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np
import torch
from loguru import logger

from models.demos.openvoice.common.audio import AudioError, check_not_silent, load_audio
from models.demos.openvoice.common.config import OpenVoiceConfig
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder
from models.demos.openvoice.reference.spectrogram import spectrogram, spectrogram_lengths
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter

# Reference clips longer than this are cut into equal segments that are embedded one by one
# and averaged with the other clips, as upstream's se_extractor averages its VAD segments.
# It bounds the reference encoder's input (conv2d image of T x 513, GRU steps T / 64).
SE_SEGMENT_SECONDS = 30.0
MIN_REFERENCE_SECONDS = 0.5  # shorter clips hold too few frames for a stable embedding


class Backend(Protocol):
    """What the pipeline needs from a model implementation (reference or TTNN)."""

    name: str

    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        """Mean speaker embedding [1, gin, 1] of mono waveforms at the model's rate."""

    def voice_conversion(self, waveform: np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float) -> np.ndarray:
        """Re-voice a mono waveform from `g_src` to `g_tgt`; returns mono audio."""


class ReferenceBackend:
    """Float32 PyTorch reference on the CPU (the default while no Tenstorrent device is present)."""

    name = "reference"

    def __init__(self, config: OpenVoiceConfig, ref_enc: ReferenceEncoder, converter: ToneColorConverter | None = None):
        self.config = config
        self.ref_enc = ref_enc.eval()
        self.converter = converter.eval() if converter is not None else None

    def _spectrogram(self, waveform: np.ndarray) -> torch.Tensor:
        d = self.config.data
        return spectrogram(torch.from_numpy(waveform).unsqueeze(0), d.filter_length, d.hop_length, d.win_length)

    @torch.no_grad()
    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        embeddings = [self.ref_enc(self._spectrogram(w).transpose(1, 2)).unsqueeze(-1) for w in waveforms]
        return torch.stack(embeddings).mean(0)

    @torch.no_grad()
    def voice_conversion(self, waveform: np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float) -> np.ndarray:
        if self.converter is None:
            raise RuntimeError("voice conversion needs the converter checkpoint (enc_q, flow, dec)")
        spec = self._spectrogram(waveform)
        lengths = torch.tensor([spec.shape[-1]])
        out = self.converter.voice_conversion(spec, lengths, g_src, g_tgt, tau=tau)
        return out.audio[0, 0].numpy()


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
        if value is None and self.directory is not None and (self.directory / f"{key}.pt").is_file():
            value = torch.load(self.directory / f"{key}.pt", map_location="cpu", weights_only=True)
            self._memory[key] = value
        if value is not None:
            self.hits += 1
        return value

    def put(self, key: str, value: torch.Tensor) -> None:
        self._memory[key] = value
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            torch.save(value, self.directory / f"{key}.pt")


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


class VoiceCloner:
    """Upstream `ToneColorConverter.extract_se` / `convert`, with validated inputs and a cache.

    Safe to share between threads: decoding and validation run concurrently, while the
    backend (one device, one command queue) and the cache are used by one caller at a time.
    """

    def __init__(self, config: OpenVoiceConfig, backend: Backend, cache: SpeakerEmbeddingCache) -> None:
        self.config = config
        self.backend = backend
        self.cache = cache
        self.last_timing = Timing()
        self._lock = threading.Lock()

    @property
    def sampling_rate(self) -> int:
        return self.config.data.sampling_rate

    def _reference_waveforms(self, clips: Sequence[str | Path | np.ndarray]) -> list[np.ndarray]:
        if not clips:
            raise AudioError("extract_se needs at least one reference clip")
        waveforms = []
        for index, clip in enumerate(clips):
            if isinstance(clip, np.ndarray):
                name, audio = f"clip {index}", clip.astype(np.float32)
            else:
                name, audio = str(clip), load_audio(clip, self.sampling_rate)
            if audio.size < MIN_REFERENCE_SECONDS * self.sampling_rate:
                raise AudioError(f"{name}: {audio.size / self.sampling_rate:.2f} s is too short; give at least {MIN_REFERENCE_SECONDS} s of speech")
            check_not_silent(audio, name)
            waveforms.extend(split_segments(audio, self.sampling_rate))
        return waveforms

    def extract_se(self, clips: Sequence[str | Path | np.ndarray]) -> torch.Tensor:
        """Speaker embedding [1, gin, 1] of one or more reference clips (paths or 22.05 kHz arrays), averaged."""
        waveforms = self._reference_waveforms(clips)
        key = self.cache.key(self.backend.name, waveforms)
        with self._lock:
            start = time.perf_counter()
            se = self.cache.get(key)
            if se is None:
                se = self.backend.speaker_embedding(waveforms)
                self.cache.put(key, se)
            else:
                logger.info("speaker embedding taken from the cache")
            audio_seconds = sum(w.size for w in waveforms) / self.sampling_rate
            self.last_timing = Timing(time.perf_counter() - start, audio_seconds)
        return se

    def convert(self, source: str | Path | np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float = 0.3) -> np.ndarray:
        """Re-voice `source` (path or 22.05 kHz array) from speaker `g_src` to `g_tgt` [1, gin, 1]."""
        audio = source if isinstance(source, np.ndarray) else load_audio(source, self.sampling_rate)
        spectrogram_lengths([audio.size], self.config.data.filter_length, self.config.data.hop_length)  # too-short check
        with self._lock:
            start = time.perf_counter()
            out = self.backend.voice_conversion(audio, g_src, g_tgt, tau)
            self.last_timing = Timing(time.perf_counter() - start, audio.size / self.sampling_rate)
        return out
