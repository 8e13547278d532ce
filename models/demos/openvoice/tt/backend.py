"""TTNN implementation of the pipeline's `Backend` protocol (demo/pipeline.py).

Host work stays where the pipeline puts it: decoding, resampling and cutting references
into <= 30 s segments (`SE_SEGMENT_SECONDS`) happen before `speaker_embedding` is called.
Here each segment is uploaded once, the spectrogram, reference encoder and the average
over segments run on device, and the embedding is downloaded once.

Long-lived processes: every new input length adds programs to the device's program cache
(134-150 per conversion length, 52-80 per clone length, measured; the conv programs keep
their sliding-window config tensors in DRAM, see `tt/conv.py`). Before each call -- never inside a forward -- the backend clears the program
cache once it holds more than `PROGRAM_CACHE_MAX_ENTRIES` programs (`_bound_program_cache`,
used by clone and conversion alike). Prepared conv weights are bounded separately
(`conv.PREPARED_SHAPES` per conv). Cost: after a clear, the next call at every length
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
import threading
from typing import Sequence

import numpy as np
import torch
import ttnn
from loguru import logger

from models.demos.openvoice.common.config import OpenVoiceConfig
from models.demos.openvoice.demo.pipeline import MELO_SAMPLING_RATE, MeloLoader, SynthesisRequest, SynthesisResult, melo_audio
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tt.melo_tts import TtMeloTTS
from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder
from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter
from models.common.mock_device import close_device, is_mock, open_device

# tt-metal's usual size for conv models. Conv sliding-window configs go to DRAM
# (`config_tensors_in_dram`), so cached programs of many input lengths do not fill it.
L1_SMALL_SIZE = 16384
# Program-cache bound for long-lived processes (see the module docstring). Measured on the mock:
# a new input length adds 134-150 programs to a release-config conversion and 52-80 to a clone;
# 1024 keeps the programs of about the last 7 conversion lengths, in line with the prepared
# weights kept per conv (`conv.PREPARED_SHAPES` = 8 shapes).
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
        self.name = "ttnn-mock" if is_mock(device) else "ttnn"  # part of the embedding cache key
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
        device_mode: str | None = None,
        melo: MeloLoader | None = None,
    ) -> "TtnnBackend":
        """Open the device (`device_mode` auto | real | mock; mock only for testing) and build the model on it.

        The device is closed by `close()`, or at interpreter exit if the caller never does. The
        exit hook holds the device only (not the backend and its model), and `close()` removes it.
        """
        device, mock = open_device(mode=device_mode, l1_small_size=L1_SMALL_SIZE)
        logger.info(f"TTNN backend on {'the mock Wormhole' if mock else 'a Tenstorrent device'}")
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
