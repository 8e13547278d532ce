# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN tone-colour converter: `voice_conversion` on device with no host round trip.

    prepare_inputs (the one host->device upload) -> forward (device only) -> download audio

Inputs are uploaded time-major ``[1, 1, B*T, C]`` bf16 TILE in DRAM: the spectrogram, the
frame mask ``[1, 1, B*T, 1]`` (broadcast over channels), the posterior draw already scaled by
tau, the two speaker embeddings ``[1, 1, B, gin]`` and the 0/1 segment matrix S
``[1, 1, B*T, B]`` (row b*T + t has its 1 in column b). Each conditioned layer projects the
B embeddings (``g @ W``, [B, 2H]) and copies them to their rows with ``S @ (g @ W)``
(`wavenet.SpeakerRows`): per-item conditioning without reshaping the time axis.

Host transfers of `forward` (tested with graph capture, tests/test_openvoice.py):

* warm (an input length seen before, its prepared conv weights still cached): none at all;
* cold (the first forward at a new input length B x T): host->device uploads only, 425 on
  vc_small_b2 (421 inside ``ttnn.conv1d``, 4 inside the polyphase ``ttnn.reshape``): ttnn 0.81.1 prepares conv weights on the host for the sharding it
  derives from the input shape, so `ttnn.conv1d` uploads the prepared weights/bias and the
  conv's sliding-window config tensors (`tt/conv.py: PreparedWeights`). Nothing is read
  back: no `to_torch`, `Tensor::cpu` or `from_device` (device-resident raw weights would
  be read back with `Tensor::cpu`, which is why the raw weights stay on the host).
  This cannot be avoided for a new shape with ttnn 0.81.1.

Precision: bf16 weights and activations, except the decoder's last `generator.FP32_STAGES`
(= 2) upsampling stages and conv_post, whose activations are fp32. Every conv/matmul
accumulates in fp32 at HiFi3 (`precision.PLAN`, measured under the mock's Wormhole numerics:
TRADEOFFS.md "Precision plan"): the posterior's logs goes through exp, the reverse flow must
invert the forward flow, and the decoder's error reaches the audio undamped. `plan` overrides
the per-module choice (tools/precision_plan.py measures the options).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tt.buckets import bucket_length, pad_time
from models.demos.openvoice.tt.commons import cast, download_chips, from_time_major, num_chips, to_time_major, upload_per_chip
from models.demos.openvoice.tt.generator import TtGenerator
from models.demos.openvoice.tt.posterior_encoder import TtPosteriorEncoder
from models.demos.openvoice.tt.precision import Precision, precision_of
from models.demos.openvoice.tt.residual_coupling import TtResidualCouplingBlock
from models.demos.openvoice.tt.spectrogram import TtSpectrogram
from models.demos.openvoice.tt.wavenet import SpeakerRows


@dataclass
class TtConverterInputs:
    """Device inputs of one `forward`; `batch_size` x `length` frames. The spectrogram comes either as `spec`
    or, for `prepare_batch`, as the padded waveforms (`waveform`), from which `forward` computes it on device."""

    spec: ttnn.Tensor | None  # [1, 1, B*T, bins]
    mask: ttnn.Tensor  # [1, 1, B*T, 1]
    scaled_noise: ttnn.Tensor  # tau * eps, [1, 1, B*T, inter]
    segments: ttnn.Tensor  # S, [1, 1, B*T, B]
    g_src: ttnn.Tensor  # [1, 1, B, gin]
    g_tgt: ttnn.Tensor  # [1, 1, B, gin]
    batch_size: int
    length: int  # frames per item on device (a bucket when bucketed)
    masked_decoder: bool = False  # bucketed: the decoder masks padded frames too (each item equals it alone)
    valid_length: int | None = None  # bucketed: the frames before padding (the audio is cut back to them)
    waveform: ttnn.Tensor | None = None  # `TtSpectrogram.pad_batch` [1, B*rows*hop] float32 row-major
    lengths: tuple[int, ...] = ()  # per item frames (prepare_batch: each item's audio is cut to its own)

    DEVICE_TENSORS = ("spec", "waveform", "mask", "scaled_noise", "segments", "g_src", "g_tgt")

    def device_tensors(self) -> dict[str, ttnn.Tensor]:
        """The tensors a request writes (a runner's persistent inputs), by name."""
        return {name: getattr(self, name) for name in self.DEVICE_TENSORS if getattr(self, name) is not None}

    def with_device_tensors(self, tensors: dict[str, ttnn.Tensor]) -> "TtConverterInputs":
        return replace(self, **tensors)


@dataclass
class TtConverterOutputs:
    """Device outputs; latents are time-major [1, 1, B*T, inter], audio [1, 1, B*T*hop, 1]."""

    audio: ttnn.Tensor
    z: ttnn.Tensor
    m_q: ttnn.Tensor
    logs_q: ttnn.Tensor
    z_p: ttnn.Tensor
    z_hat: ttnn.Tensor


class TtToneColorConverter:
    def __init__(
        self,
        device: ttnn.Device,
        reference: ToneColorConverter,
        plan: dict[str, Precision] | None = None,
        spectrogram: TtSpectrogram | None = None,
    ) -> None:
        """`spectrogram`: the device STFT `prepare_batch` inputs go through (the clone path's, shared)."""
        self.device = device
        self.chips = num_chips(device)  # > 1: data parallel over a mesh (`_assemble`)
        self.spectrogram = spectrogram
        self.zero_g = reference.zero_g
        self.inter_channels = reference.enc_q.out_channels
        self.hop = math.prod(up.stride[0] for up in reference.dec.ups)
        planned = lambda module: precision_of(module, plan).conv_arguments(device)  # noqa: E731
        self.enc_q = TtPosteriorEncoder(device, reference.enc_q, zero_cond=self.zero_g, **planned("posterior_encoder"))
        self.flow = TtResidualCouplingBlock(device, reference.flow, **planned("flow"))
        self.dec = TtGenerator(device, reference.dec, zero_cond=self.zero_g, **planned("generator"))
        logger.info(f"TT tone-colour converter built (zero_g={self.zero_g}, hop={self.hop})")

    def prepare_inputs(
        self,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        tau: float = 0.3,
        noise: torch.Tensor | None = None,
        bucket: bool = False,
        on_host: bool = False,
    ) -> TtConverterInputs:
        """Upload spec [B, bins, T], lengths [B], g_src/g_tgt [B, gin, 1] and the posterior draw
        noise [B, inter, T] (standard normal, sampled when None); masks and S are built here. (From
        waveforms, with the STFT on device, see `prepare_batch`.)

        `bucket`: T is padded up to its shape bucket (`tt/buckets.py`), spec and noise
        with zeros, and the decoder masks the padded frames, so every item equals its unpadded run.
        `on_host`: the same tensors, not uploaded (what `runner.ConverterRunner` copies into its
        persistent device inputs).
        """
        device = None if on_host else self.device
        b, _, t = spec.shape
        if noise is None:
            noise = torch.randn(b, self.inter_channels, t)
        elif tuple(noise.shape) != (b, self.inter_channels, t):
            expected = (b, self.inter_channels, t)
            raise ValueError(f"noise shape {tuple(noise.shape)} differs from the posterior's {expected}")
        valid = t
        if bucket:
            t = bucket_length(valid)
            spec, noise = pad_time(spec, t), pad_time(noise, t)
        return self._assemble(device, spec_lengths, t, noise * tau, g_src, g_tgt, valid if bucket else None, spec=spec)

    def prepare_batch(
        self,
        waveforms: Sequence[torch.Tensor],
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        taus: Sequence[float],
        noises: Sequence[torch.Tensor | None],
        on_host: bool = False,
    ) -> TtConverterInputs:
        """A batch of requests from their mono waveforms (any lengths): each item's frames padded up to the
        bucket of the longest, the spectrogram computed on device by `forward` (`TtSpectrogram.batch`), the
        decoder masked per item, so every item equals its own `voice_conversion`. g_src/g_tgt [B, gin, 1];
        per item its tau and its posterior draw [1, inter, T_b] (sampled when None). On a mesh the items are
        shared out over the chips (filled up with silent items to a multiple of the chips)."""
        if self.spectrogram is None:
            raise ValueError("prepare_batch needs the converter built with a TtSpectrogram")
        waveforms = list(waveforms)
        lengths = [self.spectrogram.num_frames(torch.as_tensor(w).numel()) for w in waveforms]
        t = bucket_length(max(lengths))
        scaled = torch.zeros(len(waveforms), self.inter_channels, t)
        for b, (n, tau, noise) in enumerate(zip(lengths, taus, noises)):
            if noise is None:
                noise = torch.randn(1, self.inter_channels, n)
            elif tuple(noise.shape) != (1, self.inter_channels, n):
                raise ValueError(f"item {b}: noise shape {tuple(noise.shape)} differs from the posterior's {(1, self.inter_channels, n)}")
            scaled[b, :, :n] = noise[0] * tau
        # A mesh takes an equal share per chip: the batch is filled up with silent, fully masked items.
        fill = -len(waveforms) % self.chips
        if fill:
            waveforms += [torch.zeros(self.spectrogram.n_fft)] * fill
            scaled = torch.cat([scaled, torch.zeros(fill, *scaled.shape[1:])])
            g_src, g_tgt = (torch.cat([g, torch.zeros(fill, *g.shape[1:])]) for g in (g_src, g_tgt))
        per_chip = len(waveforms) // self.chips
        rows = [self.spectrogram.pad_batch(waveforms[c * per_chip : (c + 1) * per_chip], t) for c in range(self.chips)]
        device = None if on_host else self.device
        waveform = upload_per_chip(device, self.device, rows, ttnn.float32, ttnn.ROW_MAJOR_LAYOUT)
        inputs = self._assemble(
            device, torch.tensor(lengths + [0] * fill), t, scaled, g_src, g_tgt, max(lengths), waveform=waveform
        )
        inputs.lengths = tuple(lengths)
        return inputs

    def _assemble(
        self,
        device: ttnn.Device | None,
        lengths: torch.Tensor,
        t: int,
        scaled_noise: torch.Tensor,
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        valid: int | None,
        spec: torch.Tensor | None = None,
        waveform: ttnn.Tensor | None = None,
    ) -> TtConverterInputs:
        """Masks, S, the scaled draw and the embeddings around a host spectrogram [B, bins, T] (or the uploaded
        waveforms it comes from).
        On a mesh each chip gets B / chips consecutive items (`upload_per_chip`); the forward's shapes are a
        chip's: `batch_size` is the items per chip."""
        chips = self.chips
        if len(lengths) % chips:
            raise ValueError(f"a batch of {len(lengths)} does not split over {chips} chips")
        b = len(lengths) // chips
        items = [slice(c * b, (c + 1) * b) for c in range(chips)]
        mask = sequence_mask(lengths, t).float()  # [B, T]
        segments = torch.eye(b).repeat_interleave(t, dim=0).reshape(1, 1, b * t, b)  # the same on every chip
        up = lambda parts: upload_per_chip(device, self.device, parts)  # noqa: E731
        rows = lambda x: up([to_time_major(x[s]) for s in items])  # noqa: E731  [B, C, T] -> per chip [1, 1, b*T, C]
        return TtConverterInputs(
            spec=None if spec is None else rows(spec),
            mask=rows(mask[:, None, :]),
            scaled_noise=rows(scaled_noise),
            segments=up([segments] * chips),
            g_src=up([g_src[s, :, 0].reshape(1, 1, b, -1) for s in items]),
            g_tgt=up([g_tgt[s, :, 0].reshape(1, 1, b, -1) for s in items]),
            batch_size=b,
            length=t,
            masked_decoder=valid is not None,
            valid_length=valid,
            waveform=waveform,
        )

    # The four stages of `forward_all`, separately callable for per-stage benchmarks.
    def encode(self, inputs: TtConverterInputs) -> tuple[ttnn.Tensor, ttnn.Tensor, ttnn.Tensor]:
        """Posterior encoder -> (z, m_q, logs_q)."""
        speaker = None if self.zero_g else SpeakerRows(inputs.segments, inputs.g_src)
        spec = inputs.spec
        if spec is None:  # `prepare_batch`: the STFT is part of the forward
            spec = cast(self.spectrogram.batch(inputs.waveform, inputs.batch_size, inputs.length), ttnn.bfloat16)
        return self.enc_q(spec, inputs.mask, inputs.scaled_noise, inputs.batch_size, inputs.length, speaker)

    def flow_forward(self, inputs: TtConverterInputs, z: ttnn.Tensor) -> ttnn.Tensor:
        """z -> z_p with the source speaker."""
        speaker = SpeakerRows(inputs.segments, inputs.g_src)  # each row conditioned on its item's embedding
        return self.flow(z, inputs.mask, inputs.batch_size, inputs.length, speaker)

    def flow_reverse(self, inputs: TtConverterInputs, z_p: ttnn.Tensor) -> ttnn.Tensor:
        """z_p -> z_hat with the target speaker."""
        speaker = SpeakerRows(inputs.segments, inputs.g_tgt)
        return self.flow(z_p, inputs.mask, inputs.batch_size, inputs.length, speaker, reverse=True)

    def decode(self, inputs: TtConverterInputs, z_hat: ttnn.Tensor) -> ttnn.Tensor:
        """z_hat -> audio. z_hat is already masked (the flow keeps masked inputs masked), so the
        reference's z_hat * y_mask is the identity here and is not run."""
        speaker = None if self.zero_g else SpeakerRows(inputs.segments, inputs.g_tgt)
        mask = inputs.mask if inputs.masked_decoder else None
        return self.dec(z_hat, inputs.batch_size, inputs.length, speaker, mask)

    def forward_all(self, inputs: TtConverterInputs) -> TtConverterOutputs:
        """Device-only voice conversion, keeping the latents."""
        z, m_q, logs_q = self.encode(inputs)
        z_p = self.flow_forward(inputs, z)
        z_hat = self.flow_reverse(inputs, z_p)
        audio = self.decode(inputs, z_hat)
        return TtConverterOutputs(audio=audio, z=z, m_q=m_q, logs_q=logs_q, z_p=z_p, z_hat=z_hat)

    def forward(self, inputs: TtConverterInputs) -> ttnn.Tensor:
        """Device-only voice conversion -> audio [1, 1, B*T*hop, 1] (no host transfer)."""
        return self.forward_all(inputs).audio

    def voice_conversion(
        self,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        tau: float = 0.3,
        noise: torch.Tensor | None = None,
        bucket: bool = False,
    ) -> torch.Tensor:
        """Torch in, torch audio [B, 1, T*hop] out: upload, device forward, download (`bucket`: see
        `prepare_inputs`; the padded samples are cut off)."""
        inputs = self.prepare_inputs(spec, spec_lengths, g_src, g_tgt, tau, noise, bucket)
        return self.download_audio(self.forward(inputs), inputs)

    def download_audio(self, audio: ttnn.Tensor, inputs: TtConverterInputs) -> torch.Tensor:
        """A forward's audio [1, 1, B*T*hop, 1] -> torch [B, 1, T*hop], cut back to the unpadded frames when bucketed."""
        audio = download_chips(audio, self.device).float().reshape(1, 1, -1, 1)  # chips' items in order
        audio = from_time_major(audio, inputs.batch_size * self.chips)
        return audio if inputs.valid_length is None else audio[..., : inputs.valid_length * self.hop]

    def download_items(self, audio: ttnn.Tensor, inputs: TtConverterInputs) -> list[torch.Tensor]:
        """A `prepare_batch` forward's audio -> each item's own T_b * hop samples (1-D)."""
        audio = self.download_audio(audio, inputs)
        return [audio[b, 0, : n * self.hop] for b, n in enumerate(inputs.lengths)]
