# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The catalogue: realistic porting faults of the converter and clone paths (MeloTTS's are in
`melotts.py`, added to `FAULTS` at the end), and the tests that should catch them.

Each fault replaces one exact snippet of a `tt/` file (it must occur exactly once there) with
its faulty version; see the package docstring for how the tool runs them and how to add one.
Selections are shared so that faults with the same tests share one baseline run; `-k`
expressions rather than full node ids keep them valid while test parameters change.
"""

from __future__ import annotations

from tests.faults import Fault, Selection
from tests.faults.melotts import MELOTTS_FAULTS

_TESTS = "models/demos/openvoice/tests"
# The PCC suites; a selection that spans several lists them cheapest first (pytest runs the files in
# this order and the runner stops at the first failure).
PER_OP = f"{_TESTS}/test_per_op_pcc.py"
PER_MODULE = f"{_TESTS}/test_per_module_pcc.py"
OPENVOICE = f"{_TESTS}/test_openvoice.py"

# ---- selections (the tests that should notice; run with -x, so a caught fault stops early) ----
# The -k terms pick one family's tests out of files that hold all three (converter, clone, MeloTTS):
# "vc_small" = the converter's end-to-end goldens (test_end_to_end_golden[vc_small_b2 / vc_small_tau0],
# not MeloTTS's test_end_to_end_golden_en / _batch); "z_p" = the converter's flow stages on the
# reference's input (test_stage_on_reference_input[flow_forward-z-z_p-... / flow_reverse-z_p-z_hat-...],
# not MeloTTS's flow_reverse_* tests).
# Every TtConv1d / TtConvTranspose1d test (conv1d, transposed conv, polyphase, prepared weights, DRAM slicing).
CONV = Selection("conv", (PER_OP, "-k", "test_conv1d or test_conv_transpose1d or polyphase or prepared_weights or dram_slicing"))
# Every spectrogram test (golden, edge lengths, DFT precision, window, configs, bad inputs, compute configs).
SPECTROGRAM = Selection(
    "spectrogram",
    (PER_OP, "-k", "spectrogram or dft_operand or shorter_window or n_fft or too_short_waveform or compute_configs"),
)
# Every reference-encoder test: float32 storage and GRU fold (per op), each stage (per module), 30 s on device.
REFERENCE_ENCODER = Selection(
    "reference-encoder",
    (PER_OP, PER_MODULE, OPENVOICE, "-k", "convs_store_float32 or flatten_order or every_stage or thirty_second"),
)
CLONE = Selection("clone", (OPENVOICE, "-k", "alone_and_averaged or every_real_clip or same_speaker"))
# Posterior encoder and flow modules on the release config, plus both goldens end to end
# (B=2 with lengths 40/27; tau 0 with 48 channels) and the conditioned (not zero_g) converter.
POSTERIOR = Selection("posterior", (PER_MODULE, OPENVOICE, "-k", "posterior_encoder or vc_small or without_zero_g"))
FLOW = Selection("flow", (PER_OP, PER_MODULE, OPENVOICE, "-k", "converter_flow_folding or z_p or vc_small or without_zero_g"))
WAVENET = Selection(
    "wavenet",
    (PER_OP, PER_MODULE, OPENVOICE, "-k", "converter_flow_folding or posterior_encoder or z_p or vc_small or without_zero_g"),
)
DECODER = Selection("decoder", (PER_MODULE, OPENVOICE, "-k", "decode or resblock2 or vc_small"))
# The opt-in per-item decoder mask (speak): the generator alone (B=2, every frame vs the item alone), then
# MeloTTS tts_small_b3 masked end to end (each item vs the reference and vs the item alone).
DECODER_MASK = Selection("decoder-mask", (PER_MODULE, OPENVOICE, "-k", "generator_mask or masked_decoder"))
# speak on the TTNN backend: two ZH sentences as one batch vs each alone, on the device.
SPEAK = Selection("speak-device", (f"{_TESTS}/test_speak.py", "-k", "alone_on_device"))
# The MeloTTS runner (buckets, two regions) against the unbucketed masked infer, two requests.
MESH_MELO = Selection("mesh-melo", (f"{_TESTS}/test_runner.py", "-k", "mesh_melo"))
MELO_RUNNER = Selection("melo-runner", (f"{_TESTS}/test_runner.py", "-k", "melo_runner_equals"))
# speak's conversion against the converter called directly with the base speaker's and the target's SE.
SPEAK_EMBEDDINGS = Selection("speak-embeddings", (f"{_TESTS}/test_speak.py", "-k", "converter_from_base"))
# The precision plan reaching every conv of the converter's modules (fidelity, accumulation, weight storage).
PLAN = Selection("precision-plan", (PER_OP, "-k", "weight_storage_comes_from_the_precision_plan"))
# Golden validation on the TTNN backend (PCC and max error relative to scale), converter goldens.
GOLDEN_TTNN = Selection("golden-ttnn", (f"{_TESTS}/test_pcc_validation.py", "-k", "test_golden_folder_ttnn and vc_small"))
BATCH = Selection("converter-batch", (OPENVOICE, "-k", "vc_small or without_zero_g or batch_items_match"))

CONVERTER_AND_CLONE_FAULTS: tuple[Fault, ...] = (
    # ---- tt/commons.py (shared by every module) ----
    Fault(
        "time-major-without-transpose",
        "tt/commons.py",
        "return x.permute(0, 2, 1).reshape(1, 1, b * t, c)",
        "return x.reshape(1, 1, b * t, c)",
        "[B, C, T] reshaped to rows without the channel/time transpose (shapes still fit)",
        BATCH,
    ),
    Fault(
        "upload-ignores-dtype",
        "tt/commons.py",
        "return ttnn.from_torch(x.float() if x.is_floating_point() else x, dtype=dtype, layout=layout, device=device)",
        "return ttnn.from_torch(x.float() if x.is_floating_point() else x, dtype=ttnn.bfloat16 if x.is_floating_point() else dtype, layout=layout, device=device)",
        "every float upload in bf16, the float32 paths (spectrogram, duration predictors) included",
        SPECTROGRAM,
    ),
    # ---- tt/wavenet.py ----
    Fault(
        "wavenet-layer1-dilation",
        "tt/wavenet.py",
        "            dilation = conv.dilation[0]\n",
        "            dilation = 2 if i == 1 else conv.dilation[0]\n",
        "one WaveNet layer uses a dilation the reference conv does not have (dilation_rate**i guessed, not read)",
        WAVENET,
    ),
    Fault(
        "wavenet-gate-halves-swapped",
        "tt/wavenet.py",
        "gate_t = ttnn.tanh(ttnn.slice(x_in, [0, 0, 0, 0], [1, 1, rows, h]))\n"
        "            gate_s = ttnn.sigmoid(ttnn.slice(x_in, [0, 0, 0, h], [1, 1, rows, 2 * h]))",
        "gate_t = ttnn.tanh(ttnn.slice(x_in, [0, 0, 0, h], [1, 1, rows, 2 * h]))\n"
        "            gate_s = ttnn.sigmoid(ttnn.slice(x_in, [0, 0, 0, 0], [1, 1, rows, h]))",
        "tanh applied to the second half of the in-conv output and sigmoid to the first",
        WAVENET,
    ),
    Fault(
        "wavenet-res-skip-swapped",
        "tt/wavenet.py",
        "self.res_layers.append(TtConv1d(device, w[:h], b[:h], **conv_args))\n"
        "                self.skip_layers.append(TtConv1d(device, w[h:], b[h:], **conv_args))",
        "self.res_layers.append(TtConv1d(device, w[h:], b[h:], **conv_args))\n"
        "                self.skip_layers.append(TtConv1d(device, w[:h], b[:h], **conv_args))",
        "the res/skip 1x1 conv split the wrong way round (skip = first half)",
        WAVENET,
    ),
    Fault(
        "wavenet-residual-mask-missing",
        "tt/wavenet.py",
        "x = ttnn.multiply(ttnn.add(x, self.res_layers[i](acts, batch_size, length)), mask)",
        "x = ttnn.add(x, self.res_layers[i](acts, batch_size, length))",
        "the residual stream is not re-masked per layer (padded frames of a short item leak into its valid frames)",
        WAVENET,
    ),
    Fault(
        "wavenet-cond-bias-dropped",
        "tt/wavenet.py",
        "                bias += cond_b[2 * h * i : 2 * h * (i + 1)]\n",
        "                pass  # fault: cond bias not folded\n",
        "the conditioning conv's bias is not folded into the in-conv bias (with zero_g it is all the conditioning)",
        WAVENET,
    ),
    Fault(
        "wavenet-cond-slice-layer0",
        "tt/wavenet.py",
        "cond_layer = TtConv1d(device, cond_w[2 * h * i : 2 * h * (i + 1)], None, **conv_args)",
        "cond_layer = TtConv1d(device, cond_w[0 : 2 * h], None, **conv_args)",
        "every layer takes layer 0's slice of the conditioning weight",
        WAVENET,
    ),
    # ---- tt/residual_coupling.py ----
    Fault(
        "flow-pre-bias-dropped",
        "tt/residual_coupling.py",
        "return pre_w, layer.pre.bias.detach(), post_w, post_b",
        "return pre_w, torch.zeros_like(layer.pre.bias), post_w, post_b",
        "the coupling pre-conv bias is dropped when the split is folded into the weights",
        FLOW,
    ),
    Fault(
        "flow-post-bias-dropped",
        "tt/residual_coupling.py",
        "    post_b[order[half:]] = layer.post.bias.detach()\n",
        "    post_b[order[half:]] = 0.0  # fault: post bias dropped\n",
        "the coupling post-conv bias is dropped when it is zero-padded to all channels",
        FLOW,
    ),
    Fault(
        "flow-flip-fold-odd-layers",
        "tt/residual_coupling.py",
        "full_channel_weights(layer, flipped=index % 2 == 1)",
        "full_channel_weights(layer, flipped=index % 2 == 0)",
        "the Flip folded into the even couplings instead of the odd ones",
        FLOW,
    ),
    Fault(
        "flow-reverse-layer-order",
        "tt/residual_coupling.py",
        "for pre, enc, post in reversed(self.layers) if reverse else self.layers:",
        "for pre, enc, post in self.layers:",
        "the reverse flow runs the couplings in forward order",
        FLOW,
    ),
    Fault(
        "flow-m-unmasked",
        "tt/residual_coupling.py",
        "m = ttnn.multiply(post(h, batch_size, length), mask)",
        "m = post(h, batch_size, length)",
        "the coupling's mean is not masked (post bias leaks into padded frames)",
        FLOW,
    ),
    # ---- tt/posterior_encoder.py ----
    Fault(
        "posterior-ignores-weights-plan",
        "tt/posterior_encoder.py",
        "conv = dict(compute=compute, weights_dtype=weights_dtype)",
        "conv = dict(compute=compute)",
        "the posterior encoder's convs keep bf16 weights whatever the plan stores",
        PLAN,
    ),
    Fault(
        "posterior-m-unmasked",
        "tt/posterior_encoder.py",
        "m = ttnn.multiply(self.proj_m(x, batch_size, length), mask)",
        "m = self.proj_m(x, batch_size, length)",
        "m_q not masked (z is still masked at the end)",
        POSTERIOR,
    ),
    Fault(
        "posterior-logs-unmasked",
        "tt/posterior_encoder.py",
        "logs = ttnn.multiply(self.proj_logs(x, batch_size, length), mask)",
        "logs = self.proj_logs(x, batch_size, length)",
        "logs_q not masked (z is still masked at the end)",
        POSTERIOR,
    ),
    Fault(
        "posterior-proj-split-swapped",
        "tt/posterior_encoder.py",
        "self.proj_m = TtConv1d(device, w[:c], b[:c], **conv)\n"
        "        self.proj_logs = TtConv1d(device, w[c:], b[c:], **conv)",
        "self.proj_m = TtConv1d(device, w[c:], b[c:], **conv)\n"
        "        self.proj_logs = TtConv1d(device, w[:c], b[:c], **conv)",
        "the proj conv split into m and logs the wrong way round",
        POSTERIOR,
    ),
    Fault(
        "posterior-noise-without-exp",
        "tt/posterior_encoder.py",
        "ttnn.multiply(scaled_noise, ttnn.exp(logs))",
        "ttnn.multiply(scaled_noise, logs)",
        "the noise is scaled by logs instead of exp(logs)",
        POSTERIOR,
    ),
    # ---- tt/tone_color_converter.py ----
    Fault(
        "converter-tau-not-applied",
        "tt/tone_color_converter.py",
        "return self._assemble(device, spec_lengths, t, noise * tau,",
        "return self._assemble(device, spec_lengths, t, noise,",
        "the posterior draw is uploaded without the tau scale",
        BATCH,
    ),
    Fault(
        "converter-g-src-in-flow-reverse",
        "tt/tone_color_converter.py",
        "speaker = SpeakerRows(inputs.segments, inputs.g_tgt)\n        return self.flow(z_p,",
        "speaker = SpeakerRows(inputs.segments, inputs.g_src)\n        return self.flow(z_p,",
        "the reverse flow is conditioned on the source speaker instead of the target",
        BATCH,
    ),
    Fault(
        "converter-segments-interleaved",
        "tt/tone_color_converter.py",
        "segments = torch.eye(b).repeat_interleave(t, dim=0)",
        "segments = torch.eye(b).repeat(t, 1)",
        "segment matrix built item-interleaved (row r -> item r % B) instead of item-major (row b*T + t -> b)",
        BATCH,
    ),
    Fault(
        "converter-g-src-items-swapped",
        "tt/tone_color_converter.py",
        "g_src=up([g_src[s, :, 0].reshape(1, 1, b, -1) for s in items]),",
        "g_src=up([g_src[s, :, 0].flip(0).reshape(1, 1, b, -1) for s in items]),",
        "the batch items' source embeddings uploaded in reverse item order",
        BATCH,
    ),
    Fault(
        "converter-g-tgt-items-swapped",
        "tt/tone_color_converter.py",
        "g_tgt=up([g_tgt[s, :, 0].reshape(1, 1, b, -1) for s in items]),",
        "g_tgt=up([g_tgt[s, :, 0].flip(0).reshape(1, 1, b, -1) for s in items]),",
        "the batch items' target embeddings uploaded in reverse item order",
        BATCH,
    ),
    Fault(
        "converter-mask-ignores-lengths",
        "tt/tone_color_converter.py",
        "mask = sequence_mask(lengths, t).float()  # [B, T]",
        "mask = torch.ones(b, t)  # [B, T]",
        "the frame mask ignores the per-item lengths (every frame valid)",
        BATCH,
    ),
    # ---- tt/generator.py ----
    Fault(
        "generator-fused-lrelu-dropped",
        "tt/generator.py",
        "_same_conv(device, c1, activation=fused, **conv_args)",
        "_same_conv(device, c1, **conv_args)",
        "the leaky ReLU between a ResBlock1 unit's convs is removed with the separate op but not fused into the first conv",
        DECODER,
    ),
    Fault(
        "generator-fused-lrelu-default-slope",
        "tt/generator.py",
        "ttnn.UnaryWithParam(ttnn.UnaryOpType.LEAKY_RELU, LRELU_SLOPE)",
        "ttnn.UnaryWithParam(ttnn.UnaryOpType.LEAKY_RELU, 0.01)",
        "the fused leaky ReLU takes torch's default slope 0.01 instead of 0.1",
        DECODER,
    ),
    Fault(
        "generator-upsample-ignores-weights-plan",
        "tt/generator.py",
        "dtype=dtypes[i],\n                    weights_dtype=weights_dtype,",
        "dtype=dtypes[i],",
        "the transposed convs keep bf16 weights whatever the plan stores",
        PLAN,
    ),
    Fault(
        "generator-lrelu-slope",
        "tt/generator.py",
        "x = up(masked(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE), mask_in), batch_size, length)",
        "x = up(masked(ttnn.leaky_relu(x, negative_slope=0.2), mask_in), batch_size, length)",
        "the upsampling stages' leaky-ReLU uses slope 0.2 (MelGAN's) instead of LRELU_SLOPE 0.1",
        DECODER,
    ),
    Fault(
        "generator-resblock-lrelu-slope",
        "tt/generator.py",
        "xt = ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE)",
        "xt = ttnn.leaky_relu(x, negative_slope=0.01)",
        "the ResBlock leaky-ReLU uses torch's default slope 0.01 instead of 0.1",
        DECODER,
    ),
    Fault(
        "generator-final-lrelu-slope",
        "tt/generator.py",
        "FINAL_LRELU_SLOPE = 0.01",
        "FINAL_LRELU_SLOPE = 0.1",
        "the leaky-ReLU before conv_post uses 0.1 (upstream's quirk is torch's default 0.01)",
        DECODER,
    ),
    Fault(
        "generator-resblock-padding-shift",
        "tt/generator.py",
        "padding=conv.padding[0], dilation",
        "padding=(conv.padding[0] - 1, conv.padding[0] + 1), dilation",
        "ResBlock convs padded one sample off centre (same length, output shifted by one sample)",
        DECODER,
    ),
    Fault(
        "generator-mean-fold-missing",
        "tt/generator.py",
        "weight = up.weight.detach() / (n if i > 0 else 1)",
        "weight = up.weight.detach()",
        "the 1/num_kernels mean of a stage is not folded into the next upsampling conv",
        DECODER,
    ),
    Fault(
        "generator-mean-fold-twice",
        "tt/generator.py",
        "post.weight.detach() / n,",
        "post.weight.detach() / n / n,",
        "the last stage's 1/num_kernels mean is folded into conv_post twice",
        DECODER,
    ),
    Fault(
        "generator-cond-bias-dropped",
        "tt/generator.py",
        "            pre_bias += ref.cond.bias.detach()",
        "            pass",
        "the decoder's zero_g conditioning (the cond bias) is not folded into conv_pre's bias",
        DECODER,
    ),
    Fault(
        "generator-mask-skips-resblock-convs",
        "tt/generator.py",
        "xt = conv(masked(xt, mask), batch_size, length)",
        "xt = conv(xt, batch_size, length)",
        "the per-item mask is not applied before the residual blocks' convs (only the stage inputs are masked)",
        DECODER_MASK,
    ),
    Fault(
        "generator-mask-skips-upsampling",
        "tt/generator.py",
        "x = up(masked(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE), mask_in), batch_size, length)",
        "x = up(ttnn.leaky_relu(x, negative_slope=LRELU_SLOPE), batch_size, length)",
        "the per-item mask is not applied before the transposed (upsampling) convs",
        DECODER_MASK,
    ),
    Fault(
        "generator-mask-skips-conv-post",
        "tt/generator.py",
        "x = masked(ttnn.leaky_relu(x, negative_slope=FINAL_LRELU_SLOPE), None if masks is None else masks[-1])",
        "x = ttnn.leaky_relu(x, negative_slope=FINAL_LRELU_SLOPE)",
        "the per-item mask is not applied before conv_post (the last 3 samples of a padded item hear the padding)",
        DECODER_MASK,
    ),
    Fault(
        "generator-mask-tiled-not-interleaved",
        "tt/generator.py",
        "masks.append(cast(ttnn.repeat_interleave(masks[-1], up.stride, dim=2), up.conv.dtype))",
        "masks.append(cast(ttnn.repeat(masks[-1], ttnn.Shape([1, 1, up.stride, 1])), up.conv.dtype))",
        "the frame mask is tiled (ttnn.repeat) instead of each frame repeated (repeat_interleave) to the stage's rate",
        DECODER_MASK,
    ),
    # ---- tt/conv.py ----
    Fault(
        "conv-items-not-separated",
        "tt/conv.py",
        "            batch_size=batch_size,\n            input_length=length,\n",
        "            batch_size=1,\n            input_length=batch_size * length,\n",
        "k>1 convs run over the concatenated B*T rows as one item: kernels see across item boundaries",
        CONV,
    ),
    Fault(
        "conv-polyphase-tap-dropped",
        "tt/conv.py",
        "for j in range((k - c + stride - 1) // stride):",
        "for j in range((k - c) // stride):",
        "off-by-one polyphase tap count (floor instead of ceil): a phase loses its last kernel tap",
        CONV,
    ),
    Fault(
        "conv-polyphase-kernel-not-flipped",
        "tt/conv.py",
        "phased[r * c_out : (r + 1) * c_out, :, m + half] = weight[:, :, tap].t()",
        "phased[r * c_out : (r + 1) * c_out, :, half - m] = weight[:, :, tap].t()",
        "transposed conv as a correlation with the unflipped kernel (offset m placed at -m)",
        CONV,
    ),
    Fault(
        "conv-polyphase-bias-not-repeated",
        "tt/conv.py",
        "phased_bias = None if bias is None else bias.repeat(stride)",
        "phased_bias = None if bias is None else bias.repeat_interleave(stride)",
        "polyphase bias laid out per channel (repeat_interleave) instead of per phase (repeat)",
        CONV,
    ),
    # ---- tt/spectrogram.py ----
    Fault(
        "spectrogram-left-reflect-includes-edge",
        "tt/spectrogram.py",
        "left = self._reflect(ttnn.slice(waveform, [0, 1], [1, pad + 1]))",
        "left = self._reflect(ttnn.slice(waveform, [0, 0], [1, pad]))",
        "off-by-one reflect padding on the left (symmetric padding: the edge sample repeated)",
        SPECTROGRAM,
    ),
    Fault(
        "spectrogram-right-reflect-off-by-one",
        "tt/spectrogram.py",
        "right = self._reflect(ttnn.slice(waveform, [0, n - pad - 1], [1, n - 1]))",
        "right = self._reflect(ttnn.slice(waveform, [0, n - pad], [1, n]))",
        "off-by-one reflect padding on the right (symmetric padding: the edge sample repeated)",
        SPECTROGRAM,
    ),
    Fault(
        "spectrogram-symmetric-window",
        "tt/spectrogram.py",
        "torch.hann_window(win_length, dtype=torch.float64)",
        "torch.hann_window(win_length, periodic=False, dtype=torch.float64)",
        "symmetric Hann window instead of torch.stft's periodic one",
        SPECTROGRAM,
    ),
    Fault(
        "spectrogram-window-not-centred",
        "tt/spectrogram.py",
        "left = (n_fft - win_length) // 2",
        "left = 0",
        "a window shorter than n_fft placed at the frame start instead of centred (as torch.stft does)",
        SPECTROGRAM,
    ),
    Fault(
        "spectrogram-hop-window-swapped",
        "tt/reference_encoder.py",
        "self.spectrogram = TtSpectrogram(device, n_fft, hop_length, win_length, compute=",
        "self.spectrogram = TtSpectrogram(device, n_fft, win_length, hop_length, compute=",
        "hop and window length passed in the wrong order to the clone path's spectrogram",
        CLONE,
    ),
    # ---- tt/reference_encoder.py ----
    Fault(
        "refenc-gru-gates-swapped",
        "tt/reference_encoder.py",
        "r = ttnn.slice(rz, [0, 0, 0, 0], [1, 1, 1, hsz])\n"
        "            z = ttnn.slice(rz, [0, 0, 0, hsz], [1, 1, 1, 2 * hsz])",
        "z = ttnn.slice(rz, [0, 0, 0, 0], [1, 1, 1, hsz])\n"
        "            r = ttnn.slice(rz, [0, 0, 0, hsz], [1, 1, 1, 2 * hsz])",
        "GRU reset and update gates swapped (PyTorch's gate order is r, z, n)",
        REFERENCE_ENCODER,
    ),
    Fault(
        "refenc-gru-update-convention",
        "tt/reference_encoder.py",
        "h = ttnn.add(n, ttnn.multiply(z, ttnn.subtract(h, n)))",
        "h = ttnn.add(h, ttnn.multiply(z, ttnn.subtract(n, h)))",
        "GRU update h' = z*n + (1-z)*h (the paper's / Keras convention) instead of PyTorch's (1-z)*n + z*h",
        REFERENCE_ENCODER,
    ),
    Fault(
        "refenc-gru-last-step-dropped",
        "tt/reference_encoder.py",
        "for t in range(steps):",
        "for t in range(steps - 1):",
        "GRU final state taken one step early (the last step not run)",
        REFERENCE_ENCODER,
    ),
    Fault(
        "refenc-flatten-order-not-folded",
        "tt/reference_encoder.py",
        "    w_ih = w_ih.reshape(-1, channels, freq).transpose(1, 2).reshape(w_ih.shape[0], -1)\n",
        "",
        "GRU input weight not permuted for the NHWC flatten (upstream flattens channel-major)",
        REFERENCE_ENCODER,
    ),
    Fault(
        "refenc-layernorm-weight-dropped",
        "tt/reference_encoder.py",
        'layernorm = (state["layernorm.weight"], state["layernorm.bias"])',
        'layernorm = (torch.ones_like(state["layernorm.weight"]), state["layernorm.bias"])',
        "the spectrogram LayerNorm's gamma is dropped",
        REFERENCE_ENCODER,
    ),
    Fault(
        "refenc-layernorm-eps-default",
        "tt/reference_encoder.py",
        "layernorm_eps=reference.layernorm.eps if reference.layernorm is not None else 0.0,",
        "layernorm_eps=1e-12,",
        "LayerNorm epsilon left at ttnn's default 1e-12 instead of torch's 1e-5",
        REFERENCE_ENCODER,
    ),
    Fault(
        "refenc-conv-relu-missing",
        "tt/reference_encoder.py",
        "activation=ttnn.UnaryWithParam(ttnn.UnaryOpType.RELU),",
        "activation=None,",
        "the ReLU after each reference-encoder conv is not fused (left out)",
        REFERENCE_ENCODER,
    ),
    # ---- demo/backends.py (TtnnBackend) ----
    Fault(
        "backend-sum-not-mean",
        "demo/backends.py",
        "mean = download_replicated(ttnn.multiply(total, 1.0 / len(waveforms)), self.device)",
        "mean = download_replicated(total, self.device)",
        "segment embeddings summed, not averaged (sum without the 1/len)",
        CLONE,
    ),
    Fault(
        "backend-running-pairwise-mean",
        "demo/backends.py",
        "total = ttnn.clone(embedding) if total is None else ttnn.add(total, embedding)\n"
        "            mean = download_replicated(ttnn.multiply(total, 1.0 / len(waveforms)), self.device)",
        "total = ttnn.clone(embedding) if total is None else ttnn.multiply(ttnn.add(total, embedding), 0.5)\n"
        "            mean = download_replicated(total, self.device)",
        "segments averaged pairwise as they arrive (weights 1/4, 1/4, 1/2 for 3) instead of sum / len",
        CLONE,
    ),
    Fault(
        "backend-speak-decoder-unmasked",
        "runner/melo_runner.py",
        "decode_host = self.tt.decode_inputs(encoded, y_lengths, frames, eps_p, noise_scale, host.items, None)",
        "decode_host = self.tt.decode_inputs(encoded, y_lengths, frames, eps_p, noise_scale, host.items, None, False)",
        "the TTNN speak path's decode region runs the decoder unmasked (a shorter sentence hears the batch's padding)",
        MELO_RUNNER,
    ),
    Fault(
        "backend-speak-prior-draw-ignored",
        "demo/backends.py",
        "audio, y_lengths = runner.infer(host, r.noise_scale, r.eps_p)",
        "audio, y_lengths = runner.infer(host, r.noise_scale, None)",
        "the TTNN speak path draws its own eps_p instead of the request's per-sentence draw",
        SPEAK,
    ),
)

CONVERTER_AND_CLONE_FAULTS += (
    # ---- demo/speak.py ----
    Fault(
        "speak-embeddings-swapped",
        "demo/speak.py",
        "[(audio, g_src, target_se, options.tau, noise) for audio, noise in requests]",
        "[(audio, target_se, g_src, options.tau, noise) for audio, noise in requests]",
        "speak converts from the target's embedding to the base speaker's (source and target swapped)",
        SPEAK_EMBEDDINGS,
    ),
    # ---- tt/generator.py: a scale fault PCC cannot see ----
    Fault(
        "generator-audio-scaled",
        "tt/generator.py",
        "return ttnn.tanh(self.conv_post(x, batch_size, length))",
        "return ttnn.multiply(ttnn.tanh(self.conv_post(x, batch_size, length)), 0.6)",
        "the decoder's audio comes out at 0.6 of its scale (PCC 1.0: only a max error relative to scale sees it)",
        GOLDEN_TTNN,
    ),
)

# The converter flow's batch-vs-alone check (each coupling's `pre` mask).
FLOW_BATCH = Selection("flow-batch", (PER_MODULE, "-k", "flow_batch_item_equals_item_alone"))
CONVERTER_AND_CLONE_FAULTS += (
    Fault(
        "flow-pre-unmasked",
        "tt/residual_coupling.py",
        "h = ttnn.multiply(pre(x, batch_size, length), mask)",
        "h = pre(x, batch_size, length)",
        "the coupling's pre output is not masked (its bias fills the padded frames the k5 WaveNet reads)",
        FLOW_BATCH,
    ),
    # ---- precision (tt/precision.py), caught by the mock's Wormhole numerics ----
    Fault(
        "posterior-lofi-bf16-accumulation",
        "tt/precision.py",
        '    "posterior_encoder": PRECISE,',
        '    "posterior_encoder": Precision("LoFi", fp32_acc=False),',
        "the posterior encoder at LoFi with BF16 accumulation (its logs goes through exp)",
        POSTERIOR,
    ),
    Fault(
        "clone-spectrogram-bf16-accumulation",
        "tt/precision.py",
        '    "spectrogram": PRECISE,',
        '    "spectrogram": Precision("HiFi4", fp32_acc=False),',
        "the spectrogram's DFT without fp32 accumulation (float32 operands read as BF16, BF16 sums)",
        SPECTROGRAM,
    ),
)

# ---- the device-time model (utils/wormhole_model.py): a model fault must fail its unit tests or the published figures ----
DEVICE_MODEL = Selection("device-model", (f"{_TESTS}/test_device_model.py", "-k", "not cli"))
CONVERTER_AND_CLONE_FAULTS += (
    Fault(
        "device-model-ignores-fidelity",
        "utils/wormhole_model.py",
        "phases = FIDELITY_PHASES.get(fidelity, 2)",
        "phases = 2",
        "every matmul priced at HiFi2 whatever its compute config says",
        DEVICE_MODEL,
    ),
    Fault(
        "device-model-slice-reads-whole-input",
        "utils/wormhole_model.py",
        'if record.op_code.startswith(("Slice", "PaddedSlice")) and record.inputs and record.outputs:',
        "if False:",
        "a slice priced as streaming its whole input instead of its region",
        DEVICE_MODEL,
    ),
    Fault(
        "device-model-matmul-overlaps",
        "utils/wormhole_model.py",
        "return Prediction(record, OP_OVERHEAD_US + compute + data, bound, cores, compute, data)\n\n\ndef _conv",
        "return Prediction(record, OP_OVERHEAD_US + max(compute, data), bound, cores, compute, data)\n\n\ndef _conv",
        "matmuls priced as overlapping compute and DRAM (the published GEMM device times say they do not)",
        DEVICE_MODEL,
    ),
    Fault(
        "device-model-bfp8-as-bf16",
        "utils/wormhole_model.py",
        '"BFLOAT8_B": 1088,',
        '"BFLOAT8_B": 2048,',
        "bfloat8_b tiles priced at bf16 bytes",
        DEVICE_MODEL,
    ),
)

# ---- shape buckets and the converter runner (tt/buckets.py, runner/converter_runner.py) ----
CLONE_BUCKETS = Selection("clone-buckets", (f"{_TESTS}/test_runner.py", "-k", "clone_runner_equals"))
SPECTROGRAM_BATCH = Selection("spectrogram-batch", (PER_OP, "-k", "spectrogram_batch_items"))
# Served batches of several lengths on the N300 mesh (each item vs alone and the reference), concurrent requests
# (converter batches: reference exact, device at the served-batch bar; MeloTTS batches), the 20,000-character text.
SERVING = Selection(
    "serving",
    (f"{_TESTS}/test_runner.py", f"{_TESTS}/test_concurrent_clones.py", f"{_TESTS}/test_speak.py", "-k", "mesh or concurrent or twenty_thousand or merged"),
)
BUCKETS = Selection("buckets", (OPENVOICE, f"{_TESTS}/test_runner.py", "-k", "bucket or runner or trace_safe"))
CONVERTER_AND_CLONE_FAULTS += (
    Fault(
        "bucket-decoder-unmasked",
        "tt/tone_color_converter.py",
        "mask = inputs.mask if inputs.masked_decoder else None",
        "mask = None",
        "a bucketed conversion runs the decoder unmasked: the zero padding leaks into the last frames",
        BUCKETS,
    ),
    Fault(
        "bucket-noise-not-padded",
        "tt/tone_color_converter.py",
        "spec, noise = pad_time(spec, t), pad_time(noise, t)",
        "spec, noise = pad_time(spec, t), torch.nn.functional.pad(noise, (t - valid, 0))",
        "the posterior noise padded on the wrong side: valid frames get shifted noise",
        BUCKETS,
    ),
    Fault(
        "runner-skips-a-write",
        "runner/regions.py",
        "        for name, tensor in host.device_tensors().items():\n",
        "        for name, tensor in list(host.device_tensors().items())[:-1]:\n",
        "the runner writes every persistent input but the target speaker's (stale from the first request)",
        BUCKETS,
    ),
    Fault(
        "clone-bucket-conv-masks-only-first",
        "tt/reference_encoder.py",
        "            if masks is not None and k > 0:",
        "            if masks is not None and k > 5:",
        "a bucketed clone masks the spectrogram but not the later conv inputs: ReLU(bias) of padded rows leaks in",
        CLONE_BUCKETS,
    ),
    Fault(
        "clone-bucket-gru-runs-past-the-last-step",
        "tt/reference_encoder.py",
        "                h = ttnn.where(ttnn.slice(step_mask, [0, 0, t, 0], [1, 1, t + 1, hsz]), h, previous)",
        "                h = ttnn.where(ttnn.slice(step_mask, [0, 0, t, 0], [1, 1, t + 1, hsz]), h, h)",
        "a bucketed clone's GRU keeps stepping through the padded steps (its final h is the bucket's)",
        CLONE_BUCKETS,
    ),
    Fault(
        "mesh-melo-speakers-on-the-other-chip",
        "tt/melo_tts.py",
        "items = [slice(c * per_chip, (c + 1) * per_chip) for c in range(self.chips)]",
        "items = [slice(c * per_chip, (c + 1) * per_chip) for c in reversed(range(self.chips))]",
        "on a mesh each chip's speaker ids and duration draws are the other chip's sentences' (the tokens are not)",
        MESH_MELO,
    ),
    Fault(
        "melo-decode-region-reads-a-stale-encode",
        "runner/melo_runner.py",
        "        decode_region.inputs.encoded = encoded  # a card: the same tensors every run; the mock: this run's\n",
        "",
        "the MeloTTS decode region keeps the encode outputs of the request that made it (eager: stale on the next)",
        MELO_RUNNER,
    ),
    Fault(
        "melo-prior-draw-padded-in-front",
        "tt/melo_tts.py",
        "        return pad_time(eps_p, frames)",
        "        return torch.nn.functional.pad(eps_p, (frames - eps_p.shape[-1], 0))",
        "the prior draw padded to the frame bucket at the front: every frame gets another frame's noise",
        MELO_RUNNER,
    ),
    # ---- serving: batched STFT, the request batcher, merged MeloTTS batches, long texts ----
    Fault(
        "batch-stft-zero-pads-instead-of-reflecting",
        "tt/spectrogram.py",
        'w = torch.nn.functional.pad(w, (self.pad, self.pad), mode="reflect")[0, 0, : rows * self.hop]',
        'w = torch.nn.functional.pad(w, (self.pad, self.pad))[0, 0, : rows * self.hop]',
        "the batched STFT pads each item with zeros instead of its reflection: first and last frames change",
        SPECTROGRAM_BATCH,
    ),
    Fault(
        "batch-stft-item-offset-off-by-one",
        "tt/spectrogram.py",
        "items = [ttnn.slice(magnitude, [b * rows, 0], [b * rows + frames, self.bins]) for b in range(batch_size)]",
        "items = [ttnn.slice(magnitude, [b * rows + b, 0], [b * rows + b + frames, self.bins]) for b in range(batch_size)]",
        "item b's frames cut b frames late from the batched STFT",
        SPECTROGRAM_BATCH,
    ),
    Fault(
        "batcher-results-to-the-wrong-requests",
        "runner/batcher.py",
        "for p, result in zip(pending, results):",
        "for p, result in zip(pending, results[1:] + results[:1]):",
        "the batcher hands each request the next request's result",
        SERVING,
    ),
    Fault(
        "served-batch-cut-to-the-longest",
        "tt/tone_color_converter.py",
        "return [audio[b, 0, : n * self.hop] for b, n in enumerate(inputs.lengths)]",
        "return [audio[b, 0, : max(inputs.lengths) * self.hop] for b, n in enumerate(inputs.lengths)]",
        "a served batch's items come back at the longest item's length (the padding not cut)",
        SERVING,
    ),
    Fault(
        "mesh-chips-get-each-others-items",
        "tt/tone_color_converter.py",
        "items = [slice(c * b, (c + 1) * b) for c in range(chips)]",
        "items = [slice(c * b, (c + 1) * b) for c in reversed(range(chips))]",
        "on a mesh each chip's masks, draws and embeddings are the other chip's items (the waveforms are not)",
        SERVING,
    ),
    Fault(
        "merged-prior-draw-offset-not-advanced",
        "demo/backends.py",
        "            start += count\n        return torch.cat(parts)",
        "        return torch.cat(parts)",
        "merged MeloTTS requests all draw the prior with the first request's y_lengths",
        SERVING,
    ),
    Fault(
        "long-text-first-batch-not-small",
        "demo/speak.py",
        "        limit = self.first_batch\n",
        "        limit = self.max_batch\n",
        "a long text's first MeloTTS batch is a full one: the first audio waits for max_batch sentences",
        SERVING,
    ),
)

# Every module's faults: the converter and clone paths above, MeloTTS in `melotts.py`.
FAULTS: tuple[Fault, ...] = CONVERTER_AND_CLONE_FAULTS + MELOTTS_FAULTS
