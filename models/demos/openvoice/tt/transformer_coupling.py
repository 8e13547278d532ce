# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN MeloTTS prior flow (reference `transformer_coupling.TransformerCouplingBlock`), reverse
(inference, z_p -> z) and forward.

Same folds as `residual_coupling.py` (its `folded_couplings` is reused): the Flip
between couplings and the x0/x1 split are folded into zero-padded pre/post weights, so each
coupling is ``x -/+ post(enc(pre(x) * mask)) * mask`` on the full channel vector, no slice,
concat or flip on device. The shift network is the attention `TtEncoder` (FFN kernel 5,
3 layers, speaker added before layer 2).

Input masking: upstream's z_p is NOT masked (padded frames carry prior noise) and each
coupling passes its x0 half unmasked, while x1 = (x1 - m) * mask. After two couplings (with
the flip between them) every channel has been an x1 once, so upstream's z is zero on every
padded frame; valid frames never see padded ones (pre(x0) * mask, masked attention keys,
masked FFN inputs). So the full-vector form on ``x * mask`` (one multiply at the start) gives
upstream's z exactly, padded frames included (checked in float64: `test_melo_flow_folding_is_exact`
in `test_per_op_pcc.py`).

Forward (reverse=False) is the same arithmetic, exact for a masked input.

Precision, chosen by measurement: `FLOW_DTYPE` = bfloat16 weights and activations of the shift
networks (it meets the 0.9999 PCC rule on reference inputs), fp32 accumulation
(`precision.PLAN["transformer_flow"]`). The residual stream x keeps the dtype of the z_p it is given
(the pipeline's float32 z_p: float32 x, m cast up before each subtraction). Mock, reverse flow
fed the reference's z_p, z vs the reference (PCC, max |error| / max |z|, worst item):

  ==================================  ==================  ==================  ==================
  case                                bf16, bf16 z_p      bf16, float32 z_p   float32
  ==================================  ==================  ==================  ==================
  golden tts_small_en (1 x 37)        0.99994, 0.62 %     0.99995, 0.55 %     1.0000000, 4.3e-7
  golden tts_small_b3 (46/26/35)      0.99997, 0.55 %     0.99998, 0.27 %     1.0000000, 2.3e-7
  release shape, B=2, 40/23 frames    --                  0.99999, 0.64 %     --
  release shape, B=2, 64/41 frames    0.99998, 0.73 %     --                  1.0000000, 3.2e-7
  release shape, 300 frames           0.99998, 0.71 %     --                  1.0000000, 3.4e-7
  ==================================  ==================  ==================  ==================

bf16 halves the attention's ``[B, heads, T_y, T_y]`` scores and skew intermediates, the flow's
largest tensors: 2 x 1700^2 x 2 B = 11.6 MB per item for a 20 s utterance (T_y ~ 1700).
float32 stays one argument away (``dtype=ttnn.float32``) if the end-to-end audio needs it.
"""

from __future__ import annotations

import ttnn

from models.demos.openvoice.reference.transformer_coupling import TransformerCouplingBlock, TransformerCouplingLayer
from models.demos.openvoice.tt.attentions import TtEncoder
from models.demos.openvoice.tt.commons import cast
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.precision import compute_config
from models.demos.openvoice.tt.residual_coupling import folded_couplings
from models.demos.openvoice.tt.wavenet import SpeakerRows

FLOW_DTYPE = ttnn.bfloat16


class TtTransformerCouplingBlock:
    def __init__(
        self,
        device: ttnn.Device,
        ref: TransformerCouplingBlock,
        *,
        dtype: ttnn.DataType = FLOW_DTYPE,
        compute: ttnn.DeviceComputeKernelConfig | None = None,
        weights_dtype: ttnn.DataType | None = None,
    ) -> None:
        """`dtype`: the shift networks' activations (and weights unless `weights_dtype`)."""
        self.dtype = dtype
        compute = compute if compute is not None else compute_config(device, "transformer_flow")
        conv = dict(compute=compute, dtype=dtype, weights_dtype=weights_dtype or dtype)
        self.layers: list[tuple[TtConv1d, TtEncoder, TtConv1d]] = []
        for layer, pre_w, pre_b, post_w, post_b in folded_couplings(ref.flows, TransformerCouplingLayer):
            self.layers.append(
                (
                    TtConv1d(device, pre_w, pre_b, **conv),
                    TtEncoder(device, layer.enc, dtype=dtype, compute=compute, weights_dtype=weights_dtype),
                    TtConv1d(device, post_w, post_b, **conv),
                )
            )

    def __call__(
        self,
        x: ttnn.Tensor,
        mask: ttnn.Tensor,
        batch_size: int,
        length: int,
        speaker: SpeakerRows | None,
        reverse: bool = True,
    ) -> ttnn.Tensor:
        """x [1, 1, B*T, C] (padded frames may hold anything), mask [1, 1, B*T, 1] -> z, padded rows zero.

        The residual stream x keeps its own dtype (float32 z_p: float32 z); the shift networks run
        in `dtype` (inputs, mask and speaker rows cast once per call when they differ)."""
        x = ttnn.multiply(x, mask)
        mask = cast(mask, self.dtype)
        if speaker is not None:
            speaker = SpeakerRows(cast(speaker.segments, self.dtype), cast(speaker.g, self.dtype))
        for pre, enc, post in reversed(self.layers) if reverse else self.layers:
            h = ttnn.multiply(pre(cast(x, self.dtype), batch_size, length), mask)
            h = enc(h, mask, batch_size, length, speaker)
            m = ttnn.multiply(post(h, batch_size, length), mask)
            m = cast(m, x.dtype)
            x = ttnn.subtract(x, m) if reverse else ttnn.add(x, m)
        return x
