# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Speaker (tone-colour) embedding network of the converter (upstream `models.ReferenceEncoder`).

A linear spectrogram [N, T, bins] is layer-normed over the bins, treated as a one-channel
image, shrunk by six stride-2 3x3 convolutions, and the frame sequence that remains is
summarised by the final hidden state of a GRU, projected to `gin_channels`.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from models.demos.openvoice.utils.checkpoint import CheckpointError, load_strict, read_state_dict

REF_ENC_FILTERS = (32, 32, 64, 64, 128, 128)
GRU_HIDDEN = 128
_PREFIX = "ref_enc."


def _conv_output_size(size: int, n_convs: int, kernel_size: int = 3, stride: int = 2, padding: int = 1) -> int:
    for _ in range(n_convs):
        size = (size - kernel_size + 2 * padding) // stride + 1
    return size


class ReferenceEncoder(nn.Module):
    """[N, T, spec_channels] spectrogram frames -> [N, gin_channels] speaker embedding."""

    def __init__(self, spec_channels: int, gin_channels: int, layernorm: bool = True) -> None:
        super().__init__()
        self.spec_channels = spec_channels
        filters = (1,) + REF_ENC_FILTERS
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c_out, kernel_size=3, stride=2, padding=1) for c_in, c_out in zip(filters[:-1], filters[1:])
        )
        freq_out = _conv_output_size(spec_channels, len(REF_ENC_FILTERS))
        self.gru = nn.GRU(input_size=REF_ENC_FILTERS[-1] * freq_out, hidden_size=GRU_HIDDEN, batch_first=True)
        self.proj = nn.Linear(GRU_HIDDEN, gin_channels)
        self.layernorm = nn.LayerNorm(spec_channels) if layernorm else None

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        n = inputs.size(0)
        out = inputs.reshape(n, 1, -1, self.spec_channels)  # [N, 1, T, bins]
        if self.layernorm is not None:
            out = self.layernorm(out)
        for conv in self.convs:
            out = F.relu(conv(out))  # [N, C, T', bins']
        # Each remaining frame becomes one GRU step of all channels x bins (channel-major).
        out = out.transpose(1, 2).reshape(n, out.size(2), -1)
        _, hidden = self.gru(out)  # hidden: [1, N, 128]
        return self.proj(hidden.squeeze(0))


def load_reference_encoder(
    path: str | Path,
    spec_channels: int = 513,
    gin_channels: int = 256,
    layernorm: bool = True,
) -> ReferenceEncoder:
    """Reference encoder from a full converter checkpoint or a plain `ref_enc.*` state dict.

    Only the `ref_enc.` tensors are taken (weight norm folded); they must fit exactly.
    """
    state = read_state_dict(path)
    ref_state = {k[len(_PREFIX) :]: v for k, v in state.items() if k.startswith(_PREFIX)}
    if not ref_state:
        raise CheckpointError(f"{path} holds no '{_PREFIX}*' tensors")
    module = ReferenceEncoder(spec_channels, gin_channels, layernorm=layernorm)
    load_strict(module, ref_state, source=str(path))
    return module.eval()
