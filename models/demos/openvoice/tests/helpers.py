"""Shared helpers of the OpenVoice tests: the project's PCC bars (defined once, with their
reasons), graph-report helpers, and the real data of $OPENVOICE_SHARED_DATA (see its
README): the trained reference-encoder weights, the spec_se_real golden case, the clips.

The data folder comes from `tests.shared_data.require_shared_data()` (the conftest
`shared_data` fixture is the same folder for tests that take fixtures)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from models.demos.openvoice.common.audio import load_audio
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder, load_reference_encoder
from models.common.mock_device import GraphReport
from tests.shared_data import require_shared_data
from tests.ttnn.utils_for_testing import pcc_for

# ---- PCC bars (the only place they are defined) ---------------------------------------------
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


def _bar(device_or_mock: Any, mock: float, real: float) -> float:
    if isinstance(device_or_mock, bool):  # the `device_is_mock` fixture (a subprocess owns the device)
        return mock if device_or_mock else real
    return pcc_for(device_or_mock, mock=mock, real=real)


def module_pcc(device_or_mock: Any) -> float:
    """Bar for one module's output or a speaker embedding; takes the device or `device_is_mock`."""
    return _bar(device_or_mock, MOCK_PCC, DEVICE_PCC)


def audio_pcc(device_or_mock: Any) -> float:
    """Bar for converted audio (the whole converter chain); takes the device or `device_is_mock`."""
    return _bar(device_or_mock, MOCK_PCC, DEVICE_AUDIO_PCC)


# ---- graph reports ----------------------------------------------------------------------------
_DOWNLOAD_NAMES = ("to_torch", "from_device", "cpu", "copy_device_to_host_tensor", "read_tensor", "read_buffer")


def _is_download(name: str) -> bool:
    leaf = name.replace("::", ".").split(".")[-1]
    return leaf in _DOWNLOAD_NAMES or leaf.startswith("enqueue_read_")


def device_to_host_transfers(report: GraphReport) -> list[str]:
    """Every traced function, at any nesting depth, that reads device data back to the host
    (to_torch, Tensor::cpu, from_device, read_buffer, enqueue_read_*)."""
    return [name for name in report.calltrace if _is_download(name)]


def dram_slices(report: GraphReport) -> int:
    """Number of DRAM width slices the captured convs ran in (one PaddedSlice per slice; 0 = unsliced)."""
    return sum(1 for name in report.calltrace if name == "PaddedSliceDeviceOperation")


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
    return figures


def pcc_value(expected: Any, actual: Any) -> float:
    """PCC as tt-metal's comp_pcc computes it (NaN/zero conventions included)."""
    from tests.ttnn.utils_for_testing import comp_pcc

    return comp_pcc(expected, actual, 0.0)[1]
