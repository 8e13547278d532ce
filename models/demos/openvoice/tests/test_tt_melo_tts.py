"""TTNN MeloTTS `infer` (tt/melo_tts.py, tt/length_regulator.py) against the float32 reference.

* Length regulation fed the reference's own log-durations (goldens tts_small_en, tts_small_b3,
  and edge cases): integer durations, y_lengths, T_y, the alignment `attn` (the whole
  block-diagonal [B*T_y, B*T_x] path, off-diagonal blocks included), y_mask and S_y EXACTLY.
* End to end on the goldens (upstream outputs) and on seeded random weights of the release
  shape: every intermediate of `MeloTTSOutput` per batch item (`assert_items_close`: valid-region
  PCC, max error relative to the item's scale, first/last valid frame, padded region), exact
  durations/alignment, a batch item against the same item run alone, and the flow and decoder
  each fed the reference's own input (per-module handoff).
* Graph capture: a warm `infer` makes exactly ONE device->host read (y_lengths) before the audio
  download, and no host transfer besides the input uploads and the eps_p upload.

Run time on this 2-core machine is dominated by the mock's per-op cost (~1000-1400 ops per
`infer`), so each test runs `infer` once (cold) and the graph-capture test uses a tiny model.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pytest
import torch
import ttnn
from loguru import logger

from models.common.mock_device import capture
from models.demos.openvoice.demo.benchmark_tts import host_reads, release_model, sentence_batch
from models.demos.openvoice.reference.length_regulator import expand, regulate_lengths
from models.demos.openvoice.reference.melo_tts import MeloTTS, MeloTTSOutput
from models.demos.openvoice.tests.helpers import assert_items_close, bar, pcc_value
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from models.demos.openvoice.tt.length_regulator import TtLengthRegulator
from models.demos.openvoice.tt.melo_tts import TtMeloTTS
from models.demos.openvoice.tt.tone_color_converter import from_time_major, to_time_major
from tests.shared_data import require_shared_data
from tests.ttnn.utils_for_testing import pcc_for

DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
INPUT_NAMES = ("x", "x_lengths", "sid", "tone", "language", "bert", "ja_bert")
SCALARS = ("noise_scale", "length_scale", "noise_scale_w", "sdp_ratio")

TOKEN_OUTPUTS = ("enc_x", "m_p", "logs_p", "logw_sdp", "logw_dp")
FRAME_OUTPUTS = {"m_p_expanded": "expanded", "logs_p_expanded": "expanded", "z_p": "z_p", "z": "z"}


def check(device: Any, bar_name: str, what: str, expected, actual, lengths=None, padded: str = "zero") -> dict:
    """Whole-tensor PCC and per-item checks at `bar_name`'s bar; returns the worst item's figures."""
    limits = bar(device, f"melo_{bar_name}")
    whole = pcc_value(expected, actual)
    assert whole >= limits.pcc, f"{what}: PCC {whole:.6f} < {limits.pcc}"
    figures = assert_items_close(what, expected, actual, lengths, pcc=limits.pcc, max_rel=limits.max_rel, padded=padded)
    worst = {"pcc": min(f["pcc"] for f in figures), "max_rel": max(f["max_rel"] for f in figures)}
    logger.info(f"{what}: PCC {whole:.7f}, worst item PCC {worst['pcc']:.7f} max_rel {worst['max_rel']:.2e}")
    return worst


# ---- cases ---------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def golden(name: str) -> tuple[MeloTTS, dict, dict]:
    folder = require_shared_data() / "golden" / name
    case = torch.load(folder / "case.pt", weights_only=False)
    return MeloTTS.load(folder / "config.json", folder / "checkpoint.pth"), case["inputs"], case["outputs"]


def run_tt(tt: TtMeloTTS, inputs: dict, max_len: int | None = None):
    """prepare_inputs + infer_all with the recorded draws -> (device inputs, device outputs)."""
    uploaded = tt.prepare_inputs(*(inputs[k] for k in INPUT_NAMES), float(inputs["noise_scale_w"]), inputs["eps_sdp"])
    outputs = tt.infer_all(
        uploaded, float(inputs["noise_scale"]), float(inputs["length_scale"]), float(inputs["sdp_ratio"]), inputs["eps_p"], max_len
    )
    return uploaded, outputs


def reference_infer(model: MeloTTS, inputs: dict, max_len: int | None = None) -> MeloTTSOutput:
    with torch.inference_mode():
        return model.infer(
            *(inputs[k] for k in INPUT_NAMES), **{k: float(inputs[k]) for k in SCALARS},
            eps_sdp=inputs["eps_sdp"], eps_p=inputs["eps_p"], max_len=max_len,
        )  # fmt: skip


def check_outputs(device: Any, expected: Any, actual: MeloTTSOutput, x_lengths: torch.Tensor, hop: int) -> dict:
    """Every output of `infer` per item; integer outputs exactly. Returns the worst figures per output."""
    get = expected.get if isinstance(expected, dict) else lambda name: getattr(expected, name)
    y_lengths = [int(v) for v in get("y_mask").sum(-1).flatten()]
    assert actual.y_lengths.tolist() == y_lengths, f"y_lengths {actual.y_lengths.tolist()} != {y_lengths}"
    for name in ("attn", "y_mask", "x_mask"):
        value = getattr(actual, name)
        assert value.shape == get(name).shape, f"{name}: shape {tuple(value.shape)}, expected {tuple(get(name).shape)}"
        assert torch.equal(value, get(name).float()), f"{name} differs from the reference"
    figures = {}
    for name in TOKEN_OUTPUTS:  # masked: padded tokens exactly zero
        figures[name] = check(device, "token", name, get(name), getattr(actual, name), x_lengths)
    for name, bar_name in FRAME_OUTPUTS.items():
        # z_p is not masked (padded frames carry the prior noise, as upstream): they must match
        padded = "match" if name == "z_p" else "zero"
        figures[name] = check(device, bar_name, name, get(name), getattr(actual, name), y_lengths, padded)
    # The decoder is unmasked in the reference too: the padded tail must match, not be zero.
    audio_lengths = [n * hop for n in y_lengths]
    figures["audio"] = check(device, "audio", "audio", get("audio"), actual.audio, audio_lengths, padded="match")
    return figures


# ---- length regulation (fed the reference's log-durations) ----------------------------------------


def _upload_column(device, x: torch.Tensor, dtype=ttnn.float32) -> ttnn.Tensor:
    return ttnn.from_torch(to_time_major(x.float()), dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)


def _check_regulation(device, logw: torch.Tensor, x_mask: torch.Tensor, length_scale: float, stats: torch.Tensor) -> int:
    """Durations, T_y, the whole path (off-diagonal blocks too), y_mask, S_y exactly; expansion of `stats`."""
    b, _, t_x = logw.shape
    ref = regulate_lengths(logw, x_mask, length_scale)
    lr = TtLengthRegulator(device)
    durations = lr.durations(_upload_column(device, logw), _upload_column(device, x_mask), b, t_x, length_scale)
    w_ceil = ttnn.to_torch(durations.w_ceil).float().reshape(b, 1, t_x)
    differ = torch.nonzero(w_ceil != ref.w_ceil).tolist()
    assert not differ, f"integer durations differ at (item, 0, token) {differ}: {w_ceil[w_ceil != ref.w_ceil].tolist()} vs {ref.w_ceil[w_ceil != ref.w_ceil].tolist()}"
    y_lengths = lr.read_lengths(durations)
    assert y_lengths == ref.y_lengths.tolist(), f"y_lengths {y_lengths} != reference {ref.y_lengths.tolist()}"
    t_y = max(y_lengths)
    assert t_y == ref.attn.shape[2]
    alignment = lr.align(durations, t_y)
    path = ttnn.to_torch(alignment.path).float().reshape(b * t_y, b * t_x)
    assert torch.equal(path, torch.block_diag(*ref.attn[:, 0])), "alignment differs from the reference's attn"
    assert torch.equal(ttnn.to_torch(alignment.y_mask).float().reshape(b, 1, t_y), ref.y_mask), "y_mask differs"
    segments = ttnn.to_torch(alignment.segments).float().reshape(b * t_y, b)
    assert torch.equal(segments, torch.eye(b).repeat_interleave(t_y, dim=0))
    expanded = lr.expand(alignment, _upload_column(device, stats))  # float32 stats: exact copies
    assert torch.equal(from_time_major(ttnn.to_torch(expanded).float(), b), expand(ref.attn, stats))
    return t_y


@DEVICE
@pytest.mark.parametrize("name", ["tts_small_en", "tts_small_b3"])
def test_length_regulation_golden(device, name: str) -> None:
    """Upstream's log-durations (mixed by sdp_ratio) -> integer durations, T_y (137; 46/26/35),
    attn, y_mask exactly; m_p expanded exactly."""
    _, inputs, outputs = golden(name)
    ratio = float(inputs["sdp_ratio"])
    logw = outputs["logw_sdp"] * ratio + outputs["logw_dp"] * (1 - ratio)
    t_y = _check_regulation(device, logw, outputs["x_mask"], float(inputs["length_scale"]), outputs["m_p"])
    assert t_y == outputs["attn"].shape[2]


@DEVICE
def test_length_regulation_edge_cases(device) -> None:
    """B=3, T_x=7: an item whose every duration underflows to 0 (y_length clamped to 1, a frame
    with no token), a padded item, long tokens (40 frames), and T_y far from a tile multiple."""
    logw = torch.tensor(
        [[-200.0] * 7, [0.3, 3.6, -1.0, 0.0, 1.2, 9.0, 9.0], [2.0, -0.5, 0.01, 3.69, 0.7, 0.2, -3.0]]
    ).unsqueeze(1)  # fmt: skip
    x_mask = (torch.arange(7)[None] < torch.tensor([7, 5, 7])[:, None]).float().unsqueeze(1)
    stats = torch.randn(3, 40, 7, generator=torch.Generator().manual_seed(0))
    t_y = _check_regulation(device, logw, x_mask, 1.1, stats)
    assert t_y == regulate_lengths(logw, x_mask, 1.1).y_lengths.max()


# ---- end to end -------------------------------------------------------------------------------------


@DEVICE
def test_end_to_end_golden_en(device) -> None:
    """tts_small_en (B=1, T_x 25 -> T_y 137): every intermediate, exact alignment."""
    model, inputs, outputs = golden("tts_small_en")
    tt = TtMeloTTS(device, model)
    uploaded, out = run_tt(tt, inputs)
    figures = check_outputs(device, outputs, tt.download(uploaded, out), inputs["x_lengths"], tt.hop)
    logger.info(f"tts_small_en: {figures}")


@DEVICE
def test_end_to_end_golden_batch(device) -> None:
    """tts_small_b3: B=3 with lengths 25/11/19, speakers 1/3/0, languages 2/1/2 in ONE run; then
    the middle item alone (B=1, its own 11 tokens) against the batch item, and the flow and the
    decoder each fed the reference's own input."""
    model, inputs, outputs = golden("tts_small_b3")
    tt = TtMeloTTS(device, model)
    uploaded, out = run_tt(tt, inputs)
    batch = tt.download(uploaded, out)
    figures = check_outputs(device, outputs, batch, inputs["x_lengths"], tt.hop)
    logger.info(f"tts_small_b3: {figures}")

    # Per-module handoff on the same alignment: the flow from the reference's z_p, the decoder
    # from the reference's z * y_mask (each module's own error only).
    # float32 uploads: the dtypes these modules see inside `infer` (z_p and z are float32 there)
    up = lambda x: _upload_column(device, x)  # noqa: E731
    g = tt.speaker_embedding(uploaded)
    y_lengths = out.y_lengths
    z = tt.flow_reverse(up(outputs["z_p"]), out.alignment, g, 3)
    check(device, "flow_handoff", "flow(z_p ref)", outputs["z"], from_time_major(ttnn.to_torch(z).float(), 3), y_lengths)
    audio, _ = tt.decode(up(outputs["z"] * outputs["y_mask"]), out.alignment, g, 3)
    audio = from_time_major(ttnn.to_torch(audio).float(), 3)
    check(device, "decoder_handoff", "decoder(z ref)", outputs["audio"], audio, [n * tt.hop for n in y_lengths], "match")

    # Item 1 alone: same durations and frames exactly; latents and audio equal the batch item's
    # except the audio's last frames, where the reference's batch item differs from the item
    # alone too (the unmasked decoder lets the zero padding leak in).
    b, n_x, n_y = 1, int(inputs["x_lengths"][1]), y_lengths[1]
    alone_inputs = {k: v[b : b + 1, ..., :n_x] if k in ("x", "tone", "language", "bert", "ja_bert", "eps_sdp") else v for k, v in inputs.items()}
    alone_inputs.update(x_lengths=inputs["x_lengths"][b : b + 1], sid=inputs["sid"][b : b + 1], eps_p=inputs["eps_p"][b : b + 1, :, :n_y])
    alone = tt.download(*run_tt(tt, alone_inputs))
    assert alone.y_lengths.tolist() == [n_y]
    assert torch.equal(alone.attn[0, 0], batch.attn[b, 0, :n_y, :n_x])
    for name in ("z_p", "z"):
        check(device, "batch_vs_alone", f"{name} batch item vs alone", getattr(batch, name)[b : b + 1, :, :n_y], getattr(alone, name))
    ref_alone = reference_infer(model, alone_inputs)
    samples = n_y * tt.hop
    differs = (outputs["audio"][b, 0, :samples] - ref_alone.audio[0, 0]).abs() > 1e-5 * float(ref_alone.audio.abs().max())
    leak_free = int(differs.nonzero()[0]) if bool(differs.any()) else samples
    assert leak_free >= (n_y - 8) * tt.hop, f"the reference's padding leak reaches sample {leak_free} of {samples}"
    check(
        device, "batch_vs_alone", "audio batch item vs alone",
        batch.audio[b : b + 1, :, :leak_free], alone.audio[:, :, :leak_free],
    )  # fmt: skip


@pytest.fixture(scope="module")
def release_case() -> dict:
    """Release shape, seeded random weights; B=2 with 14 and 9 tokens, speakers 1 and 6, languages
    0 and 5, recorded draws; the reference run gives the expected outputs."""
    model = release_model(seed=0)
    inputs = sentence_batch([14, 9], seed=1)
    valid = torch.arange(14)[None] < inputs["x_lengths"][:, None]
    inputs.update(sid=torch.tensor([1, 6]), language=torch.tensor([[0], [5]]) * valid)
    gen = torch.Generator().manual_seed(2)
    inputs.update(noise_scale=0.667, length_scale=1.0, noise_scale_w=0.8, sdp_ratio=0.2)
    inputs["eps_sdp"] = torch.randn(2, 2, 14, generator=gen)
    inputs["eps_p"] = None
    probe = reference_infer(model, {**inputs, "eps_p": None}, max_len=1)  # T_y only: decode one frame
    inputs["eps_p"] = torch.randn(2, 192, probe.attn.shape[2], generator=gen)
    expected = reference_infer(model, inputs)
    # How close the reference durations come to an integer: the device's log-durations must not
    # move any w across one (they are float32 end to end).
    ratio = inputs["sdp_ratio"]
    w = torch.exp(expected.logw_sdp * ratio + expected.logw_dp * (1 - ratio)) * expected.x_mask
    valid = expected.x_mask.bool()
    margin = float(torch.minimum(w - w.floor(), w.ceil() - w)[valid].min())
    return {"model": model, "inputs": inputs, "expected": expected, "margin": margin}


@DEVICE
def test_end_to_end_release_shape(device, release_case: dict) -> None:
    """Release shape (hidden 192, filter 768, 2 heads, 6 layers, gin 256, the 44.1 kHz decoder):
    exact durations, T_y and attn; every intermediate per item (different lengths, speakers and
    languages in one run)."""
    tt = TtMeloTTS(device, release_case["model"])
    inputs = release_case["inputs"]
    uploaded, out = run_tt(tt, inputs)
    actual = tt.download(uploaded, out)
    ratio = inputs["sdp_ratio"]
    logw_error = float(((actual.logw_sdp - release_case["expected"].logw_sdp) * ratio).abs().max()) + float(
        ((actual.logw_dp - release_case["expected"].logw_dp) * (1 - ratio)).abs().max()
    )
    logger.info(f"release: durations' distance to an integer {release_case['margin']:.3e}, logw error {logw_error:.2e}")
    # measured 6.9e-3 and 1.1e-6: the device's float32 log-durations are far from moving a ceil()
    assert logw_error < release_case["margin"] / 100
    figures = check_outputs(device, release_case["expected"], actual, inputs["x_lengths"], tt.hop)
    logger.info(f"release shape: T_y {out.y_lengths}, {figures}")


# ---- host transfers --------------------------------------------------------------------------------


def tiny_model(seed: int = 0) -> MeloTTS:
    """A MeloTTS with every module kind but few ops (3 encoder layers: the fewest with speaker
    conditioning, 2 couplings, 2 upsamplings with one ResBlock each)."""
    torch.manual_seed(seed)
    return MeloTTS(
        219, 32, 32, 64, 2, 3, 3, "1", (3,), ((1, 3, 5),), (4, 4), 32, (8, 8),
        n_speakers=4, gin_channels=16, num_tones=16, num_languages=8, n_flow_layer=2, n_layers_trans_flow=3,
    ).eval()  # fmt: skip


@DEVICE
def test_warm_infer_has_one_sync(device) -> None:
    """Graph capture of a warm `infer` (B=2, max_len cut): the input uploads, ONE device->host read
    (y_lengths), the eps_p upload, the audio download, nothing else; and its audio equals the
    reference's `infer(max_len=...)`."""
    model = tiny_model()
    inputs = sentence_batch([9, 6], seed=3)
    gen = torch.Generator().manual_seed(4)
    inputs.update(noise_scale=0.667, length_scale=1.0, noise_scale_w=0.8, sdp_ratio=0.3, eps_sdp=torch.randn(2, 2, 9, generator=gen))
    probe = reference_infer(model, {**inputs, "eps_p": None}, max_len=1)  # T_y and y_lengths only
    t_y = probe.attn.shape[2]
    inputs["eps_p"] = torch.randn(2, 32, t_y, generator=gen)
    max_len = t_y - 3
    tt = TtMeloTTS(device, model)
    kwargs = {k: inputs[k] for k in (*INPUT_NAMES, *SCALARS, "eps_sdp", "eps_p")}
    tt.infer(**kwargs, max_len=max_len)  # cold: prepares conv weights for these shapes
    report = capture(tt.infer, **kwargs, max_len=max_len)
    read_names = set(host_reads(report))
    reads = [i for i, t in enumerate(report.host_transfers) if t in read_names]
    assert len(reads) == 2, f"device->host reads: {[report.host_transfers[i] for i in reads]}"
    first, last = reads
    uploads_before = report.host_transfers[:first]
    assert all("from_torch" in t for t in uploads_before)
    assert len(uploads_before) == 6, uploads_before  # ids, bert, ja_bert, x_mask, sid, SDP draw
    between = report.host_transfers[first + 1 : last]
    assert len(between) == 1 and "from_torch" in between[0], between  # eps_p, sized by T_y
    assert last == len(report.host_transfers) - 1  # the audio download ends the call
    expected = reference_infer(model, inputs, max_len=max_len).audio
    actual = report.result
    assert actual.shape == expected.shape == (2, 1, max_len * 16)
    lengths = [min(int(n), max_len) * 16 for n in probe.y_lengths]
    check(device, "audio", "audio (max_len)", expected, actual, lengths, padded="match")
