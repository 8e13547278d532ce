# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Per-op PCC: single TTNN building blocks against torch or the float32 reference.

Run: `pytest models/demos/openvoice/tests/test_per_op_pcc.py` (on the card; in the standalone
repository, on its mock Wormhole where there is none).

An "op" here is one tt/ building block (a conv, the spectrogram, a spline, a relative-position
skew, a speaker projection, a load-time weight fold), not a whole model module: whole modules
fed the reference's own input are in test_per_module_pcc.py, whole models end to end (and their
host-transfer, cache and lifecycle properties) in test_openvoice.py, the golden folders in
test_pcc_validation.py. Sections per model family:

* converter: TtConv1d / TtConvTranspose1d (tt/conv.py) on every converter conv shape class,
  the polyphase weights, the prepared-weight cache (cold call uploads only, bounded per shape),
  DRAM slicing; the speaker-conditioning projection (`SpeakerRows.project`); the flow folds
  (host, float64);
* clone: the STFT-as-matmul spectrogram (tt/spectrogram.py) against the reference and upstream's
  golden spectrograms, the DFT operand precision; the reference encoder's float32 conv storage
  and the GRU flatten order folded into its weights;
* MeloTTS: the depthwise dilated conv (DDSConv), the inverse rational-quadratic spline (and its
  extreme bins), the SDP reverse-flow plan, the relative-position skews, the transformer-flow
  folds, the encoder's speaker rows (`SpeakerRows.project` with a bias).

Bars: `helpers.bar(device, module)` (measured mock figures in helpers.MOCK_BARS; the figure next
to each assertion is the one measured on the mock) or the test's own measured bar; on a card, the
device bars. Host-only tests (float64 proofs of the folds) need no device.
"""


from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import ttnn
from loguru import logger

from models.demos.openvoice.utils.graph_report import assert_no_host_round_trip, capture
from models.demos.openvoice.reference.attentions import (
    MultiHeadAttention,
    _absolute_to_relative,
    _relative_to_absolute,
)
from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.transforms import _knots, piecewise_rational_quadratic_transform
from models.demos.openvoice.tests.helpers import (
    pcc_for,
    DEVICE,
    GOLDEN_CLIPS,
    MOCK_PCC,
    TextCase,
    assert_edge_frames_close,
    assert_items_close,
    assert_spectrogram_close,
    bar,
    check_module,
    converter_golden,
    device_to_host_transfers,
    download,
    dram_slices,
    duration_golden,
    golden_case,
    reference_encoder,
    single_thread_torch,  # noqa: F401 (fixture)
    text_golden,
    text_release,  # noqa: F401 (fixture)
    upload_tile,
    upload_time_major,
)
from models.demos.openvoice.tt.attentions import TtEncoder
from models.demos.openvoice.tt.conv import PREPARED_SHAPES, TtConv1d, TtConvTranspose1d, polyphase_weights, precise_compute_config
from models.demos.openvoice.tt.reference_encoder import CONV_DTYPE, preprocess_reference_encoder
from models.demos.openvoice.tt.residual_coupling import full_channel_weights
from models.demos.openvoice.tt.spectrogram import TtSpectrogram, fourier_basis
from models.demos.openvoice.tt.stochastic_duration_predictor import reverse_flow_plan
from models.demos.openvoice.tt.text_encoder import upload_speaker
from models.demos.openvoice.tt.commons import from_time_major, to_time_major
from models.demos.openvoice.tt.transforms import SplineConstants, tail_derivative_constant
from models.demos.openvoice.tt.transforms import spline_knots as tt_knots
from models.demos.openvoice.tt.transforms import piecewise_rational_quadratic_transform as tt_spline
from models.demos.openvoice.tt.wavenet import SpeakerRows
from models.common.utility_functions import comp_pcc
from tests.ttnn.utils_for_testing import assert_with_pcc


# ====================================================================================================
# converter
# ====================================================================================================
# TTNN conv building blocks (tt/conv.py) against torch. Run unchanged on the mock (golden numerics:
# `helpers.bar(device, "conv")` checks layout, padding, dilation, batching, weight preparation and the
# polyphase transposed conv, per batch item) and on a card (the device bars: bf16 kernels).


BATCH = 2


LENGTH = 45  # not a multiple of 32: exercises tile padding of the time axis


def check_conv(device, name: str, expected: torch.Tensor, actual: torch.Tensor) -> float:
    """[B, C, T]: whole-tensor PCC and, per batch item, PCC and max |error| relative to the item's
    peak, first and last frames (zero padding, dilation, per-item halo) at bar(device, "conv")."""
    limits = bar(device, "conv")
    _, pcc = assert_with_pcc(expected, actual, limits.pcc)
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
    y = download(conv(upload_time_major(device, x), BATCH, length), BATCH)
    expected = F.conv1d(x, weight, bias, padding=padding, dilation=dilation)
    check_conv(device, f"conv1d {shape}", expected, y)  # bf16; measured >= 0.999995 / <= 3.79e-3 (mock); bar 0.99999 / 0.008


@DEVICE
def test_conv1d_weights_prepared_once(device) -> None:
    """The second call with the same shape reuses the device-prepared weights: one conv op,
    no host transfer (the first call uploads and prepares them)."""
    torch.manual_seed(0)
    x = torch.randn(BATCH, 64, LENGTH)
    conv = TtConv1d(device, torch.randn(64, 64, 5) * 0.05, torch.randn(64) * 0.1, padding=2)
    x_tt = upload_time_major(device, x)
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
    report = capture(conv, upload_time_major(device, x), BATCH, LENGTH)
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
        conv(upload_time_major(device, torch.randn(1, 32, length)), 1, length)
    conv(upload_time_major(device, torch.randn(1, 32, lengths[3])), 1, lengths[3])  # refresh one older shape
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
    y = download(up(upload_time_major(device, x), BATCH, LENGTH), BATCH)
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
    y = download(up(upload_time_major(device, x), 1, 40), 1)
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


# ---- speaker conditioning (tt/wavenet.py SpeakerRows) ------------------------------------------------


@DEVICE
def test_speaker_conditioning_projects_items_then_rows(device) -> None:
    """SpeakerRows.project = S @ (g @ W): the 1x1 conditioning conv runs on the B embeddings (one
    linear on [B, gin]) and S (K = B) copies each item's projection to its rows; same numbers as
    the per-row (S @ g) @ W."""
    torch.manual_seed(0)
    b, t, gin, co = 2, 37, 16, 64
    weight, g = torch.randn(co, gin, 1) / gin**0.5, torch.randn(b, gin)
    conv = TtConv1d(device, weight, None, compute=precise_compute_config(device))
    segments = torch.eye(b).repeat_interleave(t, dim=0)
    upload = lambda x: ttnn.from_torch(x.reshape(1, 1, *x.shape), dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)  # noqa: E731
    speaker = SpeakerRows(upload(segments), upload(g))
    report = capture(speaker.project, conv)
    assert [str(op) for op in report.operations] == ["ttnn.linear", "ttnn.matmul"]  # items first, then rows
    assert_no_host_round_trip(report)
    expected = (segments @ g @ weight[:, :, 0].t()).reshape(b, t, co).permute(0, 2, 1)
    actual = ttnn.to_torch(report.result).float().reshape(b, t, co).permute(0, 2, 1)
    check_module(device, "conv", expected, actual)  # per item: item b's rows carry item b's projection; measured 0.999996 / 4.9e-3


# ---- host-only proof of the load-time flow folds (tt/residual_coupling.py) ---------------------------


def test_converter_flow_folding_is_exact(shared_data: Path) -> None:
    """Coupling layers on the full channel vector with zero-padded pre/post weights and the
    flips folded into them == the reference flow (split, unmasked x0, flip), in float64, on
    masked input of a B=2 batch with different lengths; forward and reverse."""
    model = converter_golden(shared_data, "vc_small_tau0").model.double()  # odd half width (24)
    flow = model.flow
    couplings = list(flow.flows)[::2]
    torch.manual_seed(0)
    channels, frames = 2 * couplings[0].half_channels, 37
    mask = sequence_mask(torch.tensor([37, 20]), frames).unsqueeze(1).double()
    x = torch.randn(2, channels, frames, dtype=torch.float64) * mask
    g = torch.randn(2, couplings[0].enc.gin_channels, 1, dtype=torch.float64)

    def folded(x: torch.Tensor, reverse: bool) -> torch.Tensor:
        order = list(enumerate(couplings))
        for index, layer in reversed(order) if reverse else order:
            pre_w, pre_b, post_w, post_b = full_channel_weights(layer, flipped=index % 2 == 1)
            h = F.conv1d(x, pre_w, pre_b) * mask
            h = layer.enc(h, mask, g=g)
            m = F.conv1d(h, post_w, post_b) * mask
            x = x - m if reverse else x + m
        return x

    with torch.inference_mode():
        forward = flow(x, mask, g=g)
        torch.testing.assert_close(folded(x, reverse=False), forward, rtol=0, atol=1e-12)
        reverse = flow(forward, mask, g=g, reverse=True)
        torch.testing.assert_close(folded(forward, reverse=True), reverse, rtol=0, atol=1e-12)


# ====================================================================================================
# clone
# ====================================================================================================
# Device spectrogram (tt/spectrogram.py) against the reference and upstream's golden spectrograms.


# Bars: helpers.assert_spectrogram_close: bar(device, "spectrogram") for the whole spectrogram (PCC,
# max |error| relative to the clip's peak bin) and "spectrogram_edge" for the frames that read
# reflected samples, each against its own peak: a clip's edges are often near silence, where a
# reflect-padding fault is invisible at the clip's scale. Mock: golden float32 numerics, only the
# DFT's summation order differs. Device: tf32 matmul operands at HiFi3 (test_dft_operand_precision).


def _device_spectrogram(device, waveform: torch.Tensor, **kwargs) -> torch.Tensor:
    spec = TtSpectrogram(device, **kwargs)
    return ttnn.to_torch(spec(spec.upload(waveform))).float()


@DEVICE
@pytest.mark.parametrize("clip", GOLDEN_CLIPS)
def test_spectrogram_matches_upstream_golden(device, clip: str) -> None:
    case = golden_case()
    waveform = case["inputs"]["wav_22k"][clip]
    expected = case["outputs"]["spec"][clip].transpose(1, 2).unsqueeze(0)  # [1, 1, T, 513]
    actual = _device_spectrogram(device, waveform)
    assert_spectrogram_close(device, f"spectrogram {clip}", expected, actual)  # measured <= 3.0e-7, edges <= 5.4e-7 (mock); bars 1e-5


@DEVICE
@pytest.mark.parametrize("num_samples", [385, 1000, 22050 + 37])
def test_spectrogram_edge_lengths(device, num_samples: int) -> None:
    """Shortest clip the reflection allows, and lengths that are no multiple of the hop."""
    waveform = torch.randn(num_samples, generator=torch.Generator().manual_seed(num_samples)) * 0.3
    expected = spectrogram(waveform[None]).transpose(1, 2).unsqueeze(0)
    actual = _device_spectrogram(device, waveform)
    assert_spectrogram_close(device, f"spectrogram {num_samples} samples", expected, actual)  # measured <= 9.5e-7; bars 1e-5


@DEVICE
def test_spectrogram_batch_items_equal_each_alone(device) -> None:
    """`TtSpectrogram.batch` (the served conversion's STFT: items reflect-padded on the host, end to end in one
    matmul, each cut to the batch's frames): every item's valid frames equal the item's own spectrogram -- the
    first and last frames included (reflection at the item's OWN end, not the batch's), within float32 rounding --
    and the padded frames past the item's reflected signal are silence (the converter masks every padded frame)."""
    spec = TtSpectrogram(device)
    lengths = (22050 + 37, 3000, 12000)  # 86, 11, 46 frames: a 96-frame batch
    waveforms = [torch.randn(n, generator=torch.Generator().manual_seed(n)) * 0.3 for n in lengths]
    frames = 96
    padded = ttnn.from_torch(spec.pad_batch(waveforms, frames), dtype=ttnn.float32, layout=ttnn.ROW_MAJOR_LAYOUT, device=device)
    batch = ttnn.to_torch(spec.batch(padded, len(waveforms), frames)).reshape(len(waveforms), frames, spec.bins)
    for b, waveform in enumerate(waveforms):
        alone = ttnn.to_torch(spec(spec.upload(waveform))).reshape(-1, spec.bins)
        n = alone.shape[0]
        assert n == spec.num_frames(waveform.numel())
        # bit for bit single-threaded (run_tests.sh); with threaded host matmuls in the goldens, 1.3e-5 of 10 (item 1)
        assert_items_close(f"batched STFT item {b}", alone.T[None], batch[b, :n].T[None], pcc=0.9999999, max_rel=1e-5)
        assert_edge_frames_close(f"batched STFT item {b}", alone.T[None], batch[b, :n].T[None], frames=3, max_rel=1e-5)
        # past the reflected signal, frames of zeros: sqrt(MAGNITUDE_EPS) (the few between read its reflected tail)
        silent = -(-(waveform.numel() + 2 * spec.pad) // spec.hop)
        assert torch.allclose(batch[b, silent:], torch.full_like(batch[b, silent:], 1e-3), rtol=0, atol=1e-9), b
    with pytest.raises(ValueError, match="frames > the batch"):
        spec.pad_batch(waveforms, 80)


def _round_mantissa(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Truncate float32 values to `bits` explicit mantissa bits (how the unpacker turns float32 into tf32)."""
    as_int = x.float().contiguous().view(torch.int32)
    return (as_int & ~((1 << (23 - bits)) - 1)).view(torch.float32)


def _split(x: torch.Tensor, used_bits: int, high_bits: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(the operand as the multiplier consumes it, its low part): `used_bits` mantissa bits in all,
    the first `high_bits` of them in the high pass."""
    used = _round_mantissa(x, used_bits)
    return used, used - _round_mantissa(x, high_bits)


def _hifi3_matmul(a: torch.Tensor, b: torch.Tensor, a_in_src_a: bool) -> torch.Tensor:
    """a @ b as Wormhole's matrix engine computes it from float32 tensors at HiFi3 with fp32
    accumulation, per tt-metal's matrix-engine report: operands unpacked to tf32 (10 mantissa bits,
    truncated); the 5x7-bit multiplier consumes srcA as 4 high + 4 low mantissa bits (8 of tf32's 10)
    and srcB as 6 high + 6 low (all 10); HiFi3 runs 3 of the 4 partial products, skipping
    srcA-low x srcB-low. Which matmul operand the kernel unpacks into srcA is not modelled: the
    test checks both assignments."""
    (a_used, a_low), (b_used, b_low) = (_split(a, 8, 4), _split(b, 10, 6)) if a_in_src_a else (_split(a, 10, 6), _split(b, 8, 4))
    return a_used @ b_used - a_low @ b_low


def test_dft_operand_precision() -> None:
    """Why the DFT runs on float32 tensors. A CPU model of the operand precision, accumulation in
    float32, on the real jfk clip and real encoder weights: with bf16 operands (7 mantissa bits) the
    embedding drifts below the device bar; with tf32 operands (10 bits: what Wormhole's unpacker makes
    of float32) and exact products it stays at ~1, and so it does with the HiFi3 products the card
    actually computes from them (`_hifi3_matmul`, either operand in srcA). Not a measurement on a card."""
    case, ref = golden_case(), reference_encoder()
    waveform = case["inputs"]["wav_22k"]["jfk"]
    basis = fourier_basis(1024, 1024)
    frames = torch.nn.functional.pad(waveform[None, None], (384, 384), mode="reflect")[0, 0].unfold(0, 1024, 256)
    frames = frames[: waveform.numel() // 256]

    def embedding(product: torch.Tensor) -> torch.Tensor:
        power = product.square()
        spec = torch.sqrt(power[:, :513] + power[:, 544 : 544 + 513] + 1e-6)
        with torch.no_grad():
            return ref(spec[None])

    def truncated(bits: int) -> torch.Tensor:
        return embedding(_round_mantissa(frames, bits) @ _round_mantissa(basis, bits))

    exact = case["outputs"]["se"]["jfk"].reshape(1, -1)
    assert comp_pcc(exact, truncated(10))[1] > 0.9999
    assert comp_pcc(exact, truncated(7))[1] < 0.995
    # HiFi3 from float32 tensors: 0.99949 (frames in srcA) / 0.99955 (basis in srcA) on jfk, dominated
    # by srcA's 8 consumed mantissa bits (HiFi4 gives 0.99952 / 0.99956): above the project's bars.
    for frames_in_src_a in (True, False):
        assert comp_pcc(exact, embedding(_hifi3_matmul(frames, basis, frames_in_src_a)))[1] > MOCK_PCC, frames_in_src_a


def test_shorter_window_is_centred_like_stft() -> None:
    basis = fourier_basis(16, 8)
    frame = torch.randn(16, dtype=torch.float64)
    product = frame.float() @ basis
    window = torch.hann_window(8, dtype=torch.float64)
    stft = torch.stft(frame[None], 16, hop_length=4, win_length=8, window=window, center=False, return_complex=True)[0, :, 0]
    padded = basis.shape[1] // 2
    assert torch.allclose(product[:9].double(), stft.real, atol=1e-5)
    assert torch.allclose(product[padded : padded + 9].double(), stft.imag, atol=1e-5)


@DEVICE
@pytest.mark.parametrize("n_fft, hop, win", [(512, 256, 512), (1024, 128, 800), (256, 256, 256)])
def test_other_configs_where_hop_divides_n_fft(device, n_fft: int, hop: int, win: int) -> None:
    waveform = torch.randn(5000, generator=torch.Generator().manual_seed(n_fft + hop)) * 0.3
    expected = spectrogram(waveform[None], n_fft, hop, win).transpose(1, 2).unsqueeze(0)
    actual = _device_spectrogram(device, waveform, n_fft=n_fft, hop_length=hop, win_length=win)
    assert_spectrogram_close(device, f"spectrogram n_fft {n_fft} hop {hop} win {win}", expected, actual)  # measured <= 4.4e-7; bars 1e-5


@DEVICE
def test_rejects_hop_that_does_not_divide_n_fft(device) -> None:
    with pytest.raises(ValueError, match="hop_length must divide n_fft"):
        TtSpectrogram(device, n_fft=1024, hop_length=320, win_length=1024)


@DEVICE
def test_rejects_too_short_waveform(device) -> None:
    with pytest.raises(ValueError, match="more than 384 samples"):
        TtSpectrogram(device).upload(torch.zeros(384))


@DEVICE
def test_compute_configs_come_from_the_precision_plan(device) -> None:
    """The spectrogram and the reference encoder build their compute configs from `precision.PLAN`
    (or the plan they are given), not a hard-coded fidelity."""
    from models.demos.openvoice.tt.precision import PLAN, Precision
    from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder

    default = TtSpeakerEncoder(device, reference_encoder())
    assert default.spectrogram.compute_config.math_fidelity == getattr(ttnn.MathFidelity, PLAN["spectrogram"].fidelity)
    assert default.encoder.compute.fp32_dest_acc_en == PLAN["reference_encoder"].fp32_acc
    plan = {**PLAN, "spectrogram": Precision("HiFi2", fp32_acc=False), "reference_encoder": Precision("LoFi", fp32_acc=True)}
    chosen = TtSpeakerEncoder(device, reference_encoder(), plan=plan)
    assert chosen.spectrogram.compute_config.math_fidelity == ttnn.MathFidelity.HiFi2
    assert not chosen.spectrogram.compute_config.fp32_dest_acc_en
    assert chosen.encoder.compute.math_fidelity == ttnn.MathFidelity.LoFi and chosen.encoder.compute.fp32_dest_acc_en


def _convs(module: object, seen: set[int] | None = None) -> list[TtConv1d]:
    """Every TtConv1d reachable from `module`'s attributes (lists and tuples followed)."""
    seen = set() if seen is None else seen
    if id(module) in seen or isinstance(module, (ttnn.Tensor, torch.Tensor, str, int, float)):
        return []
    seen.add(id(module))
    if isinstance(module, TtConv1d):
        return [module]
    children = module if isinstance(module, (list, tuple)) else getattr(module, "__dict__", {}).values()
    return [conv for child in children for conv in _convs(child, seen)]


def _stored_weights_dtype(conv: TtConv1d) -> ttnn.DataType:
    return conv.weight.dtype if conv.pointwise else conv.conv_config.weights_dtype


@DEVICE
@pytest.mark.parametrize("chosen", ["posterior_encoder", "flow", "generator"])
def test_weight_storage_comes_from_the_precision_plan(device, shared_data: Path, chosen: str) -> None:
    """A plan's `weights` reaches every conv of its module and no other: bfloat8_b for one module
    leaves the other two at bf16 (a module building one conv without the plan's dtype fails here
    by name)."""
    from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
    from models.demos.openvoice.tt.precision import PLAN, Precision
    from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter
    from models.demos.openvoice.utils.config import load_config

    torch.manual_seed(0)
    reference = ToneColorConverter.from_config(load_config(shared_data / "openvoice_v2/config.json")).eval()
    plan = {**PLAN, chosen: Precision("HiFi2", fp32_acc=False, weights="bfloat8_b")}
    tt = TtToneColorConverter(device, reference, plan=plan)
    for name, module in (("posterior_encoder", tt.enc_q), ("flow", tt.flow), ("generator", tt.dec)):
        expected = ttnn.bfloat8_b if name == chosen else ttnn.bfloat16
        convs = _convs(module)
        assert convs, f"no convs found in {name}"
        wrong = [i for i, conv in enumerate(convs) if _stored_weights_dtype(conv) != expected]
        assert not wrong, f"{name}: convs {wrong} of {len(convs)} not stored as {expected}"
        fidelity = {conv.compute.math_fidelity for conv in convs}
        assert fidelity == {getattr(ttnn.MathFidelity, plan[name].fidelity)}, f"{name}: fidelities {fidelity}"


# ---- reference encoder (tt/reference_encoder.py): conv storage, the GRU flatten fold -----------------


def test_convs_store_float32() -> None:
    """The reference-encoder bars (helpers.check_stage) assume float32 conv storage."""
    assert CONV_DTYPE == ttnn.float32


def test_flatten_order_is_folded_into_the_gru_weights() -> None:
    """NHWC rows reshaped to [T', W*C] times the permuted weight == upstream's channel-major flatten."""
    ref = reference_encoder()
    weights = preprocess_reference_encoder(ref)
    # [N, C, T', W'] as after the last conv; float64 so only the column order can differ (float32
    # summation order alone gave 3.6e-5 on unseeded draws)
    x = torch.randn(1, 128, 5, 9, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    upstream = x.transpose(1, 2).reshape(1, 5, -1) @ ref.gru.weight_ih_l0.detach().double().t()
    device_order = x.permute(0, 2, 3, 1).reshape(1, 5, -1) @ weights.gru_input.double()
    torch.testing.assert_close(upstream, device_order, rtol=0, atol=1e-10)


# ====================================================================================================
# MeloTTS
# ====================================================================================================
# Duration-predictor ops (tt/duration_predictor.py, tt/stochastic_duration_predictor.py, tt/transforms.py):
# the depthwise dilated conv (TtConv1d groups), the inverse spline alone against the reference in
# float64 (grid beyond the tail bound, exactly at the knots and 1e-6 beside them) and on extreme bins
# where upstream's float32 discriminant goes negative, the folded flips of the SDP reverse flow.


@DEVICE
@pytest.mark.parametrize("dilation", [1, 3, 9])
@pytest.mark.usefixtures("single_thread_torch")
def test_depthwise_conv1d(device, dilation: int) -> None:
    """DDSConv's dilated depthwise conv: TtConv1d(groups=C) as ttnn.conv1d, float32, B=2 with
    T=17 (dilation 9: the kernel reaches past both ends of an item; per-item zero padding)."""
    torch.manual_seed(0)
    batch, channels, length = 2, 192, 17
    x, weight, bias = torch.randn(batch, channels, length), torch.randn(channels, 1, 3), torch.randn(channels)
    conv = TtConv1d(
        device, weight, bias, padding=dilation, dilation=dilation, groups=channels,
        compute=precise_compute_config(device), dtype=ttnn.float32, weights_dtype=ttnn.float32,
    )
    actual = from_time_major(ttnn.to_torch(conv(upload_tile(device, to_time_major(x)), batch, length)).float(), batch)
    expected = F.conv1d(x, weight, bias, padding=dilation, dilation=dilation, groups=channels)
    err = float((actual - expected).abs().max() / expected.abs().max())
    logger.info(f"depthwise conv1d, dilation {dilation}: max |error| {err:.2e} of the scale")
    # measured 1.7e-5 / 1.7e-5 / 1.7e-5 of the scale (mock, Wormhole numerics: float32 as split-BF16
    # products, commons.split_bf16; TF32 operands measured 2.6e-3); bar ~2x
    assert err <= pcc_for(device, mock=3.5e-5, real=5e-2), f"depthwise conv1d (dilation {dilation}): {err:.2e}"


def spline_inputs(logit_scale: float, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """(inputs [R], widths [R, K], heights [R, K], inner derivative logits [R, K-1]), float32, with
    logits of the given scale: a grid over [-8, 8] (beyond the tail bound 5), exactly +-5 and one
    float32 step inside, exactly at every height knot of the row (as the float32 reference
    computes it) and 1e-6 above / below it, and random inputs."""
    torch.manual_seed(seed)
    k = 10
    grid = torch.linspace(-8, 8, 64)
    inner = float(torch.nextafter(torch.tensor(5.0), torch.tensor(0.0)))  # one float32 step inside
    bounds = torch.tensor([5.0, -5.0, inner, -inner])
    knot_rows = 3 * (k + 1)
    rows = grid.numel() + bounds.numel() + knot_rows + 64
    widths, heights = torch.randn(rows, k) * logit_scale, torch.randn(rows, k) * logit_scale
    derivatives = torch.randn(rows, k - 1) * logit_scale
    first = grid.numel() + bounds.numel()
    cum, _ = _knots(heights[first : first + knot_rows], -5.0, 5.0, 1e-3)
    index = torch.arange(knot_rows)
    at_knots = cum[index, index % (k + 1)] + torch.tensor([0.0, 1e-6, -1e-6])[index // (k + 1)]
    return torch.cat([grid, bounds, at_knots, torch.randn(64) * 3]), widths, heights, derivatives


def tt_spline_inverse(device, *case: torch.Tensor) -> torch.Tensor:
    """TT inverse spline of (inputs, widths, heights, inner derivative logits), float64 result."""
    inputs, widths, heights, derivatives = case
    up = lambda t: upload_tile(device, t.reshape(1, 1, t.shape[0], -1))  # noqa: E731
    padded = F.pad(derivatives, (1, 1), value=tail_derivative_constant())  # what the ConvFlow projection yields
    constants = SplineConstants.create(device, 10, 5.0, compute=precise_compute_config(device))
    out = tt_spline(up(inputs), up(widths), up(heights), up(padded), constants)
    return ttnn.to_torch(out).reshape(-1).double()


def reference_spline_inverse(dtype: torch.dtype, *case: torch.Tensor) -> torch.Tensor:
    """Reference inverse spline (linear tails, bound 5) of the same case computed in `dtype`."""
    args = (t.to(dtype)[:, None] for t in case)
    return piecewise_rational_quadratic_transform(*args, inverse=True, tails="linear", tail_bound=5.0)[0][:, 0].double()


@DEVICE
@pytest.mark.usefixtures("single_thread_torch")
def test_spline_inverse_vs_float64(device) -> None:
    """Logits of scale 2 (steep bins already: the float32 reference is 4e-5 off float64)."""
    case = spline_inputs(2.0)
    inputs = case[0]
    actual = tt_spline_inverse(device, *case)
    reference64, reference32 = (reference_spline_inverse(dt, *case) for dt in (torch.float64, torch.float32))
    outside = inputs.abs() > 5.0
    assert torch.equal(actual[outside], inputs[outside].double()), "identity tails"
    err = float((actual - reference64).abs().max())
    err32 = float((actual - reference32).abs().max())
    logger.info(
        f"inverse spline: max |TT - float64| {err:.2e} (float32 reference: "
        f"{float((reference32 - reference64).abs().max()):.2e}), |TT - float32 reference| {err32:.2e}"
    )
    # measured 4.12e-5, exactly the float32 reference's own error (same knots, same root)
    assert err <= pcc_for(device, mock=1e-4, real=5e-2), f"inverse spline error {err:.2e} vs float64"
    # measured 2.8e-5 (mock, Wormhole numerics: the float32 softmax's sum order differs from torch's by an
    # ulp, which the steepest bin amplifies); bar ~2x
    assert err32 <= pcc_for(device, mock=6e-5, real=5e-2), f"inverse spline vs the float32 reference: {err32:.2e}"
    assert bool((actual[~outside].abs() <= 5.0).all()), "spline output leaves [-5, 5]"


@DEVICE
def test_spline_inverse_end_knots_are_pinned(device) -> None:
    """Every row's first left knot is exactly -B and last right knot exactly +B, as upstream overwrites
    them (the cumsum's own end is B only up to rounding: 9.5e-7 off on these rows, which no output bar
    can see under a card's TF32-level errors)."""
    _, widths, heights, _ = spline_inputs(2.0)
    constants = SplineConstants.create(device, 10, 5.0, compute=precise_compute_config(device))
    logits = upload_tile(device, heights.reshape(1, 1, heights.shape[0], -1))
    low = ttnn.full_like(upload_tile(device, torch.zeros(1, 1, heights.shape[0], 1)), fill_value=-5.0)
    left, right = (ttnn.to_torch(t).reshape(heights.shape[0], -1) for t in tt_knots(logits, constants.min_bin_height, low, constants))
    assert bool((left[:, 0] == -5.0).all()) and bool((right[:, -1] == 5.0).all())
    assert torch.equal(left[:, 1:], right[:, :-1])  # a bin's right knot is the next bin's left knot


@DEVICE
@pytest.mark.usefixtures("single_thread_torch")
def test_spline_inverse_extreme_bins_stay_finite(device) -> None:
    """Logits of scale 20 (bins of the minimum size next to bins of almost the whole range,
    derivatives from 1e-3 to ~20): inputs on the knots make upstream's float32 discriminant
    negative (the reference raises there); the port clamps it and stays finite, in range and
    an inverse: the float64 forward spline of its output gives back the input."""
    torch.manual_seed(1)
    rows, k = 330, 10
    widths, heights, derivatives = (torch.randn(rows, n) * 20.0 for n in (k, k, k - 1))
    cum, _ = _knots(heights, -5.0, 5.0, 1e-3)
    index = torch.arange(rows)
    inputs = cum[index, index % (k + 1)] + torch.tensor([0.0, 1e-6, -1e-6])[(index // (k + 1)) % 3]
    case = (inputs, widths, heights, derivatives)
    with pytest.raises(ValueError, match="negative discriminant"):
        reference_spline_inverse(torch.float32, *case)
    actual = tt_spline_inverse(device, *case)
    assert bool(torch.isfinite(actual).all()), "non-finite inverse spline output"
    inside = inputs.abs() <= 5.0
    # (not asserted: within [-5, 5] -- on these bins float32 rounding puts theta past 1 by up to 6e-3 of a 10-wide bin)
    forward = piecewise_rational_quadratic_transform(
        actual[inside, None].clamp(-5.0, 5.0), *(t[inside].double()[:, None] for t in (widths, heights, derivatives)),
        inverse=False, tails="linear", tail_bound=5.0,
    )[0][:, 0]
    back = float((forward - inputs[inside].double()).abs().max())
    logger.info(f"extreme bins: max |forward(TT inverse(y)) - y| {back:.2e}, max |y'| {float(actual.abs().max()):.4f}")
    # measured 2.0e-2 (mock): float32 knot rounding (~5e-7) through forward slopes of up to ~1e4
    assert back <= pcc_for(device, mock=5e-2, real=0.5), f"inverse spline round trip error {back:.2e}"


@pytest.mark.usefixtures("single_thread_torch")
def test_reverse_flow_plan_folds_the_flips() -> None:
    """Four Flips around three ConvFlows: (read, write) columns alternate, output column 0."""
    plan, _, column = reverse_flow_plan(duration_golden("tts_small_en").model.sdp)
    assert [(read, write) for _, read, write in plan] == [(1, 0), (0, 1), (1, 0)]
    assert column == 0


# ---- text encoder and transformer flow: host-only proofs (float64) of the skew index algebra and the flow folds ----


def _band_to_absolute_host(r: torch.Tensor, t: int, w: int) -> torch.Tensor:
    """torch statement of tt/attentions.band_to_absolute (same pads, re-view and slice)."""
    skewed = F.pad(r, [0, t, 0, 2 * w]).reshape(*r.shape[:-2], t + 2 * w + 1, t + 2 * w)
    return skewed[..., :t, w : w + t]


def _absolute_to_band_host(p: torch.Tensor, t: int, w: int) -> torch.Tensor:
    """torch statement of tt/attentions.absolute_to_band."""
    skewed = F.pad(p, [w, w, 0, 2 * w + 1]).reshape(*p.shape[:-2], t + 2 * w, t + 2 * w + 1)
    return skewed[..., :t, : 2 * w + 1]


@pytest.mark.parametrize("length", [1, 2, 4, 5, 9, 31, 32, 40])
def test_relative_skew_is_exact(length: int) -> None:
    """The band skews on [T, 9] == upstream's relative<->absolute on [T, 2T-1], both sides, float64."""
    torch.manual_seed(length)
    ref = MultiHeadAttention(8, 8, 2, window_size=4).double()
    q, p = torch.randn(2, 2, length, 4, dtype=torch.float64), torch.rand(2, 2, length, length, dtype=torch.float64)
    with torch.inference_mode():
        rel_k = ref._relative_embeddings(ref.emb_rel_k, length)
        expected_k = _relative_to_absolute(q @ rel_k.unsqueeze(0).transpose(-2, -1))
        actual_k = _band_to_absolute_host(q @ ref.emb_rel_k[0].t(), length, 4)
        torch.testing.assert_close(actual_k, expected_k, rtol=0, atol=1e-12)
        rel_v = ref._relative_embeddings(ref.emb_rel_v, length)
        expected_v = _absolute_to_relative(p) @ rel_v.unsqueeze(0)
        actual_v = _absolute_to_band_host(p, length, 4) @ ref.emb_rel_v[0]
        torch.testing.assert_close(actual_v, expected_v, rtol=0, atol=1e-12)


def test_melo_flow_folding_is_exact(shared_data: Path) -> None:
    """Full-vector couplings (flips and split folded into the weights) on the MASKED z_p == the
    reference flow on unmasked z_p (noise in padded frames), reverse and forward, float64, B = 2."""
    model = text_golden(shared_data, "tts_small_b3").model.double()
    couplings = list(model.flow.flows)[::2]
    torch.manual_seed(0)
    frames = 29
    mask = sequence_mask(torch.tensor([29, 13]), frames).unsqueeze(1).double()
    x = torch.randn(2, 2 * couplings[0].half_channels, frames, dtype=torch.float64)
    g = torch.randn(2, model.emb_g.embedding_dim, 1, dtype=torch.float64)

    def folded(x: torch.Tensor, reverse: bool) -> torch.Tensor:
        x = x * mask
        order = list(enumerate(couplings))
        for index, layer in reversed(order) if reverse else order:
            pre_w, pre_b, post_w, post_b = full_channel_weights(layer, flipped=index % 2 == 1)
            h = layer.enc(F.conv1d(x, pre_w, pre_b) * mask, mask, g=g)
            m = F.conv1d(h, post_w, post_b) * mask
            x = x - m if reverse else x + m
        return x

    with torch.inference_mode():
        reverse = model.flow(x, mask, g=g, reverse=True)
        assert float((reverse * (1 - mask)).abs().max()) == 0.0  # upstream's z: zero on padded frames
        torch.testing.assert_close(folded(x, reverse=True), reverse, rtol=0, atol=1e-12)
        forward = model.flow(x * mask, mask, g=g, reverse=False)
        torch.testing.assert_close(folded(x, reverse=False), forward, rtol=0, atol=1e-12)


# ---- encoder speaker rows (tt/attentions.py spk_emb_linear as SpeakerRows.project) -------------------


@DEVICE
def test_speaker_rows_add_bias_per_row_exactly(device, text_release: TextCase) -> None:
    """spk_emb_linear as `SpeakerRows.project`: S @ (g @ W + b) is exactly each item's g @ W + b
    copied to its rows (S one-hot), and that is the reference nn.Linear."""
    enc = text_release.model.enc_p.encoder
    tt = TtEncoder(device, enc, dtype=ttnn.float32, compute=precise_compute_config(device))
    t = 7
    speaker = upload_speaker(device, text_release.g, t)
    rows = ttnn.to_torch(speaker.project(tt.spk_emb_linear)).float().reshape(2 * t, -1)
    per_item = ttnn.to_torch(tt.spk_emb_linear(speaker.g, 1, 2)).float().reshape(2, -1)
    assert torch.equal(rows, per_item.repeat_interleave(t, dim=0))  # the row expansion adds no error
    with torch.inference_mode():
        expected = enc.spk_emb_linear(text_release.g[:, :, 0])
    # measured max |error| 6.0e-6 (mock, Wormhole numerics: the split-BF16 float32 product, ~2**-16 of a
    # term; TF32 operands gave ~1e-3); bar 1.2e-5
    logger.info(f"spk_emb_linear max abs error {float((per_item - expected).abs().max()):.2e}")
    torch.testing.assert_close(per_item, expected, rtol=0, atol=pcc_for(device, mock=1.2e-5, real=1e-2))
