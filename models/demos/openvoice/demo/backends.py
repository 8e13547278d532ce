# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The pipeline's backends: the `Backend` contract, its float32 reference (`ReferenceBackend`) and
its TTNN implementation (`TtnnBackend`), side by side.

The pipeline (demo/pipeline.py) does the host work -- decoding, resampling, cutting references
into <= 30 s segments (`SE_SEGMENT_SECONDS`), the embedding cache -- and hands each backend mono
waveforms at the model's rate, or one padded MeloTTS batch (`SynthesisRequest`).

TTNN backend: every forward runs through a runner (`runner/`): inputs padded to their shape bucket and
written into persistent device buffers, the forward traced on a card (the device is opened with a trace
region and two command queues), the same region eager on the mock. Clone: each segment through the
`CloneRunner`, summed and averaged on device, the embedding downloaded once. Conversion: a batch of
requests through the `ConverterRunner` (waveforms in, the STFT inside the region), data parallel over the
chips of a mesh. Text to speech (`synthesize`): one `MeloRunner` (two regions around the y_lengths sync;
data parallel on a mesh) per model language, built on first use from the reference model the pipeline's loader gives; the
request's draws (eps_sdp, and eps_p as a function of the y_lengths) are the reference backend's, so both
synthesize the same sentence.

Long-lived processes: buckets bound the shapes, so the program cache and the prepared conv weights stay
bounded by the buckets in use (`tt/conv.py PREPARED_SHAPES` per conv). As a backstop, before each call --
never inside a forward -- the backend clears the program cache once it holds more than
`PROGRAM_CACHE_MAX_ENTRIES` programs (`_bound_program_cache`), releasing the runners' traces first; the next
call at every shape then recompiles (kernel binaries stay in tt-metal's on-disk JIT cache).

Threads: calls and `close()` take one lock, so `close()` waits for an in-flight call and a call after
`close()` fails with a clear error (`VoiceCloner` gathers concurrent requests into batches before they
get here).
"""

from __future__ import annotations

import atexit
import gc
import functools
import math
import threading
from dataclasses import dataclass, replace
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
from models.demos.openvoice.tt.commons import download_replicated, num_chips
from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder
from models.demos.openvoice.runner.clone_runner import CloneRunner
from models.demos.openvoice.runner.converter_runner import ConverterRunner
from models.demos.openvoice.runner.melo_runner import MeloRunner
from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter
from models.demos.openvoice.utils.config import OpenVoiceConfig
from models.demos.openvoice.utils.device import NUM_COMMAND_QUEUES, TRACE_REGION_SIZE, close_device, is_mock_device, open_device

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


def merge_key(request: SynthesisRequest) -> tuple:
    """Requests with equal keys can share one MeloTTS batch: one model, one set of style controls, and a masked
    decoder (unmasked, an item would hear the other items' padding)."""
    r = request
    mergeable = r.mask_decoder and callable(r.eps_p)  # a fixed eps_p tensor has the request's own T_y
    return (r.language, r.noise_scale, r.length_scale, r.noise_scale_w, r.sdp_ratio, True if mergeable else id(r))


@dataclass(frozen=True)
class ConcatPriorDraw:
    """The prior draws of merged requests: each request's `PriorDraw` of its own items' y_lengths, zero-padded to
    the batch's T_y and stacked (each item's frames are what its request alone draws)."""

    draws: tuple[PriorDraw, ...]
    counts: tuple[int, ...]

    def __call__(self, y_lengths: Sequence[int], channels: int) -> torch.Tensor:
        t_y, parts, start = max(y_lengths), [], 0
        for draw, count in zip(self.draws, self.counts):
            eps = draw(y_lengths[start : start + count], channels)
            parts.append(torch.nn.functional.pad(eps, (0, t_y - eps.shape[-1])))
            start += count
        return torch.cat(parts)


def merge_requests(requests: Sequence[SynthesisRequest]) -> SynthesisRequest:
    """Several requests of one `merge_key` as ONE padded batch (items in request order; `split_result` undoes it)."""
    if len({merge_key(r) for r in requests}) != 1:
        raise ValueError("only requests of one merge_key share a batch")
    if len(requests) == 1:
        return requests[0]
    t_x = max(r.x.shape[-1] for r in requests)
    pad = lambda x: torch.nn.functional.pad(x, (0, t_x - x.shape[-1]))  # noqa: E731  (padded tokens are masked)
    cat = lambda name: torch.cat([pad(getattr(r, name)) for r in requests])  # noqa: E731
    first = requests[0]
    return replace(
        first, x=cat("x"), tone=cat("tone"), languages=cat("languages"), bert=cat("bert"), ja_bert=cat("ja_bert"),
        eps_sdp=cat("eps_sdp"), x_lengths=torch.cat([r.x_lengths for r in requests]),
        sid=torch.cat([r.sid for r in requests]),
        eps_p=ConcatPriorDraw(tuple(r.eps_p for r in requests), tuple(len(r.x_lengths) for r in requests)),
    )  # fmt: skip


def split_result(result: SynthesisResult, counts: Sequence[int]) -> list[SynthesisResult]:
    """A merged batch's result back to its requests (`counts` items each, in order)."""
    out, start = [], 0
    for count in counts:
        end = start + count
        out.append(SynthesisResult(result.audio[start:end], result.frames[start:end], result.sampling_rate))
        start = end
    return out


@dataclass(frozen=True)
class ConversionRequest:
    """One `convert`: a mono waveform at the model's rate re-voiced from `g_src` to `g_tgt` [1, gin, 1]; `noise` the
    posterior's standard-normal draw [1, inter, T_spec] (sampled when None), scaled by `tau`."""

    waveform: np.ndarray
    g_src: torch.Tensor
    g_tgt: torch.Tensor
    tau: float
    noise: torch.Tensor | None = None


class Backend(Protocol):
    """What the pipeline needs from a model implementation (reference or TTNN)."""

    name: str
    chips: int  # device batches are shared out over this many chips (data parallel)

    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        """Mean speaker embedding [1, gin, 1] of mono waveforms at the model's rate."""

    def voice_conversions(self, requests: Sequence[ConversionRequest]) -> list[np.ndarray]:
        """Several conversions (one device batch where the backend batches); mono audio per request, in order."""

    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        """MeloTTS `infer` of one padded batch (base-speaker audio per item)."""


def melo_audio(audio: torch.Tensor, y_lengths: Sequence[int], hop: int, sampling_rate: int) -> SynthesisResult:
    """[B, 1, T] padded batch audio -> each item's valid y_length * hop samples (what upstream gets alone)."""
    items = [audio[i, 0, : int(n) * hop].float().numpy().copy() for i, n in enumerate(y_lengths)]
    return SynthesisResult(items, [int(n) for n in y_lengths], sampling_rate)


class ReferenceBackend:
    """Float32 PyTorch reference on the CPU (the default while no Tenstorrent device is present)."""

    name = "reference"
    chips = 1

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

    def voice_conversions(self, requests: Sequence[ConversionRequest]) -> list[np.ndarray]:
        """One by one: upstream converts one waveform per call (the reference is the oracle, not a server)."""
        return [self.voice_conversion(r.waveform, r.g_src, r.g_tgt, r.tau, r.noise) for r in requests]

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
        traced: bool | None = None,
    ) -> None:
        """`traced`: the converter runner's mode (None: traced on a card, eager on the mock)."""
        self.config = config
        self.max_program_cache_entries = max_program_cache_entries
        self.program_cache_clears = 0
        self._lock = threading.Lock()
        self._close_at_exit = None
        self.device = device
        self._owns_device = owns_device
        self.name = "ttnn-mock" if is_mock_device() else "ttnn"  # part of the embedding cache key
        d = config.data
        # On a mesh (an N300's 1x2) conversions and MeloTTS run data parallel (each chip its share of the batch);
        # a clone runs replicated (one reference: every chip the same, chip 0's result read).
        self.chips = num_chips(device)
        self.speaker_encoder = TtSpeakerEncoder(device, ref_enc, d.filter_length, d.hop_length, d.win_length)
        self.clone_runner = CloneRunner(self.speaker_encoder, traced=traced)
        self.converter = converter
        self.traced = traced
        self.converter_runner: ConverterRunner | None = None  # built on first use: cloning alone never needs it
        self.melo = melo
        self.melo_runners: dict[str, MeloRunner] = {}  # per model language, built on first use

    @classmethod
    def open(
        cls,
        config: OpenVoiceConfig,
        ref_enc: ReferenceEncoder,
        converter: ToneColorConverter | None = None,
        melo: MeloLoader | None = None,
        chips: int = 1,
        traced: bool | None = None,
    ) -> "TtnnBackend":
        """Open the device (`utils/device.py`: chip 0, or a 1 x `chips` mesh; the port's L1 small size, a trace
        region and two command queues for the runners) and build the model on it.

        The device is closed by `close()`, or at interpreter exit if the caller never does. The
        exit hook holds the device only (not the backend and its model), and `close()` removes it.
        """
        device = open_device(chips=chips, trace_region_size=TRACE_REGION_SIZE, num_command_queues=NUM_COMMAND_QUEUES)
        logger.info(f"TTNN backend on {'the mock Wormhole' if is_mock_device() else 'a Tenstorrent device'}")
        backend = cls(config, device, ref_enc, converter, owns_device=True, melo=melo, traced=traced)
        backend._close_at_exit = functools.partial(close_device, device)
        atexit.register(backend._close_at_exit)
        return backend

    def _bound_program_cache(self) -> None:
        """Clear the device's program cache past `max_program_cache_entries` (between calls only)."""
        entries = self.device.num_program_cache_entries()
        if entries > self.max_program_cache_entries:
            for runner in (self.clone_runner, self.converter_runner, *self.melo_runners.values()):
                if runner is not None:
                    runner.release()  # a trace replays its programs: never keep one past a clear
            self.device.clear_program_cache()
            self.program_cache_clears += 1
            logger.info(f"program cache cleared: {entries} programs > {self.max_program_cache_entries}")

    def _check_open(self) -> None:
        if self.device is None:
            raise RuntimeError("TTNN backend is closed")

    def upload(self, waveform: np.ndarray) -> ttnn.Tensor:
        return self.speaker_encoder.upload(torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32)))

    def speaker_embedding(self, waveforms: Sequence[np.ndarray]) -> torch.Tensor:
        """Mean speaker embedding [1, gin, 1] float32 of mono waveforms (each <= 30 s, see module doc): each
        through the clone runner (padded to its frame bucket, traced on a card), summed and averaged on device."""
        if not waveforms:
            raise ValueError("speaker_embedding needs at least one waveform")
        with self._lock:
            self._check_open()
            self._bound_program_cache()
            total = None
            for waveform in waveforms:
                embedding = self.clone_runner.embedding(torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32)))
                # the first is copied: the region's output buffer is rewritten by its next run
                total = ttnn.clone(embedding) if total is None else ttnn.add(total, embedding)
            mean = download_replicated(ttnn.multiply(total, 1.0 / len(waveforms)), self.device)
        return mean.float().reshape(1, -1, 1)

    def voice_conversion(
        self, waveform: np.ndarray, g_src: torch.Tensor, g_tgt: torch.Tensor, tau: float, noise: torch.Tensor | None = None
    ) -> np.ndarray:
        """Re-voice one mono waveform (a batch of one, see `voice_conversions`)."""
        return self.voice_conversions([ConversionRequest(waveform, g_src, g_tgt, tau, noise)])[0]

    def voice_conversions(self, requests: Sequence[ConversionRequest]) -> list[np.ndarray]:
        """Several conversions as ONE device batch through the converter runner: the waveforms padded to the shape
        bucket of the longest, the STFT and the converter in one region (traced on a card), each item cut back to
        its own length (each equals the item converted alone)."""
        if self.converter is None:
            raise RuntimeError("voice conversion needs the converter checkpoint (enc_q, flow, dec)")
        with self._lock:
            self._check_open()
            self._bound_program_cache()
            if self.converter_runner is None:
                tt = TtToneColorConverter(self.device, self.converter, spectrogram=self.speaker_encoder.spectrogram)
                self.converter_runner = ConverterRunner(tt, traced=self.traced)
            audio = self.converter_runner.convert_batch(
                [torch.from_numpy(np.ascontiguousarray(r.waveform, dtype=np.float32)) for r in requests],
                torch.cat([r.g_src for r in requests]),
                torch.cat([r.g_tgt for r in requests]),
                [r.tau for r in requests],
                [r.noise for r in requests],
            )
        return [a.numpy() for a in audio]

    def synthesize(self, request: SynthesisRequest) -> SynthesisResult:
        """MeloTTS `infer` of one padded batch on the device (`TtMeloTTS`); audio per item at 44.1 kHz."""
        if self.melo is None:
            raise RuntimeError("text-to-speech needs a MeloTTS model (checkpoint or --random-weights)")
        r = request
        with self._lock:
            self._check_open()
            self._bound_program_cache()
            runner = self.melo_runners.get(r.language)
            if runner is None:
                runner = self.melo_runners[r.language] = MeloRunner(TtMeloTTS(self.device, self.melo(r.language)), self.traced)
            tt = runner.tt
            args = (r.x, r.x_lengths, r.sid, r.tone, r.languages, r.bert, r.ja_bert, r.noise_scale_w, r.eps_sdp)
            if r.mask_decoder:  # the product's path: buckets and the two (traced on a card) regions
                host = tt.prepare_inputs(*args, bucket=True, on_host=True, sdp_ratio=r.sdp_ratio, length_scale=r.length_scale)
                audio, y_lengths = runner.infer(host, r.noise_scale, r.eps_p)
            else:  # upstream's unmasked decoder: padding is audible, so no buckets
                inputs = tt.prepare_inputs(*args)
                outputs = tt.infer_all(inputs, r.noise_scale, r.length_scale, r.sdp_ratio, r.eps_p, mask_decoder=False)
                audio, y_lengths = tt.download_audio(outputs, inputs.batch_size), outputs.y_lengths[: inputs.items]
        return melo_audio(audio, y_lengths, tt.hop, MELO_SAMPLING_RATE)

    def close(self) -> None:
        """Release the device if this backend opened it (idempotent); waits for an in-flight call."""
        with self._lock:
            if self._close_at_exit is not None:
                atexit.unregister(self._close_at_exit)
                self._close_at_exit = None
            if self._owns_device and self.device is not None:
                # The model's device tensors (weights, persistent inputs, traces) go before their device: a mesh
                # tensor destroyed after its mesh is closed crashes the process.
                for runner in (self.clone_runner, self.converter_runner, *self.melo_runners.values()):
                    if runner is not None:
                        runner.release()
                self.speaker_encoder = self.clone_runner = self.converter_runner = None
                self.melo_runners = {}
                gc.collect()
                close_device(self.device)
                logger.info("TTNN backend: device closed")
            self.device = None
