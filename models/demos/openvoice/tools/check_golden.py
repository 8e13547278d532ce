# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Check the reference port against golden vectors from the upstream implementations.

    python -m models.demos.openvoice.tools.check_golden DIR [DIR ...]

Each DIR holds `config.json`, the weights (`checkpoint.pth` or `ref_enc.pt`) and `case.pt`
(`{"kind", "inputs", "outputs"}`, format in ../shared/data/README.md). The runner
registered for `kind` rebuilds the reference model from the folder, feeds it the recorded
inputs (injecting the recorded noise draws) and pairs every output with its expected value.
One line per output goes to stdout: `<folder>/<name> max_abs=<err> tol=<tol> PASS|FAIL`;
dict outputs are named `<key>.<item>` (e.g. `se.jfk`). Every output in `case.pt` must be
checked: an output the runner does not produce is a FAIL. The exit status is 0 only when
every output of every folder is within tolerance (1e-4 absolute, float32 on the CPU; no
output currently needs a looser one).

    python -m models.demos.openvoice.tools.check_golden --backend ttnn DIR ...

runs the same cases through the TTNN port instead (`TTNN_RUNNERS`: `TtToneColorConverter`,
`TtSpeakerEncoder`, `TtMeloTTS`) on the device `ttnn.open_device` opens (a Tenstorrent card; the
mock Wormhole in this repository's environment on a host without one). TTNN computes in bf16/fp32 with its
own rounding, so the 1e-4 rule does not apply: each output line carries its PCC, max-abs error and
max error relative to the output's scale, `<folder>/<name>  pcc=<p>  max_abs=<err>  max_rel=<r>
max_rel_bar=<b>  bar=<bar>  PASS|FAIL`, and passes when both reach the output's bar, the one the
end-to-end tests hold the same output to (`GOLDEN_BARS` -> `utils/accuracy.py`; a card's bars on a
card). PCC alone passes an output off by a constant factor. Integer-valued outputs (alignment, masks, lengths: `EXACT_OUTPUTS`)
must match exactly: `... exact PASS|FAIL`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from loguru import logger

from models.demos.openvoice.utils.checkpoint import CheckpointError
from models.demos.openvoice.utils.config import ConfigError, load_config
from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter

DEFAULT_TOLERANCE = 1e-4
# Per-output exceptions to DEFAULT_TOLERANCE, keyed "<kind>/<name>"; each needs a reason.
TOLERANCES: dict[str, float] = {}
# Outputs whose tolerance scales with their magnitude, keyed "<kind>/<name>": tolerance =
# max(DEFAULT_TOLERANCE, factor * max|expected|). MeloTTS z_p = m_p + eps * exp(logs_p) * noise_scale
# multiplies logs_p's float32 rounding (2.6e-5 on values <= 3.7, well within 1e-4) by exp(logs_p)
# (up to 41) and the draw: tts_small_b3 z_p/z reach 53 with max error 3.7e-4, i.e. 6.9e-6 of
# their scale (tts_small_en: 3.4e-5 on ~20). z is the flow of z_p and inherits it.
RELATIVE_TOLERANCES: dict[str, float] = {"tts_infer/z_p": 1e-5, "tts_infer/z": 1e-5}

Comparison = tuple[str, torch.Tensor, torch.Tensor]  # (name, expected, actual)
Runner = Callable[[Path], list[Comparison]]


class GoldenError(RuntimeError):
    """A golden folder that cannot be checked (missing files, unknown kind, no runner)."""


@dataclass(frozen=True)
class GoldenResult:
    folder: str
    name: str
    max_abs_error: float  # inf when the output is missing or mis-shaped
    tolerance: float
    detail: str = ""
    pcc: float | None = None  # TTNN backend: PCC against the golden
    pcc_bar: float | None = None  # TTNN backend: the bar the PCC must reach (None: exact or absolute rule)
    exact: bool = False  # TTNN backend, integer-valued output: must match exactly
    max_rel: float | None = None  # TTNN backend: max |error| / max |expected| (the output's scale)
    max_rel_bar: float | None = None  # TTNN backend: the bar max_rel must stay under

    @property
    def passed(self) -> bool:
        if self.exact:
            return self.max_abs_error == 0.0
        if self.pcc_bar is not None:
            within = self.max_rel_bar is None or (self.max_rel is not None and self.max_rel <= self.max_rel_bar)
            return self.pcc is not None and self.pcc >= self.pcc_bar and self.max_abs_error < float("inf") and within
        return self.max_abs_error <= self.tolerance  # False for NaN

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        extra = f"  ({self.detail})" if self.detail else ""
        if self.exact:
            return f"{self.folder}/{self.name}  max_abs={self.max_abs_error:.3e}  exact  {status}{extra}"
        if self.pcc_bar is not None:
            pcc = "nan" if self.pcc is None else f"{self.pcc:.6f}"
            error = f"{self.max_abs_error:.3e}"
            relative = "" if self.max_rel is None else f"  max_rel={self.max_rel:.2e}  max_rel_bar={self.max_rel_bar:.1e}"
            return f"{self.folder}/{self.name}  pcc={pcc}  max_abs={error}{relative}  bar={self.pcc_bar}  {status}{extra}"
        return f"{self.folder}/{self.name}  max_abs={self.max_abs_error:.3e}  tol={self.tolerance:.1e}  {status}{extra}"


def load_case(folder: Path) -> dict[str, Any]:
    path = folder / "case.pt"
    if not path.is_file():
        raise GoldenError(f"{folder}: no case.pt")
    # The cases hold plain Python scalars and dicts next to tensors.
    case = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(case, dict) or not {"kind", "inputs", "outputs"} <= set(case):
        raise GoldenError(f"{path}: expected a dict with 'kind', 'inputs' and 'outputs'")
    return case


def flatten_outputs(outputs: dict[str, Any]) -> dict[str, torch.Tensor]:
    """{"spec": {"jfk": t}} -> {"spec.jfk": t}; tensors keep their key."""
    flat: dict[str, torch.Tensor] = {}
    for key, value in outputs.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{item}": tensor for item, tensor in value.items()})
        else:
            flat[key] = value
    return flat


def run_voice_conversion_case(folder: Path) -> list[Comparison]:
    """Upstream `SynthesizerTrn.voice_conversion` plus `ref_enc` on a converter checkpoint."""
    case = load_case(folder)
    inputs, expected = case["inputs"], case["outputs"]
    model = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    with torch.inference_mode():
        out = model.voice_conversion(
            inputs["spec"],
            inputs["spec_lengths"],
            inputs["g_src"],
            inputs["g_tgt"],
            tau=float(inputs["tau"]),
            noise=inputs["eps_q"],
        )
        actual = {name: getattr(out, name) for name in ("audio", "y_mask", "z", "m_q", "logs_q", "z_p", "z_hat")}
        actual["ref_se"] = model.extract_se(inputs["ref_spec"])
    return [(name, expected[name], actual[name]) for name in actual if name in expected]


def run_speaker_embedding_case(folder: Path) -> list[Comparison]:
    """Spectrogram and reference-encoder embedding of each 22.05 kHz clip."""
    case = load_case(folder)
    cfg = load_config(folder / "config.json")
    data = cfg.data
    ref_enc = load_reference_encoder(folder / "ref_enc.pt", data.spec_channels, cfg.model.gin_channels)
    comparisons: list[Comparison] = []
    with torch.inference_mode():
        for clip, wav in case["inputs"]["wav_22k"].items():
            spec = spectrogram(wav.float().unsqueeze(0), data.filter_length, data.hop_length, data.win_length)
            se = ref_enc(spec.transpose(1, 2)).unsqueeze(-1)
            comparisons.append((f"spec.{clip}", case["outputs"]["spec"][clip], spec))
            comparisons.append((f"se.{clip}", case["outputs"]["se"][clip], se))
    return comparisons


# ---- TTNN backend -------------------------------------------------------------------------------
TtnnRunner = Callable[[Path, Any], list[Comparison]]  # (folder, device) -> comparisons
# Integer-valued outputs (0/1 masks, alignment, frame counts): the TTNN port must match them exactly.
EXACT_OUTPUTS = frozenset({"attn", "y_mask", "x_mask", "y_lengths"})
# kind -> output -> the bar (utils/accuracy.py `bar`) it is held to, the one the end-to-end tests use
# for the same output: PCC and max |error| relative to the output's scale.
GOLDEN_BARS: dict[str, dict[str, str]] = {
    "voice_conversion": {
        "z": "posterior_z", "m_q": "posterior_m", "logs_q": "posterior_logs", "z_p": "z_p", "z_hat": "z_hat",
        "audio": "audio", "ref_se": "embedding",
    },
    "speaker_embedding": {"spec": "spectrogram", "se": "embedding"},
    "tts_infer": {
        "enc_x": "melo_token", "m_p": "melo_token", "logs_p": "melo_token", "logw_sdp": "melo_token", "logw_dp": "melo_token",
        "m_p_expanded": "melo_expanded", "logs_p_expanded": "melo_expanded", "z_p": "melo_z_p", "z": "melo_z",
        "audio": "melo_audio",
    },
}  # fmt: skip


def _time_major_to_torch(tensor: Any, batch_size: int) -> torch.Tensor:
    import ttnn

    from models.demos.openvoice.tt.commons import from_time_major

    return from_time_major(ttnn.to_torch(tensor).float(), batch_size)


def run_voice_conversion_case_ttnn(folder: Path, device: Any, plan: dict | None = None) -> list[Comparison]:
    """`TtToneColorConverter` (upload, device forward with the recorded draw, download) and the
    device reference encoder on `ref_spec`."""
    import ttnn

    from models.demos.openvoice.tt.commons import to_time_major
    from models.demos.openvoice.tt.precision import compute_config
    from models.demos.openvoice.tt.reference_encoder import TtReferenceEncoder
    from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter

    case = load_case(folder)
    inputs, expected = case["inputs"], case["outputs"]
    model = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    tt = TtToneColorConverter(device, model, plan)
    uploaded = tt.prepare_inputs(
        inputs["spec"], inputs["spec_lengths"], inputs["g_src"], inputs["g_tgt"], float(inputs["tau"]), inputs["eps_q"]
    )
    out = tt.forward_all(uploaded)
    b = uploaded.batch_size
    actual = {name: _time_major_to_torch(getattr(out, name), b) for name in ("audio", "z", "m_q", "logs_q", "z_p", "z_hat")}
    actual["y_mask"] = _time_major_to_torch(uploaded.mask, b)
    ref_spec = ttnn.from_torch(
        to_time_major(inputs["ref_spec"].float()), dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device
    )
    encoder = TtReferenceEncoder(device, model.ref_enc, compute=compute_config(device, "reference_encoder", plan))
    actual["ref_se"] = ttnn.to_torch(encoder(ref_spec)).float().reshape(1, -1, 1)
    return [(name, expected[name], actual[name]) for name in actual if name in expected]


def run_speaker_embedding_case_ttnn(folder: Path, device: Any, plan: dict | None = None) -> list[Comparison]:
    """`TtSpeakerEncoder`: device spectrogram and embedding of each uploaded 22.05 kHz clip."""
    import ttnn

    from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder

    case = load_case(folder)
    cfg = load_config(folder / "config.json")
    data = cfg.data
    ref_enc = load_reference_encoder(folder / "ref_enc.pt", data.spec_channels, cfg.model.gin_channels)
    encoder = TtSpeakerEncoder(device, ref_enc, data.filter_length, data.hop_length, data.win_length, plan)
    comparisons: list[Comparison] = []
    for clip, wav in case["inputs"]["wav_22k"].items():
        spec = encoder.spectrogram(encoder.upload(wav.float()))  # [1, 1, T, bins]
        se = encoder.encoder(spec)
        comparisons.append((f"spec.{clip}", case["outputs"]["spec"][clip], _time_major_to_torch(spec, 1)))
        comparisons.append((f"se.{clip}", case["outputs"]["se"][clip], ttnn.to_torch(se).float().reshape(1, -1, 1)))
    return comparisons


# kind -> runner, or "module:function" imported on first use, so a runner that is missing or
# broken only fails the folders of its own kind.
RUNNERS: dict[str, Runner | str] = {
    "voice_conversion": run_voice_conversion_case,
    "speaker_embedding": run_speaker_embedding_case,
    "tts_infer": "models.demos.openvoice.tools.golden_tts:run_tts_infer_case",
}
TTNN_RUNNERS: dict[str, TtnnRunner | str] = {
    "voice_conversion": run_voice_conversion_case_ttnn,
    "speaker_embedding": run_speaker_embedding_case_ttnn,
    "tts_infer": "models.demos.openvoice.tools.golden_tts:run_tts_infer_case_ttnn",
}
BACKENDS = ("reference", "ttnn")


def resolve_runner(kind: str, runners: dict[str, Any] = RUNNERS) -> Callable[..., list[Comparison]]:
    if kind not in runners:
        raise GoldenError(f"no golden runner registered for kind '{kind}'")
    entry = runners[kind]
    if callable(entry):
        return entry
    module_name, function_name = entry.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise GoldenError(f"golden runner for kind '{kind}' is not available: no module {module_name}") from error
        raise  # a dependency of the runner is missing: a real error, not "no runner"
    runner = getattr(module, function_name, None)
    if runner is None:
        raise GoldenError(f"golden runner for kind '{kind}' is not available: {module_name} has no {function_name}")
    return runner


def _compare(folder: str, kind: str, name: str, expected: torch.Tensor, actual: torch.Tensor) -> GoldenResult:
    tolerance = TOLERANCES.get(f"{kind}/{name}", DEFAULT_TOLERANCE)
    expected = torch.as_tensor(expected).detach().float().cpu()
    if f"{kind}/{name}" in RELATIVE_TOLERANCES and expected.numel():
        tolerance = max(tolerance, RELATIVE_TOLERANCES[f"{kind}/{name}"] * float(expected.abs().max()))
    actual = torch.as_tensor(actual).detach().float().cpu()
    if expected.shape != actual.shape:
        detail = f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
        return GoldenResult(folder, name, float("inf"), tolerance, detail)
    error = float((expected - actual).abs().max()) if expected.numel() else 0.0
    return GoldenResult(folder, name, error, tolerance)


def compare_ttnn(folder: str, kind: str, name: str, expected: torch.Tensor, actual: torch.Tensor) -> GoldenResult:
    """PCC and max |error| relative to the output's scale at the output's bar (`GOLDEN_BARS`, on this
    device kind); exact for integer outputs."""
    from models.common.utility_functions import comp_pcc
    from models.demos.openvoice.utils.accuracy import bar

    leaf = name.split(".")[0]
    exact = leaf in EXACT_OUTPUTS
    expected = torch.as_tensor(expected).detach().float().cpu()
    actual = torch.as_tensor(actual).detach().float().cpu()
    if exact:
        limits = None
    elif leaf in GOLDEN_BARS.get(kind, {}):
        limits = bar(None, GOLDEN_BARS[kind][leaf])
    else:
        raise GoldenError(f"{folder}: output {name} of kind '{kind}' has no bar in GOLDEN_BARS")
    if expected.shape != actual.shape:
        detail = f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}"
        pcc_bar = None if exact else limits.pcc
        return GoldenResult(folder, name, float("inf"), 0.0, detail, pcc_bar=pcc_bar, exact=exact)
    error = float((expected - actual).abs().max()) if expected.numel() else 0.0
    if exact:
        return GoldenResult(folder, name, error, 0.0, exact=True)
    scale = float(expected.abs().max()) or 1.0
    pcc = comp_pcc(expected, actual, limits.pcc)[1]
    return GoldenResult(folder, name, error, 0.0, pcc=pcc, pcc_bar=limits.pcc, max_rel=error / scale, max_rel_bar=limits.max_rel)


def check_folder(folder: str | Path, backend: str = "reference", device: Any = None, plan: dict | None = None) -> list[GoldenResult]:
    """Run the reference (or, with backend="ttnn", the TTNN port on `device`) on one golden
    folder; one result per output recorded in case.pt. `plan` (ttnn backend): per-module precision overrides
    (tt/precision.py), for tools/precision_plan.py."""
    folder = Path(folder)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "ttnn" and device is None:
        raise ValueError("the ttnn backend needs an open device (utils/device.py open_device)")
    if not folder.is_dir():
        raise GoldenError(f"{folder}: no such golden folder")
    case = load_case(folder)
    if not flatten_outputs(case["outputs"]):
        raise GoldenError(f"{folder}: case.pt records no outputs, so nothing would be checked")
    kind = str(case["kind"])
    logger.info(f"{folder.name}: kind '{kind}', backend {backend}")
    if backend == "ttnn":
        comparisons = resolve_runner(kind, TTNN_RUNNERS)(folder, device, plan)
        results = [compare_ttnn(folder.name, kind, name, expected, actual) for name, expected, actual in comparisons]
    else:
        comparisons = resolve_runner(kind)(folder)
        results = [_compare(folder.name, kind, name, expected, actual) for name, expected, actual in comparisons]
    checked = {r.name for r in results}
    for name in flatten_outputs(case["outputs"]):
        if name not in checked:
            missing = GoldenResult(folder.name, name, float("inf"), DEFAULT_TOLERANCE, "not produced by the runner")
            results.append(missing)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="golden folders (config.json, weights, case.pt)")
    parser.add_argument(
        "--backend", choices=BACKENDS, default="reference", help="reference (float32, 1e-4 rule) or ttnn (PCC bars)"
    )
    args = parser.parse_args(argv)
    device = None
    if args.backend == "ttnn":
        from models.demos.openvoice.utils.device import open_device

        device = open_device()
    try:
        return _check_all(args.folders, args.backend, device)
    finally:
        if device is not None:
            from models.demos.openvoice.utils.device import close_device

            close_device(device)


def _check_all(folders: list[Path], backend: str, device: Any) -> int:
    all_passed = True
    for folder in folders:
        try:
            results = check_folder(folder, backend, device)
        except (GoldenError, ConfigError, CheckpointError) as error:  # a bad folder: say so, no traceback
            logger.error(str(error))
            print(f"{folder.name}  ERROR  {error}")
            all_passed = False
            continue
        except Exception as error:  # a crashing runner fails its folder; the others still run
            logger.exception(f"{folder.name}: runner failed")
            print(f"{folder.name}  ERROR  {type(error).__name__}: {error}")
            all_passed = False
            continue
        for result in results:
            print(result.line())
        failed = [r for r in results if not r.passed]
        all_passed &= not failed
        logger.info(f"{folder.name}: {len(results) - len(failed)}/{len(results)} outputs within tolerance")
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
