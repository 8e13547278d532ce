# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Run report: per model (converter, clone, MeloTTS) and per stage, what the device ran and how close it is.

    python -m models.demos.openvoice.tools.run_report --data ../shared/data --out outputs/report [--small]

Writes `<out>/report.md` and `<out>/report.png`. Per model, case and stage:

* op count and host transfers (uploads / downloads) of a WARM run of the stage, from graph capture
  (`utils/graph_report.capture`): the weights are prepared and the programs cached by a first run;
* PCC of the stage's output against the float32 PyTorch reference on the same inputs (each device stage
  is fed the previous device stage's output, so the error accumulates as in a real run);
* RTF of the warm device run (card only; "-" on the mock, whose timing is host emulation);
* WER and speaker similarity of a conversion with the official checkpoints
  (`--checkpoint-dir`, default `checkpoints_v2/`), else "official checkpoint not found".

Cases: the goldens in `<--data>/golden` (small upstream-format models: vc_small_b2,
tts_small_en) and, unless `--small`, the release shapes with seeded random weights (converter and
MeloTTS, `--seconds` of audio, builders of demo/benchmark_converter.py and demo/benchmark_tts.py), the
second goldens (vc_small_tau0, tts_small_b3) and a longer clone. The clone runs the REAL reference-encoder
weights on a real clip (hello_world, 1.1 s; one_two_three, 2.7 s unless `--small`).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import ttnn
from loguru import logger

from models.demos.openvoice.utils.device import close_device, is_mock_device, open_device
from models.demos.openvoice.utils.graph_report import capture
from models.demos.openvoice.demo.download import DEFAULT_DIR
from models.common.utility_functions import comp_pcc
from models.demos.openvoice.utils.audio import load_audio
from models.demos.openvoice.utils.config import load_config
from models.demos.openvoice.demo import benchmark_converter, benchmark_tts
from models.demos.openvoice.demo.figures import fmt, median_ms
from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tt.melo_tts import TtMeloTTS
from models.demos.openvoice.tt.reference_encoder import TtSpeakerEncoder
from models.demos.openvoice.tt.commons import from_time_major
from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter

CONVERTER, CLONE, MELO = "converter", "clone", "MeloTTS"
MODELS = (CONVERTER, CLONE, MELO)
TAU = 0.3
RTF_ITERATIONS = 3
PCC_FLOOR, PCC_AXIS_MIN = 1e-9, 1e-10  # plot: float32-exact stages (1 - PCC ~ 0) drawn at the floor
NOT_FOUND = "official checkpoint not found"
RATE = 22050  # converter and reference-encoder rate (every OpenVoice V2 config)


@dataclass(frozen=True)
class StageRow:
    """One stage of one case: its warm graph capture and its output's PCC (None: no float output)."""

    model: str
    case: str
    stage: str
    operations: int
    uploads: int
    downloads: int
    pcc: float | None = None
    output: str = ""  # the output compared with the reference


@dataclass
class CaseResult:
    model: str
    case: str
    audio_seconds: float
    stages: list[StageRow] = field(default_factory=list)
    rtf: float | None = None  # card only


@dataclass(frozen=True)
class Quality:
    model: str
    wer: str
    similarity: str


# ---- helpers ------------------------------------------------------------------------------------------
def _pcc(expected: torch.Tensor, actual: torch.Tensor) -> float:
    expected, actual = expected.float(), actual.float()
    if expected.shape != actual.shape:
        raise ValueError(f"shape mismatch: reference {tuple(expected.shape)}, device {tuple(actual.shape)}")
    return float(comp_pcc(expected, actual)[1])


class _Stages:
    """Captures stages one by one into `CaseResult.stages` and hands back each stage's result."""

    def __init__(self, result: CaseResult) -> None:
        self.result = result

    def run(self, stage: str, fn: Callable[..., Any], *args: Any) -> Any:
        report = capture(fn, *args)
        downloads = len(benchmark_tts.host_reads(report))
        row = StageRow(self.result.model, self.result.case, stage, len(report.operations), report.num_host_transfers - downloads, downloads)
        self.result.stages.append(row)
        return report.result

    def compare(self, output: str, expected: torch.Tensor, actual: torch.Tensor) -> None:
        """Attach the PCC of `output` to the last captured stage."""
        last = self.result.stages[-1]
        self.result.stages[-1] = StageRow(**{**last.__dict__, "pcc": _pcc(expected, actual), "output": output})


def _rtf(device: Any, mock: bool, call: Callable[[], Any], audio_seconds: float) -> float | None:
    """Warm wall-clock seconds per audio second, synchronised (card only: the mock emulates on the host)."""
    if mock:
        return None
    return median_ms(call, device, RTF_ITERATIONS) / 1000.0 / audio_seconds


# ---- converter -------------------------------------------------------------------------------------------
def converter_case(device: Any, mock: bool, case: str, model: ToneColorConverter, inputs: dict) -> CaseResult:
    """Posterior encoder, flow, reverse flow, generator: each captured warm, PCC of z, z_p, z_hat, audio."""
    i = inputs
    with torch.inference_mode():
        ref = model.voice_conversion(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], tau=i["tau"], noise=i["eps_q"])
    tt = TtToneColorConverter(device, model)
    uploaded: TtConverterInputs = tt.prepare_inputs(i["spec"], i["spec_lengths"], i["g_src"], i["g_tgt"], i["tau"], i["eps_q"])
    tt.forward(uploaded)  # warm: conv weights prepared for this shape, programs cached
    b = uploaded.batch_size
    down = lambda t: from_time_major(ttnn.to_torch(t).float(), b)  # noqa: E731
    hop = tt.hop
    result = CaseResult(CONVERTER, case, int(i["spec_lengths"].max()) * hop / RATE)
    stages = _Stages(result)
    z, _, _ = stages.run("posterior_encoder", tt.encode, uploaded)
    stages.compare("z", ref.z, down(z))
    z_p = stages.run("flow", tt.flow_forward, uploaded, z)
    stages.compare("z_p", ref.z_p, down(z_p))
    z_hat = stages.run("reverse_flow", tt.flow_reverse, uploaded, z_p)
    stages.compare("z_hat", ref.z_hat, down(z_hat))
    audio = stages.run("generator", tt.decode, uploaded, z_hat)
    stages.compare("audio", ref.audio, down(audio))
    stages.run("download", ttnn.to_torch, audio)
    result.rtf = _rtf(device, mock, lambda: tt.forward(uploaded), result.audio_seconds)
    return result


def golden_converter(data: Path, name: str) -> tuple[ToneColorConverter, dict]:
    folder = data / "golden" / name
    case = torch.load(folder / "case.pt", weights_only=False)
    return ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth").eval(), case["inputs"]


def release_converter(data: Path, seconds: float) -> tuple[ToneColorConverter, dict]:
    """Release config, seeded random weights (benchmark_converter's builder), `seconds` of real speech."""
    model = benchmark_converter.release_model(data / "openvoice_v2/config.json", None)
    wav = torch.from_numpy(load_audio(data / "audio/counting.wav", RATE))[: int(seconds * RATE)]
    spec = spectrogram(wav[None])
    ses = data / "openvoice_v2/base_speakers/ses"
    noise = torch.randn(1, model.enc_q.out_channels, spec.shape[-1], generator=torch.Generator().manual_seed(0))
    inputs = {
        "spec": spec, "spec_lengths": torch.tensor([spec.shape[-1]]), "tau": TAU, "eps_q": noise,
        "g_src": torch.load(ses / "en-us.pth", map_location="cpu"), "g_tgt": torch.load(ses / "zh.pth", map_location="cpu"),
    }  # fmt: skip
    return model, inputs


# ---- clone -------------------------------------------------------------------------------------------------
def clone_case(device: Any, mock: bool, case: str, ref_enc: Any, waveform: torch.Tensor) -> CaseResult:
    """Upload, spectrogram, reference encoder, download: PCC of the spectrogram and of the embedding."""
    with torch.inference_mode():
        ref_spec = spectrogram(waveform[None])  # [1, bins, T]
        ref_se = ref_enc(ref_spec.transpose(1, 2))  # [1, gin]
    encoder = TtSpeakerEncoder(device, ref_enc)
    ttnn.to_torch(encoder(encoder.upload(waveform)))  # warm
    result = CaseResult(CLONE, case, waveform.numel() / RATE)
    stages = _Stages(result)
    uploaded = stages.run("upload", encoder.upload, waveform)
    spec = stages.run("spectrogram", encoder.spectrogram, uploaded)  # [1, 1, T, bins]
    stages.compare("spectrogram", ref_spec, ttnn.to_torch(spec).float().reshape(1, -1, ref_spec.shape[1]).transpose(1, 2))
    se = stages.run("reference_encoder", encoder.encoder, spec)
    stages.compare("embedding", ref_se, ttnn.to_torch(se).float().reshape(ref_se.shape))
    stages.run("download", ttnn.to_torch, se)
    result.rtf = _rtf(device, mock, lambda: encoder(uploaded), result.audio_seconds)
    return result


# ---- MeloTTS -----------------------------------------------------------------------------------------------
def melo_case(device: Any, mock: bool, case: str, model: MeloTTS, batch: dict) -> CaseResult:
    """benchmark_tts.staged_infer's stages (warm, sdp_ratio 0); PCC of each stage's output from a run
    of `infer_all` on the same inputs and draw, against the reference's `infer`."""
    names = ("x", "x_lengths", "sid", "tone", "language", "bert", "ja_bert")
    args = [batch[k] for k in names]
    with torch.inference_mode():
        probe = model.infer(*args, sdp_ratio=0.0, max_len=1)  # T_y only
        frames = int(probe.y_lengths.max())
        eps_p = torch.randn(len(batch["x_lengths"]), model.enc_p.out_channels, frames, generator=torch.Generator().manual_seed(0))
        ref = model.infer(*args, sdp_ratio=0.0, eps_p=eps_p)
    tt = TtMeloTTS(device, model)
    inputs = tt.prepare_inputs(*args)
    outputs = tt.infer_all(inputs, sdp_ratio=0.0, eps_p=eps_p)  # warm, and the intermediates compared below
    got = tt.download(inputs, outputs)
    figures, _ = benchmark_tts.staged_infer(tt, batch, eps_p)
    result = CaseResult(MELO, case, frames * tt.hop / benchmark_tts.SAMPLING_RATE)
    compared = {"encode": "m_p", "durations+sync": "logw_dp", "align+prior": "z_p", "flow": "z", "decoder": "audio"}
    for f in figures:
        output = compared.get(f.name)
        pcc = _pcc(getattr(ref, output), getattr(got, output)) if output else None
        result.stages.append(StageRow(MELO, case, f.name, f.operations, f.uploads, f.downloads, pcc, output or ""))
    result.rtf = _rtf(device, mock, lambda: tt.infer_all(inputs, sdp_ratio=0.0, eps_p=eps_p), result.audio_seconds)
    return result


def golden_melo(data: Path, name: str) -> tuple[MeloTTS, dict]:
    folder = data / "golden" / name
    case = torch.load(folder / "case.pt", weights_only=False)
    return MeloTTS.load(folder / "config.json", folder / "checkpoint.pth").eval(), case["inputs"]


def release_melo(seconds: float) -> tuple[MeloTTS, dict]:
    """Release shape, seeded weights, durations pinned (benchmark_tts's builders) for `seconds` of speech."""
    b = benchmark_tts
    tokens = math.ceil(math.ceil(seconds * b.SAMPLING_RATE / b.HOP_LENGTH) / b.FRAMES_PER_TOKEN)
    return b.pin_durations(b.release_model()), b.sentence_batch([tokens])


# ---- quality (official checkpoints) -------------------------------------------------------------------------
def quality(device: Any, data: Path, checkpoint_dir: Path) -> list[Quality]:
    """WER and speaker similarity of quick_brown_fox converted to jfk's voice on the device (official
    converter); MeloTTS speech quality is measured by demo.py::test_full_pipeline."""
    checkpoint = checkpoint_dir / "converter" / "checkpoint.pth"
    melo = Quality(MELO, "- (demo.py::test_full_pipeline)", "-")
    if not checkpoint.is_file():
        missing = f"{NOT_FOUND}: {checkpoint}"
        return [Quality(f"{CONVERTER} + {CLONE}", missing, missing), Quality(MELO, NOT_FOUND, NOT_FOUND)]
    from models.demos.openvoice.demo.pipeline import SpeakerEmbeddingCache, VoiceCloner
    from models.demos.openvoice.eval import similarity, wer
    from models.demos.openvoice.eval.clips import CLIPS  # the clips' transcripts
    from models.demos.openvoice.demo.backends import TtnnBackend

    config_path = checkpoint_dir / "converter" / "config.json"
    config = load_config(config_path)
    converter = ToneColorConverter.load(config_path, checkpoint)
    cloner = VoiceCloner(config, TtnnBackend(config, device, converter.ref_enc, converter), SpeakerEmbeddingCache("report"))
    rate = config.data.sampling_rate
    source, target = data / "audio/quick_brown_fox.wav", data / "audio/jfk.flac"
    converted = cloner.convert(source, cloner.extract_se([source]), cloner.extract_se([target]), tau=TAU)
    measured = wer.default_transcriber().wer(converted, rate, CLIPS["quick_brown_fox"].text)
    sim = similarity.clone_similarity(converted, load_audio(target, rate), load_audio(source, rate), rate)
    return [Quality(f"{CONVERTER} + {CLONE}", f"{measured.wer:.1%} (bar < 3 %)", f"{sim.to_target:.3f} (bar > 0.70; source {sim.source_to_target:.3f})"), melo]


# ---- report -------------------------------------------------------------------------------------------------
def run_cases(device: Any, mock: bool, data: Path, small: bool, seconds: float) -> list[CaseResult]:
    ref_enc = load_reference_encoder(data / "openvoice_v2/ref_enc/ref_enc.pt")
    results = [converter_case(device, mock, "golden vc_small_b2", *golden_converter(data, "vc_small_b2"))]
    clips = ["hello_world"] if small else ["hello_world", "one_two_three"]
    for clip in clips:
        wav = torch.from_numpy(load_audio(next((data / "audio").glob(f"{clip}.*")), RATE))
        results.append(clone_case(device, mock, f"real ref_enc, {clip}", ref_enc, wav))
    results.append(melo_case(device, mock, "golden tts_small_en", *golden_melo(data, "tts_small_en")))
    if not small:
        results.insert(1, converter_case(device, mock, "golden vc_small_tau0", *golden_converter(data, "vc_small_tau0")))
        results.insert(0, converter_case(device, mock, f"release {seconds:g} s", *release_converter(data, seconds)))
        results.append(melo_case(device, mock, "golden tts_small_b3", *golden_melo(data, "tts_small_b3")))
        results.append(melo_case(device, mock, f"release {seconds:g} s", *release_melo(seconds)))
    return results


def format_markdown(results: Sequence[CaseResult], qualities: Sequence[Quality], device_name: str, png: str) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# OpenVoice on TTNN: run report",
        "",
        f"{device_name}, ttnn {version('ttnn')}, {now}. Ops and host transfers: graph "
        "capture of a warm run of each stage. PCC: each stage's output against the float32 reference on the same "
        "inputs (device stages chained). RTF: warm device run / audio seconds, card only.",
        "",
        "## Per model",
        "",
        "| model | case | audio s | ops | uploads | downloads | worst PCC | RTF |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        pccs = [s.pcc for s in r.stages if s.pcc is not None]
        ops, up, down = (sum(getattr(s, k) for s in r.stages) for k in ("operations", "uploads", "downloads"))
        lines.append(f"| {r.model} | {r.case} | {r.audio_seconds:.2f} | {ops} | {up} | {down} | {fmt(min(pccs) if pccs else None, '.6f')} | {fmt(r.rtf, '.3f')} |")
    lines += ["", "## Per stage", "", "| model | case | stage | ops | uploads | downloads | PCC | output |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for s in r.stages:
            lines.append(f"| {s.model} | {s.case} | {s.stage} | {s.operations} | {s.uploads} | {s.downloads} | {fmt(s.pcc, '.6f')} | {s.output or '-'} |")
    lines += ["", "## Quality (official checkpoints)", "", "| model | WER | speaker similarity |", "|---|---|---|"]
    lines += [f"| {q.model} | {q.wer} | {q.similarity} |" for q in qualities]
    lines += ["", f"![ops and PCC per stage]({png})", ""]
    return "\n".join(lines)


def plot(results: Sequence[CaseResult], path: Path) -> Path:
    """Per model: ops per stage (bars per case) and PCC error (1 - PCC, log scale) per stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = [m for m in MODELS if any(r.model == m for r in results)]
    fig, axes = plt.subplots(len(models), 2, figsize=(14, 3.6 * len(models)), squeeze=False)
    for row, model in enumerate(models):
        cases = [r for r in results if r.model == model]
        stages = list(dict.fromkeys(s.stage for r in cases for s in r.stages))
        width = 0.8 / len(cases)
        y = np.arange(len(stages))
        ops_ax, pcc_ax = axes[row]
        for k, r in enumerate(cases):
            by_stage = {s.stage: s for s in r.stages}
            offsets = y - 0.4 + width * (k + 0.5)
            rows = [by_stage.get(s) for s in stages]
            bars = ops_ax.barh(offsets, [x.operations if x else 0 for x in rows], height=width, label=r.case)
            # ops, then host transfers up / down
            labels = [f"{x.operations}  ({x.uploads} up, {x.downloads} down)" if x else "" for x in rows]
            ops_ax.bar_label(bars, labels, fontsize=7, padding=2)
            pccs = [x.pcc if x else None for x in rows]
            errors = [max(1 - p, PCC_FLOOR) if p is not None else np.nan for p in pccs]
            bars = pcc_ax.barh(offsets, np.array(errors) - PCC_AXIS_MIN, left=PCC_AXIS_MIN, height=width, label=r.case)
            pcc_ax.bar_label(bars, [f"PCC {p:.6f}" if p is not None else "" for p in pccs], fontsize=7, padding=2)
        for ax in (ops_ax, pcc_ax):
            ax.set_yticks(y, stages)
            ax.invert_yaxis()
            ax.grid(axis="x", alpha=0.3)
        ops_ax.set_title(f"{model}: ttnn ops and host transfers per stage (warm run)")
        ops_ax.set_xlabel("top-level ttnn operations")
        pcc_ax.legend(fontsize=8, loc="lower right")  # the PCC panel's right side stays empty: no overlap
        ops_ax.set_xlim(0, ops_ax.get_xlim()[1] * 1.3)  # room for the labels
        pcc_ax.set_xscale("log")
        pcc_ax.set_xlim(PCC_AXIS_MIN, 1.0)
        pcc_ax.set_title(f"{model}: 1 - PCC vs float32 reference (lower is better)")
        pcc_ax.set_xlabel(f"1 - PCC (log; < {PCC_FLOOR:g} drawn at {PCC_FLOOR:g}; stages without a float output empty)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(
    device: Any, mock: bool, out: Path, data: Path, small: bool = False, seconds: float = 2.0, checkpoint_dir: Path | None = None
) -> Path:
    """Run every case and write `out/report.md` + `out/report.png`; returns the markdown's path."""
    out.mkdir(parents=True, exist_ok=True)
    results = run_cases(device, mock, data, small, seconds)
    qualities = quality(device, data, checkpoint_dir or DEFAULT_DIR)
    png = plot(results, out / "report.png")
    device_name = "mock Wormhole (shadow execution: numbers, no timing)" if mock else "Tenstorrent device"
    markdown = out / "report.md"
    markdown.write_text(format_markdown(results, qualities, device_name, png.name))
    logger.info(f"run report: {markdown}, {png}")
    return markdown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the test-data folder (goldens, reference-encoder weights, clips), e.g. ../shared/data")
    parser.add_argument("--out", type=Path, default=Path("outputs/report"))
    parser.add_argument("--small", action="store_true", help="goldens and one short clip only (fast)")
    parser.add_argument("--seconds", type=float, default=2.0, help="audio of the release-shape cases")
    parser.add_argument("--checkpoint-dir", type=Path, default=None, help=f"official checkpoints (default {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if not (args.data / "golden").is_dir():
        parser.error(f"--data {args.data}: no golden/ folder there (the shared test data: goldens, reference-encoder weights, clips)")
    device, mock = open_device(), is_mock_device()
    try:
        markdown = write_report(device, mock, args.out, args.data, args.small, args.seconds, args.checkpoint_dir)
    finally:
        close_device(device)
    print(markdown.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
