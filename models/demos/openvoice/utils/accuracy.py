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

# Mock: the shadow goldens with Wormhole arithmetic emulated (mock_wormhole/numerics.py: TF32/BF16 operands,
# fidelity phases, fp32 or BF16 Dst), so the mock's error is the error a card's matrix engine makes
# (modelled). MOCK_PCC is the generic bar where no per-module bar applies.
MOCK_PCC = 0.999
# Card: the emulation's figures (MOCK_BARS) with a margin for what it does not model (the accurate
# SFPU functions' own error, float32 summation order, the HiFi4 + fp32-accumulation hardware bug,
# packer rounding ties): per module 0.99, the converter audio 0.97 (tt-metal's usual bars; the
# emulation measures every module >= 0.9997 and the audio >= 0.9985).
DEVICE_PCC = 0.99
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
# release config at 257 frames, the goldens vc_small_b2 / vc_small_tau0, the B=3 real-clip batch;
# MeloTTS: tts_small_en, tts_small_b3, the release shapes), under the emulated Wormhole arithmetic,
# at about 2x the error (1 - PCC and max_rel), the measurement beside each
# (`tools/bar_figures.py` re-measures them all in one run). The emulation is deterministic, so the
# margin covers other lengths and inputs, not noise, and a fault that adds an error as large as the
# port's own fails.
MOCK_BARS: dict[str, Bar] = {
    # converter (bf16 storage, HiFi3 + fp32 accumulation); posterior outputs from the spectrogram
    "posterior_z": Bar(pcc=0.99978, max_rel=0.048),  # measured 1 - PCC 1.1e-4 / max_rel 2.37e-2
    "posterior_m": Bar(pcc=0.99983, max_rel=0.039),  # measured 8.4e-5 / 1.95e-2
    "posterior_logs": Bar(pcc=0.99986, max_rel=0.029),  # measured 6.5e-5 / 1.43e-2
    # each fed the reference's own input (release config): the module's own error only
    "flow_forward": Bar(pcc=0.999984, max_rel=0.012),  # measured 7.5e-6 / 5.89e-3
    "flow_reverse": Bar(pcc=0.999982, max_rel=0.0088),  # measured 8.8e-6 / 4.40e-3
    "generator": Bar(pcc=0.9985, max_rel=0.025),  # measured 7.2e-4 / 1.24e-2 (release; conv_post cancels)
    # end to end: the chained latents after the flows, and the audio
    "z_p": Bar(pcc=0.99977, max_rel=0.049),  # measured 1.1e-4 / 2.43e-2
    "z_hat": Bar(pcc=0.99975, max_rel=0.048),  # measured 1.2e-4 / 2.38e-2
    "audio": Bar(pcc=0.9985, max_rel=0.064),  # measured 7.2e-4 / 3.15e-2
    # a batch item vs the same item run alone (B=1), both on the device: only layout / tile padding
    # differs, so far tighter than either vs the reference
    "batch_vs_alone": Bar(pcc=0.9999976, max_rel=0.0032),  # measured 1.2e-6 / 1.61e-3 (audio; fused leaky ReLU, was 4.1e-7)
    # a served batch of up to 8 requests (the batcher's; device STFT inside) vs each request alone (B=1): ttnn
    # blocks a conv by the batch's rows, so fp32 partial sums are spilled at other points than at B=1
    "served_batch_vs_alone": Bar(pcc=0.99991, max_rel=0.024),  # measured 4.5e-5 / 1.19e-2 (B=8, vc_small_b2)
    # one conv, transposed conv or speaker projection (bf16), every converter conv shape class
    "conv": Bar(pcc=0.999991, max_rel=0.0098),  # measured 4.6e-6 / 4.88e-3
    # clone path: float32 tensors, read by the matrix engine as TF32 (10 mantissa bits, truncated)
    "spectrogram": Bar(pcc=0.9999994, max_rel=0.0026),  # measured 2.8e-7 / 1.27e-3
    # first / last 3 frames, each against its own peak (reflect padding; edges are often silence)
    "spectrogram_edge": Bar(pcc=0.9999994, max_rel=0.0026),  # measured 1.27e-3 (1000 samples)
    "layernorm": Bar(pcc=0.9999992, max_rel=0.0082),  # measured 3.8e-7 / 4.07e-3
    "encoder_conv": Bar(pcc=0.99981, max_rel=0.044),  # measured 9.5e-5 / 2.16e-2 (conv4)
    "gru": Bar(pcc=0.99989, max_rel=0.027),  # measured 5.1e-5 / 1.32e-2
    "embedding": Bar(pcc=0.9997, max_rel=0.023),  # measured 1.5e-4 / 1.10e-2
    # on-device mean of several clips vs the mean of each clip's embedding alone (same ops, same
    # shapes): float32 rounding of the sum only
    "mean_vs_alone": Bar(pcc=0.999999, max_rel=1e-6),  # measured 7.2e-8
    # ---- MeloTTS: token-level outputs float32 end to end, kept float32 on the matrix engine (split-BF16
    # products, tt/commons.py); frame-level latents through the bf16 flow, audio through the decoder.
    "melo_token": Bar(pcc=0.99999996, max_rel=4e-4),  # measured 1 - PCC 1.9e-8 / max_rel 1.95e-4 (logw_dp, b3)
    # m_p / logs_p expanded: exact copies of the float32 stats (0/1 path, three BF16 parts)
    "melo_expanded": Bar(pcc=0.9999999934, max_rel=2.1e-4),  # measured 3.3e-9 / 1.04e-4 (logs_p copies)
    # z_p (float32 draw, exp(logs_p) on device)
    "melo_z_p": Bar(pcc=0.999999992, max_rel=2.6e-4),  # measured 3.9e-9 / 1.30e-4
    # z after the bf16 transformer flow
    "melo_z": Bar(pcc=0.999908, max_rel=0.016),  # measured 4.6e-5 / 7.84e-3
    "melo_audio": Bar(pcc=0.99974, max_rel=0.031),  # measured 1.3e-4 / 1.51e-2
    # the flow fed the reference's z_p
    "melo_flow_handoff": Bar(pcc=0.999942, max_rel=0.0071),  # measured 2.9e-5 / 3.53e-3 (b3)
    # the decoder fed the reference's z * y_mask
    "melo_decoder_handoff": Bar(pcc=0.9999938, max_rel=0.022),  # measured 3.1e-6 / 1.05e-2 (b3)
    # a batch item vs the same item alone, both on device: z, audio (masked and not), speak's sentences
    "melo_batch_vs_alone": Bar(pcc=0.999967, max_rel=0.024),  # measured 1.6e-5 (z) / 1.18e-2 (masked audio)
}
# Card bars: not measured on a card (none here). They are the emulation's worst figures (MOCK_BARS: every
# module max_rel <= 0.024, audio <= 0.032) with a margin of ~4x (module 0.1) and ~10x (audio 0.3) for what
# the emulation does not model (see DEVICE_PCC), and tt-metal's usual PCC bars.
DEVICE_MODULE_BAR = Bar(pcc=DEVICE_PCC, max_rel=0.1)
DEVICE_AUDIO_BAR = Bar(pcc=DEVICE_AUDIO_PCC, max_rel=0.3)
_AUDIO_MODULES = ("audio", "generator", "batch_vs_alone", "served_batch_vs_alone", "melo_audio", "melo_decoder_handoff")


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
