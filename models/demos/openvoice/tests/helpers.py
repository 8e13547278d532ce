# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Shared helpers of the OpenVoice tests: the project's per-module accuracy bars (defined once,
with their measured values), per-item checks, and the real data of $OPENVOICE_SHARED_DATA (see its
README): the trained reference-encoder weights, the spec_se_real golden case, the clips.

The data folder comes from `models.demos.openvoice.tests.shared_data.require_shared_data()` (the conftest
`shared_data` fixture is the same folder for tests that take fixtures).

The end of the file holds what the PCC suites (test_per_op_pcc.py, test_per_module_pcc.py,
test_openvoice.py) share, per model family: the `DEVICE` parametrisation, host <-> device
layout helpers, and each family's reference cases (converter, clone, MeloTTS text encoder /
flow, duration predictors, `infer`). Fixtures defined here (`converter_release`,
`text_release`, `single_thread_torch`) are imported by the suites that use them."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import ttnn
from loguru import logger

from models.demos.openvoice.utils.graph_report import device_to_host_transfers, dram_slices  # noqa: F401 (re-exported)
from models.demos.openvoice.utils.accuracy import (  # noqa: F401 (the bars, re-exported to the suites)
    DEVICE_AUDIO_BAR,
    DEVICE_AUDIO_PCC,
    DEVICE_MODULE_BAR,
    DEVICE_PCC,
    MOCK_BARS,
    MOCK_PCC,
    Bar,
    audio_pcc,
    bar,
    module_pcc,
    pcc_for,
    pcc_value,
)
from models.demos.openvoice.utils.audio import load_audio
from models.demos.openvoice.utils.config import load_config, parse_config
from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.length_regulator import regulate_lengths
from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder, load_reference_encoder
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter, VoiceConversionOutput
from models.demos.openvoice.tt.commons import from_time_major, to_time_major, upload
from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter
from models.demos.openvoice.tt.wavenet import SpeakerRows
from models.demos.openvoice.tests.shared_data import require_shared_data
from models.demos.openvoice.utils.device import L1_SMALL_SIZE, device_available, is_mock_device
from tests.ttnn.utils_for_testing import assert_with_pcc

# ---- device kinds (tt-metal has no mock: inside tt-metal these never skip on a card) ----
# A test of kernel numerics or timing: a card only.
requires_device = pytest.mark.skipif(
    is_mock_device() or not device_available(), reason="needs a Tenstorrent device for kernel numerics/timing"
)
# A test whose subprocess opens the device itself (CLI, scripts): a card or the mock.
needs_device = pytest.mark.skipif(not device_available(), reason="no Tenstorrent device")

SAMPLING_RATE = 22050
REF_ENC = "openvoice_v2/ref_enc/ref_enc.pt"
CONFIG = "openvoice_v2/config.json"
GOLDEN = "golden/spec_se_real/case.pt"
GOLDEN_CLIPS = ("jfk", "one_two_three", "quick_brown_fox")
# Speaker of each clip in audio/ (README: three clips share one synthetic voice).
SPEAKERS = {
    "jfk": "jfk",
    "one_two_three": "one_two_three",
    "quick_brown_fox": "synthetic",
    "counting": "synthetic",
    "hello_world": "synthetic",
}


@lru_cache(maxsize=1)
def reference_encoder() -> ReferenceEncoder:
    """The real trained reference encoder (weight norm folded), eval mode."""
    return load_reference_encoder(require_shared_data() / REF_ENC)


@lru_cache(maxsize=1)
def golden_case() -> dict:
    import torch

    return torch.load(require_shared_data() / GOLDEN, weights_only=False)


def clip_path(name: str) -> Path:
    return next((require_shared_data() / "audio").glob(f"{name}.*"))


@lru_cache(maxsize=1)
def clip_halves() -> list[tuple[str, str, np.ndarray]]:
    """(clip name, speaker, half waveform at 22.05 kHz) for both halves of every clip in audio/."""
    halves = []
    for path in sorted((require_shared_data() / "audio").iterdir()):
        audio = load_audio(path, SAMPLING_RATE)
        middle = audio.size // 2
        for half in (audio[:middle], audio[middle:]):
            halves.append((path.stem, SPEAKERS[path.stem], np.ascontiguousarray(half)))
    return halves


# ---- per-item checks ---------------------------------------------------------------------------
# Re-measuring the bars (tools/bar_figures.py): with OPENVOICE_FIGURES set, every check's figures are
# recorded; with OPENVOICE_MEASURE_BARS=1 as well, `assert_items_close` and the module/stage checks
# record without asserting, so one run measures every output. Never set in CI (tests/ci_skip_guard.py).
MEASURING = bool(os.environ.get("OPENVOICE_MEASURE_BARS")) and bool(os.environ.get("OPENVOICE_FIGURES"))


def assert_items_close(
    name: str,
    expected: Any,
    actual: Any,
    lengths: Any = None,
    *,
    pcc: float,
    max_rel: float,
    padded: str = "match",
) -> list[dict[str, float]]:
    """Check a batched output item by item, not only as a whole tensor.

    `expected` / `actual`: [B, ..., T] (time last); `lengths`: valid frames per item (None: all).
    Per item b with length L:
    * PCC of the valid region [..., :L] >= `pcc`;
    * max |error| over the valid region <= `max_rel` * max |expected| of that item (the
      signal's own scale, so a local fault in a short or quiet item is not averaged away);
    * the first and last valid frames separately <= `max_rel` * scale (edge faults: padding,
      off-by-one shifts, reflect padding);
    * the padded region [..., L:]: "zero" -> actual must be exactly 0 (a masked output);
      "match" -> within `max_rel` * scale of expected (an unmasked output, e.g. the decoder's
      leak, which the reference has too); "ignore" -> not checked.
    Returns the measured figures per item (for the log next to the bar).
    """
    import torch

    expected = torch.as_tensor(expected).detach().double()
    actual = torch.as_tensor(actual).detach().double()
    assert expected.shape == actual.shape, f"{name}: shape {tuple(actual.shape)} != expected {tuple(expected.shape)}"
    batch, frames = expected.shape[0], expected.shape[-1]
    lengths = [frames] * batch if lengths is None else [int(v) for v in lengths]
    assert len(lengths) == batch, f"{name}: {len(lengths)} lengths for {batch} items"
    figures = []
    for b, length in enumerate(lengths):
        e, a = expected[b], actual[b]
        ev, av = e[..., :length], a[..., :length]
        scale = float(ev.abs().max()) or 1.0
        item_pcc = pcc_value(ev, av)
        err = float((ev - av).abs().max()) / scale
        first = float((ev[..., 0] - av[..., 0]).abs().max()) / scale
        last = float((ev[..., -1] - av[..., -1]).abs().max()) / scale
        where = f"{name}[item {b}, {length}/{frames} frames]"
        if MEASURING:
            figures.append({"pcc": item_pcc, "max_rel": err, "first": first, "last": last, "padded": _padded_error(e, a, length, scale, padded)})
            continue
        assert item_pcc >= pcc, f"{where}: PCC {item_pcc:.6f} < {pcc}"
        assert err <= max_rel, f"{where}: max |error| {err:.2e} of the item's scale {scale:.3g} > {max_rel:.1e}"
        assert first <= max_rel, f"{where}: first frame error {first:.2e} of scale > {max_rel:.1e}"
        assert last <= max_rel, f"{where}: last valid frame error {last:.2e} of scale > {max_rel:.1e}"
        pad_err = 0.0
        if length < frames and padded != "ignore":
            ep, ap = e[..., length:], a[..., length:]
            if padded == "zero":
                pad_err = float(ap.abs().max())
                assert pad_err == 0.0, f"{where}: padded frames are not zero (max |value| {pad_err:.3g})"
            elif padded == "match":
                pad_err = float((ep - ap).abs().max()) / scale
                assert pad_err <= max_rel, f"{where}: padded frames differ by {pad_err:.2e} of scale > {max_rel:.1e}"
            else:
                raise ValueError(f"padded must be 'zero', 'match' or 'ignore', got {padded!r}")
        figures.append({"pcc": item_pcc, "max_rel": err, "first": first, "last": last, "padded": pad_err})
    logger.info(f"{name}: " + "; ".join(_format_figures(f) for f in figures))
    _record_figures(name, figures, pcc=pcc, max_rel=max_rel)
    return figures


def _padded_error(e: Any, a: Any, length: int, scale: float, padded: str) -> float:
    if length >= e.shape[-1] or padded == "ignore":
        return 0.0
    ep, ap = e[..., length:], a[..., length:]
    return float(ap.abs().max()) if padded == "zero" else float((ep - ap).abs().max()) / scale


def _record_figures(name: str, figures: list[dict[str, float]], **bar: float) -> None:
    """Append the measured figures to $OPENVOICE_FIGURES (JSON lines), for re-measuring the bars
    (`python -m models.demos.openvoice.tools.bar_figures`); nothing when unset."""
    path = os.environ.get("OPENVOICE_FIGURES")
    if not path:
        return
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    with open(path, "a") as out:
        out.write(json.dumps({"name": name, "test": test, "bar": bar, "items": figures}) + "\n")


def _format_figures(figures: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.7f}" if k == "pcc" else f"{k} {v:.2e}" for k, v in figures.items())


def assert_edge_frames_close(name: str, expected: Any, actual: Any, *, frames: int, max_rel: float) -> list[float]:
    """The first and last `frames` frames of `expected` / `actual` ([..., T], time last), each
    against ITS OWN scale (max |expected| of that frame).

    Edge frames of real speech are often near silence, so an item-scale bar cannot see a fault
    confined to them (reflect padding, an off-by-one window offset); a frame-scale bar can.
    Returns the relative errors, first frames then last frames.
    """
    import torch

    expected = torch.as_tensor(expected).detach().double()
    actual = torch.as_tensor(actual).detach().double()
    assert expected.shape == actual.shape, f"{name}: shape {tuple(actual.shape)} != expected {tuple(expected.shape)}"
    total = expected.shape[-1]
    indices = sorted({*range(min(frames, total)), *range(max(total - frames, 0), total)})
    errors = []
    for t in indices:
        e, a = expected[..., t], actual[..., t]
        scale = float(e.abs().max()) or 1.0
        errors.append(float((e - a).abs().max()) / scale)
        assert errors[-1] <= max_rel, f"{name}: frame {t}/{total} error {errors[-1]:.2e} of the frame's scale {scale:.3g} > {max_rel:.1e}"
    logger.info(f"{name}: edge frames {indices}: max error {max(errors):.2e} of the frame's scale")
    return errors


# Frames t with hop * t < pad read the left reflection (t = 0, 1 for the release config: pad 384,
# hop 256); the right reflection reaches the last two frames. Three checks both and one frame more.
SPECTROGRAM_EDGE_FRAMES = 3


def assert_spectrogram_close(device: Any, name: str, expected: Any, actual: Any) -> None:
    """Time-major spectrograms [1, 1, T, bins] (TtSpectrogram's layout): whole-tensor PCC and max
    |error| relative to the peak at bar(device, "spectrogram"), and the SPECTROGRAM_EDGE_FRAMES first
    and last frames, each relative to its own peak, at bar(device, "spectrogram_edge")."""
    import torch

    whole, edge = bar(device, "spectrogram"), bar(device, "spectrogram_edge")
    expected, actual = torch.as_tensor(expected).float(), torch.as_tensor(actual).float()
    assert_with_pcc(expected, actual, pcc=whole.pcc)
    expected, actual = expected[0].transpose(1, 2), actual[0].transpose(1, 2)  # [1, bins, T]: time last
    assert_items_close(name, expected, actual, pcc=whole.pcc, max_rel=whole.max_rel)
    assert_edge_frames_close(name, expected, actual, frames=SPECTROGRAM_EDGE_FRAMES, max_rel=edge.max_rel)


# ---- shared by the PCC suites: device parametrisation, layouts ---------------------------------------


# Every device test of the suites: the `device` fixture opened with the L1_SMALL size the port needs.
DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)


def upload_time_major(device, x: torch.Tensor, dtype: ttnn.DataType = ttnn.bfloat16) -> ttnn.Tensor:
    """[B, C, T] -> the port's time-major [1, 1, B*T, C] tile tensor on the device (bf16 by default:
    the converter's activations)."""
    return upload(device, to_time_major(x), dtype)


def upload_tile(device, x: torch.Tensor, dtype: ttnn.DataType = ttnn.float32) -> ttnn.Tensor:
    """`x` as it is (no re-layout) as a tile tensor on the device, float32 by default."""
    return upload(device, x, dtype)


def download(t: ttnn.Tensor, batch: int) -> torch.Tensor:
    """A time-major device tensor -> float32 [B, C, T] on the host."""
    return from_time_major(ttnn.to_torch(t).float(), batch)


# ---- converter: reference cases (release config, goldens) and the per-module check -------------------


CONVERTER_TAU = 0.3


CONVERTER_LATENTS = ("z", "m_q", "logs_q", "z_p", "z_hat")


class ConverterCase:
    """A reference model, its inputs and its outputs."""

    def __init__(self, model: ToneColorConverter, inputs: dict, outputs: VoiceConversionOutput | dict) -> None:
        self.model, self.inputs = model, inputs
        get = outputs.get if isinstance(outputs, dict) else lambda name: getattr(outputs, name)
        self.outputs = {name: get(name) for name in (*CONVERTER_LATENTS, "audio")}

    def upload(self, tt: TtToneColorConverter) -> TtConverterInputs:
        i = self.inputs
        return tt.prepare_inputs(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])


@pytest.fixture(scope="module")
def converter_release(shared_data: Path) -> ConverterCase:
    """Release config, seeded random weights, 3 s of real speech (257 frames: not a multiple of 32)."""
    torch.manual_seed(0)
    model = ToneColorConverter.from_config(load_config(shared_data / "openvoice_v2/config.json")).eval()
    wav = torch.from_numpy(load_audio(shared_data / "audio/counting.wav", 22050))
    spec = spectrogram(wav[None])
    frames = spec.shape[-1]
    ses = shared_data / "openvoice_v2/base_speakers/ses"
    inputs = {
        "spec": spec,
        "spec_lengths": torch.tensor([frames]),
        "g_src": torch.load(ses / "en-us.pth", map_location="cpu"),
        "g_tgt": torch.load(ses / "zh.pth", map_location="cpu"),
        "tau": CONVERTER_TAU,
        "eps_q": torch.randn(1, model.enc_q.out_channels, frames),
    }
    with torch.inference_mode():
        outputs = model.voice_conversion(
            spec, inputs["spec_lengths"], inputs["g_src"], inputs["g_tgt"], tau=CONVERTER_TAU, noise=inputs["eps_q"]
        )
    return ConverterCase(model, inputs, outputs)


def converter_golden(shared_data: Path, name: str) -> ConverterCase:
    folder = shared_data / "golden" / name
    model = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    case = torch.load(folder / "case.pt", weights_only=False)
    return ConverterCase(model, case["inputs"], case["outputs"])


# Reference output -> the helpers.MOCK_BARS module whose bar it is checked at.
CONVERTER_MODULE_OF = {
    "z": "posterior_z",
    "m_q": "posterior_m",
    "logs_q": "posterior_logs",
    "z_p": "z_p",  # chained: carries the posterior encoder's error
    "z_hat": "z_hat",
    "audio": "audio",
}


def check_module(device, module: str, expected: torch.Tensor, actual: torch.Tensor, lengths=None, padded: str = "zero") -> float:
    """Whole-tensor PCC and the per-item checks of `assert_items_close` at `module`'s bar; returns the PCC."""
    limits = bar(device, module)
    pcc = pcc_value(expected, actual) if MEASURING else assert_with_pcc(expected, actual, limits.pcc)[1]
    assert_items_close(module, expected, actual, lengths, pcc=limits.pcc, max_rel=limits.max_rel, padded=padded)
    return pcc


# ---- clone: reference-encoder stage check ------------------------------------------------------------


# Bars: helpers.bar(device, stage) per stage ("layernorm", "encoder_conv", "gru", "embedding"):
# PCC and max |error| relative to the stage output's peak. Everything here is float32 storage
# (convs too: CONV_DTYPE; bf16 conv storage measured 0.9986 on counting.wav). Mock: golden float32
# numerics. Device: tf32 operands (float32 tensors as the FPU reads them) at HiFi3 with fp32
# accumulation.


def check_stage(device, stage: str, expected: torch.Tensor, actual: torch.Tensor, name: str = "") -> float:
    """[1, 1, rows, C] outputs: whole-tensor PCC and max |error| relative to the peak (first / last
    rows too) at `stage`'s bar; returns the PCC."""
    limits = bar(device, stage)
    pcc = pcc_value(expected, actual) if MEASURING else assert_with_pcc(expected, actual, limits.pcc)[1]
    assert_items_close(name or stage, expected[0].transpose(1, 2), actual[0].transpose(1, 2), pcc=limits.pcc, max_rel=limits.max_rel)
    return pcc


# ---- MeloTTS text encoder and transformer flow: bars and cases ---------------------------------------


REAL_PCC, REAL_MAX_REL = 0.99, 0.1  # card: bf16/tf32-operand kernels (module bar of helpers.py)


TEXT_RELEASE = dict(hidden_channels=192, filter_channels=768, n_heads=2, n_layers=6, inter_channels=192, gin_channels=256)


def bars(device, pcc: float, max_rel: float) -> dict[str, float]:
    """assert_items_close bars: the measured mock figures, or the card's."""
    return {
        "pcc": pcc_for(device, mock=pcc, real=REAL_PCC),
        "max_rel": pcc_for(device, mock=max_rel, real=REAL_MAX_REL),
    }


# float32 attention / encoder / text encoder (split-BF16 products on the emulated Wormhole), worst 1 - PCC
# and max error of the item's scale: attention 3.4e-11 / 9.4e-6, encoder 1.5e-11 / 7.6e-6, text encoder vs
# the reference (release) 2.3e-10 / 6.6e-5, vs upstream's goldens 9.3e-11 / 2.2e-5 (en) and 3.2e-9 /
# 1.18e-4 (b3: the float32 reference itself is 1.06e-5 off it); bar ~2x the worst. A batch item vs the
# item alone: worst 1.9e-11 / 1.4e-5 (b3 logs_p), bar FP32_ALONE.
FP32 = dict(pcc=0.999999993, max_rel=2.4e-4)
FP32_ALONE = dict(pcc=0.99999999996, max_rel=2.8e-5)


@dataclass
class TextCase:
    model: MeloTTS
    inputs: dict
    outputs: dict  # enc_x, m_p, logs_p, z_p, z, y_mask, x_mask (reference or upstream)

    @property
    def g(self) -> torch.Tensor:
        return self.model.emb_g(self.inputs["sid"]).unsqueeze(-1).detach()


def text_golden(shared_data: Path, name: str) -> TextCase:
    folder = shared_data / "golden" / name
    model = MeloTTS.load(folder / "config.json", folder / "checkpoint.pth")
    case = torch.load(folder / "case.pt", weights_only=False)
    return TextCase(model, case["inputs"], case["outputs"])


@pytest.fixture(scope="module")
def text_release(shared_data: Path) -> TextCase:
    """Seeded random weights in the release shape; B = 2 with 23 / 9 tokens and 40 / 23 frames."""
    raw = json.loads((shared_data / "golden/tts_small_b3/config.json").read_text())
    raw["model"].update(TEXT_RELEASE)
    torch.manual_seed(0)
    model = MeloTTS.from_config(parse_config(raw)).eval()
    lengths, frames = torch.tensor([23, 9]), torch.tensor([40, 23])
    b, t, t_y = 2, int(lengths.max()), int(frames.max())
    x_mask = sequence_mask(lengths, t).long()
    bert = torch.randn(b, 1024, t)
    bert[1] = 0  # item 1: zero BERT features (as in tts_small_en), item 0: random
    inputs = {
        "x": torch.randint(0, 219, (b, t)) * x_mask,
        "x_lengths": lengths,
        "tone": torch.randint(0, 16, (b, t)) * x_mask,
        "language": torch.tensor([[2], [5]]).expand(b, t) * x_mask,
        "bert": bert,
        "ja_bert": torch.randn(b, 768, t),
        "sid": torch.tensor([1, 3]),
    }
    y_mask = sequence_mask(frames, t_y).unsqueeze(1).float()
    z_p = torch.randn(b, 192, t_y)  # not masked, as upstream's z_p (padded frames carry noise)
    case = TextCase(model, inputs, {})
    with torch.inference_mode():
        enc_x, m_p, logs_p, x_mask_f = model.enc_p(
            inputs["x"], lengths, inputs["tone"], inputs["language"], bert, inputs["ja_bert"], g=case.g
        )
        z = model.flow(z_p, y_mask, g=case.g, reverse=True)
    case.outputs = dict(enc_x=enc_x, m_p=m_p, logs_p=logs_p, x_mask=x_mask_f, z_p=z_p, z=z, y_mask=y_mask)
    return case


# ---- MeloTTS duration predictors: cases and the one upload -------------------------------------------


# The duration-predictor tests take it (`@pytest.mark.usefixtures("single_thread_torch")`).
@pytest.fixture
def single_thread_torch():
    """Shadow goldens and the reference run torch on tiny tensors; on the shared 2-core machine a
    2-thread depthwise conv1d spends ~90 ms per call in OpenMP synchronisation (1 ms alone)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@dataclass
class DurationCase:
    """One predictor input set and the reference's outputs, all [B, C, T]."""

    model: MeloTTS
    enc_x: torch.Tensor
    x_mask: torch.Tensor
    g: torch.Tensor  # [B, gin]
    eps_sdp: torch.Tensor  # [B, 2, T] standard normal, before noise_scale_w
    noise_scale_w: float
    sdp_ratio: float
    length_scale: float
    logw_sdp: torch.Tensor
    logw_dp: torch.Tensor

    @property
    def lengths(self) -> list[int]:
        return [int(v) for v in self.x_mask.sum(dim=(1, 2))]

    def item(self, b: int) -> "DurationCase":
        """Batch item b alone, cut to its own length (no padding)."""
        n = self.lengths[b]
        cut = lambda t: t[b : b + 1, :, :n]  # noqa: E731
        return DurationCase(
            self.model, cut(self.enc_x), cut(self.x_mask), self.g[b : b + 1], cut(self.eps_sdp),
            self.noise_scale_w, self.sdp_ratio, self.length_scale, cut(self.logw_sdp), cut(self.logw_dp),
        )

    def durations(self, logw_sdp: torch.Tensor, logw_dp: torch.Tensor) -> torch.Tensor:
        """Integer frames per token, as MeloTTS.infer derives them (w_ceil)."""
        logw = logw_sdp * self.sdp_ratio + logw_dp * (1 - self.sdp_ratio)
        return regulate_lengths(logw, self.x_mask, self.length_scale).w_ceil


@lru_cache(maxsize=None)
def duration_golden(name: str) -> DurationCase:
    folder = require_shared_data() / "golden" / name
    model = MeloTTS.load(folder / "config.json", folder / "checkpoint.pth")
    case = torch.load(folder / "case.pt", weights_only=False)
    i, o = case["inputs"], case["outputs"]
    with torch.inference_mode():
        g = model.emb_g(i["sid"])
    return DurationCase(
        model, o["enc_x"], o["x_mask"], g, i["eps_sdp"], float(i["noise_scale_w"]), float(i["sdp_ratio"]),
        float(i["length_scale"]), o["logw_sdp"], o["logw_dp"],
    )


# Release MeloTTS widths (hidden/inter 192, filter 768, 6 encoder layers, gin 256, decoder 512);
# the predictors' own widths follow: DP filter 256 (fixed upstream), SDP filter = hidden.
RELEASE_MODEL = dict(
    inter_channels=192,
    hidden_channels=192,
    filter_channels=768,
    n_layers=6,
    upsample_initial_channel=512,
    gin_channels=256,
)


@lru_cache(maxsize=1)
def duration_release() -> DurationCase:
    """Seeded random weights in the release shapes, B=2 with lengths 17 / 9, speakers 2 / 0."""
    raw = json.loads((require_shared_data() / "golden/tts_small_en/config.json").read_text())
    raw["model"].update(RELEASE_MODEL)
    torch.manual_seed(0)
    model = MeloTTS.from_config(parse_config(raw)).eval()
    lengths, frames = torch.tensor([17, 9]), 17
    x_mask = (torch.arange(frames)[None, :] < lengths[:, None]).float()[:, None, :]
    enc_x = torch.randn(2, 192, frames) * x_mask
    eps = torch.randn(2, 2, frames)
    noise_scale_w, sdp_ratio, length_scale = 0.8, 0.2, 1.0  # MeloTTS.infer defaults
    with torch.inference_mode():
        g = model.emb_g(torch.tensor([2, 0]))
        logw_sdp = model.sdp(enc_x, x_mask, g=g[:, :, None], noise_scale=noise_scale_w, noise=eps)
        logw_dp = model.dp(enc_x, x_mask, g=g[:, :, None])
    return DurationCase(model, enc_x, x_mask, g, eps, noise_scale_w, sdp_ratio, length_scale, logw_sdp, logw_dp)


@dataclass
class DurationInputs:
    x: ttnn.Tensor
    mask: ttnn.Tensor
    batch_size: int
    length: int
    speaker: SpeakerRows
    noise: ttnn.Tensor


def upload_durations(device, case: DurationCase) -> DurationInputs:
    """The one upload: time-major x / mask, segment matrix S, embeddings, noise * noise_scale_w."""
    b, _, t = case.enc_x.shape
    segments = torch.eye(b).repeat_interleave(t, dim=0).reshape(1, 1, b * t, b)
    speaker = SpeakerRows(upload_tile(device, segments), upload_tile(device, case.g.reshape(1, 1, b, -1)))
    noise = upload_tile(device, to_time_major(case.eps_sdp * case.noise_scale_w))
    return DurationInputs(
        upload_tile(device, to_time_major(case.enc_x)), upload_tile(device, to_time_major(case.x_mask)), b, t, speaker, noise
    )


# ---- MeloTTS infer: the goldens ----------------------------------------------------------------------


def item_alone(inputs: dict, b: int, n_y: int) -> dict:
    """Batch item b of a recorded case as its own B=1 case (its own tokens, its n_y frames of eps_p)."""
    n_x = int(inputs["x_lengths"][b])
    alone = {k: v[b : b + 1, ..., :n_x] if k in ("x", "tone", "language", "bert", "ja_bert", "eps_sdp") else v for k, v in inputs.items()}
    alone.update(x_lengths=inputs["x_lengths"][b : b + 1], sid=inputs["sid"][b : b + 1], eps_p=inputs["eps_p"][b : b + 1, :, :n_y])
    return alone


@lru_cache(maxsize=2)
def melo_golden(name: str) -> tuple[MeloTTS, dict, dict]:
    folder = require_shared_data() / "golden" / name
    case = torch.load(folder / "case.pt", weights_only=False)
    return MeloTTS.load(folder / "config.json", folder / "checkpoint.pth"), case["inputs"], case["outputs"]
