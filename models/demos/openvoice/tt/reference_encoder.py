# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Reference (speaker) encoder on device, and the clone path waveform -> speaker embedding.

    spec [1, 1, T, 513] --LayerNorm(513)--> 6 x (Conv2d 3x3 stride 2 + ReLU), NHWC
      --[T', 9 * 128]--> GRU(128) over T' = ceil(T / 64) steps --final h--> Linear -> [1, 1, 1, 256]

Layouts and precision (see TRADEOFFS.md):
* LayerNorm in float32 on the float32 spectrogram (see tt/spectrogram.py for why float32).
* Convs: float32 activations and weights (`CONV_DTYPE`; Wormhole's FPU reads them at tf32
  precision), `precision.PLAN["reference_encoder"]` (HiFi3 with fp32 accumulation on Wormhole, where
  ttnn warns that HiFi4 + fp32 accumulation is less accurate; HiFi4 elsewhere). bf16 storage was measured too low: embedding PCC 0.9986 on counting.wav and
  0.9990 on quick_brown_fox (mock, real weights), against the 0.999 bar; the encoder is a
  small share of the work, so the 2x traffic is cheap. ttnn's flattened NHWC
  [1, 1, H*W, C] in DRAM with `slice_config=None`, so ttnn decides by size whether to
  slice a conv through L1. Prepared weights are cached per input shape, as in
  `tt/conv.py`, for the last `conv.PREPARED_SHAPES` shapes.
* The flatten to GRU steps is a plain reshape of the NHWC rows (t, w) x c to [T', W'*C]
  (column w*C + c); upstream flattens channel-major (c*W' + w), so the GRU input weight's
  columns are permuted once at load (`preprocess_reference_encoder`), not on device.
* GRU and projection in float32: they are a tiny share of the work ([1, 128] x [128, 384]
  per step, T' = 41 steps for 30 s), and on the mock bf16 storage there costs measurably
  more (embedding PCC 0.99992 vs 0.99994 on quick_brown_fox) for no speed that matters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import torch
import ttnn

from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder
from models.demos.openvoice.tt.buckets import bucket_length
from models.demos.openvoice.tt.commons import cast, upload
from models.demos.openvoice.tt.conv import PreparedWeights
from models.demos.openvoice.tt.precision import Precision, compute_config
from models.demos.openvoice.tt.spectrogram import TtSpectrogram

CONV_DTYPE = ttnn.float32
RECURRENT_DTYPE = ttnn.float32


@dataclass(frozen=True)
class ReferenceEncoderWeights:
    """Host tensors of `ReferenceEncoder`, arranged for the device forward."""

    layernorm: tuple[torch.Tensor, torch.Tensor] | None  # gamma, beta [513]
    layernorm_eps: float
    convs: list[tuple[torch.Tensor, torch.Tensor]]  # OIHW weight, bias [Co]
    gru_input: torch.Tensor  # [W'*C, 3H] (transposed, columns in NHWC flatten order), gates r|z|n
    gru_input_bias: torch.Tensor  # [3H]
    gru_hidden: torch.Tensor  # [H, 3H]
    gru_hidden_bias: torch.Tensor  # [3H]
    proj: torch.Tensor  # [H, gin]
    proj_bias: torch.Tensor  # [gin]


def preprocess_reference_encoder(reference: ReferenceEncoder) -> ReferenceEncoderWeights:
    """Fold the reference module's (weight-norm-folded) state into the device arrangement."""
    state = {k: v.detach().float() for k, v in reference.state_dict().items()}
    channels = reference.convs[-1].out_channels
    w_ih = state["gru.weight_ih_l0"]  # [3H, C*W'], column c*W' + w (channel-major flatten)
    freq = w_ih.shape[1] // channels
    # Column w*C + c of the NHWC flatten takes upstream column c*W' + w.
    w_ih = w_ih.reshape(-1, channels, freq).transpose(1, 2).reshape(w_ih.shape[0], -1)
    layernorm = None
    if reference.layernorm is not None:
        layernorm = (state["layernorm.weight"], state["layernorm.bias"])
    return ReferenceEncoderWeights(
        layernorm=layernorm,
        layernorm_eps=reference.layernorm.eps if reference.layernorm is not None else 0.0,
        convs=[(state[f"convs.{i}.weight"], state[f"convs.{i}.bias"]) for i in range(len(reference.convs))],
        gru_input=w_ih.t().contiguous(),
        gru_input_bias=state["gru.bias_ih_l0"],
        gru_hidden=state["gru.weight_hh_l0"].t().contiguous(),
        gru_hidden_bias=state["gru.bias_hh_l0"],
        proj=state["proj.weight"].t().contiguous(),
        proj_bias=state["proj.bias"],
    )


def _row(device: ttnn.Device, vector: torch.Tensor) -> ttnn.Tensor:
    return upload(device, vector.reshape(1, 1, 1, -1), RECURRENT_DTYPE)


class TtConv2dReLU:
    """3x3 stride-2 pad-1 Conv2d + fused ReLU on flattened NHWC [1, 1, H*W, Ci] -> [1, 1, H'*W', Co]."""

    def __init__(self, device: ttnn.Device, weight: torch.Tensor, bias: torch.Tensor, compute: ttnn.DeviceComputeKernelConfig) -> None:
        self.device = device
        self.out_channels, self.in_channels, kh, kw = (int(s) for s in weight.shape)
        self.kernel_size = (kh, kw)
        self.compute = compute
        self.prepared = PreparedWeights(
            ttnn.from_torch(weight, dtype=ttnn.float32), ttnn.from_torch(bias.reshape(1, 1, 1, -1), dtype=ttnn.float32)
        )
        self.conv_config = ttnn.Conv2dConfig(
            weights_dtype=CONV_DTYPE,
            activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU),
            deallocate_activation=False,
            config_tensors_in_dram=True,  # as in tt/conv.py: cached programs then hold no L1_SMALL
        )

    def __call__(self, x: ttnn.Tensor, height: int, width: int) -> tuple[ttnn.Tensor, int, int]:
        key = (height, width)
        weight, bias, fresh = self.prepared.lookup(key)
        result = ttnn.conv2d(
            input_tensor=x,
            weight_tensor=weight,
            bias_tensor=bias,
            device=self.device,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            batch_size=1,
            input_height=height,
            input_width=width,
            kernel_size=self.kernel_size,
            stride=(2, 2),
            padding=(1, 1),
            dtype=CONV_DTYPE,
            conv_config=self.conv_config,
            compute_config=self.compute,
            return_output_dim=True,
            return_weights_and_bias=fresh,
        )
        out, (out_h, out_w) = self.prepared.keep(key, result) if fresh else result
        return out, out_h, out_w


class TtReferenceEncoder:
    """`ReferenceEncoder` on device: spectrogram [1, 1, T, bins] (TILE) -> embedding [1, 1, 1, gin] float32."""

    def __init__(
        self, device: ttnn.Device, reference: ReferenceEncoder, *, compute: ttnn.DeviceComputeKernelConfig | None = None
    ) -> None:
        self.device = device
        self.bins = reference.spec_channels
        weights = preprocess_reference_encoder(reference)
        self.compute = compute if compute is not None else compute_config(device, "reference_encoder")
        self.layernorm = None
        if weights.layernorm is not None:
            self.layernorm = tuple(_row(device, v) for v in weights.layernorm)
        self.layernorm_eps = weights.layernorm_eps
        self.convs = [TtConv2dReLU(device, w, b, self.compute) for w, b in weights.convs]
        self.hidden = weights.gru_hidden.shape[0]
        self.gru_input = upload(device, weights.gru_input, RECURRENT_DTYPE)
        self.gru_input_bias = _row(device, weights.gru_input_bias)
        self.gru_hidden = upload(device, weights.gru_hidden, RECURRENT_DTYPE)
        self.gru_hidden_bias = _row(device, weights.gru_hidden_bias)
        self.proj = upload(device, weights.proj, RECURRENT_DTYPE)
        self.proj_bias = _row(device, weights.proj_bias)
        self.h0 = _row(device, torch.zeros(self.hidden))

    def normalize(self, spec: ttnn.Tensor) -> ttnn.Tensor:
        """LayerNorm over the bins (float32)."""
        if self.layernorm is None:
            return spec
        gamma, beta = self.layernorm
        return ttnn.layer_norm(spec, epsilon=self.layernorm_eps, weight=gamma, bias=beta, compute_kernel_config=self.compute)

    def conv_stack(
        self, x: ttnn.Tensor, frames: int, keep_all: bool = False, masks: Sequence[ttnn.Tensor] | None = None
    ) -> tuple[list[ttnn.Tensor], int, int]:
        """Normalised spectrogram -> conv outputs (flattened NHWC; all six if `keep_all`, for tests,
        else the last only, so each activation is freed once the next conv has read it) and (H', W').
        `masks` (a bucketed clone, `TtCloneInputs`): conv k's input rows of padded frames zeroed first, so each
        conv sees the zeros the unpadded run's own padding gives (mask 0 applies to the spectrogram rows)."""
        if masks is not None:
            x = ttnn.multiply(x, masks[0])
        # [1, 1, T, bins] -> one-channel NHWC image [1, 1, T*bins, 1], row-major for the conv's halo.
        x = cast(x, CONV_DTYPE)
        x = ttnn.to_layout(x, ttnn.ROW_MAJOR_LAYOUT)
        x = ttnn.reshape(x, (1, 1, frames * self.bins, 1))
        height, width = frames, self.bins
        outputs = []
        for k, conv in enumerate(self.convs):
            if masks is not None and k > 0:
                x = ttnn.multiply(x, masks[k])
            x, height, width = conv(x, height, width)
            if keep_all:
                outputs.append(x)
        return outputs if keep_all else [x], height, width

    def gru_inputs(self, conv_out: ttnn.Tensor, steps: int) -> ttnn.Tensor:
        """Input-to-hidden products of all steps in one matmul: [1, 1, T', 3H] float32."""
        x = ttnn.to_layout(conv_out, ttnn.TILE_LAYOUT)
        x = ttnn.reshape(x, (1, 1, steps, self.gru_input.shape[0]))  # rows (t, w) x c -> t x (w, c)
        x = cast(x, RECURRENT_DTYPE)
        return ttnn.linear(x, self.gru_input, bias=self.gru_input_bias, compute_kernel_config=self.compute)

    def gru(self, gates_in: ttnn.Tensor, steps: int, step_mask: ttnn.Tensor | None = None) -> ttnn.Tensor:
        """PyTorch GRU recurrence (gates r, z, n) from precomputed input products; final h [1, 1, 1, H].
        `step_mask` [1, 1, steps, H] (a bucketed clone): h keeps its value on the padded steps (`ttnn.where`, an
        exact selection), so the final h is the one after the last valid step."""
        hsz = self.hidden
        h = self.h0
        for t in range(steps):
            previous = h
            gi = ttnn.slice(gates_in, [0, 0, t, 0], [1, 1, t + 1, 3 * hsz])
            gh = ttnn.linear(h, self.gru_hidden, bias=self.gru_hidden_bias, compute_kernel_config=self.compute)
            rz = ttnn.sigmoid(ttnn.add(ttnn.slice(gi, [0, 0, 0, 0], [1, 1, 1, 2 * hsz]), ttnn.slice(gh, [0, 0, 0, 0], [1, 1, 1, 2 * hsz])))
            r = ttnn.slice(rz, [0, 0, 0, 0], [1, 1, 1, hsz])
            z = ttnn.slice(rz, [0, 0, 0, hsz], [1, 1, 1, 2 * hsz])
            gh_n = ttnn.slice(gh, [0, 0, 0, 2 * hsz], [1, 1, 1, 3 * hsz])
            n = ttnn.tanh(ttnn.add(ttnn.slice(gi, [0, 0, 0, 2 * hsz], [1, 1, 1, 3 * hsz]), ttnn.multiply(r, gh_n)))
            h = ttnn.add(n, ttnn.multiply(z, ttnn.subtract(h, n)))  # (1 - z) * n + z * h
            if step_mask is not None:
                h = ttnn.where(ttnn.slice(step_mask, [0, 0, t, 0], [1, 1, t + 1, hsz]), h, previous)
        return h

    def project(self, h: ttnn.Tensor) -> ttnn.Tensor:
        return ttnn.linear(h, self.proj, bias=self.proj_bias, compute_kernel_config=self.compute)

    def __call__(
        self, spec: ttnn.Tensor, masks: Sequence[ttnn.Tensor] | None = None, step_mask: ttnn.Tensor | None = None
    ) -> ttnn.Tensor:
        """Spectrogram -> embedding; `masks` / `step_mask`: a bucketed spectrogram's (see `TtCloneInputs`)."""
        frames = spec.shape[-2]
        outputs, steps, _ = self.conv_stack(self.normalize(spec), frames, masks=masks)
        return self.project(self.gru(self.gru_inputs(outputs[-1], steps), steps, step_mask))

    def layer_shapes(self, frames: int) -> list[tuple[int, int]]:
        """(height, width) of each conv's input, then of the last conv's output (stride 2, pad 1: ceil halves)."""
        shapes = [(frames, self.bins)]
        for _ in self.convs:
            height, width = shapes[-1]
            shapes.append(((height + 1) // 2, (width + 1) // 2))
        return shapes


@dataclass
class TtCloneInputs:
    """One reference padded to a frame bucket (`TtSpeakerEncoder.prepare_inputs`)."""

    waveform: ttnn.Tensor  # `TtSpectrogram.pad_batch` [1, rows * hop] float32 row-major
    masks: tuple[ttnn.Tensor, ...]  # per conv input: 1 on the rows of valid frames ([1, 1, H*W, 1]; conv 0: [1, 1, T, 1])
    step_mask: ttnn.Tensor  # [1, 1, steps, H]: 1 up to the last valid GRU step
    frames: int  # the bucket
    valid_frames: int

    def device_tensors(self) -> dict[str, ttnn.Tensor]:
        """The tensors a request writes (a runner's persistent inputs), by name."""
        return {"waveform": self.waveform, "step_mask": self.step_mask, **{f"mask{k}": m for k, m in enumerate(self.masks)}}

    def with_device_tensors(self, tensors: dict[str, ttnn.Tensor]) -> "TtCloneInputs":
        masks = tuple(tensors[f"mask{k}"] for k in range(len(self.masks)))
        return replace(self, waveform=tensors["waveform"], step_mask=tensors["step_mask"], masks=masks)


class TtSpeakerEncoder:
    """Clone path on device: uploaded mono waveform -> speaker embedding [1, 1, 1, gin] (upstream `extract_se`).

    One waveform per call (the reference encoder has no mask, upstream embeds clips one at a
    time). Inputs are bounded by the pipeline's 30 s segmenting (`SE_SEGMENT_SECONDS`):
    T <= 2584 frames, 41 GRU steps.
    """

    def __init__(
        self,
        device: ttnn.Device,
        reference: ReferenceEncoder,
        n_fft: int = 1024,
        hop_length: int = 256,
        win_length: int = 1024,
        plan: dict[str, Precision] | None = None,
    ) -> None:
        if n_fft // 2 + 1 != reference.spec_channels:
            raise ValueError(f"n_fft {n_fft} gives {n_fft // 2 + 1} bins, the reference encoder expects {reference.spec_channels}")
        self.device = device
        self.spectrogram = TtSpectrogram(device, n_fft, hop_length, win_length, compute=compute_config(device, "spectrogram", plan))
        self.encoder = TtReferenceEncoder(device, reference, compute=compute_config(device, "reference_encoder", plan))

    def upload(self, waveform: torch.Tensor) -> ttnn.Tensor:
        return self.spectrogram.upload(waveform)

    def __call__(self, waveform: ttnn.Tensor) -> ttnn.Tensor:
        return self.encoder(self.spectrogram(waveform))

    def prepare_inputs(self, waveform: torch.Tensor, on_host: bool = False) -> TtCloneInputs:
        """A reference waveform padded to its frame bucket (`tt/buckets.py`), with the masks that make the padded
        clone equal the unpadded one: per conv input, its rows of valid frames (valid heights halve with the
        convs, rounding up, as the unpadded run's do); per GRU step, 1 up to the last valid one. `on_host`: not
        uploaded (what `runner.CloneRunner` copies into its persistent inputs)."""
        device = None if on_host else self.device
        valid = self.spectrogram.num_frames(torch.as_tensor(waveform).numel())
        frames = bucket_length(valid)
        padded = self.spectrogram.pad_batch([waveform], frames)
        shapes, valid_shapes = self.encoder.layer_shapes(frames), self.encoder.layer_shapes(valid)
        masks = [(torch.arange(frames) < valid).float().reshape(1, 1, frames, 1)]
        for (height, width), (valid_height, _) in zip(shapes[1:-1], valid_shapes[1:-1]):
            rows = torch.arange(height).repeat_interleave(width) < valid_height  # NHWC rows (h, w)
            masks.append(rows.float().reshape(1, 1, height * width, 1))
        steps, valid_steps = shapes[-1][0], valid_shapes[-1][0]
        step_mask = (torch.arange(steps) < valid_steps).float()[:, None].expand(steps, self.encoder.hidden)
        return TtCloneInputs(
            waveform=upload(device, padded, ttnn.float32, ttnn.ROW_MAJOR_LAYOUT),
            masks=tuple(upload(device, m, ttnn.float32) for m in masks),
            step_mask=upload(device, step_mask.reshape(1, 1, steps, -1).contiguous(), RECURRENT_DTYPE),
            frames=frames,
            valid_frames=valid,
        )

    def forward(self, inputs: TtCloneInputs) -> ttnn.Tensor:
        """The bucketed clone on device: padded waveform -> STFT -> masked encoder -> embedding [1, 1, 1, gin]."""
        spec = self.spectrogram.batch(inputs.waveform, 1, inputs.frames)
        return self.encoder(spec, inputs.masks, inputs.step_mask)
