"""Per-op tests of the TTNN conv building blocks (tt/conv.py) against torch.

Run unchanged on the mock (golden numerics: `helpers.bar(device, "conv")` checks layout,
padding, dilation, batching, weight preparation and the polyphase transposed conv, per batch
item) and on a card (the device bars: bf16 kernels).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import ttnn

from models.demos.openvoice.tests.helpers import assert_items_close, bar, device_to_host_transfers, dram_slices
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from models.demos.openvoice.tt.conv import PREPARED_SHAPES, TtConv1d, TtConvTranspose1d, polyphase_weights
from models.demos.openvoice.tt.tone_color_converter import from_time_major, to_time_major
from models.common.mock_device import assert_no_host_round_trip, capture
from tests.ttnn.utils_for_testing import assert_with_pcc

DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)

BATCH = 2
LENGTH = 45  # not a multiple of 32: exercises tile padding of the time axis


def _upload(device, x: torch.Tensor) -> ttnn.Tensor:
    return ttnn.from_torch(to_time_major(x), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)


def _download(y: ttnn.Tensor, batch: int) -> torch.Tensor:
    return from_time_major(ttnn.to_torch(y).float(), batch)


def check_conv(device, name: str, expected: torch.Tensor, actual: torch.Tensor) -> float:
    """[B, C, T]: whole-tensor PCC and, per batch item, PCC and max |error| relative to the item's
    peak, first and last frames (zero padding, dilation, per-item halo) at bar(device, "conv")."""
    limits = bar(device, "conv")
    pcc = assert_with_pcc(expected, actual, limits.pcc)
    assert_items_close(name, expected, actual, pcc=limits.pcc, max_rel=limits.max_rel)
    return pcc


# Every converter conv shape class: (in, out, kernel, dilation, length).
CONV_SHAPES = {
    "pre_1x1_513_192": (513, 192, 1, 1, LENGTH),
    "wavenet_k5": (192, 384, 5, 1, LENGTH),
    "conv_pre_k7": (192, 512, 7, 1, LENGTH),
    "resblock_k3_d1": (256, 256, 3, 1, LENGTH),
    "resblock_k7_d3": (128, 128, 7, 3, 4 * LENGTH),
    "resblock_k11_d5": (32, 32, 11, 5, 64 * LENGTH),
    "conv_post_k7": (32, 1, 7, 1, 64 * LENGTH),
}


@DEVICE
@pytest.mark.parametrize("shape", CONV_SHAPES.values(), ids=CONV_SHAPES.keys())
def test_conv1d(device, shape: tuple[int, int, int, int, int]) -> None:
    c_in, c_out, kernel, dilation, length = shape
    torch.manual_seed(0)
    x = torch.randn(BATCH, c_in, length)
    weight = torch.randn(c_out, c_in, kernel) / (c_in * kernel) ** 0.5
    bias = torch.randn(c_out) * 0.1
    padding = dilation * (kernel - 1) // 2
    conv = TtConv1d(device, weight, bias, padding=padding, dilation=dilation)
    y = _download(conv(_upload(device, x), BATCH, length), BATCH)
    expected = F.conv1d(x, weight, bias, padding=padding, dilation=dilation)
    check_conv(device, f"conv1d {shape}", expected, y)  # bf16; measured >= 0.999995 / <= 3.79e-3 (mock); bar 0.99999 / 0.008


@DEVICE
def test_conv1d_weights_prepared_once(device) -> None:
    """The second call with the same shape reuses the device-prepared weights: one conv op,
    no host transfer (the first call uploads and prepares them)."""
    torch.manual_seed(0)
    x = torch.randn(BATCH, 64, LENGTH)
    conv = TtConv1d(device, torch.randn(64, 64, 5) * 0.05, torch.randn(64) * 0.1, padding=2)
    x_tt = _upload(device, x)
    conv(x_tt, BATCH, LENGTH)
    prepared = dict(conv.prepared.entries)
    report = capture(conv, x_tt, BATCH, LENGTH)
    assert_no_host_round_trip(report)
    assert [str(op) for op in report.operations] == ["ttnn.conv1d"]
    assert conv.prepared.entries.keys() == prepared.keys() and all(
        conv.prepared.entries[k][0] is prepared[k][0] for k in prepared
    ), "prepared weights were re-created"


@DEVICE
def test_conv1d_cold_call_only_uploads(device) -> None:
    """The first call at a new shape prepares the weights: host->device uploads only (prepared
    weight/bias, conv configs), never a read-back (ttnn 0.81.1 prepares on the host; a
    device-resident raw weight would be read back with Tensor::cpu)."""
    torch.manual_seed(0)
    conv = TtConv1d(device, torch.randn(64, 64, 5) * 0.05, torch.randn(64) * 0.1, padding=2)
    x = torch.randn(BATCH, 64, LENGTH)
    report = capture(conv, _upload(device, x), BATCH, LENGTH)
    assert report.num_host_transfers > 0, "a cold call must prepare (upload) the weights"
    assert device_to_host_transfers(report) == [], report.host_transfers


@DEVICE
def test_prepared_weights_are_bounded_per_shape(device) -> None:
    """A long-lived converter sees a new input length per clip: only the most recent
    PREPARED_SHAPES shapes keep device-prepared weights (least recently used dropped)."""
    torch.manual_seed(0)
    conv = TtConv1d(device, torch.randn(32, 32, 3) * 0.05, torch.randn(32) * 0.1, padding=1)
    lengths = [20 + 4 * i for i in range(PREPARED_SHAPES + 2)]
    for length in lengths:
        conv(_upload(device, torch.randn(1, 32, length)), 1, length)
    conv(_upload(device, torch.randn(1, 32, lengths[3])), 1, lengths[3])  # refresh one older shape
    key = lambda length: (1, length, ttnn.bfloat16)  # noqa: E731
    assert len(conv.prepared.entries) == PREPARED_SHAPES
    assert key(lengths[0]) not in conv.prepared.entries and key(lengths[3]) in conv.prepared.entries
    assert list(conv.prepared.entries)[-1] == key(lengths[3])
    # Same shape, other input dtype: prepared separately (on a card the layout depends on it; the
    # mock rejects a weight prepared for a bf16 input when used with a float32 one).
    x32 = ttnn.from_torch(to_time_major(torch.randn(1, 32, lengths[3])), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    conv(x32, 1, lengths[3])
    assert list(conv.prepared.entries)[-1] == (1, lengths[3], ttnn.float32)


# (kernel, stride, padding) of every upsampling layer shape the converter configs use, and more.
TRANSPOSE_CASES = [(16, 8, 4), (4, 2, 1), (8, 2, 3), (2, 2, 0)]


@pytest.mark.parametrize("kernel,stride,padding", TRANSPOSE_CASES)
def test_polyphase_weights_exact(kernel: int, stride: int, padding: int) -> None:
    """Host check of the polyphase identity in float64: conv1d with the phase weights +
    row-major interleave == ConvTranspose1d."""
    torch.manual_seed(0)
    x = torch.randn(BATCH, 6, 13, dtype=torch.float64)
    weight = torch.randn(6, 5, kernel, dtype=torch.float64)
    bias = torch.randn(5, dtype=torch.float64)
    phased, phased_bias, half = polyphase_weights(weight, bias, stride, padding)
    y = F.conv1d(x, phased, phased_bias, padding=half)  # [B, s*Co, T]
    y = y.permute(0, 2, 1).reshape(BATCH, 13 * stride, 5).permute(0, 2, 1)
    expected = F.conv_transpose1d(x, weight, bias, stride=stride, padding=padding)
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-12)


@DEVICE
@pytest.mark.parametrize("kernel,stride,padding", TRANSPOSE_CASES)
def test_conv_transpose1d(device, kernel: int, stride: int, padding: int) -> None:
    torch.manual_seed(0)
    c_in, c_out = 64, 32
    x = torch.randn(BATCH, c_in, LENGTH)
    weight = torch.randn(c_in, c_out, kernel) / (c_in * kernel / stride) ** 0.5
    bias = torch.randn(c_out) * 0.1
    up = TtConvTranspose1d(device, weight, bias, stride=stride, padding=padding)
    y = _download(up(_upload(device, x), BATCH, LENGTH), BATCH)
    expected = F.conv_transpose1d(x, weight, bias, stride=stride, padding=padding)
    # measured 0.999996 / <= 3.74e-3 (mock); bar 0.99999 / 0.008
    check_conv(device, f"conv_transpose1d k{kernel} s{stride} p{padding}", expected, y)


@DEVICE
def test_conv_transpose1d_release_first_stage(device) -> None:
    """The widest upsampling layer of the release decoder: 512 -> 256, k16, s8 (a 512 -> 2048
    polyphase conv)."""
    torch.manual_seed(0)
    x = torch.randn(1, 512, 40)
    weight = torch.randn(512, 256, 16) / (512 * 2) ** 0.5
    bias = torch.randn(256) * 0.1
    up = TtConvTranspose1d(device, weight, bias, stride=8, padding=4)
    y = _download(up(_upload(device, x), 1, 40), 1)
    expected = F.conv_transpose1d(x, weight, bias, stride=8, padding=4)
    check_conv(device, "conv_transpose1d 512->256 k16 s8", expected, y)  # measured 0.999996 / 3.55e-3; bar 0.99999 / 0.008


def test_polyphase_rejects_odd_padding_remainder() -> None:
    with pytest.raises(NotImplementedError):
        polyphase_weights(torch.zeros(2, 2, 5), None, 2, 1)


@DEVICE
def test_long_sequence_uses_dram_slicing(device) -> None:
    """slice_config=None on a DRAM input: a short sequence runs in one piece, the 10 s
    last-stage shape (220k samples x 32 channels, k11 d5) is width-sliced through DRAM by
    ttnn itself, so no manual chunking is needed."""
    conv = TtConv1d(device, torch.randn(32, 32, 11) * 0.05, torch.zeros(32), padding=25, dilation=5)
    slices = {}
    for length in (LENGTH, 220_000):
        x = ttnn.from_torch(torch.randn(1, 1, length, 32), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)
        conv(x, 1, length)  # prepares the weights for this shape
        slices[length] = dram_slices(capture(conv, x, 1, length))
    assert slices[LENGTH] == 0
    assert slices[220_000] > 1, slices
