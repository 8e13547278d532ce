# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Conv1d / ConvTranspose1d building blocks of the TTNN tone-colour converter.

Activation layout everywhere: time-major ``[1, 1, B*T, C]``, bfloat16, TILE, DRAM interleaved.
Each batch item occupies T consecutive rows; ``ttnn.conv1d(batch_size=B, input_length=T)``
zero-pads every item separately, so items never see each other through a kernel.

Choices (per shape):

* **1x1 convs** (posterior ``pre`` 513->192, WaveNet res/skip, coupling pre/post, ``proj``)
  run as ``ttnn.linear`` on the ``[B*T, Ci]`` matrix: no halo, no sharding, weight
  ``[Ci, Co]`` TILE uploaded once at construction. Output DRAM interleaved.
* **k > 1 convs** (WaveNet k5, ResBlock k3/7/11 dilation 1/3/5, conv_pre/conv_post k7,
  polyphase upsampling k3/k3/k3/k3) run as ``ttnn.conv1d`` on a DRAM interleaved input with
  ``slice_config=None``: ttnn then width-slices the sequence through DRAM automatically
  (each slice is sharded into L1, convolved, written back), which is how the 220k-sample
  last generator stage of a 10 s clip runs without manual chunking (the test
  ``test_long_sequence_uses_dram_slicing`` sees the slices; the benchmark counts them per
  stage). The L1 shard layout of a slice is picked per shape by :func:`shard_layout`:
  HEIGHT_SHARDED while the bf16 weight is <= 128 KiB (the late, narrow generator stages:
  64/32 channels; each core holds a run of time steps and the whole weight), BLOCK_SHARDED
  above (WaveNet 192->384 k5, conv_pre 192->512, ResBlocks of 256/128 channels, the
  512->2048 and 256->1024 polyphase convs), where every core holds only a slice of the
  channels (height-sharded, the 256-channel k11 ResBlock conv makes ttnn's DRAM slicer
  fail: no slice count fits L1).
* Sliding-window config tensors in DRAM (``config_tensors_in_dram``): in L1_SMALL they stay
  allocated for every cached conv program, and with ~100 conv shapes per input length the
  16 KiB L1_SMALL region overflowed at the second input length (5 s then 10 s, found by the
  benchmark). DRAM costs one small read per conv launch and takes the configs out of the
  16 KiB region, but they still cost DRAM (and the programs host memory), and the program
  cache grows with every new input length (134-150 programs per release-config converter
  length on the mock), so many input lengths are not free either: the long-lived backend
  bounds the cache (`demo/backends.py: PROGRAM_CACHE_MAX_ENTRIES`, cleared between calls, never
  inside a forward, once past the cap).
* Prepared weights: the first call for a given (B, T) passes the torch-layout host weight
  with ``return_weights_and_bias=True`` and caches the device-prepared weight/bias; later
  calls with that shape reuse them (nothing re-prepared per call). The cache is keyed by
  (B, T, input dtype) because the prepared layout depends on the sharding ttnn derives from the input
  shape, and keeps the last `PREPARED_SHAPES` shapes (least recently used dropped).
  Host transfers, tested with graph capture: a WARM call (shape cached) makes none; the
  COLD call at a new shape makes host->device uploads only -- ttnn 0.81.1 prepares the
  weight on the host and uploads it, and uploads the conv's sliding-window config tensors
  (425 uploads for a vc_small_b2 converter forward: 421 inside ``ttnn.conv1d``, 4 inside the
  polyphase ``ttnn.reshape``) -- and no device->host transfer
  (no ``to_torch`` / ``Tensor::cpu`` / ``from_device``). Keeping the raw weights on the host
  is deliberate: ttnn 0.81.1 reads a device-resident raw weight back with ``Tensor::cpu`` to
  prepare it, which would add a device->host round trip to every cold call. The uploads
  cannot be avoided for a new shape with this ttnn version.
* **ConvTranspose1d(k, stride s, padding p)** runs as ONE stride-1 ``conv1d`` with
  ``s*C_out`` output channels (polyphase) and a row-major reshape
  ``[B*T, s*C_out] -> [B*T*s, C_out]``; see :func:`polyphase_weights`. Chosen over
  ``ttnn.conv_transpose2d``: no zero-stuffed input (s x fewer input rows to convolve), the
  same conv1d path, slicing and weight cache as every other conv. Cost: the common
  symmetric kernel (3 taps for the release's k16/s8 and k4/s2) has 1 of 3 taps zero per
  phase, and the reshape re-tiles the output once.
* **Grouped / depthwise convs** (``groups``; MeloTTS DDSConv: groups = channels, weight
  ``[C, 1, K]``) pass ``groups`` to ``ttnn.conv1d``; the weight keeps PyTorch's
  ``[Co, Ci/groups, K]`` layout, and the shard layout is chosen from the real weight size.

Compute configs: :func:`precise_compute_config` (fp32 accumulation; HiFi3 on Wormhole, where
ttnn warns HiFi4 + fp32 accumulation is less accurate, HiFi4 elsewhere) is the default and is
what the converter uses for every module (see `tone_color_converter.py`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import ttnn

from models.demos.openvoice.tt.commons import (
    bf16_parts,
    exact_products_config,
    split_bf16,
    sum_of_split_products,
    upload,
)
from models.demos.openvoice.tt.precision import Precision

ACTIVATION_DTYPE = ttnn.bfloat16


def precise_compute_config(device: ttnn.Device) -> ttnn.DeviceComputeKernelConfig:
    """fp32 accumulation at the most accurate fidelity for the arch. ttnn 0.81.1 warns that on
    Wormhole HiFi4 with fp32 accumulation can be less accurate than HiFi3 (a hardware bug), so
    Wormhole gets HiFi3 + fp32, other archs HiFi4 + fp32."""
    fidelity = "HiFi3" if device.arch() == ttnn.device.Arch.WORMHOLE_B0 else "HiFi4"
    return Precision(fidelity, fp32_acc=True).config(device)


# Every new input length is a new conv input shape; keep the prepared weights of the most
# recent few shapes instead of one set per length ever seen (a long-lived process would grow
# device memory without bound).
PREPARED_SHAPES = 8


class PreparedWeights:
    """Device-layout conv weight/bias per input shape, least recently used dropped past `max_shapes`.

    ttnn derives the prepared layout from the sharding it picks for the input shape, so the
    first conv call of a shape gets the torch-layout host weight with
    `return_weights_and_bias=True` and the result is kept; later calls of that shape reuse it:
    nothing is re-prepared per call.
    """

    def __init__(
        self, host_weight: ttnn.Tensor, host_bias: ttnn.Tensor | None, max_shapes: int = PREPARED_SHAPES
    ) -> None:
        self.host = (host_weight, host_bias)
        self.max_shapes = max_shapes
        self.entries: OrderedDict[tuple[int, ...], tuple[ttnn.Tensor, ttnn.Tensor | None]] = OrderedDict()

    def lookup(self, key: tuple[int, ...]) -> tuple[ttnn.Tensor, ttnn.Tensor | None, bool]:
        """(weight, bias, needs_preparing) for a conv call with input shape `key`."""
        if key in self.entries:
            self.entries.move_to_end(key)
            return (*self.entries[key], False)
        return (*self.host, True)

    def keep(self, key: tuple[int, ...], result: tuple) -> ttnn.Tensor | tuple:
        """Store the prepared (weight, bias) a conv returned last; return its other outputs."""
        *outputs, self.entries[key] = result
        if len(self.entries) > self.max_shapes:
            for tensor in self.entries.popitem(last=False)[1]:
                if tensor is not None:
                    ttnn.deallocate(tensor)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


# A height-sharded conv keeps the whole prepared weight on every core; above this it is
# block-sharded so each core holds only its slice of the output (and input) channels.
HEIGHT_SHARD_MAX_WEIGHT_BYTES = 128 * 1024


def shard_layout(
    in_channels: int, out_channels: int, kernel_size: int, weights_dtype: ttnn.DataType = ttnn.bfloat16
) -> ttnn.TensorMemoryLayout:
    """L1 layout of one DRAM slice of a conv1d: HEIGHT for narrow convs (long sequences split in
    time over the cores), BLOCK when the whole weight would crowd out the activations."""
    element_bytes = 4 if weights_dtype == ttnn.float32 else 2
    weight_bytes = element_bytes * in_channels * out_channels * kernel_size
    if weight_bytes <= HEIGHT_SHARD_MAX_WEIGHT_BYTES:
        return ttnn.TensorMemoryLayout.HEIGHT_SHARDED
    return ttnn.TensorMemoryLayout.BLOCK_SHARDED


class TtConv1d:
    """Conv1d on ``[1, 1, B*T, Ci]`` -> ``[1, 1, B*T_out, Co]`` from a torch ``[Co, Ci, K]`` weight.

    ``padding`` is an int (both sides) or ``(left, right)``. A 1x1 unpadded stride-1 ungrouped
    conv runs as ``ttnn.linear``; everything else as ``ttnn.conv1d`` (``groups`` as in PyTorch:
    the weight is ``[Co, Ci/groups, K]``).
    """

    def __init__(
        self,
        device: ttnn.Device,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        *,
        stride: int = 1,
        padding: int | Sequence[int] = 0,
        dilation: int = 1,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
        dtype: ttnn.DataType = ACTIVATION_DTYPE,
        weights_dtype: ttnn.DataType = ttnn.bfloat16,
        groups: int = 1,
        activation: ttnn.UnaryWithParam | None = None,
    ) -> None:
        """`activation`: applied to the output inside the conv kernel (ttnn.conv1d convs only)."""
        if weight.dim() != 3:
            raise ValueError(f"TtConv1d expects a [Co, Ci, K] weight, got {tuple(weight.shape)}")
        self.device = device
        self.out_channels, group_in_channels, self.kernel_size = (int(s) for s in weight.shape)
        if groups < 1 or self.out_channels % groups:
            raise ValueError(f"groups={groups} must divide the {self.out_channels} output channels")
        self.groups = groups
        self.in_channels = group_in_channels * groups
        self.stride = stride
        self.dilation = dilation
        self.dtype = dtype
        self.padding = (padding, padding) if isinstance(padding, int) else (int(padding[0]), int(padding[1]))
        self.compute = compute if compute is not None else precise_compute_config(device)
        self.pointwise = self.kernel_size == 1 and self.padding == (0, 0) and stride == 1 and groups == 1
        self.activation = activation
        if activation is not None and (self.pointwise or (dtype == ttnn.float32 and weights_dtype == ttnn.float32)):
            raise ValueError("a fused activation needs a ttnn.conv1d conv (not a 1x1 linear or a split-float32 conv)")
        # float32 weights and activations: three exact BF16 products (commons.split_bf16), the bias
        # added in float32 after them (a fused bias re-reads the partial sums as TF32).
        self.exact_float32 = dtype == ttnn.float32 and weights_dtype == ttnn.float32
        if self.exact_float32:
            self.compute = exact_products_config(device)
            self.bias_row = None if bias is None else upload(device, bias.reshape(1, -1), ttnn.float32)
            parts = bf16_parts(weight, parts=2)
            if self.pointwise:
                self.weight_parts = tuple(upload(device, part[:, :, 0].t(), ttnn.bfloat16) for part in parts)
                return
            self.prepared_parts = tuple(
                PreparedWeights(ttnn.from_torch(part, dtype=ttnn.bfloat16), None) for part in parts
            )
            self.conv_config = self._conv_config(group_in_channels, ttnn.bfloat16)
            return
        if self.pointwise:
            self.weight = upload(device, weight[:, :, 0].t(), weights_dtype)
            self.bias = None if bias is None else upload(device, bias.reshape(1, -1), weights_dtype)
            return
        # Host weights are row-major; block-float storage happens when ttnn prepares them (conv_config).
        host_dtype = ttnn.bfloat16 if weights_dtype in (ttnn.bfloat8_b, ttnn.bfloat4_b) else weights_dtype
        host_bias = None if bias is None else ttnn.from_torch(bias.float().reshape(1, 1, 1, -1), dtype=host_dtype)
        self.prepared = PreparedWeights(ttnn.from_torch(weight.float(), dtype=host_dtype), host_bias)
        self.conv_config = self._conv_config(group_in_channels, weights_dtype)

    def _conv_config(self, group_in_channels: int, weights_dtype: ttnn.DataType) -> ttnn.Conv2dConfig:
        return ttnn.Conv2dConfig(
            weights_dtype=weights_dtype,
            activation=self.activation,
            shard_layout=shard_layout(group_in_channels, self.out_channels, self.kernel_size, weights_dtype),
            deallocate_activation=False,
            config_tensors_in_dram=True,
        )

    def output_length(self, length: int) -> int:
        span = self.dilation * (self.kernel_size - 1) + 1
        return (length + sum(self.padding) - span) // self.stride + 1

    def __call__(self, x: ttnn.Tensor, batch_size: int, length: int) -> ttnn.Tensor:
        if self.exact_float32:
            return self._exact_float32(x, batch_size, length)
        if self.pointwise:
            return ttnn.linear(x, self.weight, bias=self.bias, compute_kernel_config=self.compute, dtype=self.dtype)
        return self._conv(x, batch_size, length, self.prepared)

    def _exact_float32(self, x: ttnn.Tensor, batch_size: int, length: int) -> ttnn.Tensor:
        if self.pointwise:
            product = lambda a, w: ttnn.linear(a, w, compute_kernel_config=self.compute, dtype=ttnn.float32)  # noqa: E731
            out = sum_of_split_products(product, split_bf16(x), self.weight_parts)
        else:
            product = lambda a, prepared: self._conv(a, batch_size, length, prepared)  # noqa: E731
            out = sum_of_split_products(product, split_bf16(x), self.prepared_parts)
        return out if self.bias_row is None else ttnn.add(out, self.bias_row)

    def _conv(self, x: ttnn.Tensor, batch_size: int, length: int, prepared: "PreparedWeights") -> ttnn.Tensor:
        # The prepared layout depends on the input's shape and dtype (ttnn derives the sharding from both).
        key = (batch_size, length, x.dtype)
        weight, bias, fresh = prepared.lookup(key)
        result = ttnn.conv1d(
            input_tensor=x,
            weight_tensor=weight,
            bias_tensor=bias,
            device=self.device,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            batch_size=batch_size,
            input_length=length,
            kernel_size=self.kernel_size,
            stride=self.stride,
            padding=list(self.padding),
            dilation=self.dilation,
            groups=self.groups,
            dtype=self.dtype,
            conv_config=self.conv_config,
            compute_config=self.compute,
            return_weights_and_bias=fresh,
        )
        return prepared.keep(key, result) if fresh else result


def polyphase_weights(
    weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int
) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """ConvTranspose1d weight ``[Ci, Co, K]`` -> stride-1 Conv1d weight ``[s*Co, Ci, 2M+1]``, bias, M.

    Output sample t = q*s + r of the transposed conv is
        y[q*s + r] = sum_j x[q + a_r - j] . w[:, :, j*s + c_r],   a_r = (r+p) // s, c_r = (r+p) % s,
    over the taps 0 <= j*s + c_r < K: a correlation of x at offsets m = a_r - j. Phase r becomes
    output channels [r*Co, (r+1)*Co) of one conv whose symmetric kernel covers offsets
    -M..M (kernel index m + M, padding M both sides, missing taps zero). A row-major reshape
    of the ``[B*T, s*Co]`` result to ``[B*T*s, Co]`` then interleaves the phases in time.
    Valid when the transposed conv's output length is exactly T*s, i.e. K - s == 2p.
    """
    c_in, c_out, k = (int(v) for v in weight.shape)
    if k - stride != 2 * padding:
        raise NotImplementedError(
            f"polyphase ConvTranspose1d needs k - stride == 2 * padding, got k={k} s={stride} p={padding}"
        )
    taps: list[tuple[int, int, int]] = []  # (phase r, offset m, kernel tap)
    for r in range(stride):
        a, c = divmod(r + padding, stride)
        for j in range((k - c + stride - 1) // stride):
            taps.append((r, a - j, j * stride + c))
    half = max(abs(m) for _, m, _ in taps)
    phased = torch.zeros(stride * c_out, c_in, 2 * half + 1, dtype=weight.dtype)
    for r, m, tap in taps:
        phased[r * c_out : (r + 1) * c_out, :, m + half] = weight[:, :, tap].t()
    phased_bias = None if bias is None else bias.repeat(stride)
    return phased, phased_bias, half


class TtConvTranspose1d:
    """ConvTranspose1d ``[1, 1, B*T, Ci]`` -> ``[1, 1, B*T*s, Co]`` via the polyphase conv."""

    def __init__(
        self,
        device: ttnn.Device,
        weight: torch.Tensor,
        bias: torch.Tensor | None,
        *,
        stride: int,
        padding: int,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
        dtype: ttnn.DataType = ACTIVATION_DTYPE,
        weights_dtype: ttnn.DataType = ttnn.bfloat16,
    ) -> None:
        phased, phased_bias, half = polyphase_weights(weight, bias, stride, padding)
        self.stride = stride
        self.out_channels = int(weight.shape[1])
        conv = dict(compute=compute, dtype=dtype, weights_dtype=weights_dtype)
        self.conv = TtConv1d(device, phased, phased_bias, padding=half, **conv)

    def __call__(self, x: ttnn.Tensor, batch_size: int, length: int) -> ttnn.Tensor:
        y = self.conv(x, batch_size, length)
        # Row-major [B*T, s*Co] -> [B*T*s, Co]: phase r of frame q lands on sample q*s + r.
        return ttnn.reshape(y, (1, 1, batch_size * length * self.stride, self.out_channels))
