# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Per-module PCC: one TTNN model module against its float32 reference module.

Run: `pytest models/demos/openvoice/tests/test_per_module_pcc.py` (on the card; in the standalone
repository, on its mock Wormhole where there is none).

Every module gets the reference's OWN input, so each figure is that module's own error (whole
models chained end to end are in test_openvoice.py, single ops in test_per_op_pcc.py). Every
output is checked whole (PCC) and per batch item (`helpers.assert_items_close`: valid-region PCC,
max |error| relative to the item's scale, first / last valid frame, padded frames exactly zero
where the output is masked). Sections per model family:

* converter (release config: real 513-bin spectrogram of 3 s of speech, real V2 base-speaker
  embeddings, seeded random weights): posterior encoder, flow forward, flow reverse and generator
  each on the reference's input; the ResBlock2 generator conditioned per batch item; the per-item
  decoder mask (a batch item equals the item alone in every frame);
* clone: the reference encoder stage by stage (layernorm, 6 convs, GRU, projection) on the REAL
  trained weights and the golden's three clips;
* MeloTTS: relative-position attention (B = 2, T = 3 < window + 1 and T = 37), the 6-layer encoder,
  the text encoder (goldens tts_small_en / tts_small_b3 and the release shape), the reverse
  transformer flow on the golden's z_p, both duration predictors (goldens, release shapes, a batch
  item against the item alone), length regulation (goldens and edge cases, exact).

Bars: `helpers.bar(device, module)` / `helpers.bars(...)` (measured mock figures with a margin; the
figure next to each assertion is the one measured on the mock); on a card, the device bars.
"""


from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import ttnn
from loguru import logger

from models.demos.openvoice.reference.attentions import MultiHeadAttention
from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.generator import Generator
from models.demos.openvoice.reference.residual_coupling import ResidualCouplingBlock
from models.demos.openvoice.reference.length_regulator import expand, regulate_lengths
from models.demos.openvoice.tests.helpers import (
    pcc_for,
    CONVERTER_MODULE_OF,
    DEVICE,
    FP32,
    FP32_ALONE,
    GOLDEN_CLIPS,
    ConverterCase,
    DurationCase,
    TextCase,
    assert_items_close,
    bars,
    check_module,
    check_stage,
    converter_release,  # noqa: F401 (fixture)
    download,
    duration_golden,
    duration_release,
    golden_case,
    melo_golden,
    module_pcc,
    reference_encoder,
    single_thread_torch,  # noqa: F401 (fixture)
    text_golden,
    text_release,  # noqa: F401 (fixture)
    upload_durations,
    upload_tile,
    upload_time_major,
)
from models.demos.openvoice.tt.attentions import TtEncoder, TtMultiHeadAttention, attention_mask
from models.demos.openvoice.tt.conv import precise_compute_config
from models.demos.openvoice.tt.residual_coupling import TtResidualCouplingBlock
from models.demos.openvoice.tt.duration_predictor import TtDurationPredictor
from models.demos.openvoice.tt.generator import TtGenerator
from models.demos.openvoice.tt.length_regulator import TtLengthRegulator
from models.demos.openvoice.tt.reference_encoder import TtReferenceEncoder
from models.demos.openvoice.tt.stochastic_duration_predictor import TtStochasticDurationPredictor
from models.demos.openvoice.tt.text_encoder import TtTextEncoder, upload_speaker
from models.demos.openvoice.tt.commons import from_time_major, to_time_major
from models.demos.openvoice.tt.tone_color_converter import TtToneColorConverter
from models.demos.openvoice.tt.transformer_coupling import FLOW_DTYPE, TtTransformerCouplingBlock
from models.demos.openvoice.tt.wavenet import SpeakerRows
from tests.ttnn.utils_for_testing import assert_with_pcc


# ====================================================================================================
# converter
# ====================================================================================================
# TTNN tone-colour converter modules (tt/) against the float32 reference, release config. Per module
# (posterior encoder, flow forward, flow reverse, decoder) each TT module gets the reference's own
# input, so its error is its own. Bars: `helpers.bar(device, module)` (per module, defined once in
# helpers.py with the measured mock figures). Padded frames: exactly zero for the masked latents,
# "match" for the unmasked decoder's audio, as upstream.


@DEVICE
def test_posterior_encoder(device, converter_release: ConverterCase) -> None:
    tt = TtToneColorConverter(device, converter_release.model)
    z, m_q, logs_q = tt.encode(converter_release.upload(tt))
    # measured on the mock: z PCC 0.999982 max_rel 6.6e-3, m_q 0.999963 / 9.1e-3, logs_q 0.999962 / 9.9e-3;
    # bars 0.9998 / 0.035, 0.9998 / 0.03, 0.99985 / 0.03 (helpers.MOCK_BARS: worst case is vc_small_b2)
    for name, value in (("z", z), ("m_q", m_q), ("logs_q", logs_q)):
        pcc = check_module(device, CONVERTER_MODULE_OF[name], converter_release.outputs[name], download(value, 1))
        logger.info(f"posterior encoder {name}: PCC {pcc:.6f}")


@DEVICE
@pytest.mark.parametrize(
    "stage, given, produced, module",
    [
        ("flow_forward", "z", "z_p", "flow_forward"),  # measured 0.999993 / 5.9e-3 (mock); bar 0.99998 / 0.012
        ("flow_reverse", "z_p", "z_hat", "flow_reverse"),  # measured 0.999991 / 4.9e-3; bar 0.99997 / 0.01
        ("decode", "z_hat", "audio", "generator"),  # measured 0.999435 / 1.1e-2; bar 0.9988 / 0.025
    ],
)
def test_stage_on_reference_input(device, converter_release: ConverterCase, stage: str, given: str, produced: str, module: str) -> None:
    """Flow forward, flow reverse and generator, each fed the reference's own input."""
    tt = TtToneColorConverter(device, converter_release.model)
    output = getattr(tt, stage)(converter_release.upload(tt), upload_time_major(device, converter_release.outputs[given]))
    pcc = check_module(device, module, converter_release.outputs[produced], download(output, 1))
    logger.info(f"{stage} {produced}: PCC {pcc:.6f}")


@DEVICE
def test_generator_resblock2_conditioned(device) -> None:
    """ResBlock2 decoder (HiFi-GAN V3 blocks), other rates/kernels, with speaker conditioning
    (not zero_g) per batch item: B=2, 37 frames, a different embedding per item."""
    torch.manual_seed(0)
    ref = Generator(16, "2", [3, 5], [[1, 2], [2, 6]], [4, 2], 32, [8, 4], gin_channels=8).eval()
    x, g = torch.randn(2, 16, 37), torch.randn(2, 8, 1)
    tt = TtGenerator(device, ref, zero_cond=False, compute=precise_compute_config(device))
    segments = torch.eye(2).repeat_interleave(37, dim=0).reshape(1, 1, 74, 2)
    upload = lambda t: ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)  # noqa: E731
    speaker = SpeakerRows(upload(segments), upload(g[:, :, 0].reshape(1, 1, 2, 8)))
    audio = tt(upload_time_major(device, x), 2, 37, speaker)
    with torch.inference_mode():
        expected = ref(x, g=g)
    check_module(device, "generator", expected, download(audio, 2))  # measured 0.999990 / 8.1e-3 (mock); bar 0.9988 / 0.025



@DEVICE
def test_generator_mask_makes_batch_items_equal_alone(device) -> None:
    """The opt-in per-item mask (MeloTTS's speak path): ResBlock1 decoder, B=2 with 37 and 29 frames.
    Masked, the batch matches the reference's masked batch per item and the shorter item equals the item
    run alone in EVERY frame to the arithmetic's noise (measured 2.05e-4 of its scale, mock); unmasked,
    its last frame is off by 0.24 (the leak)."""
    torch.manual_seed(0)
    ref = Generator(16, "1", [3, 7], [[1, 3, 5], [1, 3, 5]], [4, 2], 32, [8, 4]).eval()
    lengths, hop = [37, 29], 8
    x_mask = sequence_mask(torch.tensor(lengths), 37).unsqueeze(1).float()
    x = torch.randn(2, 16, 37) * x_mask
    tt = TtGenerator(device, ref, zero_cond=True, compute=precise_compute_config(device))
    masked = download(tt(upload_time_major(device, x), 2, 37, mask=upload_time_major(device, x_mask)), 2)
    unmasked = download(tt(upload_time_major(device, x), 2, 37), 2)
    n = lengths[1]
    alone = download(tt(upload_time_major(device, x[1:, :, :n]), 1, n), 1)
    with torch.inference_mode():
        expected = ref(x, x_mask=x_mask)
    scale = float(alone.abs().max())
    per_frame = lambda out: (out[1, 0, : n * hop] - alone[0, 0]).abs().reshape(n, hop).amax(-1) / scale  # noqa: E731
    leak_masked, leak_unmasked = per_frame(masked), per_frame(unmasked)
    logger.info(f"batch item vs alone, worst frame: masked {leak_masked.max():.1e}, unmasked last frame {leak_unmasked[-1]:.2f}")
    # measured 2.05e-4 (mock, Wormhole numerics: the last float32 stages' operands are read as TF32, so an
    # ulp of summation-order difference between the batched and the single conv can flip a truncated bit)
    assert leak_masked.max() < 4.1e-4, f"masked batch item differs from the item alone by {leak_masked.max():.2e} (frame {leak_masked.argmax()})"
    assert leak_unmasked[-1] > 0.05  # the test sees the leak the mask removes (measured 0.24)
    # measured 0.999988 / 4.0e-3 (mock); generator bar 0.9988 / 0.025
    check_module(device, "generator", expected, masked, [length * hop for length in lengths], padded="ignore")

@DEVICE
def test_flow_batch_item_equals_item_alone(device) -> None:
    """The converter flow (WaveNet couplings with speaker conditioning), B=2 with 40 and 31 frames: the
    padded item equals the item run alone in EVERY frame. Each coupling masks its `pre` output as
    upstream does; unmasked, the pre bias fills the padded frames and the k5 WaveNet convs read it into
    the last valid frames (the end-to-end bars do not see it: 1.6e-3 -> 2.7e-3 of z_p's scale)."""
    torch.manual_seed(0)
    ref = ResidualCouplingBlock(8, 16, 5, 1, 2, n_flows=4, gin_channels=8).eval()
    for parameter in ref.parameters():  # upstream zero-initialises `post`; trained weights are not zero
        torch.nn.init.normal_(parameter, std=0.3)
    lengths, frames = [40, 31], 40
    x_mask = sequence_mask(torch.tensor(lengths), frames).unsqueeze(1).float()
    x, g = torch.randn(2, 8, frames) * x_mask, torch.randn(2, 8, 1)
    tt = TtResidualCouplingBlock(device, ref, compute=precise_compute_config(device))
    upload = lambda t: ttnn.from_torch(t, dtype=ttnn.bfloat16, layout=ttnn.TILE_LAYOUT, device=device)  # noqa: E731

    def run(x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        speaker = SpeakerRows(upload(torch.eye(b).repeat_interleave(t, dim=0).reshape(1, 1, b * t, b)), upload(g[:, :, 0].reshape(1, 1, b, -1)))
        return download(tt(upload_time_major(device, x), upload_time_major(device, mask), b, t, speaker), b)

    batch = run(x, x_mask, g)
    n = lengths[1]
    alone = run(x[1:, :, :n], x_mask[1:, :, :n], g[1:])
    per_frame = (batch[1, :, :n] - alone[0]).abs().amax(0) / float(alone.abs().max())
    logger.info(f"flow: batch item vs alone, worst frame {per_frame.max():.1e} (frame {int(per_frame.argmax())})")
    # measured 0 (mock, Wormhole numerics): the item sees exactly what it sees alone
    assert per_frame.max() <= 1e-6, f"padded batch item differs from the item alone by {per_frame.max():.2e} at frame {int(per_frame.argmax())}"
    with torch.inference_mode():
        expected = ref(x, x_mask, g=g)
    # against the reference: measured PCC 0.999959 (mock); these random weights (std 0.3) are rougher than
    # the release's, so the bar is this case's own, at about 2x the error
    assert_items_close("flow (random weights)", expected, batch, lengths, pcc=0.9999, max_rel=0.02, padded="zero")


# ====================================================================================================
# clone
# ====================================================================================================
# Device reference encoder (tt/reference_encoder.py) stage by stage on the REAL trained weights.
# Bars: helpers.check_stage (per stage: "layernorm", "encoder_conv", "gru", "embedding").


def _nhwc_rows(x: torch.Tensor) -> torch.Tensor:
    """Reference NCHW activation -> ttnn's flattened NHWC [1, 1, H*W, C]."""
    return x.permute(0, 2, 3, 1).reshape(1, 1, -1, x.shape[1])


@DEVICE
@pytest.mark.parametrize("clip", GOLDEN_CLIPS)
def test_every_stage_matches_reference(device, clip: str) -> None:
    ref = reference_encoder()
    case = golden_case()
    spec = case["outputs"]["spec"][clip].transpose(1, 2).unsqueeze(1)  # [1, 1, T, 513]
    frames = spec.shape[2]
    encoder = TtReferenceEncoder(device, ref)

    tt_spec = ttnn.from_torch(spec, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT, device=device)
    normed = encoder.normalize(tt_spec)
    convs, steps, _ = encoder.conv_stack(normed, frames, keep_all=True)
    hidden = encoder.gru(encoder.gru_inputs(convs[-1], steps), steps)
    embedding = encoder.project(hidden)

    with torch.no_grad():
        x = ref.layernorm(spec)
        # measured (mock, three clips): layernorm exact, convs / gru / embedding PCC > 0.9999995 and
        # max_rel <= 8.5e-7; bars 0.99999 / 1e-5 (helpers.MOCK_BARS)
        pccs = {"layernorm": check_stage(device, "layernorm", x, ttnn.to_torch(normed).float())}
        for i, (conv, tt_out) in enumerate(zip(ref.convs, convs)):
            x = F.relu(conv(x))
            pccs[f"conv{i}"] = check_stage(device, "encoder_conv", _nhwc_rows(x), ttnn.to_torch(tt_out).float(), f"conv{i}")
        assert steps == x.shape[2] == -(-frames // 64)
        _, h = ref.gru(x.transpose(1, 2).reshape(1, steps, -1))
        pccs["gru"] = check_stage(device, "gru", h.reshape(1, 1, 1, -1), ttnn.to_torch(hidden).float())
    expected = case["outputs"]["se"][clip].reshape(1, 1, 1, -1)  # upstream's embedding
    pccs["embedding"] = check_stage(device, "embedding", expected, ttnn.to_torch(embedding).float())
    print(clip, {k: round(v, 6) for k, v in pccs.items()})


# ====================================================================================================
# MeloTTS
# ====================================================================================================
# Text encoder, relative-position attention and transformer flow (tt/attentions.py,
# tt/text_encoder.py, tt/transformer_coupling.py): attention alone (B = 2, T = 3 < window + 1 and
# T = 37, not a multiple of 32), the encoder, the text encoder (goldens tts_small_en and tts_small_b3:
# 3 items of 25/11/19 tokens, speakers 1/3/0, languages 2/1/2, non-zero BERT for the middle item) and
# the reverse flow on the golden's z_p; then the same modules with seeded random weights in the
# release shape (hidden 192, filter 768, 2 heads, 6 layers, 219 symbols, 16 tones, 8 languages,
# gin 256); each item of a batch also against the same item run alone. Bars: measured mock figures
# (comments) with a margin (helpers.FP32 and FLOW below); on a card, helpers.REAL_PCC / REAL_MAX_REL.


GOLDENS = ("tts_small_en", "tts_small_b3")


# bf16 flow (reverse), emulated Wormhole arithmetic: worst 1 - PCC 5.5e-5 and max error 6.8e-3 of the
# item's scale (tts_small_en, bf16 z_p); a batch item vs the same item alone: 1 - PCC <= 9.8e-7, <= 2.1e-3.
FLOW = dict(pcc=0.99989, max_rel=0.014)  # measured 1 - PCC 5.5e-5 / 6.8e-3 (tts_small_en z)


def _log(name: str, figures: list[dict[str, float]]) -> None:
    logger.info(f"{name}: " + "; ".join(f"PCC {f['pcc']:.8f} max_rel {f['max_rel']:.2e}" for f in figures))


# ---- attention and encoder ---------------------------------------------------------------------------


def _attention(device, ref: MultiHeadAttention, x: torch.Tensor, lengths: list[int]) -> torch.Tensor:
    b, _, t = x.shape
    tt = TtMultiHeadAttention(device, ref, dtype=ttnn.float32, compute=precise_compute_config(device))
    mask = upload_tile(device, sequence_mask(torch.tensor(lengths), t).float().reshape(1, 1, b * t, 1))
    return download(tt(upload_tile(device, to_time_major(x)), attention_mask(mask, b, t), b, t), b)


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
    figures = assert_items_close("attention alone", actual[1:, :, : lengths[1]], alone, **bars(device, **FP32_ALONE))
    _log("attention item 1 alone", figures)


@DEVICE
def test_encoder_release(device, text_release: TextCase) -> None:
    """The text encoder's Encoder (6 layers, FFN k3, speaker before layer 2) on the reference's own
    input, per item; then item 1 alone."""
    model, i = text_release.model, text_release.inputs
    lengths = i["x_lengths"].tolist()
    b, t = i["x"].shape
    torch.manual_seed(1)
    mask = sequence_mask(i["x_lengths"], t).unsqueeze(1).float()
    x = torch.randn(b, 192, t) * 5
    enc = model.enc_p.encoder
    with torch.inference_mode():
        expected = enc(x, mask, g=text_release.g)
    tt = TtEncoder(device, enc, dtype=ttnn.float32, compute=precise_compute_config(device))

    def run(x: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        b, _, t = x.shape
        speaker = upload_speaker(device, g, t)
        return download(tt(upload_tile(device, to_time_major(x)), upload_tile(device, mask.reshape(1, 1, -1, 1)), b, t, speaker), b)

    actual = run(x, mask, text_release.g)
    # measured: PCC 1.0000000, max error <= 4.1e-7 of the scale (item alone 4.7e-7); padded rows exactly 0; bar FP32
    _log("encoder", assert_items_close("encoder", expected, actual, lengths, padded="zero", **bars(device, **FP32)))
    n = lengths[1]
    alone = run(x[1:, :, :n], mask[1:, :, :n], text_release.g[1:])
    _log("encoder item 1 alone", assert_items_close("encoder alone", actual[1:, :, :n], alone, **bars(device, **FP32_ALONE)))


# ---- text encoder ------------------------------------------------------------------------------------


def _text_encoder(device, tt: TtTextEncoder, case: TextCase, items: slice = slice(None)) -> dict[str, torch.Tensor]:
    i = {k: v[items] for k, v in case.inputs.items() if isinstance(v, torch.Tensor)}
    t = int(i["x_lengths"].max())
    inputs = tt.prepare_inputs(
        i["x"][:, :t], i["x_lengths"], i["tone"][:, :t], i["language"][:, :t], i["bert"][..., :t], i["ja_bert"][..., :t]
    )
    enc_x, m_p, logs_p = tt(inputs, upload_speaker(device, case.g[items], t))
    b = inputs.batch_size
    return {"enc_x": download(enc_x, b), "m_p": download(m_p, b), "logs_p": download(logs_p, b)}


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
        figures = assert_items_close(f"{name} {key} alone", batch_item, value, **bars(device, **FP32_ALONE))
        _log(f"{name} {key} item {shortest} alone", figures)


@DEVICE
@pytest.mark.parametrize("name", GOLDENS)
def test_text_encoder_golden(device, shared_data: Path, name: str) -> None:
    """Against upstream's recorded enc_x / m_p / logs_p; in the batch of 3 the shortest item also run alone."""
    _check_text_encoder(device, text_golden(shared_data, name), name)


@DEVICE
def test_text_encoder_release(device, text_release: TextCase) -> None:
    _check_text_encoder(device, text_release, "release")


# ---- transformer flow --------------------------------------------------------------------------------


def _flow(
    device, tt: TtTransformerCouplingBlock, case: TextCase, dtype: ttnn.DataType, items: slice = slice(None)
) -> torch.Tensor:
    """Reverse flow on the case's z_p uploaded as `dtype` (the pipeline's z_p is float32)."""
    z_p, y_mask, g = case.outputs["z_p"][items], case.outputs["y_mask"][items], case.g[items]
    t_y = int(y_mask.sum(-1).max())
    b = z_p.shape[0]
    z = tt(
        upload_tile(device, to_time_major(z_p[..., :t_y]), dtype),
        upload_tile(device, y_mask[..., :t_y].reshape(1, 1, -1, 1), dtype),
        b,
        t_y,
        upload_speaker(device, g, t_y, dtype),
    )
    assert z.dtype == dtype  # the residual stream keeps the input's dtype
    return download(z, b)


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
    _check_flow(device, text_golden(shared_data, name), name, dtype)


@DEVICE
def test_flow_reverse_release(device, text_release: TextCase) -> None:
    _check_flow(device, text_release, "release", ttnn.float32)


# ---- duration predictors (tt/duration_predictor.py, tt/stochastic_duration_predictor.py) -------------


# Both predictors get the reference's own inputs (the golden `enc_x`, `x_mask`, the speaker
# embeddings `emb_g(sid)` and the recorded SDP noise `eps_sdp * noise_scale_w`) and must give
# the golden log-durations `logw_dp` / `logw_sdp` per batch item (valid frames close, padded
# frames exactly zero) and, after sdp_ratio mixing, exp, length_scale and ceil, EXACTLY the
# reference's integer durations (on the mock; a card may move a token by one frame). Cases:
# golden `tts_small_en` (B=1, 25 tokens, SDP output up to 9.7: beyond the spline's tail bound),
# `tts_small_b3` (B=3, lengths 25/11/19, speakers 1/3/0) and the release shapes (hidden 192,
# DP filter 256, SDP filter 192, gin 256; seeded random weights) with B=2. Plus: a batch item
# equals the item run alone.


# Per-item bars (assert_items_close: valid-region PCC, and max |error| relative to the item's
# max |logw|, first/last valid frame included; padded frames exactly 0). Mock, emulated Wormhole
# arithmetic (the float32 products as split-BF16 products), worst item over the three cases below.
# Card: the module bar and a few percent of the scale.
ITEM_MAX_REL_MOCK = 4.4e-5  # measured 2.2e-5 (tts_small_en SDP); the split-BF16 float32 products


ITEM_MAX_REL_REAL = 0.05


ITEM_PCC_MOCK = 0.9999999996  # measured 1 - PCC 1.8e-10 (tts_small_en SDP)


def run(device, case: DurationCase) -> tuple[torch.Tensor, torch.Tensor]:
    """(logw_sdp, logw_dp) [B, 1, T] of the TT predictors."""
    compute = precise_compute_config(device)
    sdp = TtStochasticDurationPredictor(device, case.model.sdp, compute=compute)
    dp = TtDurationPredictor(device, case.model.dp, compute=compute)
    i = upload_durations(device, case)
    down = lambda t: from_time_major(ttnn.to_torch(t).float(), i.batch_size)  # noqa: E731
    logw_sdp = down(sdp(i.x, i.mask, i.batch_size, i.length, i.speaker, i.noise))
    logw_dp = down(dp(i.x, i.mask, i.batch_size, i.length, i.speaker))
    return logw_sdp, logw_dp


def check_case(device, name: str, case: DurationCase) -> None:
    logw_sdp, logw_dp = run(device, case)
    max_rel = pcc_for(device, mock=ITEM_MAX_REL_MOCK, real=ITEM_MAX_REL_REAL)
    for which, expected, actual in (("SDP", case.logw_sdp, logw_sdp), ("DP", case.logw_dp, logw_dp)):
        item_pcc = pcc_for(device, mock=ITEM_PCC_MOCK, real=module_pcc(device))
        assert_with_pcc(expected, actual, item_pcc)
        figures = assert_items_close(
            f"{name} {which}", expected, actual, case.lengths, pcc=item_pcc, max_rel=max_rel, padded="zero"
        )
        worst_pcc = min(f["pcc"] for f in figures)
        worst_rel = max(f["max_rel"] for f in figures)
        logger.info(
            f"{name} {which}: max |logw error| {float((expected - actual).abs().max()):.2e}, "
            f"worst item PCC {worst_pcc:.10f}, max_rel {worst_rel:.2e}"
        )
    check_integer_durations(name, case, logw_sdp, logw_dp)


def check_integer_durations(name: str, case: DurationCase, logw_sdp: torch.Tensor, logw_dp: torch.Tensor) -> None:
    """ceil(exp(logw) * length_scale) per token against the reference's. A Wormhole reads float32 matmul
    operands as TF32, so the device's logw carries an error (here: the emulated one, measured); a token
    whose reference w = exp(logw) * length_scale lies closer to an integer than that error (in logw units:
    |ln(w / n)| for the nearest integer n) may land one frame off, any other token must be exact. Logs
    every case's closest distance, the error and the outcome (TRADEOFFS.md "Durations")."""
    ratio = case.sdp_ratio
    expected_logw = case.logw_sdp * ratio + case.logw_dp * (1 - ratio)
    error = float(((logw_sdp * ratio + logw_dp * (1 - ratio)) - expected_logw).abs().max())
    w = torch.exp(expected_logw.double()) * case.length_scale
    nearest = torch.round(w).clamp(min=1.0)
    distance = (torch.log(w) - torch.log(nearest)).abs()  # how far logw must move to cross the integer
    valid = case.x_mask.bool()
    expected_w, actual_w = case.durations(case.logw_sdp, case.logw_dp), case.durations(logw_sdp, logw_dp)
    off = (actual_w - expected_w).abs()
    safe = valid & (distance > error)
    closest = float(distance[valid].min())
    moved = torch.nonzero(off * valid).tolist()
    logger.info(
        f"{name}: closest token {closest:.1e} (logw units) from an integer, device logw error {error:.1e}; "
        f"{int(safe.sum())}/{int(valid.sum())} tokens farther than the error (must be exact); tokens one frame off: {moved}"
    )
    assert not bool((off * safe).any()), f"{name}: a token farther from an integer than the logw error moved: {torch.nonzero(off * safe).tolist()}"
    assert float(off.max()) <= 1.0, f"{name}: a duration moved by more than one frame"


@DEVICE
@pytest.mark.parametrize("name", ["tts_small_en", "tts_small_b3"])
@pytest.mark.usefixtures("single_thread_torch")
def test_duration_predictors_golden(device, name: str) -> None:
    check_case(device, name, duration_golden(name))


@DEVICE
@pytest.mark.usefixtures("single_thread_torch")
def test_duration_predictors_release_shapes(device) -> None:
    check_case(device, "release", duration_release())


@DEVICE
@pytest.mark.usefixtures("single_thread_torch")
def test_batch_item_equals_item_alone(device) -> None:
    """tts_small_b3: every item of the padded batch gives the same log-durations as the item run
    alone at its own length (per-item conv padding, masks, per-item speaker rows)."""
    case = duration_golden("tts_small_b3")
    batch_sdp, batch_dp = run(device, case)
    for b, n in enumerate(case.lengths):
        alone_sdp, alone_dp = run(device, case.item(b))
        for which, batched, alone in (("SDP", batch_sdp, alone_sdp), ("DP", batch_dp, alone_dp)):
            diff = float((batched[b : b + 1, :, :n] - alone).abs().max())
            logger.info(f"item {b} {which}: batched vs alone {diff:.2e}")
            # measured <= 1.6e-6 (mock: float32, only the summation order of the goldens differs)
            assert diff <= pcc_for(device, mock=1e-5, real=1e-2), f"item {b} {which}: batched vs alone {diff:.2e}"


# ---- length regulation (tt/length_regulator.py), fed the reference's log-durations -------------------


# Goldens tts_small_en, tts_small_b3 and edge cases: integer durations, y_lengths, T_y, the
# alignment `attn` (the whole block-diagonal [B*T_y, B*T_x] path, off-diagonal blocks included),
# y_mask and S_y EXACTLY.


def _check_regulation(device, logw: torch.Tensor, x_mask: torch.Tensor, length_scale: float, stats: torch.Tensor) -> int:
    """Durations, T_y, the whole path (off-diagonal blocks too), y_mask, S_y exactly; expansion of `stats`."""
    b, _, t_x = logw.shape
    ref = regulate_lengths(logw, x_mask, length_scale)
    lr = TtLengthRegulator(device)
    durations = lr.durations(upload_time_major(device, logw, ttnn.float32), upload_time_major(device, x_mask, ttnn.float32), b, t_x, length_scale)
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
    # float32 stats through the 0/1 path matmul: each frame is its token's stats as the matrix engine reads
    # them (in1 in SrcA: TF32 minus its last mantissa bit, so within 2**-9 relative; mock: exactly that)
    expanded = from_time_major(ttnn.to_torch(lr.expand(alignment, upload_time_major(device, stats, ttnn.float32))).float(), b)
    expected = expand(ref.attn, stats)
    relative = ((expanded - expected).abs() / expected.abs().clamp(min=1e-30)).max()
    assert relative <= 2**-9, f"expanded stats differ from their tokens' by {relative:.2e} relative"
    return t_y


@DEVICE
@pytest.mark.parametrize("name", ["tts_small_en", "tts_small_b3"])
def test_length_regulation_golden(device, name: str) -> None:
    """Upstream's log-durations (mixed by sdp_ratio) -> integer durations, T_y (137; 46/26/35),
    attn, y_mask exactly; m_p expanded exactly."""
    _, inputs, outputs = melo_golden(name)
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


@DEVICE
@pytest.mark.parametrize("t_x", [41, 47, 55, 61, 82, 83, 94])
def test_length_regulation_item_boundaries(device, t_x: int) -> None:
    """B=3 at token counts where float32 floor(i * (1/T_x)) gives k - 1 at i = k*T_x (k = 1, 2; also 3
    for 61): the first token of items 1 and 2 would be assigned to the item before. The item index
    is floor((i + 0.5) / T_x) (tt/length_regulator.py `_item_starts`), which the path checks exactly."""
    generator = torch.Generator().manual_seed(t_x)
    logw = torch.rand(3, 1, t_x, generator=generator) * 1.5
    x_mask = (torch.arange(t_x)[None] < torch.tensor([t_x, t_x - 5, t_x])[:, None]).float().unsqueeze(1)
    stats = torch.randn(3, 8, t_x, generator=generator)
    _check_regulation(device, logw, x_mask, 1.0, stats)
