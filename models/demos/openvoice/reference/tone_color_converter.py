# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""OpenVoice V2 tone-colour converter (upstream `models.SynthesizerTrn(n_vocab=0, n_speakers=0)`
restricted to what `voice_conversion` and `extract_se` run).

    spec --enc_q(g=0 if zero_g)--> z --flow(g_src)--> z_p --flow^-1(g_tgt)--> z_hat
         --dec(g=0 if zero_g)--> audio

The submodules carry upstream's names (`enc_q`, `flow`, `dec`, `ref_enc`), so the official
converter checkpoint loads strictly once its weight norm is folded. With `zero_g` (every V2
config) the posterior encoder and the decoder get an all-zero speaker embedding: their
conditioning convs then contribute only their biases, which must still be applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from loguru import logger
from torch import nn

from models.demos.openvoice.utils.checkpoint import load_strict, read_state_dict
from models.demos.openvoice.utils.config import ConfigError, OpenVoiceConfig, load_config
from models.demos.openvoice.reference.generator import Generator
from models.demos.openvoice.reference.posterior_encoder import PosteriorEncoder
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder
from models.demos.openvoice.reference.residual_coupling import ResidualCouplingBlock

# Fixed by upstream SynthesizerTrn, not read from config.json.
POSTERIOR_KERNEL_SIZE = 5
POSTERIOR_DILATION_RATE = 1
POSTERIOR_LAYERS = 16
FLOW_KERNEL_SIZE = 5
FLOW_DILATION_RATE = 1
FLOW_WN_LAYERS = 4
FLOW_COUPLINGS = 4


@dataclass(frozen=True)
class VoiceConversionOutput:
    audio: torch.Tensor  # [B, 1, T * upsample_factor]
    y_mask: torch.Tensor  # [B, 1, T]
    z: torch.Tensor  # posterior sample [B, inter, T]
    m_q: torch.Tensor  # posterior mean
    logs_q: torch.Tensor  # posterior log-std
    z_p: torch.Tensor  # flow(z, g_src): speaker-independent latent
    z_hat: torch.Tensor  # flow^-1(z_p, g_tgt)


class ToneColorConverter(nn.Module):
    def __init__(
        self,
        spec_channels: int,
        inter_channels: int,
        hidden_channels: int,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        gin_channels: int = 256,
        zero_g: bool = False,
    ) -> None:
        super().__init__()
        self.zero_g = zero_g
        self.dec = Generator(
            inter_channels,
            resblock,
            resblock_kernel_sizes,
            resblock_dilation_sizes,
            upsample_rates,
            upsample_initial_channel,
            upsample_kernel_sizes,
            gin_channels=gin_channels,
        )
        self.enc_q = PosteriorEncoder(
            spec_channels,
            inter_channels,
            hidden_channels,
            POSTERIOR_KERNEL_SIZE,
            POSTERIOR_DILATION_RATE,
            POSTERIOR_LAYERS,
            gin_channels=gin_channels,
        )
        self.flow = ResidualCouplingBlock(
            inter_channels,
            hidden_channels,
            FLOW_KERNEL_SIZE,
            FLOW_DILATION_RATE,
            FLOW_WN_LAYERS,
            n_flows=FLOW_COUPLINGS,
            gin_channels=gin_channels,
        )
        self.ref_enc = ReferenceEncoder(spec_channels, gin_channels)

    @classmethod
    def from_config(cls, cfg: OpenVoiceConfig) -> "ToneColorConverter":
        """Randomly initialised converter shaped by a converter `config.json`."""
        if not cfg.is_converter:
            raise ConfigError("config describes a text-to-speech model, not a tone-colour converter")
        m = cfg.model
        return cls(
            cfg.data.spec_channels,
            m.inter_channels,
            m.hidden_channels,
            m.resblock,
            m.resblock_kernel_sizes,
            m.resblock_dilation_sizes,
            m.upsample_rates,
            m.upsample_initial_channel,
            m.upsample_kernel_sizes,
            gin_channels=m.gin_channels,
            zero_g=m.zero_g,
        )

    @classmethod
    def load(cls, config_path: str | Path, checkpoint_path: str | Path) -> "ToneColorConverter":
        """Converter from an official `config.json` and `checkpoint.pth`, strictly, in eval mode."""
        model = cls.from_config(load_config(config_path))
        load_strict(model, read_state_dict(checkpoint_path), source=str(checkpoint_path))
        logger.info(f"loaded tone-colour converter from {checkpoint_path} (zero_g={model.zero_g})")
        return model.eval()

    def extract_se(self, spec: torch.Tensor) -> torch.Tensor:
        """Spectrogram [B, bins, T] -> speaker embedding [B, gin, 1].

        The reference encoder has no mask: padded frames change the embedding, so batch
        only clips of equal length (upstream embeds one clip at a time).
        """
        return self.ref_enc(spec.transpose(1, 2)).unsqueeze(-1)

    def voice_conversion(
        self,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        tau: float = 0.3,
        noise: torch.Tensor | None = None,
    ) -> VoiceConversionOutput:
        """Re-voice `spec` [B, bins, T] (valid frames per item in `spec_lengths`) from the
        speaker `g_src` [B, gin, 1] to `g_tgt` [B, gin, 1].

        `tau` scales the posterior noise (0.3 in upstream `convert`); `noise` [B, inter, T]
        is that standard-normal draw, sampled when None.
        """
        g_enc = torch.zeros_like(g_src) if self.zero_g else g_src
        z, m_q, logs_q, y_mask = self.enc_q(spec, spec_lengths, g=g_enc, tau=tau, noise=noise)
        z_p = self.flow(z, y_mask, g=g_src)
        z_hat = self.flow(z_p, y_mask, g=g_tgt, reverse=True)
        g_dec = torch.zeros_like(g_tgt) if self.zero_g else g_tgt
        audio = self.dec(z_hat * y_mask, g=g_dec)
        return VoiceConversionOutput(audio=audio, y_mask=y_mask, z=z, m_q=m_q, logs_q=logs_q, z_p=z_p, z_hat=z_hat)
