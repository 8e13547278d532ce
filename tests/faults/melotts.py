# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS porting faults for the catalogue: text encoder and its relative-position attention,
the transformer flow, both duration predictors and the spline, length regulation and `infer`.

Same rules as `catalogue.py` (see the package docstring): each snippet occurs exactly once in
its `tt/` file, each replacement still imports and runs, each selection passes unfaulted and
lists its cheapest catching test first (the runner uses ``-x``). `catalogue.py` adds
`MELOTTS_FAULTS` to its tuple.

Left out on purpose (no effect on any output, so no test can or should notice): the FFN's
``k//2`` left padding (MeloTTS kernels 3 and 5 are odd: same padding; the causal variant is
catalogued instead) and the Encoder's speaker sum not re-masked (padded rows reach valid ones
only through keys masked to -1e4 and FFN inputs masked first; the output is masked).
Measured: 41/41 caught (the whole catalogue, 91/91, in 688 s with ``--jobs 2`` on the 2-core machine).
"""

from __future__ import annotations

from tests.faults import Fault, Selection

_TESTS = "models/demos/openvoice/tests"
PER_OP = f"{_TESTS}/test_per_op_pcc.py"
PER_MODULE = f"{_TESTS}/test_per_module_pcc.py"
OPENVOICE = f"{_TESTS}/test_openvoice.py"

# ---- selections (cheapest catching test first: pytest keeps file order, the runner stops at the first failure) ----
# Attention alone (T 3 and 37), the 6-layer encoder with speaker, then the whole text encoder on both goldens.
ATTENTION = Selection("melo-attention", (PER_MODULE, "-k", "test_attention or encoder_release or text_encoder_golden"))
TEXT_ENCODER = Selection("melo-text-encoder", (PER_MODULE, "-k", "text_encoder_golden or text_encoder_release"))
TRANSFORMER_FLOW = Selection("melo-flow", (PER_MODULE, "-k", "flow_reverse_golden or flow_reverse_release"))
# Both predictors on both goldens, the release shapes and a batch item against the item alone.
DURATION = Selection(
    "melo-duration", (PER_MODULE, "-k", "duration_predictors_golden or release_shapes or batch_item_equals_item_alone")
)
# The spline / the plan alone first (per op), then both predictors on both goldens (per module).
SPLINE = Selection("melo-spline", (PER_OP, PER_MODULE, "-k", "spline_inverse or duration_predictors_golden"))
SDP_PLAN = Selection("melo-sdp-plan", (PER_OP, PER_MODULE, "-k", "reverse_flow_plan or duration_predictors_golden"))
LENGTH_REGULATION = Selection(
    "melo-length-reg", (PER_MODULE, "-k", "length_regulation_golden or length_regulation_edge or length_regulation_item_boundaries")
)
# End to end: tts_small_en (B=1), tts_small_b3 (B=3, speakers 1/3/0, item alone), the tiny model with max_len
# (the converter's test_end_to_end_golden[vc_small_*] shares the file: hence the full names).
# mask_decoder=True (speak): tts_small_b3 masked, every item's whole audio vs the reference and vs the item alone.
MELO_MASK = Selection("melo-decoder-mask", (OPENVOICE, "-k", "masked_decoder"))
MELO = Selection("melo-e2e", (OPENVOICE, "-k", "end_to_end_golden_en or end_to_end_golden_batch or warm_infer"))

MELOTTS_FAULTS: tuple[Fault, ...] = (
    # ---- tt/attentions.py ----
    Fault(
        "melo-attn-rel-skew-offset-3",
        "tt/attentions.py",
        "return ttnn.slice(skewed, [0] * len(lead) + [0, window], [*lead, length, window + length])",
        "return ttnn.slice(skewed, [0] * len(lead) + [0, window - 1], [*lead, length, window - 1 + length])",
        "key-side relative skew keeps columns from offset 3 instead of 4 (band shifted by one position)",
        ATTENTION,
    ),
    Fault(
        "melo-attn-rel-k-on-value-side",
        "tt/attentions.py",
        "self.rel_v = upload(device, ref.emb_rel_v.detach()[0], dtype)",
        "self.rel_v = upload(device, ref.emb_rel_k.detach()[0], dtype)",
        "emb_rel_k used for the value-side relative term too (emb_rel_v never read)",
        ATTENTION,
    ),
    Fault(
        "melo-attn-scale-not-folded",
        "tt/attentions.py",
        "scale = self.head_dim**-0.5",
        "scale = 1.0  # fault: 1/sqrt(d) not folded into W_q",
        "the scores' 1/sqrt(d) is not folded into W_q / b_q (and not applied elsewhere)",
        ATTENTION,
    ),
    Fault(
        "melo-attn-scale-twice",
        "tt/attentions.py",
        "q = ttnn.slice(qkv, [0, 0, 0, 0], [b, h, t, d])  # already / sqrt(d)",
        "q = ttnn.multiply(ttnn.slice(qkv, [0, 0, 0, 0], [b, h, t, d]), d**-0.5)",
        "1/sqrt(d) applied again to q although it is folded into W_q (scaled twice)",
        ATTENTION,
    ),
    Fault(
        "melo-attn-mask-fill-zero",
        "tt/attentions.py",
        "scores = ttnn.where(attn_mask.keep, scores, MASK_VALUE)",
        "scores = ttnn.where(attn_mask.keep, scores, 0.0)",
        "masked scores filled with 0 instead of -1e4 (padded keys get exp(0 - max) weight)",
        ATTENTION,
    ),
    Fault(
        "melo-attn-mask-missing",
        "tt/attentions.py",
        "scores = ttnn.where(attn_mask.keep, scores, MASK_VALUE)",
        "scores = scores  # fault: no attention mask",
        "no attention mask: valid queries attend the item's padded keys",
        ATTENTION,
    ),
    Fault(
        "melo-ffn-causal-padding",
        "tt/attentions.py",
        "padding=((k - 1) // 2, k // 2)",
        "padding=(k - 1, 0)",
        "FFN conv padded causally (k-1 left, 0 right) instead of 'same' (MeloTTS kernels 3 and 5 are odd, so "
        "the k//2-left variant would be a no-op; this one is visible)",
        ATTENTION,
    ),
    Fault(
        "melo-encoder-cond-layer-1",
        "tt/attentions.py",
        "if i == self.cond_layer_idx and speaker is not None",
        "if i == 1 and speaker is not None",
        "speaker embedding added before layer 1 instead of cond_layer_idx (2)",
        ATTENTION,
    ),
    # ---- tt/commons.py (LayerNorm of every MeloTTS encoder and predictor) ----
    Fault(
        "melo-layernorm-gamma-beta-swapped",
        "tt/commons.py",
        "return ttnn.add(ttnn.multiply(normalised, self.gamma), self.beta)",
        "return ttnn.add(ttnn.multiply(normalised, self.beta), self.gamma)",
        "float32 channel LayerNorm (text encoder, predictors) with gamma and beta swapped",
        ATTENTION,
    ),
    Fault(
        "melo-bf16-layernorm-gamma-beta-swapped",
        "tt/commons.py",
        "weight=self.gamma, bias=self.beta",
        "weight=self.beta, bias=self.gamma",
        "bf16 channel LayerNorm (the transformer flow's encoders) with gamma and beta swapped",
        TRANSFORMER_FLOW,
    ),
    Fault(
        "melo-layernorm-eps-1e-3",
        "tt/commons.py",
        "self.eps = ref.eps",
        "self.eps = 1e-3  # fault: not the reference's 1e-5",
        "channel LayerNorm epsilon 1e-3 instead of the reference's 1e-5",
        ATTENTION,
    ),
    # ---- tt/text_encoder.py ----
    Fault(
        "melo-text-sqrt-hidden-missing",
        "tt/text_encoder.py",
        "h = ttnn.multiply(ttnn.multiply(h, math.sqrt(self.hidden)), mask)",
        "h = ttnn.multiply(h, mask)",
        "embedding sum not scaled by sqrt(hidden_channels)",
        TEXT_ENCODER,
    ),
    Fault(
        "melo-text-bert-proj-dropped",
        "tt/text_encoder.py",
        "h = ttnn.add(h, self.bert_proj(inputs.bert, b, t))",
        "h = h  # fault: bert_proj not added",
        "the (zh) bert_proj term is left out (only ja_bert added)",
        TEXT_ENCODER,
    ),
    Fault(
        "melo-text-language-offset",
        "tt/text_encoder.py",
        "language + self.n_vocab + self.n_tones]",
        "language + self.n_vocab]",
        "language ids offset into the stacked table without n_tones (language rows read from the tone table)",
        TEXT_ENCODER,
    ),
    Fault(
        "melo-text-proj-m-logs-swapped",
        "tt/text_encoder.py",
        "self.proj_m = TtConv1d(device, w[:c], b[:c], **conv)\n"
        "        self.proj_logs = TtConv1d(device, w[c:], b[c:], **conv)",
        "self.proj_m = TtConv1d(device, w[c:], b[c:], **conv)\n"
        "        self.proj_logs = TtConv1d(device, w[:c], b[:c], **conv)",
        "proj split the wrong way round: m_p from the log-std half",
        TEXT_ENCODER,
    ),
    # ---- tt/transformer_coupling.py ----
    Fault(
        "melo-flow-flip-fold-parity",
        "tt/residual_coupling.py",  # the fold is shared: `folded_couplings` serves both flows
        "full_channel_weights(layer, flipped=index % 2 == 1)",
        "full_channel_weights(layer, flipped=index % 2 == 0)",
        "the Flip folded into the even transformer couplings instead of the odd ones",
        TRANSFORMER_FLOW,
    ),
    Fault(
        "melo-flow-reverse-layer-order",
        "tt/transformer_coupling.py",
        "for pre, enc, post in reversed(self.layers) if reverse else self.layers:",
        "for pre, enc, post in self.layers:",
        "the reverse flow runs the couplings in forward order",
        TRANSFORMER_FLOW,
    ),
    # ---- tt/duration_predictor.py ----
    Fault(
        "melo-dp-norm-relu-order",
        "tt/duration_predictor.py",
        "x = self.norm_1(ttnn.relu(self.conv_1(ttnn.multiply(x, mask), batch_size, length)))",
        "x = ttnn.relu(self.norm_1(self.conv_1(ttnn.multiply(x, mask), batch_size, length)))",
        "DP block 1 runs LayerNorm then ReLU (upstream: ReLU then LayerNorm)",
        DURATION,
    ),
    Fault(
        "melo-dds-dilation-2-pow-i",
        "tt/duration_predictor.py",
        "        padding=conv.padding[0],\n        dilation=conv.dilation[0],\n",
        "        padding={3: 2, 9: 4}.get(conv.dilation[0], conv.dilation[0]) * (conv.kernel_size[0] - 1) // 2,\n"
        "        dilation={3: 2, 9: 4}.get(conv.dilation[0], conv.dilation[0]),\n",
        "DDSConv dilations 2**i (1, 2, 4) instead of kernel_size**i (1, 3, 9), padding to match",
        DURATION,
    ),
    # ---- tt/stochastic_duration_predictor.py ----
    Fault(
        "melo-sdp-convflow-reads-its-output",
        "tt/stochastic_duration_predictor.py",
        "plan.append((flow, order[0], order[1]))",
        "plan.append((flow, order[1], order[1]))",
        "SDP flip folding wrong: each ConvFlow conditions on the column it overwrites",
        SDP_PLAN,
    ),
    Fault(
        "melo-sdp-useless-vflow-kept",
        "tt/stochastic_duration_predictor.py",
        "flows = flows[:-2] + [flows[-1]]  # upstream skips the first ConvFlow",
        "flows = flows  # fault: upstream skips the first ConvFlow",
        "the reverse SDP runs ConvFlow0 too (upstream skips the 'useless vflow')",
        SDP_PLAN,
    ),
    Fault(
        "melo-sdp-affine-sign",
        "tt/stochastic_duration_predictor.py",
        "self.affine_scale = float(torch.exp(-affine.logs.detach()[0, 0]))",
        "self.affine_scale = float(torch.exp(affine.logs.detach()[0, 0]))",
        "reverse ElementwiseAffine multiplies by exp(+logs) (the forward direction's sign)",
        DURATION,
    ),
    Fault(
        "melo-sdp-proj-scale-not-folded",
        "tt/stochastic_duration_predictor.py",
        "scale = math.sqrt(ref.filter_channels)",
        "scale = 1.0  # fault: / sqrt(filter_channels) not folded",
        "ConvFlow widths/heights not divided by sqrt(filter_channels)",
        DURATION,
    ),
    Fault(
        "melo-sdp-convflow-g-dropped",
        "tt/stochastic_duration_predictor.py",
        "h = self.convs(self.pre(x0, batch_size, length), mask, batch_size, length, g=g)",
        "h = self.convs(self.pre(x0, batch_size, length), mask, batch_size, length)",
        "ConvFlow's DDSConv not conditioned on the text features h (g=None)",
        DURATION,
    ),
    # ---- tt/transforms.py ----
    Fault(
        "melo-spline-min-bin-width-ignored",
        "tt/transforms.py",
        "x_left, x_right = spline_knots(unnormalized_widths, k.min_bin_width, low_column, k)",
        "x_left, x_right = spline_knots(unnormalized_widths, 0.0, low_column, k)",
        "spline bin widths without min_bin_width",
        SPLINE,
    ),
    Fault(
        "melo-spline-last-knot-not-pinned",
        "tt/transforms.py",
        "right = ttnn.pad(inner, [(0, 0), (0, 0), (0, 0), (0, 1)], value=bound)  # knots 1 .. K",
        "right = cumulative  # fault: knots 1 .. K straight from the cumsum, last not pinned to B",
        "the last knot taken from the cumsum (B up to rounding) instead of pinned exactly to B",
        SPLINE,
    ),
    Fault(
        "melo-spline-unstable-root",
        "tt/transforms.py",
        "theta = ttnn.divide(ttnn.multiply(p, 2.0), ttnn.add(b, ttnn.sqrt(discriminant)))",
        "theta = ttnn.divide(ttnn.add(ttnn.neg(b), ttnn.sqrt(discriminant)), ttnn.multiply(a, 2.0))",
        "textbook root (-b + sqrt(D)) / 2a instead of the stable 2c / (-b - sqrt(D)) (cancels when a ~ 0)",
        SPLINE,
    ),
    Fault(
        "melo-spline-tail-derivative-constant",
        "tt/transforms.py",
        "return math.log(math.exp(1 - min_derivative) - 1)",
        "return math.log(math.exp(1) - 1)",
        "boundary derivative logit solves softplus(c) = 1, forgetting min_derivative (edge slopes 1.001)",
        SPLINE,
    ),
    Fault(
        "melo-spline-linear-tails-dropped",
        "tt/transforms.py",
        "return ttnn.where(inside, spline, inputs)",
        "return spline",
        "no identity tails: inputs beyond the tail bound come out clamped",
        SPLINE,
    ),
    # ---- tt/length_regulator.py ----
    Fault(
        "melo-lr-length-scale-ignored",
        "tt/length_regulator.py",
        "w = ttnn.multiply(ttnn.multiply(ttnn.exp(logw), mask), float(length_scale))",
        "w = ttnn.multiply(ttnn.exp(logw), mask)",
        "length_scale not applied to the durations",
        LENGTH_REGULATION,
    ),
    Fault(
        "melo-lr-round-not-ceil",
        "tt/length_regulator.py",
        "w_ceil = ttnn.reshape(ttnn.ceil(w), (1, 1, batch_size, length))",
        "w_ceil = ttnn.reshape(ttnn.round(w), (1, 1, batch_size, length))",
        "durations rounded instead of ceil'ed",
        LENGTH_REGULATION,
    ),
    Fault(
        "melo-lr-cumsum-exclusive-end",
        "tt/length_regulator.py",
        "end = ttnn.add(cum, self._item_starts(b * t_x, t_x, frames))",
        "end = ttnn.add(ttnn.subtract(cum, w), self._item_starts(b * t_x, t_x, frames))",
        "alignment run ends at the exclusive cumsum (every token's frames shifted one token late)",
        LENGTH_REGULATION,
    ),
    Fault(
        "melo-lr-item-index-without-half",
        "tt/length_regulator.py",
        "item = ttnn.floor(ttnn.multiply(ttnn.add(index, 0.5), 1.0 / items_of))",
        "item = ttnn.floor(ttnn.multiply(index, 1.0 / items_of))",
        "item index floor(i * (1/T_x)) without the +0.5 guard: float32 gives k - 1 at i = k*T_x for T_x = 41, 47, ...",
        LENGTH_REGULATION,
    ),
    Fault(
        "melo-lr-y-lengths-not-clamped",
        "tt/length_regulator.py",
        "y_lengths = ttnn.clamp(totals, min=1.0)  # clamp_min(., 1), as the reference",
        "y_lengths = totals  # fault: not clamped at 1",
        "y_lengths not clamped at 1 (an item whose durations all underflow gets 0 frames)",
        LENGTH_REGULATION,
    ),
    # ---- tt/melo_tts.py ----
    Fault(
        "melo-decoder-mask-dropped",
        "tt/melo_tts.py",
        "mask = alignment.y_mask if mask_decoder else None",
        "mask = None",
        "infer(mask_decoder=True) decodes unmasked (the decoder never gets y_mask)",
        MELO_MASK,
    ),
    Fault(
        "melo-sdp-ratio-swapped",
        "tt/melo_tts.py",
        "ttnn.multiply(logw_sdp, float(sdp_ratio)), ttnn.multiply(logw_dp, 1.0 - sdp_ratio)",
        "ttnn.multiply(logw_sdp, 1.0 - sdp_ratio), ttnn.multiply(logw_dp, float(sdp_ratio))",
        "sdp_ratio applied to the DP and 1 - sdp_ratio to the SDP",
        MELO,
    ),
    Fault(
        "melo-noise-scale-not-applied",
        "tt/melo_tts.py",
        "self.upload_frames(device, to_time_major(eps * noise_scale))",
        "self.upload_frames(device, to_time_major(eps))",
        "noise_scale not applied to eps_p",
        MELO,
    ),
    Fault(
        "melo-noise-scale-w-not-applied",
        "tt/melo_tts.py",
        "scaled_noise_w=up([to_time_major(eps_sdp[s] * noise_scale_w) for s in items]),",
        "scaled_noise_w=up([to_time_major(eps_sdp[s]) for s in items]),",
        "noise_scale_w not applied to the SDP draw",
        MELO,
    ),
    Fault(
        "melo-exp-logs-p-missing",
        "tt/melo_tts.py",
        "ttnn.multiply(scaled_eps_p, ttnn.exp(logs_p_expanded))",
        "ttnn.multiply(scaled_eps_p, logs_p_expanded)",
        "z_p = m_p + eps * logs_p (exp missing)",
        MELO,
    ),
    Fault(
        "melo-flow-run-forward",
        "tt/melo_tts.py",
        "speaker, reverse=True)",
        "speaker, reverse=False)",
        "the prior flow run forward instead of reverse at inference",
        MELO,
    ),
    Fault(
        "melo-decoder-zero-cond",
        "tt/melo_tts.py",
        "self.dec = TtGenerator(device, reference.dec, zero_cond=False,",
        "self.dec = TtGenerator(device, reference.dec, zero_cond=True,",
        "decoder built like the converter's (zero_g): MeloTTS's decoder not conditioned on g",
        MELO,
    ),
    Fault(
        "melo-speaker-ids-reversed",
        "tt/melo_tts.py",
        "sid=up([sid[s].reshape(1, per_chip).to(torch.int32) for s in items]",
        "sid=up([sid[s].flip(0).reshape(1, per_chip).to(torch.int32) for s in items]",
        "batch items' speaker ids in reverse order (item b gets item B-1-b's speaker)",
        MELO,
    ),
    Fault(
        "melo-text-encoder-speaker-dropped",
        "tt/melo_tts.py",
        "None if self.use_vc else speaker)",
        "speaker if self.use_vc else None)",
        "use_vc test inverted: the text encoder loses its speaker conditioning",
        MELO,
    ),
)

# ---- precision faults: caught by the mock's Wormhole numerics (mock_wormhole/numerics.py) ----
MELOTTS_FAULTS += (
    Fault(
        "melo-duration-bf16-accumulation",
        "tt/commons.py",
        'EXACT_PRODUCTS = Precision("HiFi4", fp32_acc=True)',
        'EXACT_PRODUCTS = Precision("HiFi4", fp32_acc=False)',
        "the float32 (split-BF16) products of the text encoder and duration predictors accumulate in BF16 Dst",
        DURATION,
    ),
    Fault(
        "melo-duration-lofi",
        "tt/commons.py",
        'EXACT_PRODUCTS = Precision("HiFi4", fp32_acc=True)',
        'EXACT_PRODUCTS = Precision("LoFi", fp32_acc=True)',
        "the duration path's exact products run at LoFi (5 x 7-bit significands): not exact any more",
        DURATION,
    ),
    Fault(
        "melo-text-encoder-bfp8-weights",
        "tt/text_encoder.py",
        "conv = dict(compute=compute, dtype=DTYPE, weights_dtype=DTYPE)",
        "conv = dict(compute=compute, dtype=DTYPE, weights_dtype=ttnn.bfloat8_b)",
        "bfloat8_b weights in the text encoder's projections",
        TEXT_ENCODER,
    ),
    Fault(
        "melo-approximate-exp-of-logs-p",
        "tt/melo_tts.py",
        "ttnn.multiply(scaled_eps_p, ttnn.exp(logs_p_expanded))",
        "ttnn.multiply(scaled_eps_p, ttnn.exp(logs_p_expanded, fast_and_approximate_mode=True))",
        "exp(logs_p) in the prior draw with the vector engine's fast approximate exp (7-bit mantissa, ~3%)",
        MELO,
    ),
)
