# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN MeloTTS text encoder (reference `text_encoder.TextEncoder`) -> (enc_x, m_p, logs_p).

    prepare_inputs (the one host->device upload) -> __call__ (device only) -> time-major outputs

Inputs, uploaded by :meth:`TtTextEncoder.prepare_inputs`: the three id streams as ONE
``[3, B*T]`` uint32 ROW_MAJOR tensor (row 0 phone ids, row 1 tone ids + n_vocab, row 2
language ids + n_vocab + n_tones: one stacked table serves the three embeddings), the BERT
features time-major ``[1, 1, B*T, 1024]`` / ``[1, 1, B*T, 768]`` float32, the token mask
``[1, 1, B*T, 1]`` float32.

Precision: float32 weights and activations, fp32 accumulation (`precision.PLAN["text_encoder"]`):
the outputs feed the duration predictors, whose ceil() must give the reference's integer
durations exactly (T_x is small, so float32 costs little). ttnn 0.81.1's ``ttnn.embedding``
only takes bfloat16 tables, so each float32 table is stored as three bfloat16 tables
hi + mid + lo (hi = bf16(w), mid = bf16(w - hi), lo = w - hi - mid, which is exactly a bf16;
checked at load): three lookups added in float32 give the float32 entry back exactly
((hi + mid) is w - lo, a float32, then + lo = w). Measured (mock), max |error| of each item's
scale: release shape vs the reference <= 1.4e-6; golden tts_small_en vs upstream <= 7.8e-7,
tts_small_b3 <= 1.05e-5 (the float32 reference itself is 1.06e-5 off that golden: summation
order); PCC 1.0000000 everywhere (`tests/test_per_module_pcc.py`). On a card float32 matmul
operands are limited by the matrix engine's source registers, which the mock does not model.

Order of the sum as upstream (float addition is not associative): (phone + tone + language +
bert_proj(bert) + ja_bert_proj(ja_bert)) * sqrt(H), masked. ``proj`` is split at load into
the mean and the log-std 1x1 convs (no channel slice on device).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import ttnn

from models.demos.openvoice.reference.commons import sequence_mask
from models.demos.openvoice.reference.text_encoder import TextEncoder
from models.demos.openvoice.tt.attentions import TtEncoder
from models.demos.openvoice.tt.commons import bf16_parts, num_chips, to_time_major, upload, upload_per_chip
from models.demos.openvoice.tt.conv import TtConv1d
from models.demos.openvoice.tt.precision import compute_config
from models.demos.openvoice.tt.wavenet import SpeakerRows

DTYPE = ttnn.float32  # weights and activations (see the module docstring)


@dataclass
class TtTextEncoderInputs:
    """Device inputs of one text-encoder call; `batch_size` x `length` tokens."""

    ids: ttnn.Tensor  # [3, B*T] uint32 ROW_MAJOR: phone, tone + n_vocab, language + n_vocab + n_tones
    bert: ttnn.Tensor  # [1, 1, B*T, 1024]
    ja_bert: ttnn.Tensor  # [1, 1, B*T, 768]
    mask: ttnn.Tensor  # [1, 1, B*T, 1]
    batch_size: int
    length: int


def upload_speaker(
    device: ttnn.Device, g: torch.Tensor, length: int, dtype: ttnn.DataType = DTYPE
) -> SpeakerRows:
    """Speaker embeddings g [B, gin, 1] -> `SpeakerRows` for B items of `length` rows each (an upload)."""
    b = g.shape[0]
    segments = torch.eye(b).repeat_interleave(length, dim=0).reshape(1, 1, b * length, b)
    return SpeakerRows(upload(device, segments, dtype), upload(device, g[:, :, 0].reshape(1, 1, b, -1), dtype))


class TtTextEncoder:
    def __init__(self, device: ttnn.Device, ref: TextEncoder, *, compute: ttnn.DeviceComputeKernelConfig | None = None) -> None:
        self.device = device
        self.hidden = ref.hidden_channels
        self.n_vocab, self.n_tones = ref.emb.num_embeddings, ref.tone_emb.num_embeddings
        compute = compute if compute is not None else compute_config(device, "text_encoder")
        table = torch.cat([ref.emb.weight, ref.tone_emb.weight, ref.language_emb.weight]).detach()
        self.tables = [upload(device, part, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT) for part in bf16_parts(table)]
        conv = dict(compute=compute, dtype=DTYPE, weights_dtype=DTYPE)
        self.bert_proj = TtConv1d(device, ref.bert_proj.weight.detach(), ref.bert_proj.bias.detach(), **conv)
        self.ja_bert_proj = TtConv1d(device, ref.ja_bert_proj.weight.detach(), ref.ja_bert_proj.bias.detach(), **conv)
        self.encoder = TtEncoder(device, ref.encoder, dtype=DTYPE, compute=compute)
        c = ref.out_channels
        w, b = ref.proj.weight.detach(), ref.proj.bias.detach()
        self.proj_m = TtConv1d(device, w[:c], b[:c], **conv)
        self.proj_logs = TtConv1d(device, w[c:], b[c:], **conv)

    def prepare_inputs(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        tone: torch.Tensor,
        language: torch.Tensor,
        bert: torch.Tensor,
        ja_bert: torch.Tensor,
        on_host: bool = False,
    ) -> TtTextEncoderInputs:
        """Upload ids x/tone/language [B, T], x_lengths [B], bert [B, 1024, T], ja_bert [B, 768, T] (`on_host`: the
        same tensors left on the host, for a runner's persistent inputs)."""
        device = None if on_host else self.device
        chips = num_chips(self.device)  # a mesh: each chip its share of the items (data parallel)
        b, t = x.shape[0] // chips, x.shape[1]
        items = [slice(c * b, (c + 1) * b) for c in range(chips)]
        ids = torch.stack([x, tone + self.n_vocab, language + self.n_vocab + self.n_tones])  # [3, B, T]
        ids = [ids[:, s].reshape(3, b * t).to(torch.int32) for s in items]
        mask = sequence_mask(x_lengths, t).float()
        up = lambda parts, dtype=DTYPE, layout=ttnn.TILE_LAYOUT: upload_per_chip(device, self.device, parts, dtype, layout)  # noqa: E731
        return TtTextEncoderInputs(
            ids=up(ids, ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT),
            bert=up([to_time_major(bert[s]) for s in items]),
            ja_bert=up([to_time_major(ja_bert[s]) for s in items]),
            mask=up([mask[s].reshape(1, 1, b * t, 1) for s in items]),
            batch_size=b,
            length=t,
        )

    def _embed(self, ids: ttnn.Tensor, rows: int) -> list[ttnn.Tensor]:
        """[3, B*T] ids -> the three float32 embeddings (phone, tone, language), each [1, 1, B*T, H]."""
        lookups = [ttnn.embedding(ids, table, layout=ttnn.TILE_LAYOUT, dtype=DTYPE) for table in self.tables]
        stacked = ttnn.add(ttnn.add(lookups[0], lookups[1]), lookups[2])  # [3, B*T, H], exact float32 entries
        return [
            ttnn.reshape(ttnn.slice(stacked, [kind, 0, 0], [kind + 1, rows, self.hidden]), (1, 1, rows, self.hidden))
            for kind in range(3)
        ]

    def __call__(
        self, inputs: TtTextEncoderInputs, speaker: SpeakerRows | None
    ) -> tuple[ttnn.Tensor, ttnn.Tensor, ttnn.Tensor]:
        """-> (enc_x [1, 1, B*T, H], m_p [1, 1, B*T, C], logs_p [1, 1, B*T, C]), padded rows zero."""
        b, t, mask = inputs.batch_size, inputs.length, inputs.mask
        phone, tone, language = self._embed(inputs.ids, b * t)
        h = ttnn.add(ttnn.add(phone, tone), language)
        h = ttnn.add(h, self.bert_proj(inputs.bert, b, t))
        h = ttnn.add(h, self.ja_bert_proj(inputs.ja_bert, b, t))
        h = ttnn.multiply(ttnn.multiply(h, math.sqrt(self.hidden)), mask)
        h = self.encoder(h, mask, b, t, speaker)
        m_p = ttnn.multiply(self.proj_m(h, b, t), mask)
        logs_p = ttnn.multiply(self.proj_logs(h, b, t), mask)
        return h, m_p, logs_p
