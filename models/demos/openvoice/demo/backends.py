# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The pipeline's backends: the `Backend` contract, its float32 reference (`ReferenceBackend`) and
its TTNN implementation (`TtnnBackend`), side by side.

The pipeline (demo/pipeline.py) does the host work -- decoding, resampling, cutting references
into <= 30 s segments (`SE_SEGMENT_SECONDS`), the embedding cache -- and hands each backend mono
waveforms at the model's rate, or one padded MeloTTS batch (`SynthesisRequest`).

TTNN backend. Each segment is uploaded once, the spectrogram, reference encoder and the average
over segments run on device, and the embedding is downloaded once.

Long-lived processes: every new input length adds programs to the device's program cache
(134-150 per conversion length, 52-80 per clone length, measured; the conv programs keep
their sliding-window config tensors in DRAM, see `tt/conv.py`). Before each call -- never inside a forward -- the backend clears the program
cache once it holds more than `PROGRAM_CACHE_MAX_ENTRIES` programs (`_bound_program_cache`,
used by clone and conversion alike). Prepared conv weights are bounded separately
(`tt/conv.py PREPARED_SHAPES` per conv). Cost: after a clear, the next call at every length
recompiles/re-creates its programs (kernel binaries stay in tt-metal's on-disk JIT cache).

Text to speech (`synthesize`): one `TtMeloTTS` per model language, built on first use from the
reference model the pipeline's loader gives; one padded batch per request (its one host sync is
MeloTTS's y_lengths read); the request's draws (eps_sdp, and eps_p as a function of the
y_lengths) are the reference backend's, so both synthesize the same sentence.

Threads: calls and `close()` take one lock, so `close()` waits for an in-flight call and a
call after `close()` fails with a clear error (`VoiceCloner` serialises its calls too).
"""

from __future__ import annotations

import atexit
import functools
import math
import threading
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np
import torch
import ttnn
from loguru import logger

from models.demos.openvoice.reference.melo_tts import MeloTTS, PriorDraw
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tt.melo_tts import TtMeloTTS
from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder
from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter
from models.demos.openvoice.utils.config import OpenVoiceConfig
from models.demos.openvoice.utils.device import close_device, is_mock_device, open_device

MELO_SAMPLING_RATE = 44100  # every MeloTTS release (config data.sampling_rate; the model itself carries no rate)
MeloLoader = Callable[[str], MeloTTS]  # model language -> MeloTTS (loaded or built once by the caller)


@dataclass(frozen=True)
class SynthesisRequest:
    """One padded MeloTTS batch (the sentences of one request) and its style controls, as `MeloTTS.infer` takes them.

    x, tone, language [B, T_x]; x_lengths, sid [B]; bert [B, 1024, T_x]; ja_bert [B, 768, T_x]; eps_sdp
    [B, 2, T_x] the duration predictor's standard-normal draw. The prior's draw eps_p [B, C, T_y] is only
    shaped after the durations: a `PriorDraw` of the y_lengths, called by `infer` on either backend, so
    both draw the same values. mask_decoder (default on): the decoder masked per item, so each sentence
    equals the sentence synthesized alone (upstream's per-sentence loop) instead of hearing the
    padding of the batch in its last frames.
    """

    language: str  # model language (selects the MeloTTS model)
    x: torch.Tensor
    x_lengths: torch.Tensor
    sid: torch.Tensor
    tone: torch.Tensor
    languages: torch.Tensor
    bert: torch.Tensor
    ja_bert: torch.Tensor
    eps_sdp: torch.Tensor
    eps_p: PriorDraw
    noise_scale: float = 0.6
    length_scale: float = 1.0
    noise_scale_w: float = 0.8
    sdp_ratio: float = 0.2
    mask_decoder: bool = True


@dataclass
class SynthesisResult:
    """Base-speaker audio per item (float32, `sampling_rate`), cut to each item's y_length * hop samples."""

    audio: list[np.ndarray]
    frames: list[int]  # y_lengths
    sampling_rate: int


class Backend(Protocol):
    """What the pipeline needs from a model implementation (reference or TTNN)."""

    name: str

    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        """Mean speaker embedding [1, gin, 1] of mono waveforms at the model's rate."""

    def voice_conversion(
        self, waveform: np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        """Re-voice a mono waveform from `g_src` to `g_tgt` (noise: posterior draw [1, inter, T]); mono audio."""

    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        """MeloTTS `infer` of one padded batch (base-speaker audio per item)."""


def melo_audio(audio: torch.Tensor, y_lengths: Sequence[int], hop: int, sampling_rate: int) -> SynthesisResult:
    """[B, 1, T] padded batch audio -> each item's valid y_length * hop samples (what upstream gets alone)."""
    items = [audio[i, 0, : int(n) * hop].float().numpy().copy() for i, n in enumerate(y_lengths)]
    return SynthesisResult(items, [int(n) for n in y_lengths], sampling_rate)


class ReferenceBackend:
    """Float32 PyTorch reference on the CPU (the default while no Tenstorrent device is present)."""

    name = "reference"

    def __init__(
        self,
        config: OpenVoiceConfig,
        ref_enc: ReferenceEncoder,
        converter: ToneColorConverter | None = None,
        melo: MeloLoader | None = None,
    ):
        self.config = config
        self.ref_enc = ref_enc.eval()
        self.converter = converter.eval() if converter is not None else None
        self.melo = melo

    def _spectrogram(self, waveform: np.ndarray) -> torch.Tensor:
        d = self.config.data
        return spectrogram(torch.from_numpy(waveform).unsqueeze(0), d.filter_length, d.hop_length, d.win_length)

    @torch.no_grad()
    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        embeddings = [self.ref_enc(self._spectrogram(w).transpose(1, 2)).unsqueeze(-1) for w in waveforms]
        return torch.stack(embeddings).mean(0)

    @torch.no_grad()
    def voice_conversion(
        self, waveform: np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        if self.converter is None:
            raise RuntimeError("voice conversion needs the converter checkpoint (enc_q, flow, dec)")
        spec = self._spectrogram(waveform)
        lengths = torch.tensor([spec.shape[-1]])
        out = self.converter.voice_conversion(spec, lengths, g_src, g_tgt, tau=tau, noise=noise)
        return out.audio[0, 0].numpy()

    @torch.no_grad()
    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        if self.melo is None:
            raise RuntimeError("text-to-speech needs a MeloTTS model (checkpoint or --random-weights)")
        model = self.melo(request.language)
        r = request
        out = model.infer(
            r.x, r.x_lengths, r.sid, r.tone, r.languages, r.bert, r.ja_bert, noise_scale=r.noise_scale,
            length_scale=r.length_scale, noise_scale_w=r.noise_scale_w, sdp_ratio=r.sdp_ratio, eps_sdp=r.eps_sdp,
            eps_p=r.eps_p, mask_decoder=r.mask_decoder,
        )  # fmt: skip
        hop = math.prod(up.stride[0] for up in model.dec.ups)
        return melo_audio(out.audio, out.y_lengths.tolist(), hop, MELO_SAMPLING_RATE)


# Program-cache bound for long-lived processes (see the module docstring). Measured on the mock:
# a new input length adds 134-150 programs to a release-config conversion and 52-80 to a clone;
# 1024 keeps the programs of about the last 7 conversion lengths, in line with the prepared
# weights kept per conv (`tt/conv.py PREPARED_SHAPES` = 8 shapes).
PROGRAM_CACHE_MAX_ENTRIES = 1024


class TtnnBackend:
    """Speaker embedding and voice conversion on a Tenstorrent device or the mock."""

    def __init__(
        self,
        config: OpenVoiceConfig,
        device: ttnn.Device,
        ref_enc: ReferenceEncoder,
        converter: ToneColorConverter | None = None,
        owns_device: bool = False,
        max_program_cache_entries: int = PROGRAM_CACHE_MAX_ENTRIES,
        melo: MeloLoader | None = None,
    ) -> None:
        self.config = config
        self.max_program_cache_entries = max_program_cache_entries
        self.program_cache_clears = 0
        self._lock = threading.Lock()
        self._close_at_exit = None
        self.device = device
        self._owns_device = owns_device
        self.name = "ttnn-mock" if is_mock_device() else "ttnn"  # part of the embedding cache key
        d = config.data
        self.speaker_encoder = TtSpeakerEncoder(device, ref_enc, d.filter_length, d.hop_length, d.win_length)
        self.converter = converter
        self.tt_converter: TtToneColorConverter | None = None  # built on first use: cloning alone never needs it
        self.melo = melo
        self.tt_melo: dict[str, TtMeloTTS] = {}  # per model language, built on first use

    @classmethod
    def open(
        cls,
        config: OpenVoiceConfig,
        ref_enc: ReferenceEncoder,
        converter: ToneColorConverter | None = None,
        melo: MeloLoader | None = None,
    ) -> "TtnnBackend":
        """Open the device (`utils/device.py`: chip 0, the port's L1 small size) and build the model on it.

        The device is closed by `close()`, or at interpreter exit if the caller never does. The
        exit hook holds the device only (not the backend and its model), and `close()` removes it.
        """
        device = open_device()
        logger.info(f"TTNN backend on {'the mock Wormhole' if is_mock_device() else 'a Tenstorrent device'}")
        backend = cls(config, device, ref_enc, converter, owns_device=True, melo=melo)
        backend._close_at_exit = functools.partial(close_device, device)
        atexit.register(backend._close_at_exit)
        return backend

    def _bound_program_cache(self) -> None:
        """Clear the device's program cache past `max_program_cache_entries` (between calls only)."""
        entries = self.device.num_program_cache_entries()
        if entries > self.max_program_cache_entries:
            self.device.clear_program_cache()
            self.program_cache_clears += 1
            logger.info(f"program cache cleared: {entries} programs > {self.max_program_cache_entries}")

    def _check_open(self) -> None:
        if self.device is None:
            raise RuntimeError("TTNN backend is closed")

    def upload(self, waveform: np.ndarray) -> ttnn.Tensor:
        return self.speaker_encoder.upload(torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32)))

    def mean_embedding(self, uploaded: Sequence[ttnn.Tensor]) -> ttnn.Tensor:
        """Mean embedding [1, 1, 1, gin] of uploaded waveforms, computed and averaged on device."""
        if not uploaded:
            raise ValueError("mean_embedding needs at least one waveform")
        total = None
        for waveform in uploaded:
            embedding = self.speaker_encoder(waveform)
            total = embedding if total is None else ttnn.add(total, embedding)
        return ttnn.multiply(total, 1.0 / len(uploaded))

    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        """Mean speaker embedding [1, gin, 1] float32 of mono waveforms (each <= 30 s, see module doc)."""
        with self._lock:
            self._check_open()
            self._bound_program_cache()
            embedding = ttnn.to_torch(self.mean_embedding([self.upload(w) for w in waveforms]))
        return embedding.float().reshape(1, -1, 1)

    def voice_conversion(
        self, waveform: np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        """Re-voice a mono waveform (device spectrogram, then `TtToneColorConverter`); returns mono audio."""
        if self.converter is None:
            raise RuntimeError("voice conversion needs the converter checkpoint (enc_q, flow, dec)")
        with self._lock:
            self._check_open()
            self._bound_program_cache()
            if self.tt_converter is None:
                self.tt_converter = TtToneColorConverter(self.device, self.converter)
            inputs = self.prepare_conversion(self.upload(waveform), g_src, g_tgt, tau, noise)
            audio = ttnn.to_torch(self.tt_converter.forward(inputs))
        return audio.float().reshape(-1).numpy()

    def prepare_conversion(
        self, waveform: ttnn.Tensor, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float, noise: torch.Tensor | None = None
    ) -> TtConverterInputs:
        """Device spectrogram of an uploaded waveform, handed to the converter without leaving the device."""
        spec = self.speaker_encoder.spectrogram(waveform)  # [1, 1, T, bins], time-major
        return self.tt_converter.prepare_inputs(spec, torch.tensor([spec.shape[-2]]), g_src, g_tgt, tau, noise)

    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        """MeloTTS `infer` of one padded batch on the device (`TtMeloTTS`); audio per item at 44.1 kHz."""
        if self.melo is None:
            raise RuntimeError("text-to-speech needs a MeloTTS model (checkpoint or --random-weights)")
        r = request
        with self._lock:
            self._check_open()
            self._bound_program_cache()
            tt = self.tt_melo.get(r.language)
            if tt is None:
                tt = self.tt_melo[r.language] = TtMeloTTS(self.device, self.melo(r.language))
            inputs = tt.prepare_inputs(r.x, r.x_lengths, r.sid, r.tone, r.languages, r.bert, r.ja_bert, r.noise_scale_w, r.eps_sdp)
            outputs = tt.infer_all(inputs, r.noise_scale, r.length_scale, r.sdp_ratio, r.eps_p, mask_decoder=r.mask_decoder)
            audio = tt.download_audio(outputs, inputs.batch_size)
        return melo_audio(audio, outputs.y_lengths, tt.hop, MELO_SAMPLING_RATE)

    def close(self) -> None:
        """Release the device if this backend opened it (idempotent); waits for an in-flight call."""
        with self._lock:
            if self._close_at_exit is not None:
                atexit.unregister(self._close_at_exit)
                self._close_at_exit = None
            if self._owns_device and self.device is not None:
                close_device(self.device)
                logger.info("TTNN backend: device closed")
            self.device = None
