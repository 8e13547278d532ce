# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Accuracy bars of the TTNN port against the float32 reference, in one place: the generic ones and the
per-module ones measured on the mock, used by the tests (through `tests/helpers.py`), the demo targets
and the golden checker (`tools/check_golden.py --backend ttnn`). A bar depends on the device kind of
the process: the mock's emulated numerics or a card's kernels (`utils/device.py is_mock_device`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.common.utility_functions import comp_pcc
from models.demos.openvoice.utils.device import is_mock_device

# Mock: golden-function numerics in float32 with only storage rounding modelled (bf16 /
# float32 tensors), so any layout, weight-preparation or composition bug shows far below 0.999;
# every module measures >= 0.9999 and the converter audio >= 0.9994.
MOCK_PCC = 0.999
# Card, per module / per embedding: bf16 (converter) or tf32-operand (spectrogram, reference
# encoder) kernels with fp32 accumulation; tt-metal's usual bar for such blocks.
DEVICE_PCC = 0.99
# Card, converter audio end to end: the error of ~500 ops compounds through the unmasked
# decoder, whose conv_post largely cancels its inputs.
DEVICE_AUDIO_PCC = 0.97


@dataclass(frozen=True)
class Bar:
    """Accuracy bar of one module output, checked whole and per batch item (`assert_items_close`).

    pcc: PCC of the whole tensor and of every item's valid region.
    max_rel: max |error| over an item's valid region (and its first / last valid frame, and an
      unmasked padded region), relative to that item's max |expected|. PCC alone averages a local
      fault away: the WaveNet's residual mask removed moved PCC 0.99991 -> 0.99971 only, while the
      padded item's latents changed by up to 0.35 absolute.
    """

    pcc: float
    max_rel: float


# Mock bars per module output: the worst case measured over every case the tests run (converter:
# release config at 257 frames, the goldens vc_small_b2 / vc_small_tau0, the same with zero_g off,
# the B=3 real-clip batch), with a margin of about 2x on the error (1 - PCC, max_rel): mock
# numerics are deterministic, so the margin covers other lengths and inputs, not noise, and a
# fault that adds an error as large as the port's own fails.
MOCK_BARS: dict[str, Bar] = {
    # converter (bf16 storage, fp32 accumulation); posterior outputs from the spectrogram
    "posterior_z": Bar(pcc=0.9998, max_rel=0.035),  # measured 0.999907 / 1.60e-2 (vc_small_b2)
    "posterior_m": Bar(pcc=0.9998, max_rel=0.03),  # measured 0.999911 (b2, zero_g off) / 1.36e-2 (tau0)
    "posterior_logs": Bar(pcc=0.99985, max_rel=0.03),  # measured 0.999936 (b2) / 1.25e-2 (real batch)
    # each fed the reference's own input (release config): the module's own error only
    "flow_forward": Bar(pcc=0.99998, max_rel=0.012),  # measured 0.999993 / 5.89e-3
    "flow_reverse": Bar(pcc=0.99997, max_rel=0.01),  # measured 0.999991 / 4.85e-3
    "generator": Bar(pcc=0.9988, max_rel=0.025),  # measured 0.999435 / 1.12e-2 (release; conv_post cancels)
    # end to end: the chained latents after the flows, and the audio
    "z_p": Bar(pcc=0.9998, max_rel=0.035),  # measured 0.999906 / 1.73e-2 (b2)
    "z_hat": Bar(pcc=0.99975, max_rel=0.035),  # measured 0.999884 / 1.82e-2 (b2)
    "audio": Bar(pcc=0.9988, max_rel=0.04),  # measured 0.999426 (release) / 1.90e-2 (b2, zero_g off)
    # a batch item vs the same item run alone (B=1), both on the device: only layout / tile padding
    # differs, so far tighter than either vs the reference
    "batch_vs_alone": Bar(pcc=0.99999, max_rel=0.003),  # measured 0.999999 / 1.24e-3 (audio)
    # one conv, transposed conv or speaker projection (bf16), every converter conv shape class
    "conv": Bar(pcc=0.99999, max_rel=0.008),  # measured 0.999995 / 3.79e-3 (conv_post k7)
    # clone path: float32 storage, so the mock's error is float32 rounding (~1e-6 of the scale); the
    # bars sit ~10x above it and far below any real fault (a wrong tap, reflect offset or gate)
    "spectrogram": Bar(pcc=0.99999, max_rel=1e-5),  # measured PCC > 0.9999995 / 3.96e-7
    # first / last 3 frames, each against its own peak (reflect padding; edges are often silence)
    "spectrogram_edge": Bar(pcc=0.99999, max_rel=1e-5),  # measured 9.52e-7 (1000 samples)
    "layernorm": Bar(pcc=0.99999, max_rel=1e-5),  # measured exact (0.0)
    "encoder_conv": Bar(pcc=0.99999, max_rel=1e-5),  # measured > 0.9999995 / 8.47e-7 (conv4, jfk)
    "gru": Bar(pcc=0.99999, max_rel=1e-5),  # measured > 0.9999995 / 5.38e-7
    "embedding": Bar(pcc=0.99999, max_rel=1e-5),  # measured > 0.9999995 / 1.18e-6 (one_two_three)
    # on-device mean of several clips vs the mean of each clip's embedding alone (same ops, same
    # shapes): float32 rounding of the sum only
    "mean_vs_alone": Bar(pcc=0.999999, max_rel=1e-6),  # measured 7.2e-8
    # ---- MeloTTS (test_per_module_pcc.py, test_openvoice.py): measured worst case over the goldens and the release
    # shape, margin ~2x on 1 - PCC and max_rel. Token-level outputs are float32 end to end (text encoder,
    # predictors), frame-level latents go through the bf16 flow, audio through the bf16/fp32 decoder.
    # float32 text encoder / predictors: measured worst 0.9999999999 / 2.0e-5 (logw_dp, tts_small_b3)
    "melo_token": Bar(pcc=0.999999, max_rel=5e-5),
    # m_p / logs_p expanded: exact copies of the float32 stats (0/1 path); measured 9.4e-6 (b3)
    "melo_expanded": Bar(pcc=0.999999, max_rel=5e-5),
    # z_p (float32 draw, exp(logs_p) on device): measured 1.0000000 / 5.8e-6 (b3)
    "melo_z_p": Bar(pcc=0.999999, max_rel=1e-4),
    # z after the bf16 transformer flow: measured 0.999951 / 5.9e-3 (tts_small_en), 0.999976 / 2.7e-3
    # (b3), 0.999990 / 2.7e-3 (release)
    "melo_z": Bar(pcc=0.9999, max_rel=0.012),
    # audio: measured 0.99988 / 8.6e-3 (tts_small_en), 0.999996 / 1.2e-2 (b3), 0.999998 / 3.8e-3 (release),
    # 0.999983 / 4.9e-3 (tiny model, max_len cut)
    "melo_audio": Bar(pcc=0.9997, max_rel=0.025),
    # the flow fed the reference's z_p: measured 0.999976 / 2.7e-3 (b3)
    "melo_flow_handoff": Bar(pcc=0.9999, max_rel=0.006),
    # the decoder fed the reference's z * y_mask: measured 0.999997 / 9.0e-3 (b3)
    "melo_decoder_handoff": Bar(pcc=0.99999, max_rel=0.02),
    # a batch item vs the same item alone, both on device (b3 item 1): z_p 1.0000000 / 2.3e-6, z 0.999981 /
    # 2.9e-3, audio 0.999998 / 7.9e-3: as far apart as either is from the reference, since the bf16
    # flow rounds differently with other rows around (tile padding, attention over T_y)
    "melo_batch_vs_alone": Bar(pcc=0.99995, max_rel=0.016),
}
# Card bars: not measured on a card yet (no card here). PCC as tt-metal's usual bars; max_rel
# loose enough for bf16 through 16 WaveNet layers (module) and the unmasked decoder (audio).
DEVICE_MODULE_BAR = Bar(pcc=DEVICE_PCC, max_rel=0.1)
DEVICE_AUDIO_BAR = Bar(pcc=DEVICE_AUDIO_PCC, max_rel=0.3)
_AUDIO_MODULES = ("audio", "generator", "batch_vs_alone", "melo_audio", "melo_decoder_handoff")


def pcc_for(device: Any, mock: float, real: float) -> float:
    """The threshold on this process's device: `mock` on the mock Wormhole (emulated numerics), `real` on a card.
    (The device argument documents what the bar is for; the device kind is per process.)"""
    return mock if is_mock_device() else real


def bar(device_or_mock: Any, module: str) -> Bar:
    """The bar of `module` (a `MOCK_BARS` key) on this device; takes the device (or None in a test whose subprocess owns it)."""
    mock = MOCK_BARS[module]
    real = DEVICE_AUDIO_BAR if module in _AUDIO_MODULES else DEVICE_MODULE_BAR
    return Bar(pcc=pcc_for(device_or_mock, mock.pcc, real.pcc), max_rel=pcc_for(device_or_mock, mock.max_rel, real.max_rel))


def module_pcc(device_or_mock: Any) -> float:
    """Generic bar for one module's output or a speaker embedding; takes the device (or None in a test whose subprocess owns it).
    Prefer the per-module `bar(device, module)`."""
    return pcc_for(device_or_mock, MOCK_PCC, DEVICE_PCC)


def audio_pcc(device_or_mock: Any) -> float:
    """Generic bar for converted audio (the whole converter chain); takes the device (or None in a test whose subprocess owns it)."""
    return pcc_for(device_or_mock, MOCK_PCC, DEVICE_AUDIO_PCC)


def pcc_value(expected: Any, actual: Any) -> float:
    """PCC as tt-metal's comp_pcc computes it (NaN/zero conventions included)."""
    return comp_pcc(expected, actual, 0.0)[1]
