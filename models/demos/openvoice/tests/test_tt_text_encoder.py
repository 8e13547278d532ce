"""TTNN MeloTTS text encoder, relative-position attention and transformer flow (tt/attentions.py,
tt/text_encoder.py, tt/transformer_coupling.py) against the float32 reference and the goldens.

Every module gets the reference's own inputs, so each figure is that module's own error:
attention alone (B = 2, T = 3 < window + 1 and T = 37, not a multiple of 32), the encoder,
the text encoder (goldens tts_small_en and tts_small_b3: 3 items of 25/11/19 tokens,
speakers 1/3/0, languages 2/1/2, non-zero BERT for the middle item) and the reverse flow on
the golden's z_p; then the same modules with seeded random weights in the release shape
(hidden 192, filter 768, 2 heads, 6 layers, 219 symbols, 16 tones, 8 languages, gin 256).
Per item (`helpers.assert_items_close`): valid-region PCC, max error of the item's scale,
first/last valid frame, padded frames (exactly zero where the output is masked); each item
of a batch against the same item run alone. Host-only float64 proofs of the skew index
algebra and of the flow folds.

Bars: measured mock figures (comments) with a margin; on a card, `REAL_PCC` / `REAL_MAX_REL`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import ttnn
from loguru import logger

from models.common.mock_device import assert_no_host_round_trip, capture
from models.demos.openvoice.common.config import parse_config
from models.demos.openvoice.reference.attentions import (
    MultiHeadAttention,
    _absolute_to_relative,
    _relative_to_absolute,
)
from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.tests.helpers import assert_items_close, device_to_host_transfers
from models.demos.openvoice.tt.attentions import TtEncoder, TtMultiHeadAttention, attention_mask
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE
from models.demos.openvoice.tt.conv import precise_compute_config
from models.demos.openvoice.tt.residual_coupling import full_channel_weights
from models.demos.openvoice.tt.text_encoder import TtTextEncoder, upload_speaker
from models.demos.openvoice.tt.tone_color_converter import from_time_major, to_time_major
from models.demos.openvoice.tt.transformer_coupling import FLOW_DTYPE, TtTransformerCouplingBlock
from tests.ttnn.utils_for_testing import pcc_for

DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
GOLDENS = ("tts_small_en", "tts_small_b3")
REAL_PCC, REAL_MAX_REL = 0.99, 0.1  # card: bf16/tf32-operand kernels (module bar of helpers.py)
RELEASE = dict(hidden_channels=192, filter_channels=768, n_heads=2, n_layers=6, inter_channels=192, gin_channels=256)


def bars(device, pcc: float, max_rel: float) -> dict[str, float]:
    """assert_items_close bars: the measured mock figures, or the card's."""
    return {
        "pcc": pcc_for(device, mock=pcc, real=REAL_PCC),
        "max_rel": pcc_for(device, mock=max_rel, real=REAL_MAX_REL),
    }


# float32 attention / encoder / text encoder, max error of the item's scale (PCC 1.0000000 to 8 digits
# everywhere): attention <= 5.7e-7, encoder <= 4.7e-7, text encoder vs the reference <= 1.4e-6,
# vs upstream's goldens <= 7.8e-7 (en) and <= 1.05e-5 (b3: the float32 reference itself is 1.06e-5
# off it), a batch item vs the item alone <= 1.3e-6; bar 0.999999 / 1e-4.
FP32 = dict(pcc=0.999999, max_rel=1e-4)
# bf16 flow (reverse): measured PCC 0.99994 (tts_small_en, bf16 z_p) .. 0.99999, max error 0.25-0.62 %
# of the item's scale; a batch item vs the same item alone (bf16 roundings land differently):
# PCC >= 0.99997, <= 0.54 %; bar 0.9999 / 2 %.
FLOW = dict(pcc=0.9999, max_rel=0.02)


@dataclass
class TextCase:
    model: MeloTTS
    inputs: dict
    outputs: dict  # enc_x, m_p, logs_p, z_p, z, y_mask, x_mask (reference or upstream)

    @property
    def g(self) -> torch.Tensor:
        return self.model.emb_g(self.inputs["sid"]).unsqueeze(-1).detach()


def golden(shared_data: Path, name: str) -> TextCase:
    folder = shared_data / "golden" / name
    model = MeloTTS.load(folder / "config.json", folder / "checkpoint.pth")
    case = torch.load(folder / "case.pt", weights_only=False)
    return TextCase(model, case["inputs"], case["outputs"])


@pytest.fixture(scope="module")
def release(shared_data: Path) -> TextCase:
    """Seeded random weights in the release shape; B = 2 with 23 / 9 tokens and 40 / 23 frames."""
    raw = json.loads((shared_data / "golden/tts_small_b3/config.json").read_text())
    raw["model"].update(RELEASE)
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


def _down(t: ttnn.Tensor, batch: int) -> torch.Tensor:
    return from_time_major(ttnn.to_torch(t).float(), batch)


def _up(device, x: torch.Tensor, dtype: ttnn.DataType = ttnn.float32) -> ttnn.Tensor:
    return ttnn.from_torch(x.float(), dtype=dtype, layout=ttnn.TILE_LAYOUT, device=device)


def _log(name: str, figures: list[dict[str, float]]) -> None:
    logger.info(f"{name}: " + "; ".join(f"PCC {f['pcc']:.8f} max_rel {f['max_rel']:.2e}" for f in figures))


# ---- host-only proofs (float64) ------------------------------------------------------------


def _band_to_absolute_host(r: torch.Tensor, t: int, w: int) -> torch.Tensor:
    """torch statement of tt/attentions.band_to_absolute (same pads, re-view and slice)."""
    skewed = F.pad(r, [0, t, 0, 2 * w]).reshape(*r.shape[:-2], t + 2 * w + 1, t + 2 * w)
    return skewed[..., :t, w : w + t]


def _absolute_to_band_host(p: torch.Tensor, t: int, w: int) -> torch.Tensor:
    """torch statement of tt/attentions.absolute_to_band."""
    skewed = F.pad(p, [w, w, 0, 2 * w + 1]).reshape(*p.shape[:-2], t + 2 * w, t + 2 * w + 1)
    return skewed[..., :t, : 2 * w + 1]


@pytest.mark.parametrize("length", [1, 2, 4, 5, 9, 31, 32, 40])
def test_relative_skew_is_exact(length: int) -> None:
    """The band skews on [T, 9] == upstream's relative<->absolute on [T, 2T-1], both sides, float64."""
    torch.manual_seed(length)
    ref = MultiHeadAttention(8, 8, 2, window_size=4).double()
    q, p = torch.randn(2, 2, length, 4, dtype=torch.float64), torch.rand(2, 2, length, length, dtype=torch.float64)
    with torch.inference_mode():
        rel_k = ref._relative_embeddings(ref.emb_rel_k, length)
        expected_k = _relative_to_absolute(q @ rel_k.unsqueeze(0).transpose(-2, -1))
        actual_k = _band_to_absolute_host(q @ ref.emb_rel_k[0].t(), length, 4)
        torch.testing.assert_close(actual_k, expected_k, rtol=0, atol=1e-12)
        rel_v = ref._relative_embeddings(ref.emb_rel_v, length)
        expected_v = _absolute_to_relative(p) @ rel_v.unsqueeze(0)
        actual_v = _absolute_to_band_host(p, length, 4) @ ref.emb_rel_v[0]
        torch.testing.assert_close(actual_v, expected_v, rtol=0, atol=1e-12)


def test_flow_folding_is_exact(shared_data: Path) -> None:
    """Full-vector couplings (flips and split folded into the weights) on the MASKED z_p == the
    reference flow on unmasked z_p (noise in padded frames), reverse and forward, float64, B = 2."""
    model = golden(shared_data, "tts_small_b3").model.double()
    couplings = list(model.flow.flows)[::2]
    torch.manual_seed(0)
    frames = 29
    mask = sequence_mask(torch.tensor([29, 13]), frames).unsqueeze(1).double()
    x = torch.randn(2, 2 * couplings[0].half_channels, frames, dtype=torch.float64)
    g = torch.randn(2, model.emb_g.embedding_dim, 1, dtype=torch.float64)

    def folded(x: torch.Tensor, reverse: bool) -> torch.Tensor:
        x = x * mask
        order = list(enumerate(couplings))
        for index, layer in reversed(order) if reverse else order:
            pre_w, pre_b, post_w, post_b = full_channel_weights(layer, flipped=index % 2 == 1)
            h = layer.enc(F.conv1d(x, pre_w, pre_b) * mask, mask, g=g)
            m = F.conv1d(h, post_w, post_b) * mask
            x = x - m if reverse else x + m
        return x

    with torch.inference_mode():
        reverse = model.flow(x, mask, g=g, reverse=True)
        assert float((reverse * (1 - mask)).abs().max()) == 0.0  # upstream's z: zero on padded frames
        torch.testing.assert_close(folded(x, reverse=True), reverse, rtol=0, atol=1e-12)
        forward = model.flow(x * mask, mask, g=g, reverse=False)
        torch.testing.assert_close(folded(x, reverse=False), forward, rtol=0, atol=1e-12)


# ---- attention and encoder -----------------------------------------------------------------


def _attention(device, ref: MultiHeadAttention, x: torch.Tensor, lengths: list[int]) -> torch.Tensor:
    b, _, t = x.shape
    tt = TtMultiHeadAttention(device, ref, dtype=ttnn.float32, compute=precise_compute_config(device))
    mask = _up(device, sequence_mask(torch.tensor(lengths), t).float().reshape(1, 1, b * t, 1))
    return _down(tt(_up(device, to_time_major(x)), attention_mask(mask, b, t), b, t), b)


@DEVICE
@pytest.mark.parametrize("lengths", [[3, 2], [37, 20]], ids=["T3_below_window", "T37"])
def test_attention(device, lengths: list[int]) -> None:
    """Release-shape attention (192 channels, 2 heads of 96), B = 2, fp32; per item and item alone."""
    torch.manual_seed(0)
    ref = MultiHeadAttention(192, 192, 2, window_size=4).eval()
    t = max(lengths)
    mask = sequence_mask(torch.tensor(lengths), t).unsqueeze(1).float()
    x = torch.randn(2, 192, t) * mask
    with torch.inference_mode():
        expected = ref(x, mask.unsqueeze(2) * mask.unsqueeze(-1))
    actual = _attention(device, ref, x, lengths)
    # The attention output is not masked (upstream's neither): padded query rows must match too.
    # measured: PCC 1.0000000 (1 - 3e-14), max error <= 5.7e-7 of the scale (item alone <= 4.2e-7); bar FP32
    _log("attention", assert_items_close("attention", expected, actual, lengths, **bars(device, **FP32)))
    alone = _attention(device, ref, x[1:, :, : lengths[1]], lengths[1:])
    figures = assert_items_close("attention alone", actual[1:, :, : lengths[1]], alone, **bars(device, **FP32))
    _log("attention item 1 alone", figures)


@DEVICE
def test_encoder_release(device, release: TextCase) -> None:
    """The text encoder's Encoder (6 layers, FFN k3, speaker before layer 2) on the reference's own
    input, per item; then item 1 alone."""
    model, i = release.model, release.inputs
    lengths = i["x_lengths"].tolist()
    b, t = i["x"].shape
    torch.manual_seed(1)
    mask = sequence_mask(i["x_lengths"], t).unsqueeze(1).float()
    x = torch.randn(b, 192, t) * 5
    enc = model.enc_p.encoder
    with torch.inference_mode():
        expected = enc(x, mask, g=release.g)
    tt = TtEncoder(device, enc, dtype=ttnn.float32, compute=precise_compute_config(device))

    def run(x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        speaker = upload_speaker(device, g, t)
        return _down(tt(_up(device, to_time_major(x)), _up(device, mask.reshape(1, 1, -1, 1)), b, t, speaker), b)

    actual = run(x, mask, release.g)
    # measured: PCC 1.0000000, max error <= 4.1e-7 of the scale (item alone 4.7e-7); padded rows exactly 0; bar FP32
    _log("encoder", assert_items_close("encoder", expected, actual, lengths, padded="zero", **bars(device, **FP32)))
    n = lengths[1]
    alone = run(x[1:, :, :n], mask[1:, :, :n], release.g[1:])
    _log("encoder item 1 alone", assert_items_close("encoder alone", actual[1:, :, :n], alone, **bars(device, **FP32)))


@DEVICE
def test_speaker_rows_add_bias_per_row_exactly(device, release: TextCase) -> None:
    """spk_emb_linear as `SpeakerRows.project`: S @ (g @ W + b) is exactly each item's g @ W + b
    copied to its rows (S one-hot), and that is the reference nn.Linear."""
    enc = release.model.enc_p.encoder
    tt = TtEncoder(device, enc, dtype=ttnn.float32, compute=precise_compute_config(device))
    t = 7
    speaker = upload_speaker(device, release.g, t)
    rows = ttnn.to_torch(speaker.project(tt.spk_emb_linear)).float().reshape(2 * t, -1)
    per_item = ttnn.to_torch(tt.spk_emb_linear(speaker.g, 1, 2)).float().reshape(2, -1)
    assert torch.equal(rows, per_item.repeat_interleave(t, dim=0))  # the row expansion adds no error
    with torch.inference_mode():
        expected = enc.spk_emb_linear(release.g[:, :, 0])
    # measured max |error| 0 (mock: the same float32 product and bias add as nn.Linear); bar 1e-6
    logger.info(f"spk_emb_linear max abs error {float((per_item - expected).abs().max()):.2e}")
    torch.testing.assert_close(per_item, expected, rtol=0, atol=pcc_for(device, mock=1e-6, real=1e-2))


# ---- text encoder --------------------------------------------------------------------------


def _text_encoder(device, tt: TtTextEncoder, case: TextCase, items: slice = slice(None)) -> dict[str, torch.Tensor]:
    i = {k: v[items] for k, v in case.inputs.items() if isinstance(v, torch.Tensor)}
    t = int(i["x_lengths"].max())
    inputs = tt.prepare_inputs(
        i["x"][:, :t], i["x_lengths"], i["tone"][:, :t], i["language"][:, :t], i["bert"][..., :t], i["ja_bert"][..., :t]
    )
    enc_x, m_p, logs_p = tt(inputs, upload_speaker(device, case.g[items], t))
    b = inputs.batch_size
    return {"enc_x": _down(enc_x, b), "m_p": _down(m_p, b), "logs_p": _down(logs_p, b)}


def _check_text_encoder(device, case: TextCase, name: str) -> None:
    tt = TtTextEncoder(device, case.model.enc_p)
    lengths = case.inputs["x_lengths"].tolist()
    actual = _text_encoder(device, tt, case)
    for key, value in actual.items():
        expected = case.outputs[key]
        figures = assert_items_close(f"{name} {key}", expected, value, lengths, padded="zero", **bars(device, **FP32))
        _log(f"{name} {key}", figures)
    if len(lengths) == 1:
        return
    shortest = min(range(len(lengths)), key=lengths.__getitem__)
    alone = _text_encoder(device, tt, case, slice(shortest, shortest + 1))
    n = lengths[shortest]
    for key, value in alone.items():
        batch_item = actual[key][shortest : shortest + 1, :, :n]
        figures = assert_items_close(f"{name} {key} alone", batch_item, value, **bars(device, **FP32))
        _log(f"{name} {key} item {shortest} alone", figures)


@DEVICE
@pytest.mark.parametrize("name", GOLDENS)
def test_text_encoder_golden(device, shared_data: Path, name: str) -> None:
    """Against upstream's recorded enc_x / m_p / logs_p; in the batch of 3 the shortest item also run alone."""
    _check_text_encoder(device, golden(shared_data, name), name)


@DEVICE
def test_text_encoder_release(device, release: TextCase) -> None:
    _check_text_encoder(device, release, "release")


@DEVICE
def test_forward_has_no_host_round_trip(device, shared_data: Path) -> None:
    """Text encoder and flow forwards (batch of 3): the first call at a new length uploads (prepared
    conv weights, reshape helpers) but never reads back; the next call is device only."""
    name = "tts_small_b3"
    case = golden(shared_data, name)
    i, o = case.inputs, case.outputs
    b, t = i["x"].shape
    te = TtTextEncoder(device, case.model.enc_p)
    inputs = te.prepare_inputs(i["x"], i["x_lengths"], i["tone"], i["language"], i["bert"], i["ja_bert"])
    speaker = upload_speaker(device, case.g, t)
    cold = capture(te, inputs, speaker)  # first call at this length: prepares conv weights, uploads only
    assert device_to_host_transfers(cold) == [], cold.host_transfers
    report = capture(te, inputs, speaker)
    assert_no_host_round_trip(report)
    logger.info(f"{name} text encoder forward: {len(report.operations)} ops, no host transfer")
    enc_x = _down(report.result[0], b)
    assert_items_close("enc_x", o["enc_x"], enc_x, i["x_lengths"], padded="zero", **bars(device, **FP32))

    flow = TtTransformerCouplingBlock(device, case.model.flow)
    t_y = o["z_p"].shape[-1]
    args = (  # float32 z_p, mask and speaker rows, as the pipeline's
        _up(device, to_time_major(o["z_p"])),
        _up(device, o["y_mask"].reshape(1, 1, -1, 1)),
        b,
        t_y,
        upload_speaker(device, case.g, t_y),
    )
    cold = capture(flow, *args)
    assert device_to_host_transfers(cold) == [], cold.host_transfers
    report = capture(flow, *args)
    assert_no_host_round_trip(report)
    logger.info(f"{name} flow forward: {len(report.operations)} ops, no host transfer")


# ---- transformer flow ----------------------------------------------------------------------


def _flow(
    device, tt: TtTransformerCouplingBlock, case: TextCase, dtype: ttnn.DataType, items: slice = slice(None)
) -> torch.Tensor:
    """Reverse flow on the case's z_p uploaded as `dtype` (the pipeline's z_p is float32)."""
    z_p, y_mask, g = case.outputs["z_p"][items], case.outputs["y_mask"][items], case.g[items]
    t_y = int(y_mask.sum(-1).max())
    b = z_p.shape[0]
    z = tt(
        _up(device, to_time_major(z_p[..., :t_y]), dtype),
        _up(device, y_mask[..., :t_y].reshape(1, 1, -1, 1), dtype),
        b,
        t_y,
        upload_speaker(device, g, t_y, dtype),
    )
    assert z.dtype == dtype  # the residual stream keeps the input's dtype
    return _down(z, b)


def _check_flow(device, case: TextCase, name: str, dtype: ttnn.DataType) -> None:
    tt = TtTransformerCouplingBlock(device, case.model.flow)
    assert tt.dtype == FLOW_DTYPE
    lengths = case.outputs["y_mask"].sum((1, 2)).long().tolist()
    actual = _flow(device, tt, case, dtype)
    # upstream's z is zero on padded frames (see transformer_coupling.py); ours exactly too
    figures = assert_items_close(f"{name} z", case.outputs["z"], actual, lengths, padded="zero", **bars(device, **FLOW))
    _log(f"{name} flow z ({dtype} z_p)", figures)
    if len(lengths) == 1:
        return
    shortest = min(range(len(lengths)), key=lengths.__getitem__)
    n = lengths[shortest]
    alone = _flow(device, tt, case, dtype, slice(shortest, shortest + 1))
    batch_item = actual[shortest : shortest + 1, :, :n]
    figures = assert_items_close(f"{name} z alone", batch_item, alone, **bars(device, **FLOW))
    _log(f"{name} flow z item {shortest} alone", figures)


@DEVICE
@pytest.mark.parametrize(
    "name, dtype", [("tts_small_en", ttnn.bfloat16), ("tts_small_b3", ttnn.float32)], ids=["en_bf16_zp", "b3_fp32_zp"]
)
def test_flow_reverse_golden(device, shared_data: Path, name: str, dtype: ttnn.DataType) -> None:
    """Reverse flow fed upstream's z_p (unmasked) -> upstream's z, per item; in the batch of 3 the
    shortest item also run alone. z_p as bf16 (the flow's own dtype) and as float32 (the pipeline's)."""
    _check_flow(device, golden(shared_data, name), name, dtype)


@DEVICE
def test_flow_reverse_release(device, release: TextCase) -> None:
    _check_flow(device, release, "release", ttnn.float32)
