# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Harness goldens and ttnn's own goldens, each checked against torch through real ttnn calls.

Every test calls the ttnn op on the `device` fixture and compares `ttnn.to_torch`
with a torch reference. On the mock that checks the golden (and that its output
shape matches the op's); on a real card the same test checks the kernels (with a
looser threshold from `pcc_for`).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ttnn
from mock_wormhole.numerics import to_tf32
from mock_wormhole.rounding import bf16, block_float_round, round_to_dtype
from mock_wormhole.shadow import ShadowError
from tests.mock_wormhole.bars import pcc_for
from tests.ttnn.utils_for_testing import assert_with_pcc, comp_pcc

CONV_PARAMS = [{"l1_small_size": 16384}]


def _check(device, expected: torch.Tensor, actual: torch.Tensor, mock: float = 0.9999, real: float = 0.99) -> None:
    assert_with_pcc(expected, actual.float(), pcc=pcc_for(device, mock=mock, real=real))


# ----------------------------------------------------------------------------- conv1d
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
@pytest.mark.parametrize(
    "batch, c_in, c_out, length, kernel, stride, padding, dilation, groups, bias",
    [
        (1, 32, 64, 50, 3, 1, 1, 1, 1, True),  # WaveNet / flow coupling conv
        (2, 32, 32, 40, 5, 1, 8, 4, 1, True),  # dilated (HiFi-GAN resblock), batch 2
        (1, 64, 32, 64, 7, 2, (3, 2), 1, 1, False),  # strided, asymmetric padding, no bias
        (1, 64, 64, 30, 1, 1, 0, 1, 1, True),  # kernel 1 (projection)
    ],
)
def test_conv1d(device, batch, c_in, c_out, length, kernel, stride, padding, dilation, groups, bias):
    x = torch.randn(batch, c_in, length)
    w = torch.randn(c_out, c_in // groups, kernel) / (c_in * kernel) ** 0.5
    b = torch.randn(c_out) if bias else None
    pads = (padding, padding) if isinstance(padding, int) else padding
    expected = F.conv1d(F.pad(bf16(x), pads), w, b, stride=stride, dilation=dilation, groups=groups)
    x_flat = x.permute(0, 2, 1).reshape(1, 1, batch * length, c_in)  # device layout [1, 1, N*L, C]

    out, out_length, (w_dev, b_dev) = ttnn.conv1d(
        input_tensor=ttnn.from_torch(x_flat, ttnn.bfloat16, device=device),
        weight_tensor=ttnn.from_torch(w, ttnn.float32),
        bias_tensor=ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32) if bias else None,
        device=device, in_channels=c_in, out_channels=c_out, batch_size=batch, input_length=length,
        kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups,
        return_output_dim=True, return_weights_and_bias=True,
    )
    assert out_length == expected.shape[-1]
    assert tuple(out.shape) == (1, 1, batch * out_length, c_out)
    actual = ttnn.to_torch(out).reshape(batch, out_length, c_out).permute(0, 2, 1)
    _check(device, expected, actual)

    # The prepared weights returned by the first call are reusable: their shadow is the PyTorch weight.
    again = ttnn.conv1d(
        input_tensor=ttnn.from_torch(x_flat, ttnn.bfloat16, device=device),
        weight_tensor=w_dev, bias_tensor=b_dev,
        device=device, in_channels=c_in, out_channels=c_out, batch_size=batch, input_length=length,
        kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups,
    )
    _check(device, expected, ttnn.to_torch(again).reshape(batch, out_length, c_out).permute(0, 2, 1))


@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv1d_fused_activation_and_3d_input(device):
    x, w = torch.randn(1, 32, 40), torch.randn(32, 32, 3) / 10
    expected = F.relu(F.conv1d(bf16(x), w, padding=1))
    out = ttnn.conv1d(
        input_tensor=ttnn.from_torch(x.permute(0, 2, 1), ttnn.bfloat16, device=device),  # [N, L, C]
        weight_tensor=ttnn.from_torch(w, ttnn.float32), device=device, in_channels=32, out_channels=32,
        batch_size=1, input_length=40, kernel_size=3, padding=1,
        conv_config=ttnn.Conv2dConfig(activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU)),
    )
    _check(device, expected, ttnn.to_torch(out).reshape(1, 40, 32).permute(0, 2, 1))


@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv_weights_are_rounded_to_weights_dtype(device):
    """The device stores conv weights in conv_config.weights_dtype from the first call on, so a cold
    call with float32 host weights must give what the warm call with prepared weights gives."""
    x, w, b = torch.randn(1, 32, 40), torch.randn(32, 32, 3) / 10, torch.randn(32)
    # fused bias: the float32 partial sums come back through the unpacker as TF32 (numerics.fused_bias)
    expected = to_tf32(F.conv1d(bf16(x), bf16(w), padding=1)) + bf16(b)[:, None]
    out = ttnn.conv1d(
        input_tensor=ttnn.from_torch(x.permute(0, 2, 1), ttnn.bfloat16, device=device),
        weight_tensor=ttnn.from_torch(w, ttnn.float32), bias_tensor=ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32),
        device=device, in_channels=32, out_channels=32, batch_size=1, input_length=40, kernel_size=3, padding=1,
        conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16), dtype=ttnn.float32,
        compute_config=ttnn.init_device_compute_kernel_config(  # exact BF16 products, float32 sums
            device.arch(), math_fidelity=ttnn.MathFidelity.HiFi4, fp32_dest_acc_en=True
        ),
    )
    actual = ttnn.to_torch(out).reshape(1, 40, 32).permute(0, 2, 1)
    assert torch.allclose(actual, expected, atol=1e-5), (actual - expected).abs().max()


# ----------------------------------------------------------------------------- conv2d
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
@pytest.mark.parametrize("prepare", [False, True])
def test_conv2d(device, prepare):
    n, c_in, c_out, h, w_ = 1, 16, 32, 12, 10
    x, w = torch.randn(n, c_in, h, w_), torch.randn(c_out, c_in, 3, 3) / 12
    b = torch.randn(c_out)
    expected = F.conv2d(bf16(x), w, b, stride=(2, 1), padding=(1, 1))
    conv_args = dict(
        in_channels=c_in, out_channels=c_out, batch_size=n, input_height=h, input_width=w_,
        kernel_size=(3, 3), stride=(2, 1), padding=(1, 1), dilation=(1, 1), groups=1, device=device,
    )
    weight = ttnn.from_torch(w, ttnn.float32)
    bias = ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32)
    if prepare:
        # prepare_conv_bias needs conv_config.weights_dtype ("bad optional access" without it).
        conv_args["conv_config"] = ttnn.Conv2dConfig(weights_dtype=ttnn.float32)
        prep = dict(conv_args, input_memory_config=ttnn.DRAM_MEMORY_CONFIG, input_layout=ttnn.ROW_MAJOR_LAYOUT,
                    input_dtype=ttnn.bfloat16)
        weight = ttnn.prepare_conv_weights(weight_tensor=weight, weights_format="OIHW", has_bias=True, **prep)
        bias = ttnn.prepare_conv_bias(bias_tensor=bias, **prep)
    x_dev = ttnn.from_torch(x.permute(0, 2, 3, 1), ttnn.bfloat16, device=device)  # NHWC
    out, (out_h, out_w) = ttnn.conv2d(
        input_tensor=x_dev, weight_tensor=weight, bias_tensor=bias, return_output_dim=True, **conv_args
    )
    assert (out_h, out_w) == tuple(expected.shape[2:])
    actual = ttnn.to_torch(out).reshape(n, out_h, out_w, c_out).permute(0, 3, 1, 2)
    _check(device, expected, actual)


# -------------------------------------------------------------------- conv_transpose2d
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
@pytest.mark.parametrize("mirror_kernel", [True, False])
def test_conv_transpose2d_as_conv_transpose1d(device, mirror_kernel):
    """HiFi-GAN upsampling: ConvTranspose1d as a height-1 conv_transpose2d."""
    c_in, c_out, length, kernel, stride, padding = 64, 32, 20, 16, 8, 4
    x, w, b = torch.randn(1, c_in, length), torch.randn(c_in, c_out, kernel) / 30, torch.randn(c_out)
    expected = F.conv_transpose1d(bf16(x), w, b, stride=stride, padding=padding)
    weight = w.unsqueeze(2)  # IOHW with H = 1
    if not mirror_kernel:  # the caller passes the kernel already flipped (as tt-metal's own test does)
        weight = torch.flip(weight, [2, 3])
    out, (out_h, out_w) = ttnn.conv_transpose2d(
        input_tensor=ttnn.from_torch(x.permute(0, 2, 1).reshape(1, 1, length, -1), ttnn.bfloat16, device=device),
        weight_tensor=ttnn.from_torch(weight, ttnn.float32),
        bias_tensor=ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32),
        device=device, in_channels=c_in, out_channels=c_out, batch_size=1, input_height=1, input_width=length,
        kernel_size=(1, kernel), stride=(1, stride), padding=(0, padding), output_padding=(0, 0),
        dilation=(1, 1), groups=1, mirror_kernel=mirror_kernel, return_output_dim=True,
    )
    assert (out_h, out_w) == (1, expected.shape[-1])
    _check(device, expected, ttnn.to_torch(out).reshape(1, out_w, c_out).permute(0, 2, 1))


@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
@pytest.mark.parametrize("prepare", [False, True])
def test_conv_transpose2d(device, prepare):
    """A 2D transposed conv (stride 2, output padding), with host weights or prepare_conv_transpose2d_*."""
    n, c_in, c_out, h, w_ = 1, 32, 16, 6, 5
    x, w, b = torch.randn(n, c_in, h, w_), torch.randn(c_in, c_out, 3, 3) / 17, torch.randn(c_out)
    expected = F.conv_transpose2d(bf16(x), w, b, stride=2, padding=1, output_padding=1)
    conv_args = dict(
        in_channels=c_in, out_channels=c_out, batch_size=n, input_height=h, input_width=w_, kernel_size=(3, 3),
        stride=(2, 2), padding=(1, 1), output_padding=(1, 1), dilation=(1, 1), groups=1, device=device,
    )
    weight = ttnn.from_torch(w, ttnn.float32)  # IOHW
    bias = ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32)
    if prepare:
        # Like prepare_conv_bias, the bias preparation needs conv_config.weights_dtype.
        conv_args["conv_config"] = ttnn.Conv2dConfig(weights_dtype=ttnn.float32)
        prep = dict(conv_args, input_memory_config=ttnn.DRAM_MEMORY_CONFIG, input_layout=ttnn.ROW_MAJOR_LAYOUT,
                    input_dtype=ttnn.bfloat16)
        weight = ttnn.prepare_conv_transpose2d_weights(weight_tensor=weight, weights_format="IOHW", has_bias=True, **prep)
        prep.pop("output_padding")  # the bias preparation takes no output_padding
        bias = ttnn.prepare_conv_transpose2d_bias(bias_tensor=bias, **prep)
    x_dev = ttnn.from_torch(x.permute(0, 2, 3, 1), ttnn.bfloat16, device=device)  # NHWC
    out, (out_h, out_w) = ttnn.conv_transpose2d(
        input_tensor=x_dev, weight_tensor=weight, bias_tensor=bias, return_output_dim=True, **conv_args
    )
    assert (out_h, out_w) == tuple(expected.shape[2:]) == (12, 10)
    actual = ttnn.to_torch(out).reshape(n, out_h, out_w, c_out).permute(0, 3, 1, 2)
    _check(device, expected, actual)


# ------------------------------------------------- prepared conv weights remember their conv
HEIGHT, BLOCK = ttnn.TensorMemoryLayout.HEIGHT_SHARDED, ttnn.TensorMemoryLayout.BLOCK_SHARDED
PREPARED_AT = dict(batch=1, length=45, padding=1, dilation=1, stride=1, shard=HEIGHT, weights=ttnn.bfloat16,
                   input_dtype=ttnn.bfloat16)


def _conv1d_32(device, weight, bias, batch, length, padding, dilation, stride, shard, weights, input_dtype, **extra):
    """A 32->32 k3 conv1d on a fresh random input of `batch` x `length`."""
    x = torch.randn(1, 1, batch * length, 32)
    return ttnn.conv1d(
        input_tensor=ttnn.from_torch(x, input_dtype, device=device), weight_tensor=weight, bias_tensor=bias,
        device=device, in_channels=32, out_channels=32, batch_size=batch, input_length=length, kernel_size=3,
        stride=stride, padding=padding, dilation=dilation,
        conv_config=ttnn.Conv2dConfig(weights_dtype=weights, shard_layout=shard), **extra,
    )


def _prepared_conv1d_32(device, **call):
    """(weight, bias) prepared by a conv1d call (`return_weights_and_bias=True`) with PREPARED_AT | call."""
    w, b = torch.randn(32, 32, 3) / 10, torch.randn(1, 1, 1, 32)
    host = ttnn.from_torch(w, ttnn.float32), ttnn.from_torch(b, ttnn.float32)
    _, prepared = _conv1d_32(device, *host, **dict(PREPARED_AT, **call), return_weights_and_bias=True)
    return prepared


@pytest.mark.requires_mock("shadow bookkeeping of prepared weights (ttnn itself does not check)")
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
@pytest.mark.parametrize(
    "use, difference",
    [
        (dict(length=3000), "input_width 45 != 3000"),  # the converter's T=45 weights at T=3000
        (dict(batch=2), "batch_size 1 != 2"),
        (dict(padding=2, dilation=2), r"padding \(0, 0, 1, 1\) != \(0, 0, 2, 2\); dilation \(1, 1\) != \(1, 2\)"),
        (dict(stride=2), r"stride \(1, 1\) != \(1, 2\)"),
        (dict(shard=BLOCK), "shard_layout TensorMemoryLayout.HEIGHT_SHARDED != TensorMemoryLayout.BLOCK_SHARDED"),
        (dict(input_dtype=ttnn.float32), "input_dtype DataType.BFLOAT16 != DataType.FLOAT32"),
    ],
    ids=["length", "batch", "padding_dilation", "stride", "shard_layout", "input_dtype"],
)
def test_conv1d_prepared_weight_used_for_another_conv_is_an_error(device, use, difference):
    weight, bias = _prepared_conv1d_32(device)
    _conv1d_32(device, weight, bias, **PREPARED_AT)  # the conv it was prepared for: fine
    call = dict(PREPARED_AT, **use)
    with pytest.raises(ShadowError, match=r"ttnn\.conv1d: weight_tensor was prepared for conv2d\(N=1, HxW=1x45, .*"
                       r"but is used for conv2d\(.*\); differs in " + difference):
        _conv1d_32(device, weight, bias, **call)
    # The bias is checked the same way (a weight prepared for this call, the bias for the first one).
    weight_here, _ = _prepared_conv1d_32(device, **use)
    with pytest.raises(ShadowError, match=r"ttnn\.conv1d: bias_tensor was prepared for .*differs in " + difference):
        _conv1d_32(device, weight_here, bias, **call)


@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv1d_prepared_weight_of_another_weights_dtype_is_rejected_by_ttnn(device):
    """The one mix-up ttnn 0.81.1 catches itself: it takes the bf16 weight for an unprepared host weight."""
    weight, bias = _prepared_conv1d_32(device)
    with pytest.raises(RuntimeError, match="Host conv weights layout should be in row_major layout"):
        _conv1d_32(device, weight, bias, **dict(PREPARED_AT, weights=ttnn.bfloat8_b))


@pytest.mark.requires_mock("shadow bookkeeping of prepared weights")
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv2d_prepared_weight_remembers_input_shape(device):
    w, b = torch.randn(32, 16, 3, 3) / 12, torch.randn(32)
    conv_args = dict(in_channels=16, out_channels=32, batch_size=1, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1),
                     dilation=(1, 1), groups=1, device=device)
    conv_args["conv_config"] = ttnn.Conv2dConfig(weights_dtype=ttnn.float32)

    def conv(height, weight, bias, **extra):
        x = torch.randn(1, 16, height, 8)
        out = ttnn.conv2d(input_tensor=ttnn.from_torch(x.permute(0, 2, 3, 1), ttnn.bfloat16, device=device),
                          weight_tensor=weight, bias_tensor=bias, input_height=height, input_width=8,
                          **conv_args, **extra)
        return x, out

    # Prepared by the op itself.
    host_weight, host_bias = ttnn.from_torch(w, ttnn.float32), ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32)
    _, (_, (weight, bias)) = conv(8, host_weight, host_bias, return_weights_and_bias=True)
    x, out = conv(8, weight, bias)
    _check(device, F.conv2d(bf16(x), w, b, padding=1), ttnn.to_torch(out).reshape(1, 8, 8, 32).permute(0, 3, 1, 2))
    with pytest.raises(ShadowError, match=r"ttnn\.conv2d: weight_tensor was prepared for conv2d\(N=1, HxW=8x8, .*"
                       r"used for conv2d\(N=1, HxW=10x8, .*differs in input_height 8 != 10"):
        conv(10, weight, bias)
    # Prepared by prepare_conv_weights / prepare_conv_bias, whose arguments name the input shape.
    prep = dict(conv_args, input_memory_config=ttnn.DRAM_MEMORY_CONFIG, input_layout=ttnn.ROW_MAJOR_LAYOUT,
                input_dtype=ttnn.bfloat16, input_width=8)
    weight = ttnn.prepare_conv_weights(weight_tensor=ttnn.from_torch(w, ttnn.float32), weights_format="OIHW",
                                       has_bias=True, input_height=12, **prep)
    bias_12 = ttnn.prepare_conv_bias(bias_tensor=ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32),
                                     input_height=12, **prep)
    bias_14 = ttnn.prepare_conv_bias(bias_tensor=ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32),
                                     input_height=14, **prep)
    x, out = conv(12, weight, bias_12)
    _check(device, F.conv2d(bf16(x), w, b, padding=1), ttnn.to_torch(out).reshape(1, 12, 8, 32).permute(0, 3, 1, 2))
    with pytest.raises(ShadowError, match=r"weight_tensor was prepared for .*differs in input_height 12 != 14"):
        conv(14, weight, bias_14)
    with pytest.raises(ShadowError, match=r"bias_tensor was prepared for .*differs in input_height 14 != 12"):
        conv(12, weight, bias_14)
    # Preparing a prepared weight again: ttnn 0.81.1 itself refuses a device weight.
    with pytest.raises(RuntimeError, match="Host conv weights should be placed on host"):
        ttnn.prepare_conv_weights(weight_tensor=weight, weights_format="OIHW", has_bias=True, input_height=12, **prep)


@pytest.mark.requires_mock("shadow bookkeeping of prepared weights")
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv_transpose2d_prepared_weight_remembers_its_conv(device):
    w, b = torch.randn(32, 16, 3, 3) / 17, torch.randn(32 // 2)
    conv_args = dict(in_channels=32, out_channels=16, batch_size=1, input_height=6, kernel_size=(3, 3),
                     stride=(2, 2), padding=(1, 1), dilation=(1, 1), groups=1, device=device)

    def conv(width, weight, bias, output_padding=(1, 1), **extra):
        x = torch.randn(1, 32, 6, width)
        return ttnn.conv_transpose2d(
            input_tensor=ttnn.from_torch(x.permute(0, 2, 3, 1), ttnn.bfloat16, device=device), weight_tensor=weight,
            bias_tensor=bias, input_width=width, output_padding=output_padding, **conv_args, **extra,
        )

    host_bias = ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32)
    _, (weight, bias) = conv(5, ttnn.from_torch(w, ttnn.float32), host_bias, return_weights_and_bias=True)
    conv(5, weight, bias)
    with pytest.raises(ShadowError, match=r"ttnn\.conv_transpose2d: weight_tensor was prepared for "
                       r"conv_transpose2d\(N=1, HxW=6x5, .*differs in input_width 5 != 7"):
        conv(7, weight, bias)
    with pytest.raises(ShadowError, match=r"differs in output_padding \(1, 1\) != \(0, 0\)"):
        conv(5, weight, bias, output_padding=(0, 0))
    # prepare_conv_transpose2d_weights names output_padding too; its bias counterpart does not (not compared).
    prep = dict(conv_args, input_memory_config=ttnn.DRAM_MEMORY_CONFIG, input_layout=ttnn.ROW_MAJOR_LAYOUT,
                input_dtype=ttnn.bfloat16, input_width=5, conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.float32))
    weight = ttnn.prepare_conv_transpose2d_weights(
        weight_tensor=ttnn.from_torch(w, ttnn.float32), weights_format="IOHW", has_bias=True, output_padding=(1, 1),
        **prep,
    )
    bias = ttnn.prepare_conv_transpose2d_bias(bias_tensor=host_bias, **prep)
    conv(5, weight, bias, conv_config=prep["conv_config"])
    with pytest.raises(ShadowError, match=r"weight_tensor was prepared for .*differs in input_width 5 != 7"):
        conv(7, weight, bias, conv_config=prep["conv_config"])


@pytest.mark.requires_mock("shadow bookkeeping of prepared weights")
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv1d_uses_weight_prepared_for_its_conv2d_form(device):
    """ttnn runs conv1d as a height-1 conv2d: a weight prepared for that conv2d is the conv1d's."""
    x, w = torch.randn(1, 32, 40), torch.randn(32, 32, 3) / 10
    weight = ttnn.prepare_conv_weights(
        weight_tensor=ttnn.from_torch(w.unsqueeze(2), ttnn.float32), weights_format="OIHW", has_bias=False,
        input_memory_config=ttnn.DRAM_MEMORY_CONFIG, input_layout=ttnn.ROW_MAJOR_LAYOUT, input_dtype=ttnn.bfloat16,
        in_channels=32, out_channels=32, batch_size=1, input_height=1, input_width=40, kernel_size=(1, 3),
        stride=(1, 1), padding=(0, 0, 1, 1), dilation=(1, 1), groups=1, device=device,
        conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.float32),
    )
    out = ttnn.conv1d(
        input_tensor=ttnn.from_torch(x.permute(0, 2, 1), ttnn.bfloat16, device=device), weight_tensor=weight,
        device=device, in_channels=32, out_channels=32, batch_size=1, input_length=40, kernel_size=3, padding=1,
        conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.float32),
    )
    _check(device, F.conv1d(bf16(x), w, padding=1), ttnn.to_torch(out).reshape(1, 40, 32).permute(0, 2, 1))


# ------------------------------------------------------------- conv input channels
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv_input_with_padded_channels_is_rejected_by_ttnn(device):
    """ttnn 0.81.1 accepts no channel padding: 40 channels for in_channels=32 fail its input reshape."""
    with pytest.raises(RuntimeError, match="reshape"):
        ttnn.conv1d(
            input_tensor=ttnn.from_torch(torch.randn(1, 1, 40, 40), ttnn.bfloat16, device=device),
            weight_tensor=ttnn.from_torch(torch.randn(32, 32, 3), ttnn.float32), device=device, in_channels=32,
            out_channels=32, batch_size=1, input_length=40, kernel_size=3, padding=1,
        )


@pytest.mark.requires_mock("the goldens' channel check (ttnn only checks the volume)")
@pytest.mark.parametrize("device_params", CONV_PARAMS, indirect=True)
def test_conv_input_channels_must_equal_in_channels(device):
    """Same volume, other channel count: ttnn reinterprets the input row-major; the harness calls it a bug."""
    with pytest.raises(ShadowError, match=r"ttnn\.conv1d: input shape \(1, 1, 40, 64\) is not .*1\*1\*80 = 80 rows "
                       r"of in_channels=32 channels"):
        ttnn.conv1d(
            input_tensor=ttnn.from_torch(torch.randn(1, 1, 40, 64), ttnn.bfloat16, device=device),
            weight_tensor=ttnn.from_torch(torch.randn(32, 32, 3), ttnn.float32), device=device, in_channels=32,
            out_channels=32, batch_size=1, input_length=80, kernel_size=3, padding=1,
        )
    geometry = dict(device=device, batch_size=1, input_height=8, input_width=8, kernel_size=(3, 3), stride=(1, 1),
                    padding=(1, 1), dilation=(1, 1), groups=1)
    with pytest.raises(ShadowError, match=r"ttnn\.conv2d: input shape \(1, 1, 32, 32\) is not .*in_channels=16"):
        ttnn.conv2d(input_tensor=ttnn.from_torch(torch.randn(1, 1, 32, 32), ttnn.bfloat16, device=device),
                    weight_tensor=ttnn.from_torch(torch.randn(32, 16, 3, 3), ttnn.float32), in_channels=16,
                    out_channels=32, **geometry)
    with pytest.raises(ShadowError, match=r"conv_transpose2d: input shape \(1, 1, 32, 32\) is not .*in_channels=16"):
        ttnn.conv_transpose2d(input_tensor=ttnn.from_torch(torch.randn(1, 1, 32, 32), ttnn.bfloat16, device=device),
                              weight_tensor=ttnn.from_torch(torch.randn(16, 32, 3, 3), ttnn.float32), in_channels=16,
                              out_channels=32, output_padding=(0, 0), **geometry)


def test_empty_like_shape(device):
    """empty_like has the input's shape and dtype; on the mock its value is NaN (test_empty_is_nan)."""
    t = ttnn.empty_like(ttnn.from_torch(X, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device))
    assert tuple(t.shape) == tuple(X.shape) and t.dtype == ttnn.bfloat16
    assert ttnn.to_torch(t).shape == X.shape


@pytest.mark.requires_mock("uninitialised memory has no defined value on hardware")
def test_empty_like_is_nan(device):
    t = ttnn.empty_like(ttnn.from_torch(X, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device))
    value = ttnn.to_torch(t).float()
    assert value.shape == X.shape and torch.isnan(value).all()


@pytest.mark.requires_mock("uninitialised memory has no defined value on hardware")
def test_empty_is_nan(device):
    t = ttnn.empty([1, 1, 32, 32], ttnn.bfloat16, ttnn.TILE_LAYOUT, device)
    assert torch.isnan(ttnn.to_torch(t).float()).all()


# -------------------------------------------------------------- ttnn's own goldens
X = torch.randn(1, 1, 64, 96, generator=torch.Generator().manual_seed(1))
Y = torch.randn(1, 1, 64, 96, generator=torch.Generator().manual_seed(2))
POS = torch.rand(1, 1, 64, 96, generator=torch.Generator().manual_seed(3)) + 0.5
W = torch.randn(1, 1, 96, 32, generator=torch.Generator().manual_seed(4))


def _up(device, x, layout=ttnn.TILE_LAYOUT, dtype=ttnn.bfloat16):
    return ttnn.from_torch(x, dtype=dtype, layout=layout, device=device)


RM = ttnn.ROW_MAJOR_LAYOUT
L1 = ttnn.L1_MEMORY_CONFIG
HEIGHT_SHARDED = dict(core_grid=ttnn.CoreGrid(y=1, x=1), strategy=ttnn.ShardStrategy.HEIGHT)


def _sharded(d):
    config = ttnn.create_sharded_memory_config((64, 96), use_height_and_width_as_shard_shape=True, **HEIGHT_SHARDED)
    return ttnn.interleaved_to_sharded(_up(d, X), config)


def _nearest_2x(t):
    return t.repeat_interleave(2, 1).repeat_interleave(2, 2)


# name: (ttnn call on device d, torch reference). Inputs are bf16-rounded like the upload.
x, y, pos, w = (lambda: bf16(X)), (lambda: bf16(Y)), (lambda: bf16(POS)), (lambda: bf16(W))
TTNN_GOLDEN_CASES = {
    "sub": (lambda d: ttnn.sub(_up(d, X), _up(d, Y), memory_config=L1), lambda: x() - y()),
    "sub_scalar": (lambda d: ttnn.sub(_up(d, X), 2.0), lambda: x() - 2),
    "div": (lambda d: ttnn.div(_up(d, X), _up(d, POS)), lambda: x() / pos()),
    "multiply_bfp8_out": (lambda d: ttnn.multiply(_up(d, X), _up(d, Y), dtype=ttnn.bfloat8_b), lambda: x() * y()),
    "square": (lambda d: ttnn.square(_up(d, X)), lambda: x() ** 2),
    "log": (lambda d: ttnn.log(_up(d, POS)), lambda: torch.log(pos())),
    "exp": (lambda d: ttnn.exp(_up(d, X)), lambda: torch.exp(x())),
    "abs": (lambda d: ttnn.abs(_up(d, X)), lambda: x().abs()),
    "neg": (lambda d: ttnn.neg(_up(d, X)), lambda: -x()),
    "reciprocal": (lambda d: ttnn.reciprocal(_up(d, POS)), lambda: 1 / pos()),
    "floor": (lambda d: ttnn.floor(_up(d, 3 * X)), lambda: torch.floor(bf16(3 * X))),
    "ceil": (lambda d: ttnn.ceil(_up(d, 3 * X)), lambda: torch.ceil(bf16(3 * X))),
    "gt": (lambda d: ttnn.gt(_up(d, X), _up(d, Y)), lambda: (x() > y()).float()),
    "lt_scalar": (lambda d: ttnn.lt(_up(d, X), 0.0), lambda: (x() < 0).float()),
    "ge": (lambda d: ttnn.ge(_up(d, X), 0.5), lambda: (x() >= 0.5).float()),
    "softplus": (lambda d: ttnn.softplus(_up(d, X), beta=2.0, threshold=10.0), lambda: F.softplus(x(), 2.0, 10.0)),
    "tanh": (lambda d: ttnn.tanh(_up(d, X)), lambda: torch.tanh(x())),
    "sigmoid": (lambda d: ttnn.sigmoid(_up(d, X)), lambda: torch.sigmoid(x())),
    "leaky_relu": (lambda d: ttnn.leaky_relu(_up(d, X), negative_slope=0.1), lambda: F.leaky_relu(x(), 0.1)),
    "where": (
        lambda d: ttnn.where(ttnn.gt(_up(d, X), 0.0), _up(d, X), _up(d, Y)),
        lambda: torch.where(X > 0, x(), y()),
    ),
    "matmul": (lambda d: ttnn.matmul(_up(d, X), _up(d, W)), lambda: x() @ w()),
    "matmul_transpose_a": (
        lambda d: ttnn.matmul(_up(d, X.transpose(-1, -2)), _up(d, W), transpose_a=True),
        lambda: x() @ w(),
    ),
    "matmul_transpose_b": (
        lambda d: ttnn.matmul(_up(d, X), _up(d, W.transpose(-1, -2)), transpose_b=True),
        lambda: x() @ w(),
    ),
    "linear_bias_act": (
        lambda d: ttnn.linear(_up(d, X), _up(d, W), bias=_up(d, torch.ones(1, 32)), activation="relu"),
        lambda: F.relu(x() @ w() + 1),
    ),
    "max": (lambda d: ttnn.max(_up(d, X), dim=-1, keepdim=True), lambda: x().amax(-1, keepdim=True)),
    "sum": (lambda d: ttnn.sum(_up(d, X), dim=-1, keepdim=True), lambda: x().sum(-1, keepdim=True)),
    "mean": (lambda d: ttnn.mean(_up(d, X), dim=-2), lambda: x().mean(-2)),
    "concat": (lambda d: ttnn.concat([_up(d, X, RM), _up(d, Y, RM)], dim=2), lambda: torch.cat([x(), y()], 2)),
    "pad": (
        lambda d: ttnn.pad(_up(d, X, RM), [(0, 0), (0, 0), (1, 2), (3, 4)], value=0.5),
        lambda: F.pad(x(), (3, 4, 1, 2), value=0.5),
    ),
    "slice": (lambda d: ttnn.slice(_up(d, X), [0, 0, 3, 5], [1, 1, 40, 70]), lambda: x()[:, :, 3:40, 5:70]),
    "slice_step": (
        lambda d: ttnn.slice(_up(d, X, RM), [0, 0, 0, 0], [1, 1, 64, 96], [1, 1, 2, 1]),
        lambda: x()[:, :, ::2],
    ),
    "getitem": (lambda d: _up(d, X)[:, :, 3:40, 5:70], lambda: x()[:, :, 3:40, 5:70]),
    "repeat": (lambda d: ttnn.repeat(_up(d, X), (1, 2, 1, 1)), lambda: x().repeat(1, 2, 1, 1)),
    "repeat_interleave": (lambda d: ttnn.repeat_interleave(_up(d, X), 2, dim=1), lambda: x().repeat_interleave(2, 1)),
    "permute": (lambda d: ttnn.permute(_up(d, X), (0, 1, 3, 2)), lambda: x().permute(0, 1, 3, 2)),
    "transpose": (lambda d: ttnn.transpose(_up(d, X), 1, 2), lambda: x().transpose(1, 2)),
    "reshape": (
        lambda d: ttnn.reshape(_up(d, X), (1, 64, 96), memory_config=ttnn.DRAM_MEMORY_CONFIG),
        lambda: x().reshape(1, 64, 96),
    ),
    "unsqueeze": (lambda d: ttnn.unsqueeze(_up(d, X[0]), 0), x),
    "squeeze": (lambda d: ttnn.squeeze(_up(d, X), 0), lambda: x()[0]),
    "to_layout": (lambda d: ttnn.to_layout(_up(d, X), RM), x),
    "to_memory_config": (lambda d: ttnn.to_memory_config(_up(d, X), L1), x),
    "typecast_bfp8": (lambda d: ttnn.typecast(_up(d, X), ttnn.bfloat8_b), lambda: block_float_round(x())),
    "as_tensor": (
        lambda d: ttnn.as_tensor(
            X, ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d, memory_config=ttnn.DRAM_MEMORY_CONFIG,
            preprocess=lambda t: 2 * t,
        ),
        lambda: bf16(2 * X),
    ),
    "to_device_from_device": (lambda d: ttnn.from_device(ttnn.to_device(ttnn.from_torch(X, ttnn.bfloat16), d)), x),
    "sharding": (lambda d: ttnn.sharded_to_interleaved(_sharded(d), ttnn.DRAM_MEMORY_CONFIG), x),
    "fill": (lambda d: ttnn.fill(_up(d, X), 3.0), lambda: torch.full_like(X, 3.0)),
    "zeros": (
        lambda d: ttnn.zeros((1, 1, 32, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d),
        lambda: torch.zeros(1, 1, 32, 32),
    ),
    "ones_like": (lambda d: ttnn.ones_like(_up(d, X)), lambda: torch.ones_like(X)),
    "full": (
        lambda d: ttnn.full((1, 1, 32, 32), 2.5, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=d),
        lambda: torch.full((1, 1, 32, 32), 2.5),
    ),
    "layer_norm": (
        lambda d: ttnn.layer_norm(_up(d, X), weight=_up(d, 1 + Y[0, 0, :1]), bias=_up(d, Y[0, 0, 1:2]), epsilon=1e-5),
        lambda: F.layer_norm(x(), (96,), bf16(1 + Y[0, 0, 0]), bf16(Y[0, 0, 1]), 1e-5),
    ),
    "softmax": (lambda d: ttnn.softmax(_up(d, X), dim=-1), lambda: torch.softmax(x(), -1)),
    "split": (lambda d: ttnn.split(_up(d, X), 32, dim=-1)[1], lambda: x()[..., 32:64]),
    "upsample": (
        lambda d: ttnn.upsample(_up(d, X.reshape(1, 8, 8, 96), RM), 2),
        lambda: _nearest_2x(x().reshape(1, 8, 8, 96)),
    ),
    "cumsum": (lambda d: ttnn.cumsum(_up(d, X), dim=-1), lambda: torch.cumsum(x(), -1)),
}
@pytest.mark.parametrize("name", sorted(TTNN_GOLDEN_CASES))
def test_ttnn_golden(device, name):
    run, reference = TTNN_GOLDEN_CASES[name]
    _check(device, reference(), ttnn.to_torch(run(device)), mock=0.999)


def test_embedding(device):
    ids = torch.randint(0, 50, (1, 20), generator=torch.Generator().manual_seed(5))
    table = torch.randn(50, 64)
    out = ttnn.embedding(
        ttnn.from_torch(ids.to(torch.int32), dtype=ttnn.uint32, device=device),
        ttnn.from_torch(table, dtype=ttnn.bfloat16, device=device),
    )
    _check(device, F.embedding(ids, bf16(table)), ttnn.to_torch(out))


def test_deallocate(device):
    t = ttnn.from_torch(X, dtype=ttnn.bfloat16, device=device)
    ttnn.deallocate(t)
    assert not t.is_allocated()


# ------------------------------------------------------------------------- rounding
def test_bfloat8_b_rounding_matches_ttnn_host_packing(device_is_mock):
    # (device_is_mock: host block-float packing initialises tt-metal's cluster, so it needs a device or the mock)
    torch.manual_seed(0)
    x = torch.randn(3, 70) * torch.exp(2 * torch.randn(3, 70))
    x[0, :4] = torch.tensor([1.0, 1.5 * 2**-6, 2.5 * 2**-6, 1.999])  # ties to even, saturation at 127/64
    x[1, 20] = float("inf")  # its group flushes to zero, inf stays
    host = ttnn.Tensor(tensor=x.contiguous(), data_type=ttnn.bfloat8_b, layout=ttnn.TILE_LAYOUT).to_torch()
    emulated = block_float_round(x)
    same = (emulated == host) | (torch.isnan(emulated) & torch.isnan(host))
    assert same.all(), f"{(~same).sum()} mismatches, e.g. {emulated[~same][:4]} vs {host[~same][:4]}"


def test_round_to_dtype():
    x = torch.randn(4, 33)
    assert torch.equal(round_to_dtype(x, ttnn.bfloat16), bf16(x))
    assert torch.equal(round_to_dtype(x, ttnn.float32), x)
    assert round_to_dtype(torch.tensor([1.6, -2.4]), ttnn.uint32).tolist() == [2, -2]


# ---------------------------------------------------------------------------- PCC
def test_comp_pcc_edge_cases():
    x = torch.randn(100)
    nan = torch.full((10,), float("nan"))
    assert comp_pcc(x, x) == (True, 1.0)
    assert comp_pcc(nan, nan) == (True, 1.0)
    assert comp_pcc(nan, torch.ones(10)) == (False, 0.0)
    assert comp_pcc(torch.zeros(10), torch.ones(10)) == (False, 0.0)
    assert comp_pcc(torch.full((10,), 2.0), torch.full((10,), 2.0001))[0]
    assert not comp_pcc(torch.full((10,), 2.0), torch.full((10,), 3.0))[0]
    with_inf = x.clone()
    with_inf[3] = float("inf")
    assert comp_pcc(with_inf, with_inf + 1e-3 * torch.randn(100))[1] > 0.999
    minus_inf = with_inf.clone()
    minus_inf[3] = float("-inf")
    assert comp_pcc(with_inf, minus_inf) == (False, 0.0)
    assert comp_pcc(x, -x)[1] == pytest.approx(-1.0)
    with pytest.raises(AssertionError, match=r"list\(expected_pytorch_result.shape\)=\[100\] vs list\(actual_pytorch_result.shape\)=\[10, 10\]"):
        assert_with_pcc(x, x.reshape(10, 10))
