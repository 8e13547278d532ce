# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS base-speaker synthesizer, inference path (upstream `melo/models.py::SynthesizerTrn.infer`).

text encoder (phones, tones, languages, BERT features, speaker) -> log-durations mixed from
the stochastic and the deterministic predictor -> frame alignment -> prior sample
z_p = m_p + eps * exp(logs_p) * noise_scale -> transformer flow reversed -> HiFi-GAN decoder.

Submodule names are upstream's, so official checkpoints load strictly; the posterior
encoder `enc_q` they carry is training-only and is dropped at load (logged).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from loguru import logger
from torch import nn

from models.demos.openvoice.utils.checkpoint import load_strict, read_state_dict
from models.demos.openvoice.utils.config import ConfigError, OpenVoiceConfig, load_config
from models.demos.openvoice.reference.duration_predictor import DurationPredictor
from models.demos.openvoice.reference.generator import Generator
from models.demos.openvoice.reference.length_regulator import expand, regulate_lengths
from models.demos.openvoice.reference.residual_coupling import ResidualCouplingBlock
from models.demos.openvoice.reference.stochastic_duration_predictor import StochasticDurationPredictor
from models.demos.openvoice.reference.text_encoder import TextEncoder
from models.demos.openvoice.reference.transformer_coupling import TransformerCouplingBlock

# Hard-wired in upstream SynthesizerTrn, not in config.json.
FLOW_KERNEL_SIZE = 5
DP_FILTER_CHANNELS = 256
DURATION_KERNEL_SIZE = 3
SDP_FLOWS = 4
# Checkpoint prefixes that official MeloTTS files carry but inference never runs.
UNUSED_PREFIXES = ("enc_q.",)

# The prior's draw as a function of the batch's y_lengths (known only after the durations) and
# the channel count -> eps_p [B, C, max(y_lengths)]. Lets a caller key each item's noise to the
# item (not to the batch it is in); see demo/speak.py.
PriorDraw = Callable[[Sequence[int], int], torch.Tensor]


@dataclass
class MeloTTSOutput:
    audio: torch.Tensor  # [B, 1, T_y * upsample_factor] (T_y cut to max_len when given)
    attn: torch.Tensor  # [B, 1, T_y, T_x]
    y_mask: torch.Tensor  # [B, 1, T_y]
    z: torch.Tensor  # [B, C, T_y] flow output (not masked; the decoder gets z * y_mask)
    z_p: torch.Tensor  # [B, C, T_y] prior sample
    m_p_expanded: torch.Tensor  # [B, C, T_y]
    logs_p_expanded: torch.Tensor  # [B, C, T_y]
    enc_x: torch.Tensor  # [B, H, T_x] text-encoder hidden state
    m_p: torch.Tensor  # [B, C, T_x]
    logs_p: torch.Tensor  # [B, C, T_x]
    x_mask: torch.Tensor  # [B, 1, T_x]
    logw_sdp: torch.Tensor  # [B, 1, T_x] stochastic predictor, before sdp_ratio mixing
    logw_dp: torch.Tensor  # [B, 1, T_x] deterministic predictor, before mixing
    y_lengths: torch.Tensor  # [B] int64 frames per item


class MeloTTS(nn.Module):
    def __init__(
        self,
        n_vocab: int,
        inter_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        resblock: str,
        resblock_kernel_sizes: tuple[int, ...],
        resblock_dilation_sizes: tuple[tuple[int, ...], ...],
        upsample_rates: tuple[int, ...],
        upsample_initial_channel: int,
        upsample_kernel_sizes: tuple[int, ...],
        n_speakers: int,
        gin_channels: int,
        num_tones: int,
        num_languages: int,
        n_flow_layer: int = 4,
        n_layers_trans_flow: int = 3,
        use_transformer_flow: bool = True,
        use_spk_conditioned_encoder: bool = True,
        use_vc: bool = False,
    ) -> None:
        super().__init__()
        if n_speakers <= 0:
            # Upstream would build a reference encoder instead of emb_g; no MeloTTS release does.
            raise ConfigError("MeloTTS needs data.n_speakers > 0 (speaker-embedding table emb_g)")
        self.use_vc = use_vc
        enc_gin_channels = gin_channels if use_spk_conditioned_encoder else 0
        self.enc_p = TextEncoder(
            n_vocab,
            inter_channels,
            hidden_channels,
            filter_channels,
            n_heads,
            n_layers,
            kernel_size,
            gin_channels=enc_gin_channels,
            num_languages=num_languages,
            num_tones=num_tones,
        )
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
        if use_transformer_flow:
            self.flow = TransformerCouplingBlock(
                inter_channels,
                hidden_channels,
                filter_channels,
                n_heads,
                n_layers_trans_flow,
                FLOW_KERNEL_SIZE,
                n_flows=n_flow_layer,
                gin_channels=gin_channels,
            )
        else:
            # Upstream passes n_flow_layer as the WaveNet depth here (n_flows stays 4).
            self.flow = ResidualCouplingBlock(
                inter_channels, hidden_channels, FLOW_KERNEL_SIZE, 1, n_flow_layer, gin_channels=gin_channels
            )
        self.sdp = StochasticDurationPredictor(hidden_channels, DURATION_KERNEL_SIZE, SDP_FLOWS, gin_channels=gin_channels)
        self.dp = DurationPredictor(hidden_channels, DP_FILTER_CHANNELS, DURATION_KERNEL_SIZE, gin_channels=gin_channels)
        self.emb_g = nn.Embedding(n_speakers, gin_channels)

    @classmethod
    def from_config(cls, cfg: OpenVoiceConfig) -> "MeloTTS":
        """Randomly initialised model shaped by a MeloTTS `config.json`."""
        if cfg.n_symbols <= 0:
            raise ConfigError("config has no 'symbols': not a MeloTTS config")
        m = cfg.model
        if m.flow_share_parameter:
            raise ConfigError("model.flow_share_parameter=true (shared flow encoder) is not supported")
        return cls(
            cfg.n_symbols,
            m.inter_channels,
            m.hidden_channels,
            m.filter_channels,
            m.n_heads,
            m.n_layers,
            m.kernel_size,
            m.resblock,
            m.resblock_kernel_sizes,
            m.resblock_dilation_sizes,
            m.upsample_rates,
            m.upsample_initial_channel,
            m.upsample_kernel_sizes,
            n_speakers=cfg.data.n_speakers,
            gin_channels=m.gin_channels,
            num_tones=cfg.num_tones,
            num_languages=cfg.num_languages,
            n_flow_layer=m.n_flow_layer,
            n_layers_trans_flow=m.n_layers_trans_flow,
            use_transformer_flow=m.use_transformer_flow,
            use_spk_conditioned_encoder=m.use_spk_conditioned_encoder,
            use_vc=m.use_vc,
        )

    @classmethod
    def load(cls, config_path: str | Path, checkpoint_path: str | Path) -> "MeloTTS":
        """Model from an official `config.json` and `checkpoint.pth`, strictly, in eval mode."""
        model = cls.from_config(load_config(config_path))
        load_strict(model, read_state_dict(checkpoint_path), ignored_prefixes=UNUSED_PREFIXES, source=str(checkpoint_path))
        logger.info(f"loaded MeloTTS from {checkpoint_path}")
        return model.eval()

    def infer(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        sid: torch.Tensor,
        tone: torch.Tensor,
        language: torch.Tensor,
        bert: torch.Tensor,
        ja_bert: torch.Tensor,
        noise_scale: float = 0.667,
        length_scale: float = 1.0,
        noise_scale_w: float = 0.8,
        sdp_ratio: float = 0.2,
        eps_sdp: torch.Tensor | None = None,
        eps_p: torch.Tensor | PriorDraw | None = None,
        max_len: int | None = None,
        mask_decoder: bool = False,
    ) -> MeloTTSOutput:
        """Synthesize a padded batch.

        x, tone, language: [B, T_x] ids; x_lengths, sid: [B]; bert [B, 1024, T_x]; ja_bert [B, 768, T_x].
        eps_sdp [B, 2, T_x] and eps_p [B, C, T_y] are the standard-normal draws of the duration
        predictor and of the prior (before noise_scale_w / noise_scale); sampled when None; eps_p may
        be a `PriorDraw`. mask_decoder: mask the decoder per item (`Generator` module doc) so each
        item equals the item alone; False is upstream's unmasked decoder.
        """
        g = self.emb_g(sid).unsqueeze(-1)  # [B, gin, 1]
        enc_x, m_p, logs_p, x_mask = self.enc_p(x, x_lengths, tone, language, bert, ja_bert, g=None if self.use_vc else g)
        logw_sdp = self.sdp(enc_x, x_mask, g=g, noise_scale=noise_scale_w, noise=eps_sdp)
        logw_dp = self.dp(enc_x, x_mask, g=g)
        logw = logw_sdp * sdp_ratio + logw_dp * (1 - sdp_ratio)

        lr = regulate_lengths(logw, x_mask, length_scale)
        m_p_expanded = expand(lr.attn, m_p)
        logs_p_expanded = expand(lr.attn, logs_p)
        if callable(eps_p):
            eps_p = eps_p(lr.y_lengths.tolist(), m_p.shape[1])
        if eps_p is None:
            eps_p = torch.randn_like(m_p_expanded)
        elif eps_p.shape != m_p_expanded.shape:
            raise ValueError(f"eps_p must be {tuple(m_p_expanded.shape)} (T_y from the durations), got {tuple(eps_p.shape)}")
        # Not masked, as upstream: padded frames carry noise, cut by y_mask before the decoder.
        z_p = m_p_expanded + eps_p * torch.exp(logs_p_expanded) * noise_scale
        z = self.flow(z_p, lr.y_mask, g=g, reverse=True)
        y_mask = lr.y_mask[:, :, :max_len]
        audio = self.dec(z[:, :, :max_len] * y_mask, g=g, x_mask=y_mask if mask_decoder else None)
        return MeloTTSOutput(
            audio=audio,
            attn=lr.attn,
            y_mask=lr.y_mask,
            z=z,
            z_p=z_p,
            m_p_expanded=m_p_expanded,
            logs_p_expanded=logs_p_expanded,
            enc_x=enc_x,
            m_p=m_p,
            logs_p=logs_p,
            x_mask=x_mask,
            logw_sdp=logw_sdp,
            logw_dp=logw_dp,
            y_lengths=lr.y_lengths,
        )
