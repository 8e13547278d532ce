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
from models.common.mock_device.rounding import bf16, block_float_round, round_to_dtype
from tests.ttnn.utils_for_testing import assert_with_pcc, comp_pcc, pcc_for

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


def test_conv_weights_are_rounded_to_weights_dtype(device):
    """The device stores conv weights in conv_config.weights_dtype from the first call on, so a cold
    call with float32 host weights must give what the warm call with prepared weights gives."""
    x, w, b = torch.randn(1, 32, 40), torch.randn(32, 32, 3) / 10, torch.randn(32)
    expected = F.conv1d(bf16(x), bf16(w), bf16(b), padding=1)
    out = ttnn.conv1d(
        input_tensor=ttnn.from_torch(x.permute(0, 2, 1), ttnn.bfloat16, device=device),
        weight_tensor=ttnn.from_torch(w, ttnn.float32), bias_tensor=ttnn.from_torch(b.reshape(1, 1, 1, -1), ttnn.float32),
        device=device, in_channels=32, out_channels=32, batch_size=1, input_length=40, kernel_size=3, padding=1,
        conv_config=ttnn.Conv2dConfig(weights_dtype=ttnn.bfloat16), dtype=ttnn.float32,
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
    with pytest.raises(AssertionError, match="shape mismatch"):
        assert_with_pcc(x, x.reshape(10, 10))
