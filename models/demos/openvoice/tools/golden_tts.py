# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Golden runner for kind `tts_infer` (dispatched by `check_golden.py`): upstream MeloTTS
`SynthesizerTrn.infer` against the reference `MeloTTS.infer`, with the recorded noise draws
(`run_tts_infer_case`), or against the TTNN port `TtMeloTTS` (`run_tts_infer_case_ttnn`, for
`check_golden --backend ttnn`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.tools.check_golden import Comparison, load_case


def run_tts_infer_case(folder: Path) -> list[Comparison]:
    """Load `config.json` + `checkpoint.pth` strictly, replay `case.pt`; one triple per recorded output."""
    folder = Path(folder)
    case = load_case(folder)
    if case["kind"] != "tts_infer":
        raise ValueError(f"{folder}: case kind is {case.get('kind')!r}, not 'tts_infer'")
    inputs, expected = case["inputs"], case["outputs"]
    model = MeloTTS.load(folder / "config.json", folder / "checkpoint.pth")
    with torch.inference_mode():
        out = model.infer(
            inputs["x"],
            inputs["x_lengths"],
            inputs["sid"],
            inputs["tone"],
            inputs["language"],
            inputs["bert"],
            inputs["ja_bert"],
            noise_scale=float(inputs["noise_scale"]),
            length_scale=float(inputs["length_scale"]),
            noise_scale_w=float(inputs["noise_scale_w"]),
            sdp_ratio=float(inputs["sdp_ratio"]),
            eps_sdp=inputs["eps_sdp"],
            eps_p=inputs["eps_p"],
            max_len=inputs.get("max_len"),
        )
    missing = sorted(name for name in expected if not hasattr(out, name))
    if missing:
        raise KeyError(f"{folder}: outputs {missing} are not produced by MeloTTS.infer")
    return [(name, expected[name], getattr(out, name)) for name in expected]



def run_tts_infer_case_ttnn(folder: Path, device: Any, plan: dict | None = None) -> list[Comparison]:
    """The same case through `TtMeloTTS` on `device` (one upload, the y_lengths sync, the eps_p
    upload, downloads); one triple per recorded output."""
    from models.demos.openvoice.tt.melo_tts import TtMeloTTS

    folder = Path(folder)
    case = load_case(folder)
    if case["kind"] != "tts_infer":
        raise ValueError(f"{folder}: case kind is {case.get('kind')!r}, not 'tts_infer'")
    inputs, expected = case["inputs"], case["outputs"]
    tt = TtMeloTTS(device, MeloTTS.load(folder / "config.json", folder / "checkpoint.pth"), plan)
    uploaded = tt.prepare_inputs(
        *(inputs[k] for k in ("x", "x_lengths", "sid", "tone", "language", "bert", "ja_bert")),
        noise_scale_w=float(inputs["noise_scale_w"]),
        eps_sdp=inputs["eps_sdp"],
    )
    outputs = tt.infer_all(
        uploaded,
        noise_scale=float(inputs["noise_scale"]),
        length_scale=float(inputs["length_scale"]),
        sdp_ratio=float(inputs["sdp_ratio"]),
        eps_p=inputs["eps_p"],
        max_len=inputs.get("max_len"),
    )
    out = tt.download(uploaded, outputs)
    missing = sorted(name for name in expected if not hasattr(out, name))
    if missing:
        raise KeyError(f"{folder}: outputs {missing} are not produced by TtMeloTTS")
    return [(name, expected[name], getattr(out, name)) for name in expected]
