"""Device reference encoder (tt/reference_encoder.py) stage by stage on the REAL trained weights."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import ttnn

from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.tests.helpers import GOLDEN_CLIPS, assert_items_close, bar, golden_case, reference_encoder
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from models.demos.openvoice.tt.reference_encoder import CONV_DTYPE, TtReferenceEncoder, TtSpeakerEncoder, preprocess_reference_encoder
from models.common.mock_device import assert_no_host_round_trip, capture
from tests.ttnn.utils_for_testing import assert_with_pcc

# Bars: helpers.bar(device, stage) per stage ("layernorm", "encoder_conv", "gru", "embedding"):
# PCC and max |error| relative to the stage output's peak. Everything here is float32 storage
# (convs too: CONV_DTYPE; bf16 conv storage measured 0.9986 on counting.wav). Mock: golden float32
# numerics. Device: tf32 operands (float32 tensors as the FPU reads them) at HiFi3 with fp32
# accumulation.
DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)


def test_convs_store_float32() -> None:
    """The bars above assume float32 conv storage."""
    assert CONV_DTYPE == ttnn.float32


def _nhwc_rows(x: torch.Tensor) -> torch.Tensor:
    """Reference NCHW activation -> ttnn's flattened NHWC [1, 1, H*W, C]."""
    return x.permute(0, 2, 3, 1).reshape(1, 1, -1, x.shape[1])


def check_stage(device, stage: str, expected: torch.Tensor, actual: torch.Tensor, name: str = "") -> float:
    """[1, 1, rows, C] outputs: whole-tensor PCC and max |error| relative to the peak (first / last
    rows too) at `stage`'s bar; returns the PCC."""
    limits = bar(device, stage)
    pcc = assert_with_pcc(expected, actual, limits.pcc)
    assert_items_close(name or stage, expected[0].transpose(1, 2), actual[0].transpose(1, 2), pcc=limits.pcc, max_rel=limits.max_rel)
    return pcc


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


@DEVICE
@pytest.mark.parametrize("clip", GOLDEN_CLIPS)
def test_every_stage_matches_reference(device, clip: str) -> None:
    ref = reference_encoder()
    case = golden_case()
    spec = case["outputs"]["spec"][clip].transpose(1, 2).unsqueeze(1)  # [1, 1, T, 513]
    frames = spec.shape[2]
    encoder = TtReferenceEncoder(device, ref)

    tt_spec = ttnn.from_torch(spec, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    normed = encoder.normalize(tt_spec)
    convs, steps, _ = encoder.conv_stack(normed, frames, keep_all=True)
    hidden = encoder.gru(encoder.gru_inputs(convs[-1], steps), steps)
    embedding = encoder.project(hidden)

    with torch.no_grad():
        x = ref.layernorm(spec)
        # measured (mock, three clips): layernorm exact, convs / gru / embedding PCC > 0.9999995 and
        # max_rel <= 8.5e-7; bars 0.99999 / 1e-5 (helpers.MOCK_BARS)
        pccs = {"layernorm": check_stage(device, "layernorm", x, ttnn.to_torch(normed).float())}
        for i, (conv, tt_out) in enumerate(zip(ref.convs, convs)):
            x = F.relu(conv(x))
            pccs[f"conv{i}"] = check_stage(device, "encoder_conv", _nhwc_rows(x), ttnn.to_torch(tt_out).float(), f"conv{i}")
        assert steps == x.shape[2] == -(-frames // 64)
        _, h = ref.gru(x.transpose(1, 2).reshape(1, steps, -1))
        pccs["gru"] = check_stage(device, "gru", h.reshape(1, 1, 1, -1), ttnn.to_torch(hidden).float())
    expected = case["outputs"]["se"][clip].reshape(1, 1, 1, -1)  # upstream's embedding
    pccs["embedding"] = check_stage(device, "embedding", expected, ttnn.to_torch(embedding).float())
    print(clip, {k: round(v, 6) for k, v in pccs.items()})


@DEVICE
def test_thirty_second_reference_on_device_without_host_round_trip(device) -> None:
    """The longest segment the pipeline gives (30 s: 2583 frames, 41 GRU steps) runs fully on device."""
    ref = reference_encoder()
    jfk = golden_case()["inputs"]["wav_22k"]["jfk"]
    waveform = jfk.repeat(6)[: 30 * 22050]
    encoder = TtSpeakerEncoder(device, ref)
    uploaded = encoder.upload(waveform)
    encoder(uploaded)  # first call per input shape prepares (uploads) the conv weights
    report = capture(encoder, uploaded)
    assert_no_host_round_trip(report)
    assert report.operations.count("ttnn.tanh") == 41
    with torch.no_grad():
        expected = ref(spectrogram(waveform[None]).transpose(1, 2))
    check_stage(device, "embedding", expected.reshape(1, 1, 1, -1), ttnn.to_torch(report.result).float())  # measured 5.7e-7; bar 1e-5

