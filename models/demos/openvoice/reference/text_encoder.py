# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS text encoder (upstream `melo/models.py::TextEncoder`): phone + tone + language
embeddings plus projected BERT features, a speaker-conditioned transformer, and the prior
statistics (m_p, logs_p) per token."""

from __future__ import annotations

import math

import torch
from torch import nn

from models.demos.openvoice.reference.attentions import Encoder
from models.demos.openvoice.reference.commons import sequence_mask

BERT_CHANNELS = 1024  # multilingual / English BERT hidden size (`bert` input)
JA_BERT_CHANNELS = 768  # second BERT stream (`ja_bert` input; used by every shipped language)


class TextEncoder(nn.Module):
    def __init__(
        self,
        n_vocab: int,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        gin_channels: int = 0,
        num_languages: int = 8,
        num_tones: int = 16,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.emb = nn.Embedding(n_vocab, hidden_channels)
        self.tone_emb = nn.Embedding(num_tones, hidden_channels)
        self.language_emb = nn.Embedding(num_languages, hidden_channels)
        self.bert_proj = nn.Conv1d(BERT_CHANNELS, hidden_channels, 1)
        self.ja_bert_proj = nn.Conv1d(JA_BERT_CHANNELS, hidden_channels, 1)
        self.encoder = Encoder(hidden_channels, filter_channels, n_heads, n_layers, kernel_size, gin_channels=gin_channels)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        tone: torch.Tensor,
        language: torch.Tensor,
        bert: torch.Tensor,
        ja_bert: torch.Tensor,
        g: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """x, tone, language: [B, T] ids; bert: [B, 1024, T]; ja_bert: [B, 768, T]; g: [B, gin, 1].

        Returns (hidden [B, H, T], m_p [B, C, T], logs_p [B, C, T], x_mask [B, 1, T]).
        """
        bert_emb = self.bert_proj(bert).transpose(1, 2)
        ja_bert_emb = self.ja_bert_proj(ja_bert).transpose(1, 2)
        # Same summation order as upstream (float addition is not associative).
        h = (self.emb(x) + self.tone_emb(tone) + self.language_emb(language) + bert_emb + ja_bert_emb) * math.sqrt(
            self.hidden_channels
        )
        h = h.transpose(1, -1)  # [B, H, T]
        x_mask = sequence_mask(x_lengths, h.size(2)).unsqueeze(1).to(h.dtype)
        h = self.encoder(h * x_mask, x_mask, g=g)
        stats = self.proj(h) * x_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return h, m, logs, x_mask
