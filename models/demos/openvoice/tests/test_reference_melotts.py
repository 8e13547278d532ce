# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Reference MeloTTS (float32 PyTorch) against the upstream golden vectors, plus per-module
checks that do not rely on the golden files: relative attention vs a brute-force loop,
spline invertibility, batching with padding, length regulation, strict loading."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from models.demos.openvoice.utils.checkpoint import CheckpointError, load_strict, read_state_dict
from models.demos.openvoice.utils.config import load_config
from models.demos.openvoice.reference.attentions import MultiHeadAttention
from models.demos.openvoice.reference.length_regulator import expand, regulate_lengths
from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.reference.transformer_coupling import TransformerCouplingBlock
from models.demos.openvoice.reference.transforms import piecewise_rational_quadratic_transform
from models.demos.openvoice.tools.golden_tts import run_tts_infer_case
from models.demos.openvoice.tests.shared_data import require_shared_data

GOLDEN_TOLERANCE = 1e-4
EXPECTED_OUTPUTS = {
    "audio", "attn", "y_mask", "z", "z_p", "m_p_expanded", "logs_p_expanded",
    "enc_x", "m_p", "logs_p", "x_mask", "logw_sdp", "logw_dp",
}


@pytest.fixture(scope="module")
def tts_folder() -> Path:
    return require_shared_data() / "golden" / "tts_small_en"


# ---------------------------------------------------------------- golden


def test_golden_tts_small_en(tts_folder: Path) -> None:
    comparisons = run_tts_infer_case(tts_folder)
    assert {name for name, _, _ in comparisons} == EXPECTED_OUTPUTS
    errors = {}
    for name, expected, actual in comparisons:
        assert actual.shape == expected.shape, f"{name}: shape {tuple(actual.shape)} vs {tuple(expected.shape)}"
        errors[name] = float((expected.float() - actual.float()).abs().max())
    bad = {name: err for name, err in errors.items() if not err <= GOLDEN_TOLERANCE}
    assert not bad, f"outputs beyond {GOLDEN_TOLERANCE}: {bad}"


# ---------------------------------------------------------------- relative attention


def _brute_force_attention(mha: MultiHeadAttention, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Loop over (batch, head, i, j) with the relative-position definition written out."""
    def proj(conv: torch.nn.Conv1d, inp: torch.Tensor) -> torch.Tensor:
        return torch.einsum("oc,bct->bot", conv.weight[:, :, 0], inp) + conv.bias[None, :, None]

    b, c, t = x.shape
    h, d, w = mha.n_heads, mha.k_channels, mha.window_size
    q, k, v = (proj(conv, x).view(b, h, d, t) for conv in (mha.conv_q, mha.conv_k, mha.conv_v))
    out = torch.zeros(b, h, d, t, dtype=x.dtype)
    for bi in range(b):
        for hi in range(h):
            rk = mha.emb_rel_k[hi if mha.emb_rel_k.shape[0] > 1 else 0]
            rv = mha.emb_rel_v[hi if mha.emb_rel_v.shape[0] > 1 else 0]
            for i in range(t):
                scores = torch.empty(t, dtype=x.dtype)
                for j in range(t):
                    s = q[bi, hi, :, i] @ k[bi, hi, :, j]
                    if abs(j - i) <= w:
                        s = s + q[bi, hi, :, i] @ rk[j - i + w]
                    valid = i < lengths[bi] and j < lengths[bi]
                    scores[j] = s / math.sqrt(d) if valid else -1e4
                p = torch.softmax(scores, 0)
                for j in range(t):
                    value = v[bi, hi, :, j] + (rv[j - i + w] if abs(j - i) <= w else 0)
                    out[bi, hi, :, i] += p[j] * value
    return proj(mha.conv_o, out.reshape(b, c, t))


@pytest.mark.parametrize("length,heads_share", [(3, True), (11, True), (9, False)])
def test_relative_attention_matches_brute_force(length: int, heads_share: bool) -> None:
    torch.manual_seed(length)
    mha = MultiHeadAttention(8, 8, 2, window_size=4, heads_share=heads_share).double()
    for p in mha.parameters():  # non-trivial biases too
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(2, 8, length, dtype=torch.float64)
    lengths = torch.tensor([length, length - 1])
    mask = (torch.arange(length)[None] < lengths[:, None]).double()[:, None]
    attn_mask = mask.unsqueeze(2) * mask.unsqueeze(-1)
    with torch.no_grad():
        ours = mha(x, attn_mask)
        expected = _brute_force_attention(mha, x, lengths)
        # The relative terms must matter, or this test could not tell them apart.
        mha_abs = MultiHeadAttention(8, 8, 2, window_size=None).double()
        mha_abs.load_state_dict({k: v for k, v in mha.state_dict().items() if "emb_rel" not in k})
        without_rel = mha_abs(x, attn_mask)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-10)
    assert (without_rel - expected).abs().max() > 1e-3


# ---------------------------------------------------------------- spline


def test_spline_inverse_of_forward() -> None:
    """float64: with random logits some bins are very narrow and the float32 inverse is
    ill-conditioned there (errors ~1e-2 in x), which says nothing about correctness."""
    torch.manual_seed(0)
    n, bins, bound = 4000, 10, 5.0
    params = (torch.randn(n, bins) * 2, torch.randn(n, bins) * 2, torch.randn(n, bins - 1))
    params = tuple(p.double() for p in params)
    x = torch.empty(n, dtype=torch.float64).uniform_(-7, 7)  # some beyond the tail bound: identity there

    def spline(t: torch.Tensor, inverse: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        return piecewise_rational_quadratic_transform(t, *params, inverse=inverse, tails="linear", tail_bound=bound)

    y, logdet = spline(x)
    x_back, logdet_inv = spline(y, inverse=True)
    torch.testing.assert_close(x_back, x, rtol=0, atol=1e-9)
    torch.testing.assert_close(logdet_inv, -logdet, rtol=0, atol=1e-8)
    outside = x.abs() > bound
    assert outside.any() and torch.equal(y[outside], x[outside]) and not logdet[outside].any()
    assert (y[~outside].abs() <= bound).all()
    assert (y[~outside] - x[~outside]).abs().max() > 0.1  # the spline is not the identity
    # logdet is log|dy/dx|: compare with central differences.
    eps = 1e-6
    numeric = torch.log((spline(x + eps)[0] - spline(x - eps)[0]) / (2 * eps))
    inner = x.abs() < bound - eps
    torch.testing.assert_close(logdet[inner], numeric[inner], rtol=0, atol=1e-4)


# ---------------------------------------------------------------- length regulation


def test_length_regulation() -> None:
    torch.manual_seed(1)
    x_lengths = torch.tensor([9, 5, 1])
    x_mask = (torch.arange(9)[None] < x_lengths[:, None]).float()[:, None]
    logw = torch.randn(3, 1, 9) * 1.5
    logw[2] = -1e3  # exp underflows to 0: no frame at all -> y_length clamped to 1
    lr = regulate_lengths(logw, x_mask, length_scale=1.3)

    expected_w = torch.ceil(torch.exp(logw) * x_mask * 1.3)
    torch.testing.assert_close(lr.w_ceil, expected_w)
    assert lr.y_lengths.tolist() == [max(int(s), 1) for s in expected_w.sum([1, 2])]
    assert lr.y_mask.shape[-1] == int(lr.y_lengths.max())
    attn = lr.attn[:, 0]  # [B, T_y, T_x]
    for b in range(3):
        y_len, rows = int(lr.y_lengths[b]), attn[b]
        if b == 2:
            assert y_len == 1 and not rows.any()
            continue
        assert torch.all(rows[:y_len].sum(-1) == 1) and torch.all((rows == 0) | (rows == 1))
        assert not rows[y_len:].any()
        torch.testing.assert_close(rows.sum(0), lr.w_ceil[b, 0])  # each token gets its frames
        tokens = rows[:y_len].argmax(-1)
        assert torch.all(tokens[1:] >= tokens[:-1])  # monotonic
        stats = torch.randn(1, 4, 9)
        torch.testing.assert_close(expand(lr.attn[b : b + 1], stats)[0, :, :y_len], stats[0][:, tokens])


# ---------------------------------------------------------------- flow


def test_transformer_flow_reverse_inverts_forward() -> None:
    torch.manual_seed(2)
    flow = TransformerCouplingBlock(8, 16, 32, 2, 3, 5, n_flows=4, gin_channels=6).double()
    for p in flow.parameters():
        torch.nn.init.normal_(p, std=0.3)  # `post` must not be zero or the flow is the identity
    mask = (torch.arange(12)[None] < torch.tensor([12, 7])[:, None]).double()[:, None]
    z = torch.randn(2, 8, 12, dtype=torch.float64) * mask
    g = torch.randn(2, 6, 1, dtype=torch.float64)
    with torch.no_grad():
        z_p = flow(z, mask, g=g, reverse=False)
        back = flow(z_p, mask, g=g, reverse=True)
    assert (z_p - z).abs().max() > 0.1
    torch.testing.assert_close(back * mask, z, rtol=0, atol=1e-10)


# ---------------------------------------------------------------- batching


def _two_item_batch(tts_folder: Path) -> tuple[MeloTTS, tuple[torch.Tensor, ...], torch.Tensor]:
    """The golden model in float64 and a batch of the golden sentence plus a 16-token one of
    another speaker and language: (model, infer's positional args, eps_sdp)."""
    torch.manual_seed(3)
    model = MeloTTS.load(tts_folder / "config.json", tts_folder / "checkpoint.pth").double()
    case = torch.load(tts_folder / "case.pt", weights_only=False)["inputs"]
    t, short = case["x"].shape[1], 16
    lengths = torch.tensor([t, short])
    x = torch.zeros(2, t, dtype=torch.long)
    tone, language = torch.zeros_like(x), torch.zeros_like(x)
    x[0], tone[0], language[0] = case["x"][0], case["tone"][0], case["language"][0]
    x[1, :short], tone[1, :short], language[1, :short] = torch.randint(1, 219, (short,)), torch.randint(0, 16, (short,)), 2
    bert = torch.zeros(2, 1024, t, dtype=torch.float64)
    ja_bert = torch.zeros(2, 768, t, dtype=torch.float64)
    ja_bert[0] = case["ja_bert"][0]
    ja_bert[1, :, :short] = torch.randn(768, short)
    sid, eps_sdp = torch.tensor([0, 3]), torch.randn(2, 2, t, dtype=torch.float64)
    return model, (x, lengths, sid, tone, language, bert, ja_bert), eps_sdp


def _item(args: tuple[torch.Tensor, ...], b: int, tx: int) -> list[torch.Tensor]:
    """Item b of a padded batch alone, cut to its tx tokens."""
    return [a[b : b + 1, ..., :tx] if a.dim() > 1 else a[b : b + 1] for a in args]


def test_batch_of_two_equals_each_item_alone(tts_folder: Path) -> None:
    """Padded batch vs one item at a time, in float64 so only a real leak across padding
    shows. Audio is compared except the last frames: upstream's decoder has no mask, so the
    padding changes the tail of a shorter item within its receptive field (~10 frames)."""
    model, args, eps_sdp = _two_item_batch(tts_folder)
    lengths = args[1]
    hop = math.prod(up.stride[0] for up in model.dec.ups)  # audio samples per frame
    margin = 16  # frames

    with torch.no_grad():
        # Durations do not depend on eps_p; max_len=1 keeps this probe run from decoding audio.
        y_lengths = model.infer(*args, eps_sdp=eps_sdp, max_len=1).y_lengths
        assert y_lengths[0] != y_lengths[1]
        eps_p = torch.randn(2, model.enc_p.out_channels, int(y_lengths.max()), dtype=torch.float64)
        batch = model.infer(*args, eps_sdp=eps_sdp, eps_p=eps_p)
        for b in range(2):
            tx, ty = int(lengths[b]), int(y_lengths[b])
            one = model.infer(*_item(args, b, tx), eps_sdp=eps_sdp[b : b + 1, :, :tx], eps_p=eps_p[b : b + 1, :, :ty])
            assert one.y_lengths.item() == ty
            for name in ("enc_x", "m_p", "logs_p", "logw_sdp", "logw_dp"):
                torch.testing.assert_close(getattr(one, name), getattr(batch, name)[b : b + 1, :, :tx], rtol=0, atol=1e-9)
            for name in ("z_p", "z", "m_p_expanded", "logs_p_expanded"):
                torch.testing.assert_close(getattr(one, name), getattr(batch, name)[b : b + 1, :, :ty], rtol=0, atol=1e-9)
            torch.testing.assert_close(one.attn, batch.attn[b : b + 1, :, :ty, :tx], rtol=0, atol=0)
            assert not batch.attn[b, :, ty:].any() and not batch.attn[b, :, :, tx:].any()
            # As upstream, padded frames of z_p hold unmasked noise (m_p = logs_p = 0 there).
            torch.testing.assert_close(batch.z_p[b, :, ty:], eps_p[b, :, ty:] * 0.667, rtol=0, atol=1e-12)
            keep = (ty - margin) * hop
            torch.testing.assert_close(one.audio[..., :keep], batch.audio[b : b + 1, :, :keep], rtol=0, atol=1e-9)


def test_masked_decoder_makes_every_item_equal_to_the_item_alone(tts_folder: Path) -> None:
    """mask_decoder=True (the speak path): the shorter item's WHOLE audio, its last frames
    included, equals the item alone (float64, 1e-9), while upstream's unmasked decoder leaks
    the padding into those last frames (measured: max 2.2e-2 on this pair); B=1 with the mask is
    upstream's B=1 bit for bit. eps_p comes as a `PriorDraw` keyed per item."""
    model, args, eps_sdp = _two_item_batch(tts_folder)
    lengths = args[1]
    channels = model.enc_p.out_channels
    draws = [torch.randn(channels, 4096, dtype=torch.float64) for _ in range(2)]  # item b's noise, frame by frame

    def prior(y_lengths: list[int], c: int, items: range = range(2)) -> torch.Tensor:
        eps = torch.zeros(len(y_lengths), c, max(y_lengths), dtype=torch.float64)
        for row, (b, n) in enumerate(zip(items, y_lengths)):
            eps[row, :, :n] = draws[b][:, :n]
        return eps

    hop = math.prod(up.stride[0] for up in model.dec.ups)
    with torch.no_grad():
        masked = model.infer(*args, eps_sdp=eps_sdp, eps_p=prior, mask_decoder=True)
        unmasked = model.infer(*args, eps_sdp=eps_sdp, eps_p=prior)
        y_lengths = masked.y_lengths.tolist()
        short = min(range(2), key=lambda b: y_lengths[b])
        for b in range(2):
            tx, ty = int(lengths[b]), y_lengths[b]
            alone = lambda mask: model.infer(  # noqa: E731
                *_item(args, b, tx), eps_sdp=eps_sdp[b : b + 1, :, :tx],
                eps_p=lambda n, c: prior(n, c, range(b, b + 1)), mask_decoder=mask,
            ).audio  # fmt: skip
            one = alone(False)
            torch.testing.assert_close(alone(True), one, rtol=0, atol=0)
            torch.testing.assert_close(masked.audio[b : b + 1, :, : ty * hop], one, rtol=0, atol=1e-9)
        leak = (unmasked.audio[short, :, : y_lengths[short] * hop] - masked.audio[short, :, : y_lengths[short] * hop]).abs().max()
        assert leak > 2e-3, f"the unmasked decoder should leak padding into the shorter item's end (max diff {leak:.2e})"


def test_eps_p_shape_is_checked(tts_folder: Path) -> None:
    model = MeloTTS.load(tts_folder / "config.json", tts_folder / "checkpoint.pth")
    case = torch.load(tts_folder / "case.pt", weights_only=False)["inputs"]
    args = [case[k] for k in ("x", "x_lengths", "sid", "tone", "language", "bert", "ja_bert")]
    with torch.no_grad(), pytest.raises(ValueError, match="eps_p must be"):
        model.infer(*args, eps_sdp=case["eps_sdp"], eps_p=case["eps_p"][:, :, :-1])


# ---------------------------------------------------------------- strict loading


def test_strict_loading_names_unrelated_extra_key(tts_folder: Path) -> None:
    state = read_state_dict(tts_folder / "checkpoint.pth")
    model = MeloTTS.from_config(load_config(tts_folder / "config.json"))
    load_strict(model, state, ignored_prefixes=("enc_q.",))  # the real layout loads

    extra = dict(state, **{"dp.unrelated.weight": torch.zeros(3)})
    with pytest.raises(CheckpointError, match=r"unexpected keys: \['dp\.unrelated\.weight'\]"):
        load_strict(model, extra, ignored_prefixes=("enc_q.",))

    # The SDP flow that inference skips is still required.
    missing = {k: v for k, v in state.items() if k != "sdp.flows.1.proj.bias"}
    with pytest.raises(CheckpointError, match=r"missing keys: \['sdp\.flows\.1\.proj\.bias'\]"):
        load_strict(model, missing, ignored_prefixes=("enc_q.",))

    # enc_q is only accepted through the documented exception.
    with pytest.raises(CheckpointError, match=r"unexpected keys: \['enc_q\."):
        load_strict(model, state)
