# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Measure the precision options of every module and print the precision plan table.

    python -m models.demos.openvoice.tools.precision_plan --data ../shared/data [--modules generator flow]

For each module of `tt/precision.py PLAN` and each option (math fidelity x fp32 accumulation), the
golden folder that exercises the module runs through the TTNN port with only that module changed
(`check_golden.check_folder(..., plan=)`), and the module's own outputs are compared with upstream's
goldens: worst PCC, worst max error relative to the output's scale (for the flow and the generator
also each stage alone on upstream's recorded input, `OWN_STAGES`), and whether they hold the bars
the end-to-end tests use (`check_golden.GOLDEN_BARS`) with every integer output (alignment,
lengths) still exact. The plan's choice is the cheapest option that holds them. On the mock the
numbers are the emulated Wormhole arithmetic (mock_wormhole/numerics.py), on a card the kernels'.
Prints one markdown table (TRADEOFFS.md "Precision plan" is its output).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger

from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tools.check_golden import GoldenResult, check_folder, compare_ttnn, load_case
from models.demos.openvoice.tt.precision import BF16_WEIGHT_MODULES, PLAN, Precision

# Cheapest first: LoFi is 1 pass of the matrix engine, HiFi2 2, HiFi3 3, HiFi4 4; fp32 accumulation
# halves the tiles Dst holds. bfloat8_b weights (half the weight bytes) are tried where the module
# stores bf16-class weights (precision.BF16_WEIGHT_MODULES); the float32 modules keep float32 weights.
OPTIONS = (
    Precision("LoFi", fp32_acc=False),
    Precision("HiFi2", fp32_acc=False),
    Precision("HiFi2", fp32_acc=True),
    Precision("HiFi3", fp32_acc=True),
    Precision("HiFi4", fp32_acc=True),
)
BFP8_OPTIONS = tuple(
    Precision(fidelity, fp32_acc=acc, weights="bfloat8_b")
    for fidelity, acc in (("LoFi", False), ("HiFi2", False), ("HiFi2", True), ("HiFi3", True))
)


def options_of(module: str) -> tuple[Precision, ...]:
    return OPTIONS + (BFP8_OPTIONS if module in BF16_WEIGHT_MODULES else ())


# module -> (golden folder, the outputs that carry its error)
MODULE_OUTPUTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "spectrogram": ("spec_se_real", ("spec",)),
    "reference_encoder": ("spec_se_real", ("se",)),
    "posterior_encoder": ("vc_small_b2", ("z", "m_q", "logs_q")),
    "flow": ("vc_small_b2", ("z_p", "z_hat")),
    "generator": ("vc_small_b2", ("audio",)),
    "text_encoder": ("tts_small_b3", ("enc_x", "m_p", "logs_p")),
    "duration_predictor": ("tts_small_b3", ("logw_dp",)),
    "stochastic_duration_predictor": ("tts_small_b3", ("logw_sdp",)),
    "transformer_flow": ("tts_small_b3", ("z",)),
    "melo_decoder": ("tts_small_b3", ("audio",)),
}
# Converter modules measured alone as well: each stage fed upstream's own input from the golden (so the
# flow's and the generator's rows are their own error, not the posterior encoder's carried through).
# module -> (stage method of TtToneColorConverter, golden input, golden output)
OWN_STAGES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "flow": (("flow_forward", "z", "z_p"), ("flow_reverse", "z_p", "z_hat")),
    "generator": (("decode", "z_hat", "audio"),),
}


@dataclass(frozen=True)
class OptionResult:
    module: str
    option: Precision
    pcc: float
    max_rel: float
    holds: bool  # the module's outputs within their bars, every integer output exact
    detail: str = ""
    alone_max_rel: float | None = None  # OWN_STAGES modules: worst max error / scale of the stages alone


def own_stages(device: Any, folder: Path, module: str, plan: dict[str, Precision]) -> list[GoldenResult]:
    """`module`'s converter stages, each on upstream's recorded input, as `<output>.own` results."""
    import ttnn

    from models.demos.openvoice.tt.commons import from_time_major, to_time_major, upload
    from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter

    case = load_case(folder)
    inputs, expected = case["inputs"], case["outputs"]
    tt = TtToneColorConverter(device, ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth"), plan)
    uploaded = tt.prepare_inputs(
        inputs["spec"], inputs["spec_lengths"], inputs["g_src"], inputs["g_tgt"], float(inputs["tau"]), inputs["eps_q"]
    )
    results = []
    for stage, given, produced in OWN_STAGES[module]:
        output = getattr(tt, stage)(uploaded, upload(device, to_time_major(expected[given].float())))
        actual = from_time_major(ttnn.to_torch(output).float(), uploaded.batch_size)
        results.append(compare_ttnn(folder.name, "voice_conversion", f"{produced}.own", expected[produced], actual))
    return results


def measure(device: Any, data: Path, module: str, option: Precision) -> OptionResult:
    folder, outputs = MODULE_OUTPUTS[module]
    plan = {**PLAN, module: option}
    try:
        results = check_folder(data / "golden" / folder, backend="ttnn", device=device, plan=plan)
        if module in OWN_STAGES:
            results += own_stages(device, data / "golden" / folder, module, plan)
    except Exception as error:  # an option the kernels reject is a row, not a crash
        logger.exception(f"{module} {option}: failed")
        return OptionResult(module, option, float("nan"), float("nan"), False, f"{type(error).__name__}: {error}")
    own = [r for r in results if r.name.split(".")[0] in outputs]
    alone = [r for r in results if r.name.endswith(".own")]
    exact = [r for r in results if r.exact]
    broken = [r.name for r in exact if not r.passed]
    return OptionResult(
        module,
        option,
        pcc=min(_pcc(r) for r in own),
        max_rel=max(r.max_rel if r.max_rel is not None else float("inf") for r in own),
        holds=all(r.passed for r in own) and not broken,
        detail=f"integer outputs changed: {', '.join(broken)}" if broken else "",
        alone_max_rel=max((r.max_rel for r in alone), default=None),
    )


def _pcc(result: GoldenResult) -> float:
    return result.pcc if result.pcc is not None else float("nan")


def table(rows: list[OptionResult]) -> list[str]:
    lines = [
        "| module | option | worst PCC | worst max error / scale | alone: max error / scale | holds the bars | plan |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        chosen = "**chosen**" if PLAN[row.module] == row.option else ""
        holds = "yes" if row.holds else f"no{' (' + row.detail + ')' if row.detail else ''}"
        alone = "" if row.alone_max_rel is None else f"{row.alone_max_rel:.2e}"
        cells = (row.module, str(row.option), f"{row.pcc:.6f}", f"{row.max_rel:.2e}", alone, holds, chosen)
        lines.append(f"| {' | '.join(cells)} |")
    return lines


def cheapest_holding(rows: list[OptionResult], module: str) -> Precision | None:
    return next((r.option for r in rows if r.module == module and r.holds), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="the folder holding golden/ (../shared/data)")
    parser.add_argument("--modules", nargs="+", choices=sorted(MODULE_OUTPUTS), default=list(MODULE_OUTPUTS))
    parser.add_argument(
        "--weights", choices=("all", "bfloat8_b"), default="all", help="bfloat8_b: only the bfloat8_b options"
    )
    args = parser.parse_args(argv)
    from models.demos.openvoice.utils.device import close_device, open_device

    device = open_device()
    try:
        rows = [
            measure(device, args.data, module, option)
            for module in args.modules
            for option in options_of(module)
            if args.weights == "all" or option.weights == args.weights
        ]
    finally:
        close_device(device)
    print("\n".join(table(rows)))
    for module in args.modules:
        cheapest = cheapest_holding(rows, module)
        verdict = "none holds the bars" if cheapest is None else f"cheapest holding the bars: {cheapest}"
        print(f"{module}: plan {PLAN[module]}; {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
