# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Harness golden functions: torch statements of ttnn ops that ttnn 0.81.1 lacks or gets wrong for us.

Shadow execution (:mod:`.shadow`) uses, for each operation, the golden registered
here if any, else ttnn's own (``ttnn.get_golden_function(op)``). A harness golden
is called exactly like the ttnn op, with every ``ttnn.Tensor`` replaced by its
shadow torch value (one device's value) and ``ttnn.Shape`` by a tuple, and returns
what the op returns (tensors as torch tensors, ints as ints). The output is then
rounded to the device output's dtype by the harness, so goldens need not care
about ``dtype=`` arguments. The tensors a golden receives are copies of the
stored shadow values: writing into them cannot change an input tensor's value.

Audit on ttnn 0.81.1 (test_goldens.py keeps it honest): ttnn's own goldens,
called with the op's real arguments (``memory_config=``, ``dtype=``, scalars,
``transpose_a/b``, ``keepdim`` ...), are correct for the ops a VITS port uses:
elementwise unary/binary/comparison ops (sub, div, square, log, abs, neg,
reciprocal, floor, ceil, gt/lt/ge, softplus, leaky_relu, tanh, sigmoid, ...),
matmul/linear, reductions (max, sum, mean), concat, pad, slice, ``Tensor[...]``,
embedding, repeat, repeat_interleave, permute, transpose, reshape,
(un)squeeze, to_layout, to_memory_config, typecast, to/from_device, clone,
(interleaved|sharded)_to_(sharded|interleaved), fill, zeros/ones/full(_like),
layer_norm, softmax, split, chunk, where, upsample, cumsum. (ttnn goldens
without ``**kwargs`` get the keyword arguments they do not declare dropped.)
Overrides are needed only for:

* conv1d, conv_transpose2d: no golden in ttnn;
* conv2d: ttnn's golden returns ``[output]`` when ``return_output_dim`` /
  ``return_weights_and_bias`` is set instead of the op's tuple;
* ``prepare_conv_weights`` / ``prepare_conv_bias`` /
  ``prepare_conv_transpose2d_weights`` / ``prepare_conv_transpose2d_bias``:
  plain Python functions, not operations; wrapped while shadow execution runs;
* empty / empty_like: no golden; uninitialised memory becomes NaN.

``ttnn.deallocate`` is handled by the harness itself (drops the shadow value).

Prepared conv weights: on device they live in a blocked layout whose shape is
unrelated to the PyTorch weight. Their shadow is the PyTorch-layout weight
(OIHW, or [Co, Ci/g, K] for conv1d, IOHW for transposed conv) carried through
the prepare step, returned wrapped in :class:`Prepared` so the harness skips
the shape check for it. The prepared layout also depends on the conv it was
prepared for (input shape, kernel geometry, sharding, dtypes: ttnn blocks the
weight for the parallel config it derives from them), so :class:`Prepared`
carries a :class:`ConvSignature` of that call (:func:`conv_signature`, filled
in by the harness), and the harness rejects a prepared weight or bias used by
a conv call with another signature: on a card ttnn 0.81.1 accepts such a
weight without a check (a weight prepared at T=40 is taken at T=3000) and
computes with a mis-blocked weight.

Conv input channels: ttnn 0.81.1 validates a conv input only by volume. It
reshapes the input to ``[N, H, W, in_channels]``; measured on the mock (conv1d,
conv2d, conv_transpose2d; ROW_MAJOR and TILE DRAM inputs; conv1d also with
``shard_layout`` HEIGHT/BLOCK/WIDTH): an input with extra or missing channels --
40 or 64 for 32, 4, 8 or 16 for 3, 16 or 32 for 12, 12 for 16, 32 for 16, 96 for
64, 64 for 48 -- fails that reshape with a TT_FATAL, while one whose last dim
differs but whose volume matches, e.g. ``[1, 1, 40, 64]`` for
``in_channels=32, input_length=80``, is silently reinterpreted row-major. No
channel padding is accepted: a TILE tensor's tile padding lives in its padded
shape only, never in the logical shape the shadow holds. So the conv goldens
require the input's last dim to be exactly ``in_channels`` and its volume
``N*H*W*in_channels``; anything else is a ``ShadowError`` (stricter than ttnn for
the same-volume case, which is always a bug), never a silent
``[..., :in_channels]`` slice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Callable

import torch
import torch.nn.functional as F

from mock_wormhole import numerics


class ShadowError(RuntimeError):
    """The shadow execution cannot produce a value (missing golden, shape mismatch, ...)."""


HARNESS_GOLDENS: dict[str, Callable[..., Any]] = {}


@dataclass(frozen=True)
class ConvSignature:
    """What a conv weight/bias was prepared for: everything its device layout depends on.

    A conv1d is recorded as the conv2d ttnn runs for it (height 1, width = input_length,
    kernel ``(1, k)``, padding ``(0, 0, left, right)``), so a weight prepared by
    ``prepare_conv_weights`` for that conv2d matches the conv1d.
    """

    transposed: bool
    batch_size: int
    input_height: int
    input_width: int
    in_channels: int
    out_channels: int
    kernel_size: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    dilation: tuple[int, int]
    groups: int
    # Transposed convs; None where the call does not name it (prepare_conv_transpose2d_bias).
    output_padding: tuple[int, int] | None
    # conv_config.shard_layout, else the input's sharded layout, else "auto" (ttnn picks one per shape).
    shard_layout: str
    input_dtype: str
    # conv_config.weights_dtype; None until resolved to the weight tensor's own dtype (see `resolved`).
    weights_dtype: str | None

    def resolved(self, tensor_dtype: Any) -> "ConvSignature":
        """The signature with an unset weights_dtype taken from the weight/bias tensor (what ttnn does)."""
        return self if self.weights_dtype is not None else replace(self, weights_dtype=str(tensor_dtype))

    def mismatches(self, other: "ConvSignature") -> list[str]:
        """Fields that differ, as "name a != b" (an output_padding that one side does not name is skipped)."""
        found = []
        for field in fields(self):
            mine, theirs = getattr(self, field.name), getattr(other, field.name)
            if field.name == "output_padding" and (mine is None or theirs is None):
                continue
            if mine != theirs:
                found.append(f"{field.name} {mine} != {theirs}")
        return found

    def __str__(self) -> str:
        kind = "conv_transpose2d" if self.transposed else "conv2d"
        extra = f" output_padding={self.output_padding}" if self.output_padding is not None else ""
        return (
            f"{kind}(N={self.batch_size}, HxW={self.input_height}x{self.input_width}, "
            f"C={self.in_channels}->{self.out_channels}, kernel={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}{extra}, "
            f"shard_layout={self.shard_layout}, input_dtype={self.input_dtype}, weights_dtype={self.weights_dtype})"
        )


CONV_OPS = ("ttnn.conv1d", "ttnn.conv2d", "ttnn.conv_transpose2d")
PREPARE_OPS = (
    "ttnn.prepare_conv_weights",
    "ttnn.prepare_conv_bias",
    "ttnn.prepare_conv_transpose2d_weights",
    "ttnn.prepare_conv_transpose2d_bias",
)


def conv_signature(name: str, kwargs: dict[str, Any]) -> ConvSignature:
    """The :class:`ConvSignature` of a conv or prepare call, from its ttnn arguments (keyword-only in 0.81.1).

    Conv ops read the input's dtype and sharding from ``input_tensor``; the prepare functions
    name them (``input_dtype``, ``input_memory_config``).
    """
    import ttnn

    if name in CONV_OPS:
        input_tensor = kwargs["input_tensor"]
        input_dtype = input_tensor.dtype
        on_device = input_tensor.storage_type() == ttnn.StorageType.DEVICE
        memory_config = input_tensor.memory_config() if on_device else None
    else:
        input_dtype, memory_config = kwargs["input_dtype"], kwargs.get("input_memory_config")
    config = kwargs.get("conv_config")
    shard_layout = getattr(config, "shard_layout", None) if config is not None else None
    if shard_layout is None and memory_config is not None and memory_config.is_sharded():
        shard_layout = memory_config.memory_layout
    weights_dtype = getattr(config, "weights_dtype", None) if config is not None else None
    transposed = "transpose" in name
    if name == "ttnn.conv1d":
        left, right = _pair(kwargs.get("padding", 0))
        geometry = dict(
            input_height=1,
            input_width=int(kwargs["input_length"]),
            kernel_size=(1, int(kwargs["kernel_size"])),
            stride=(1, int(kwargs.get("stride", 1))),
            padding=(0, 0, left, right),
            dilation=(1, int(kwargs.get("dilation", 1))),
        )
    else:
        geometry = dict(
            input_height=int(kwargs["input_height"]),
            input_width=int(kwargs["input_width"]),
            kernel_size=_pair(kwargs["kernel_size"]),
            stride=_pair(kwargs.get("stride", 1)),
            padding=_pads_2d(kwargs.get("padding", 0)),
            dilation=_pair(kwargs.get("dilation", 1)),
        )
    output_padding = None
    if transposed and name != "ttnn.prepare_conv_transpose2d_bias":
        output_padding = _pair(kwargs.get("output_padding", 0))
    return ConvSignature(
        transposed=transposed,
        batch_size=int(kwargs["batch_size"]),
        in_channels=int(kwargs["in_channels"]),
        out_channels=int(kwargs["out_channels"]),
        groups=int(kwargs.get("groups", 1)),
        output_padding=output_padding,
        shard_layout=str(shard_layout) if shard_layout is not None else "auto",
        input_dtype=str(input_dtype),
        weights_dtype=str(weights_dtype) if weights_dtype is not None else None,
        **geometry,
    )


@dataclass
class Prepared:
    """A golden output whose shadow value is not in the device tensor's shape (prepared conv weights).

    ``prepared_for`` is the conv it was prepared for; None in a golden's result means "this call"
    (the harness fills in :func:`conv_signature` of the call).
    """

    value: torch.Tensor | None
    prepared_for: ConvSignature | None = None


def golden(
    *names: str, accepts: tuple[str, ...] | None = (), wants_dtypes: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a harness golden under one or more fully qualified op names.

    The shadow harness refuses a keyword argument the golden does not name (see
    ``shadow._checking_arguments``); `accepts` lists the ones a golden takes through ``**kwargs``
    (None: any, for the prepare functions, whose arguments all go into :func:`conv_signature`).
    `wants_dtypes`: the golden also receives ``dtypes=``, the dtype names of the call's tensors
    (``shadow._dtypes_of``): kernel formats and ttnn's default compute configs depend on them.
    """

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        function.accepts = accepts  # type: ignore[attr-defined]
        function.wants_dtypes = wants_dtypes  # type: ignore[attr-defined]
        for name in names:
            HARNESS_GOLDENS[name] = function
        return function

    return register


def _with_activation(out: torch.Tensor, conv_config: Any) -> torch.Tensor:
    """Apply the conv's fused activation (`conv_config.activation`), if any, through ttnn's golden; a
    leaky ReLU with its slope (`UnaryWithParam(LEAKY_RELU, slope)`, which ttnn 0.81.1 has no golden for) on
    the accumulated value, before the packer rounds it, as the fused SFPU step does."""
    activation = getattr(conv_config, "activation", None) if conv_config is not None else None
    if activation is None or activation == "":
        return out
    import ttnn

    if getattr(activation, "op_type", None) == ttnn.UnaryOpType.LEAKY_RELU:
        (slope,) = activation.params
        return torch.nn.functional.leaky_relu(out, float(slope))
    from ttnn.operations.activations import get_golden_function_for_activation

    return get_golden_function_for_activation(activation)(out)


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    value = tuple(int(v) for v in value)
    return (value[0], value[0]) if len(value) == 1 else (value[0], value[1])


def _pads_2d(padding: Any) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) from ttnn's int | [h, w] | [t, b, l, r]."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    if len(padding) == 4:
        return padding
    raise ValueError(f"padding must be an int or have 2 or 4 elements, got {padding}")


def _as_stored(tensor: torch.Tensor | None, conv_config: Any) -> torch.Tensor | None:
    """A conv weight/bias as the device stores it: `conv_config.weights_dtype` when set.

    The device prepares (and so rounds) host weights to that dtype on the first call; the warm
    calls then receive the prepared, already rounded tensors. Rounding here makes the cold call
    see the same numbers as the warm ones (block-float dtypes are grouped along the PyTorch
    layout's last dim, an approximation of the prepared layout's grouping).
    """
    dtype = getattr(conv_config, "weights_dtype", None) if conv_config is not None else None
    if tensor is None or dtype is None:
        return tensor
    from mock_wormhole.rounding import round_to_dtype

    return round_to_dtype(tensor.float(), dtype)


def _conv_result(
    output: torch.Tensor, dims: Any, weight: torch.Tensor, bias: torch.Tensor | None, kwargs: dict[str, Any]
) -> torch.Tensor | tuple[Any, ...]:
    """Package a conv golden output like the op: output[, dims][, (weight, bias)]."""
    result: list[Any] = [output]
    if kwargs.get("return_output_dim", False):
        result.append(dims)
    if kwargs.get("return_weights_and_bias", False):
        result.append((Prepared(weight), Prepared(bias) if bias is not None else None))
    return result[0] if len(result) == 1 else tuple(result)


def _nhwc(name: str, input_tensor: torch.Tensor, batch: int, height: int, width: int, channels: int) -> torch.Tensor:
    """Device channels-last input ([1,1,N*H*W,C], [N,H,W,C], [N,L,C] ...) -> [N, H, W, C].

    The last dim must be exactly `channels` and the volume N*H*W*C (module docstring: ttnn
    accepts no channel padding).
    """
    shape = tuple(input_tensor.shape)
    rows = batch * height * width
    if not shape or shape[-1] != channels or input_tensor.numel() != rows * channels:

        raise ShadowError(
            f"{name}: input shape {shape} is not batch_size*height*width = {batch}*{height}*{width} = {rows} rows "
            f"of in_channels={channels} channels (the last dim must equal in_channels: ttnn does not slice "
            "extra channels away, it reinterprets or rejects the input)"
        )
    return input_tensor.float().reshape(batch, height, width, channels)


def _nchw(name: str, input_tensor: torch.Tensor, batch: int, height: int, width: int, channels: int) -> torch.Tensor:
    return _nhwc(name, input_tensor, batch, height, width, channels).permute(0, 3, 1, 2)


def _flatten_nhwc(output_nchw: torch.Tensor) -> torch.Tensor:
    n, c, h, w = output_nchw.shape
    return output_nchw.permute(0, 2, 3, 1).reshape(1, 1, n * h * w, c)


def _bias_1d(bias: torch.Tensor | None) -> torch.Tensor | None:
    return None if bias is None else bias.reshape(-1).float()


def _with_bias(out_nchw: torch.Tensor, bias: torch.Tensor | None, config: numerics.ComputeConfig) -> torch.Tensor:
    if bias is None:
        return out_nchw
    return numerics.fused_bias(out_nchw, bias.reshape(1, -1, *([1] * (out_nchw.dim() - 2))).float(), config)


# What the conv goldens take through **kwargs besides the placement arguments: the compute config
# (modelled) and the flags that shape the result tuple.
_CONV_ARGUMENTS = ("compute_config", "return_output_dim", "return_weights_and_bias")


@golden("ttnn.conv1d", accepts=_CONV_ARGUMENTS, wants_dtypes=True)
def conv1d(
    *,
    input_tensor: torch.Tensor,
    weight_tensor: torch.Tensor,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_length: int,
    kernel_size: int,
    stride: int = 1,
    padding: Any = 0,
    dilation: int = 1,
    groups: int = 1,
    bias_tensor: torch.Tensor | None = None,
    conv_config: Any = None,
    **kwargs: Any,
) -> torch.Tensor | tuple[Any, ...]:
    """Device layout: input [1,1,N*L,C] (or [N,L,C] / [N,1,L,C]); output [1,1,N*L_out,C_out]."""
    x = _nhwc("ttnn.conv1d", input_tensor, batch_size, 1, input_length, in_channels)[:, 0].permute(0, 2, 1)
    weight, bias_tensor = _as_stored(weight_tensor, conv_config), _as_stored(bias_tensor, conv_config)
    if weight.dim() == 4:  # [Co, Ci/g, 1, K]: the conv2d form of a 1D kernel
        weight = weight.squeeze(2)
    left, right = (padding, padding) if isinstance(padding, int) else _pair(padding)
    x = F.pad(x, (left, right)).unsqueeze(2)
    config = _config("ttnn.conv1d", kwargs.pop("compute_config", None), kwargs.pop("dtypes"))
    out = numerics.conv2d(x, weight.unsqueeze(2), config, (1, stride), (1, dilation), groups).squeeze(2)
    out = _with_activation(_with_bias(out, bias_tensor, config), conv_config)
    n, c, length = out.shape
    flat = out.permute(0, 2, 1).reshape(1, 1, n * length, c)
    return _conv_result(flat, length, weight_tensor, bias_tensor, kwargs)


@golden("ttnn.conv2d", accepts=_CONV_ARGUMENTS, wants_dtypes=True)
def conv2d(
    *,
    input_tensor: torch.Tensor,
    weight_tensor: torch.Tensor,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Any,
    stride: Any = (1, 1),
    padding: Any = (0, 0),
    dilation: Any = (1, 1),
    groups: int = 1,
    bias_tensor: torch.Tensor | None = None,
    conv_config: Any = None,
    **kwargs: Any,
) -> torch.Tensor | tuple[Any, ...]:
    """Device layout: input [1,1,N*H*W,C] or [N,H,W,C], OIHW weight; output [1,1,N*H_out*W_out,C_out]."""
    x = _nchw("ttnn.conv2d", input_tensor, batch_size, input_height, input_width, in_channels)
    top, bottom, left, right = _pads_2d(padding)
    x = F.pad(x, (left, right, top, bottom))
    weight, bias_tensor = _as_stored(weight_tensor, conv_config), _as_stored(bias_tensor, conv_config)
    config = _config("ttnn.conv2d", kwargs.pop("compute_config", None), kwargs.pop("dtypes"))
    out = numerics.conv2d(x, weight.float(), config, _pair(stride), _pair(dilation), groups)
    out = _with_activation(_with_bias(out, bias_tensor, config), conv_config)
    return _conv_result(_flatten_nhwc(out), (out.shape[2], out.shape[3]), weight_tensor, bias_tensor, kwargs)


@golden("ttnn.conv_transpose2d", accepts=_CONV_ARGUMENTS, wants_dtypes=True)
def conv_transpose2d(
    *,
    input_tensor: torch.Tensor,
    weight_tensor: torch.Tensor,
    in_channels: int,
    out_channels: int,
    batch_size: int,
    input_height: int,
    input_width: int,
    kernel_size: Any,
    stride: Any = (1, 1),
    padding: Any = (0, 0),
    output_padding: Any = (0, 0),
    dilation: Any = (1, 1),
    groups: int = 1,
    bias_tensor: torch.Tensor | None = None,
    conv_config: Any = None,
    mirror_kernel: bool = True,
    **kwargs: Any,
) -> torch.Tensor | tuple[Any, ...]:
    """IOHW weight (PyTorch ConvTranspose2d). ``mirror_kernel=False`` means the caller passed the kernel
    already flipped in H and W (tt-metal's own test does exactly that), so we flip it back."""
    x = _nchw("ttnn.conv_transpose2d", input_tensor, batch_size, input_height, input_width, in_channels)
    weight, bias_tensor = _as_stored(weight_tensor, conv_config), _as_stored(bias_tensor, conv_config)
    if not mirror_kernel:
        weight = torch.flip(weight, [2, 3])
    top, bottom, left, right = _pads_2d(padding)
    if top != bottom or left != right:
        raise NotImplementedError("conv_transpose2d golden: asymmetric padding")
    if groups != 1:
        raise NotImplementedError("conv_transpose2d golden: groups > 1")
    # As ttnn runs it: a stride-1 conv2d over the input with stride-1 zeros inserted between samples,
    # padded by dilation * (k - 1) - padding (+ output_padding at the end), with the kernel mirrored.
    (sh, sw), (dh, dw), (oh, ow) = _pair(stride), _pair(dilation), _pair(output_padding)
    kh, kw = weight.shape[2], weight.shape[3]
    stuffed = x.new_zeros(x.shape[0], x.shape[1], (x.shape[2] - 1) * sh + 1, (x.shape[3] - 1) * sw + 1)
    stuffed[:, :, ::sh, ::sw] = x
    ph, pw = dh * (kh - 1) - top, dw * (kw - 1) - left
    stuffed = F.pad(stuffed, (pw, pw + ow, ph, ph + oh))
    config = _config("ttnn.conv_transpose2d", kwargs.pop("compute_config", None), kwargs.pop("dtypes"))
    mirrored = torch.flip(weight.float(), [2, 3]).transpose(0, 1)
    out = numerics.conv2d(stuffed, mirrored, config, (1, 1), (dh, dw), 1)
    out = _with_activation(_with_bias(out, bias_tensor, config), conv_config)
    return _conv_result(_flatten_nhwc(out), (out.shape[2], out.shape[3]), weight_tensor, bias_tensor, kwargs)


def _first_tensor_argument(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    return kwargs[name] if name in kwargs else args[0]


@golden("ttnn.prepare_conv_weights", "ttnn.prepare_conv_transpose2d_weights", accepts=None)
def prepare_conv_weights(*args: Any, **kwargs: Any) -> Prepared:
    """The prepared weight's shadow is the PyTorch-layout weight itself."""
    return Prepared(_first_tensor_argument("weight_tensor", args, kwargs))


@golden("ttnn.prepare_conv_bias", "ttnn.prepare_conv_transpose2d_bias", accepts=None)
def prepare_conv_bias(*args: Any, **kwargs: Any) -> Prepared:
    return Prepared(_first_tensor_argument("bias_tensor", args, kwargs))


@golden("ttnn.empty", "ttnn.empty_like", accepts=None)
def empty(*args: Any, **kwargs: Any) -> torch.Tensor:
    """Uninitialised memory: NaN, so reading it before writing it shows up in any comparison."""
    first = args[0] if args else kwargs.get("shape", kwargs.get("tensor", kwargs.get("input_tensor")))
    shape = tuple(first.shape) if isinstance(first, torch.Tensor) else tuple(int(s) for s in first)
    return torch.full(shape, float("nan"))


# ---- matrix- and vector-engine ops: Wormhole arithmetic (:mod:`.numerics`) --------------------------
# Each op's compute kernel config when the call passes none: ttnn 0.81.1's own defaults on Wormhole B0,
# read from the wheel's _ttnncpp.so (the init_device_compute_kernel_config call of each op; tt-metal's
# sources agree where they are of that version). Several depend on the tensors' dtypes.
_C = numerics.ComputeConfig


def default_config(name: str, dtypes: dict[Any, str], kwargs: dict[str, Any]) -> numerics.ComputeConfig:
    """ttnn's default compute config for op `name` called with tensors of `dtypes` (``shadow._dtypes_of``)."""
    inputs = [d for k, d in dtypes.items() if k != "output"]
    output = dtypes.get("output")
    if name == "ttnn.matmul":  # and ttnn.linear (one golden)
        # matmul_device_operation.cpp: HiFi3 for two float32 inputs (Wormhole), LoFi with a user grid or
        # two block-float inputs, else HiFi2; fp32 accumulation iff the output is float32.
        a, b = inputs[0], inputs[1]
        if a == b == "FLOAT32":
            fidelity = "HiFi3"
        elif kwargs.get("program_config") is not None or kwargs.get("core_grid") is not None:
            fidelity = "LoFi"
        elif a in ("BFLOAT8_B", "BFLOAT4_B") and b in ("BFLOAT8_B", "BFLOAT4_B"):
            fidelity = "LoFi"
        else:
            fidelity = "HiFi2"
        fp32 = output == "FLOAT32"
        return _C(fidelity, fp32_dest_acc_en=fp32, packer_l1_acc=not fp32)
    if name in ("ttnn.conv1d", "ttnn.conv2d", "ttnn.conv_transpose2d"):
        # conv2d_utils.cpp get_conv_default_compute_kernel_config: HiFi4, approx, fp32 iff input and weights are.
        fp32 = dtypes.get("input_tensor") == "FLOAT32" and dtypes.get("weight_tensor") == "FLOAT32"
        return _C("HiFi4", fp32_dest_acc_en=fp32, math_approx_mode=True)
    if name == "ttnn.softmax":  # HiFi3 on Wormhole, approximate exp unless the input is float32, fp32 Dst
        return _C("HiFi3", fp32_dest_acc_en=True, math_approx_mode=inputs[0] != "FLOAT32")
    if name == "ttnn.layer_norm":
        return _C("HiFi4", fp32_dest_acc_en=True)
    if name == "ttnn.sum":  # and ttnn.mean; HiFi3 on Wormhole (hardware bug #38306), fp32 Dst
        return _C("HiFi3", fp32_dest_acc_en=True)
    raise ShadowError(f"{name}: no default compute config known to the harness")


def _config(name: str, compute_kernel_config: Any, dtypes: dict[Any, str], kwargs: dict[str, Any] | None = None) -> numerics.ComputeConfig:
    try:
        if compute_kernel_config is None:
            return default_config(name, dtypes, kwargs or {})
        return numerics.read_config(compute_kernel_config)
    except ValueError as error:
        raise ShadowError(f"{name}: {error}") from None


def _activation(name: str, out: torch.Tensor, activation: Any) -> torch.Tensor:
    if activation is None:
        return out
    if activation == "relu":
        return torch.relu(out)
    raise ShadowError(f"{name}: activation={activation!r} is not modelled by the harness")


@golden("ttnn.matmul", "ttnn.linear", wants_dtypes=True)
def matmul(
    input_tensor_a: torch.Tensor,
    input_tensor_b: torch.Tensor,
    transpose_a: bool = False,
    transpose_b: bool = False,
    *,
    bias: torch.Tensor | None = None,
    activation: Any = None,
    compute_kernel_config: Any = None,
    program_config: Any = None,
    core_grid: Any = None,
    dtypes: dict[Any, str],
) -> torch.Tensor:
    """matmul and linear (same defaults, same kernel): in0 (the rows) in SrcB, in1 in SrcA; ``bias``: the
    fused bias of :func:`numerics.fused_bias`."""
    config = _config("ttnn.matmul", compute_kernel_config, dtypes, {"program_config": program_config, "core_grid": core_grid})
    a = input_tensor_a.transpose(-1, -2) if transpose_a else input_tensor_a
    b = input_tensor_b.transpose(-1, -2) if transpose_b else input_tensor_b
    out = numerics.matmul(a.float(), b.float(), config)
    if bias is not None:
        out = numerics.fused_bias(out, bias.float(), config)
    return _activation("ttnn.matmul", out, activation)


def _dims(dim: Any, rank: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(rank))
    return tuple(d % rank for d in ((dim,) if isinstance(dim, int) else dim))


@golden("ttnn.sum", wants_dtypes=True)
def sum_(
    input_tensor: torch.Tensor,
    dim: Any = None,
    keepdim: bool = False,
    *,
    scalar: float = 1.0,
    fast_and_approximate_mode: bool = False,
    compute_kernel_config: Any = None,
    dtypes: dict[Any, str],
) -> torch.Tensor:
    """A float32 input reduces on the vector engine in float32 unless ``fast_and_approximate_mode``; the
    rest on the matrix engine: data in SrcA, the scaler (BF16) in SrcB (GAPOOL)."""
    dims = _dims(dim, input_tensor.dim())
    if dtypes.get(0) == "FLOAT32" and not fast_and_approximate_mode:
        return input_tensor.float().sum(dim=dims, keepdim=keepdim) * scalar
    return numerics.reduce_sum(input_tensor, dims, scalar, _config("ttnn.sum", compute_kernel_config, dtypes), keepdim)


@golden("ttnn.mean", accepts=("fast_and_approximate_mode", "compute_kernel_config"), wants_dtypes=True)
def mean(input_tensor: torch.Tensor, dim: Any = None, keepdim: bool = False, *, scalar: float = 1.0, **kwargs: Any) -> torch.Tensor:
    """The sum's reduce with the scaler ``scalar / N`` (same kernel, same defaults)."""
    count = 1
    for d in _dims(dim, input_tensor.dim()):
        count *= input_tensor.shape[d]
    return sum_(input_tensor, dim, keepdim, scalar=scalar / count, **kwargs)


@golden("ttnn.exp")
def exp(input_tensor: torch.Tensor, *, fast_and_approximate_mode: bool = False) -> torch.Tensor:
    return numerics.exp(input_tensor, approximate=fast_and_approximate_mode)


@golden("ttnn.gelu")
def gelu(input_tensor: torch.Tensor, *, fast_and_approximate_mode: bool = False, variant: Any = None) -> torch.Tensor:
    """Accurate (erf) by default; the approximate mode as the tanh form (its error model)."""
    approximate = fast_and_approximate_mode or getattr(variant, "name", str(variant)).endswith("Approx")
    return F.gelu(input_tensor.float(), approximate="tanh" if approximate else "none")


@golden("ttnn.softmax", wants_dtypes=True)
def softmax(
    input_tensor: torch.Tensor,
    dim: int = -1,
    *,
    numeric_stable: bool = True,
    compute_kernel_config: Any = None,
    dtypes: dict[Any, str],
) -> torch.Tensor:
    """exp on the vector engine (approximate with ``math_approx_mode``), the sum on the matrix engine
    (reduce, SrcA data), the normalisation as an element-wise multiply by the reciprocal.
    ``numeric_stable=False`` does not subtract the row max first: exp overflows past 88.7."""
    config = _config("ttnn.softmax", compute_kernel_config, dtypes)
    x = input_tensor.float()
    if numeric_stable:
        x = x - x.amax(dim=dim, keepdim=True)
    e = numerics.exp(numerics.present(x, config), approximate=config.math_approx_mode)
    if not config.fp32_dest_acc_en:
        e = numerics.to_bf16(e)
    total = numerics.reduce_sum(e, _dims(dim, e.dim()), 1.0, config, keepdim=True)
    return numerics.multiply(e, 1.0 / total, config)


@golden("ttnn.layer_norm", wants_dtypes=True)
def layer_norm(
    input_tensor: torch.Tensor,
    *,
    epsilon: float = 1e-12,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    residual_input_tensor: torch.Tensor | None = None,
    compute_kernel_config: Any = None,
    dtypes: dict[Any, str],
) -> torch.Tensor:
    """Mean and variance as matrix-engine reduces (scaler 1/N), the centring and scaling as
    element-wise ops on unpacked (TF32) operands."""
    config = _config("ttnn.layer_norm", compute_kernel_config, dtypes)
    x = input_tensor.float() if residual_input_tensor is None else input_tensor.float() + residual_input_tensor.float()
    n = x.shape[-1]
    mean_ = numerics.reduce_sum(x, (x.dim() - 1,), 1.0 / n, config, keepdim=True)
    centred = numerics.present(x, config) - numerics.present(mean_, config)
    variance = numerics.reduce_sum(numerics.multiply(centred, centred, config), (x.dim() - 1,), 1.0 / n, config, keepdim=True)
    out = numerics.multiply(centred, torch.rsqrt(variance + epsilon), config)
    if weight is not None:
        out = numerics.multiply(out, weight.float(), config)
    if bias is not None:
        out = numerics.present(out, config) + numerics.present(bias.float(), config)
    return out
