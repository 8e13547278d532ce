# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN MeloTTS `infer` (reference `melo_tts.MeloTTS.infer`): text to base-speaker audio.

    prepare_inputs (upload: ids, tones, languages, BERT features, sid, SDP draw)
    -> g = emb_g(sid) on device (ttnn.embedding)
    -> text encoder -> (enc_x, m_p, logs_p) per token
    -> logw = sdp_ratio * SDP(enc_x, noise) + (1 - sdp_ratio) * DP(enc_x)      float32 mix
    -> durations w = ceil(exp(logw) * x_mask * length_scale), y_lengths       (tt/length_regulator.py)
    == THE ONE device->host read: y_lengths (B values) -> T_y = max(y_lengths) ==
    -> alignment path, y_mask, S_y built on device; m_p, logs_p expanded (one matmul each)
    -> upload eps_p * noise_scale [B*T_y, C] (its shape depends on T_y: after the sync)
    -> z_p = m_p + eps_p * exp(logs_p) * noise_scale -> flow reversed -> decoder(z * y_mask)
       (mask_decoder: the decoder masked per item, so every item equals the item alone)
    -> download audio

Layout: time-major ``[1, 1, B*T, C]`` everywhere; token rows ``b*T_x + x``, frame rows
``b*T_y + t``. Per-item speaker conditioning (every module: text encoder, both duration
predictors, flow, decoder) is `wavenet.SpeakerRows` = S @ (g @ W) with S built ON DEVICE by
the length regulator (S_x for the T_x token rows before the sync, S_y for the frame rows
after it), so a batch mixes speakers, languages and lengths in one run and no segment
matrix is uploaded.

Host transfers of a warm `infer` (graph capture, tests/test_openvoice.py): the input
uploads, the read of y_lengths, the eps_p upload, the audio download; nothing else (no
frame-index or mask upload: the frame-index table is uploaded once at load). A new
(B, T_x) or T_y is a cold call: ttnn 0.81.1 prepares conv weights on the host for the new
shapes (uploads only, as in the converter).

Precision: text encoder, predictors and flow as their modules define; durations float32
end to end (exact integers); the decoder in MeloTTS's configuration (upsample rates
8,8,2,2,2, 512 channels, speaker-conditioned through SpeakerRows, not zero_g) with the
converter's `generator.FP32_STAGES` fp32 tail; every module's compute config from `precision.PLAN`
(`plan` overrides it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.reference.melo_tts import MeloTTS, MeloTTSOutput, PriorDraw
from models.demos.openvoice.reference.residual_coupling import ResidualCouplingBlock
from models.demos.openvoice.tt.buckets import MELO_TOKENS, bucket_length, pad_time
from models.demos.openvoice.tt.commons import (
    bf16_parts,
    cast,
    download_chips,
    from_time_major,
    num_chips,
    to_time_major,
    upload,
    upload_per_chip,
)
from models.demos.openvoice.tt.duration_predictor import TtDurationPredictor
from models.demos.openvoice.tt.generator import TtGenerator
from models.demos.openvoice.tt.length_regulator import TtAlignment, TtDurations, TtLengthRegulator
from models.demos.openvoice.tt.stochastic_duration_predictor import TtStochasticDurationPredictor
from models.demos.openvoice.tt.text_encoder import TtTextEncoder, TtTextEncoderInputs
from models.demos.openvoice.tt.precision import Precision, compute_config, precision_of
from models.demos.openvoice.tt.transformer_coupling import TtTransformerCouplingBlock
from models.demos.openvoice.tt.wavenet import SpeakerRows


@dataclass
class TtMeloInputs:
    """Device inputs of one batch (B items padded to T_x tokens)."""

    text: TtTextEncoderInputs  # ids, BERT features, token mask (`TtTextEncoder.prepare_inputs`)
    sid: ttnn.Tensor  # [1, B] uint32, row major (ttnn.embedding indices)
    scaled_noise_w: ttnn.Tensor  # eps_sdp * noise_scale_w, [1, 1, B*T_x, 2] float32
    x_lengths: torch.Tensor  # [B] (host copy, for the download)
    batch_size: int
    length: int  # T_x (a bucket when bucketed)
    sdp_ratio: float = 0.2  # the duration controls a `runner.MeloRunner` region bakes in (part of its key)
    length_scale: float = 1.0
    items: int = 0  # the request's items (on a mesh, filler items may follow them in the last chip's share)

    @property
    def x_mask(self) -> ttnn.Tensor:
        """Token mask [1, 1, B*T_x, 1] float32 (uploaded with the text encoder's inputs)."""
        return self.text.mask

    def device_tensors(self) -> dict[str, ttnn.Tensor]:
        """The tensors a request writes (a runner's persistent inputs), by name."""
        t = self.text
        return {"ids": t.ids, "bert": t.bert, "ja_bert": t.ja_bert, "mask": t.mask, "sid": self.sid, "noise_w": self.scaled_noise_w}

    def with_device_tensors(self, tensors: dict[str, ttnn.Tensor]) -> "TtMeloInputs":
        text = replace(self.text, ids=tensors["ids"], bert=tensors["bert"], ja_bert=tensors["ja_bert"], mask=tensors["mask"])
        return replace(self, text=text, sid=tensors["sid"], scaled_noise_w=tensors["noise_w"])


@dataclass
class TtMeloEncoded:
    """What the token-level part of `infer` leaves on device (`encode_durations`; a runner's first region)."""

    g: ttnn.Tensor
    enc_x: ttnn.Tensor
    m_p: ttnn.Tensor
    logs_p: ttnn.Tensor
    logw_sdp: ttnn.Tensor
    logw_dp: ttnn.Tensor
    durations: TtDurations


@dataclass
class TtMeloDecodeInputs:
    """The frame-level part's inputs (`decode_frames`; a runner's second region): the first part's device
    results, the prior draw (host-written, [1, 1, B*T_y, C] float32, scaled by noise_scale) and T_y."""

    encoded: TtMeloEncoded
    scaled_eps_p: ttnn.Tensor
    frames: int
    mask_decoder: bool = True

    def device_tensors(self) -> dict[str, ttnn.Tensor]:
        return {"eps_p": self.scaled_eps_p}  # `encoded` is the first region's output, not written per request

    def with_device_tensors(self, tensors: dict[str, ttnn.Tensor]) -> "TtMeloDecodeInputs":
        return replace(self, scaled_eps_p=tensors["eps_p"])


@dataclass
class TtMeloOutputs:
    """Device results of one `infer_all`; time-major, `frames` = T_y (before any max_len cut)."""

    audio: ttnn.Tensor  # [1, 1, B*T_dec*hop, 1], T_dec = min(T_y, max_len)
    alignment: TtAlignment
    durations: TtDurations
    y_lengths: list[int]
    z: ttnn.Tensor
    z_p: ttnn.Tensor
    m_p_expanded: ttnn.Tensor
    logs_p_expanded: ttnn.Tensor
    enc_x: ttnn.Tensor
    m_p: ttnn.Tensor
    logs_p: ttnn.Tensor
    logw_sdp: ttnn.Tensor
    logw_dp: ttnn.Tensor
    decoded_frames: int  # T_dec


class TtMeloTTS:
    def __init__(self, device: ttnn.Device, reference: MeloTTS, plan: dict[str, Precision] | None = None) -> None:
        self.device = device
        self.chips = num_chips(device)  # > 1: data parallel over a mesh (`prepare_inputs`)
        self.use_vc = reference.use_vc
        self.inter_channels = reference.enc_p.out_channels
        self.hop = math.prod(up.stride[0] for up in reference.dec.ups)
        compute = lambda module: compute_config(device, module, plan)  # noqa: E731
        # g = emb_g(sid) looked up on device. ttnn.embedding takes bf16 tables only, and g
        # conditions the duration predictors, whose ceil() must match the reference: the float32
        # table is stored as three exact bf16 parts (`commons.bf16_parts`) whose three
        # lookups add back to the float32 entry exactly.
        self.emb_g = [
            upload(device, part, ttnn.bfloat16, ttnn.ROW_MAJOR_LAYOUT)
            for part in bf16_parts(reference.emb_g.weight.detach())
        ]
        self.enc_p = TtTextEncoder(device, reference.enc_p, compute=compute("text_encoder"))
        self.sdp = TtStochasticDurationPredictor(
            device, reference.sdp, compute=compute("stochastic_duration_predictor")
        )
        self.dp = TtDurationPredictor(device, reference.dp, compute=compute("duration_predictor"))
        if isinstance(reference.flow, ResidualCouplingBlock):
            # Every MeloTTS release uses the transformer flow; the WaveNet one would also need
            # upstream's unmasked x0 half on padded frames reproduced. Not ported, not tested.
            raise NotImplementedError("TtMeloTTS supports use_transformer_flow=true (every MeloTTS release) only")
        planned = lambda module: precision_of(module, plan).conv_arguments(device)  # noqa: E731
        self.flow = TtTransformerCouplingBlock(device, reference.flow, **planned("transformer_flow"))
        self.dec = TtGenerator(device, reference.dec, zero_cond=False, **planned("melo_decoder"))
        self.length_regulator = TtLengthRegulator(device)
        logger.info(f"TT MeloTTS built (inter {self.inter_channels}, hop {self.hop})")

    def prepare_inputs(
        self,
        x: torch.Tensor,
        x_lengths: torch.Tensor,
        sid: torch.Tensor,
        tone: torch.Tensor,
        language: torch.Tensor,
        bert: torch.Tensor,
        ja_bert: torch.Tensor,
        noise_scale_w: float = 0.8,
        eps_sdp: torch.Tensor | None = None,
        bucket: bool = False,
        on_host: bool = False,
        sdp_ratio: float = 0.2,
        length_scale: float = 1.0,
    ) -> TtMeloInputs:
        """The one upload before the sync. x, tone, language [B, T_x]; x_lengths, sid [B]; bert
        [B, 1024, T_x]; ja_bert [B, 768, T_x]; eps_sdp [B, 2, T_x] (standard normal, sampled when None).
        `bucket`: T_x padded with zeros up to its token bucket (`tt/buckets.py`; padded tokens are masked as a
        batch's shorter items are). `on_host`: not uploaded (a runner's persistent inputs)."""
        b, t = x.shape
        if eps_sdp is None:
            eps_sdp = torch.randn(b, 2, t)
        elif tuple(eps_sdp.shape) != (b, 2, t):
            raise ValueError(f"eps_sdp must be {(b, 2, t)}, got {tuple(eps_sdp.shape)}")
        if bucket:
            t = bucket_length(t, MELO_TOKENS)
            x, tone, language, bert, ja_bert, eps_sdp = (pad_time(v, t) for v in (x, tone, language, bert, ja_bert, eps_sdp))
        fill = -b % self.chips  # a mesh takes an equal share per chip: one-token filler items make it even
        if fill:
            x, tone, language, sid, bert, ja_bert, eps_sdp = (
                torch.cat([v, torch.zeros(fill, *v.shape[1:], dtype=v.dtype)]) for v in (x, tone, language, sid, bert, ja_bert, eps_sdp)
            )
            x_lengths = torch.cat([x_lengths, torch.ones(fill, dtype=x_lengths.dtype)])
        device = None if on_host else self.device
        per_chip = (b + fill) // self.chips
        items = [slice(c * per_chip, (c + 1) * per_chip) for c in range(self.chips)]
        up = lambda parts, dtype=ttnn.float32, layout=ttnn.TILE_LAYOUT: upload_per_chip(device, self.device, parts, dtype, layout)  # noqa: E731
        return TtMeloInputs(
            text=self.enc_p.prepare_inputs(x, x_lengths, tone, language, bert, ja_bert, on_host=on_host),
            sid=up([sid[s].reshape(1, per_chip).to(torch.int32) for s in items], ttnn.uint32, ttnn.ROW_MAJOR_LAYOUT),
            scaled_noise_w=up([to_time_major(eps_sdp[s] * noise_scale_w) for s in items]),
            x_lengths=x_lengths.detach().clone(),
            batch_size=per_chip,
            length=t,
            items=b,
            sdp_ratio=sdp_ratio,
            length_scale=length_scale,
        )

    def upload_frames(self, device: ttnn.Device | None, x: torch.Tensor) -> ttnn.Tensor:
        """A frame-level host input [1, 1, B*T_y, C] (all items, chips' shares in order) -> float32, a share per chip."""
        rows = x.shape[-2] // self.chips
        return upload_per_chip(device, self.device, [x[..., c * rows : (c + 1) * rows, :] for c in range(self.chips)], ttnn.float32)

    def prior_draw(
        self, eps_p: torch.Tensor | PriorDraw | None, y_lengths: list[int], frames: int, items: int | None = None
    ) -> torch.Tensor:
        """The prior's standard-normal draw [B, C, frames] for these y_lengths (a `PriorDraw` called, or sampled
        when None), zero-padded from max(y_lengths) to `frames`; past the request's `items` (a mesh's fillers),
        zero rows."""
        fill = len(y_lengths) - (len(y_lengths) if items is None else items)
        y_lengths = y_lengths[: len(y_lengths) - fill]
        b, t_y = len(y_lengths), max(y_lengths)
        if callable(eps_p):
            eps_p = eps_p(y_lengths, self.inter_channels)
        if eps_p is None:
            eps_p = torch.randn(b, self.inter_channels, t_y)  # like the reference's randn_like
        elif tuple(eps_p.shape) != (b, self.inter_channels, t_y):
            expected = (b, self.inter_channels, t_y)
            raise ValueError(f"eps_p must be {expected} (T_y from the durations), got {tuple(eps_p.shape)}")
        eps_p = torch.cat([eps_p, torch.zeros(fill, *eps_p.shape[1:])])
        return pad_time(eps_p, frames)

    # ---- device stages (separately callable for tests and benchmarks) ------------------------
    def speaker_embedding(self, inputs: TtMeloInputs) -> ttnn.Tensor:
        """g = emb_g(sid) on device -> [1, 1, B, gin] float32 (sum of the three exact bf16 parts)."""
        hi, mid, lo = (
            ttnn.embedding(inputs.sid, part, layout=ttnn.TILE_LAYOUT, dtype=ttnn.float32) for part in self.emb_g
        )
        g = ttnn.add(ttnn.add(hi, mid), lo)
        return ttnn.reshape(g, (1, 1, inputs.batch_size, int(g.shape[-1])))

    def encode(
        self, inputs: TtMeloInputs, g: ttnn.Tensor
    ) -> tuple[ttnn.Tensor, ttnn.Tensor, ttnn.Tensor, ttnn.Tensor, ttnn.Tensor]:
        """Text encoder and both duration predictors -> (enc_x, m_p, logs_p, logw_sdp, logw_dp)."""
        b, t = inputs.batch_size, inputs.length
        # float32 S_x: the token-level modules are float32 (durations must be exact)
        speaker = SpeakerRows(self.length_regulator.segments(b, t, ttnn.float32), g)
        enc_x, m_p, logs_p = self.enc_p(inputs.text, None if self.use_vc else speaker)
        logw_sdp = self.sdp(enc_x, inputs.x_mask, b, t, speaker, inputs.scaled_noise_w)
        logw_dp = self.dp(enc_x, inputs.x_mask, b, t, speaker)
        return enc_x, m_p, logs_p, logw_sdp, logw_dp

    @staticmethod
    def mix_durations(logw_sdp: ttnn.Tensor, logw_dp: ttnn.Tensor, sdp_ratio: float) -> ttnn.Tensor:
        """logw = logw_sdp * sdp_ratio + logw_dp * (1 - sdp_ratio), float32."""
        logw_sdp, logw_dp = cast(logw_sdp, ttnn.float32), cast(logw_dp, ttnn.float32)
        return ttnn.add(ttnn.multiply(logw_sdp, float(sdp_ratio)), ttnn.multiply(logw_dp, 1.0 - sdp_ratio))

    def prior_sample(
        self, m_p_expanded: ttnn.Tensor, logs_p_expanded: ttnn.Tensor, scaled_eps_p: ttnn.Tensor
    ) -> ttnn.Tensor:
        """z_p = m_p + (eps_p * noise_scale) * exp(logs_p) (not masked, as the reference)."""
        return ttnn.add(m_p_expanded, ttnn.multiply(scaled_eps_p, ttnn.exp(logs_p_expanded)))

    def flow_reverse(self, z_p: ttnn.Tensor, alignment: TtAlignment, g: ttnn.Tensor, batch_size: int) -> ttnn.Tensor:
        speaker = SpeakerRows(alignment.segments, g)
        return self.flow(z_p, alignment.y_mask, batch_size, alignment.frames, speaker, reverse=True)

    def decode(
        self,
        z: ttnn.Tensor,
        alignment: TtAlignment,
        g: ttnn.Tensor,
        batch_size: int,
        max_len: int | None = None,
        mask_decoder: bool = False,
    ) -> tuple[ttnn.Tensor, int]:
        """decoder((z * y_mask)[:, :, :max_len]) -> (audio [1, 1, B*T_dec*hop, 1], T_dec); with
        mask_decoder the decoder is masked per item by y_mask (`generator.TtGenerator`)."""
        frames = alignment.frames
        z = ttnn.multiply(z, alignment.y_mask)
        mask = alignment.y_mask if mask_decoder else None
        segments = alignment.segments
        if max_len is not None and max_len < frames:
            # Keep each item's first max_len frames (of the mask too): [1, B, T_y, C] views sliced in time.
            z = self._first_frames(z, batch_size, frames, max_len)
            mask = None if mask is None else self._first_frames(mask, batch_size, frames, max_len)
            frames = max_len
            segments = self.length_regulator.segments(batch_size, frames)
        return self.dec(z, batch_size, frames, SpeakerRows(segments, g), mask), frames

    @staticmethod
    def _first_frames(x: ttnn.Tensor, batch_size: int, frames: int, keep: int) -> ttnn.Tensor:
        """[1, 1, B*frames, C] -> each item's first `keep` rows, [1, 1, B*keep, C]."""
        channels = int(x.shape[-1])
        x = ttnn.reshape(x, (1, batch_size, frames, channels))
        x = ttnn.slice(x, [0, 0, 0, 0], [1, batch_size, keep, channels])
        return ttnn.reshape(x, (1, 1, batch_size * keep, channels))

    # ---- the whole run ----------------------------------------------------------------------
    def infer_all(
        self,
        inputs: TtMeloInputs,
        noise_scale: float = 0.667,
        length_scale: float = 1.0,
        sdp_ratio: float = 0.2,
        eps_p: torch.Tensor | PriorDraw | None = None,
        max_len: int | None = None,
        mask_decoder: bool = False,
    ) -> TtMeloOutputs:
        """Device run with its one host sync (y_lengths) and the eps_p upload; keeps every intermediate.
        eps_p and mask_decoder as in the reference's `infer`."""
        encoded = self.encode_durations(inputs, sdp_ratio, length_scale)
        y_lengths = self.length_regulator.read_lengths(encoded.durations)  # THE host sync
        decode = self.decode_inputs(encoded, y_lengths, max(y_lengths), eps_p, noise_scale, inputs.items, self.device, mask_decoder)
        outputs = self.decode_frames(decode, max_len)
        outputs.y_lengths = y_lengths
        return outputs

    def decode_inputs(
        self,
        encoded: TtMeloEncoded,
        y_lengths: list[int],
        frames: int,
        eps_p: torch.Tensor | PriorDraw | None,
        noise_scale: float,
        items: int,
        device: ttnn.Device | None,
        mask_decoder: bool = True,
    ) -> TtMeloDecodeInputs:
        """After the sync: the prior draw for these y_lengths at T_y = `frames`, scaled by noise_scale, uploaded
        (`device` None: left on the host for a runner). Its shape is known only now. float32: z_p's noise term is
        exp(logs_p)-amplified (bf16 storage of the draw alone measured z_p max error 4e-3 of its scale)."""
        eps = self.prior_draw(eps_p, y_lengths, frames, items)
        return TtMeloDecodeInputs(encoded, self.upload_frames(device, to_time_major(eps * noise_scale)), frames, mask_decoder)

    def encode_durations(self, inputs: TtMeloInputs, sdp_ratio: float, length_scale: float) -> TtMeloEncoded:
        """Everything before the sync: g, text encoder, both duration predictors, the mix and the durations."""
        b, t_x = inputs.batch_size, inputs.length
        g = self.speaker_embedding(inputs)
        enc_x, m_p, logs_p, logw_sdp, logw_dp = self.encode(inputs, g)
        logw = self.mix_durations(logw_sdp, logw_dp, sdp_ratio)
        durations = self.length_regulator.durations(logw, inputs.x_mask, b, t_x, length_scale)
        return TtMeloEncoded(g, enc_x, m_p, logs_p, logw_sdp, logw_dp, durations)

    def decode_frames(self, inputs: TtMeloDecodeInputs, max_len: int | None = None) -> TtMeloOutputs:
        """Everything after the sync, at T_y = `inputs.frames` (>= every y_length: a bucket pads it, the y_mask
        masks the padded frames): alignment, expansion, prior sample, reversed flow, decoder."""
        e, b = inputs.encoded, inputs.encoded.durations.batch_size
        alignment = self.length_regulator.align(e.durations, inputs.frames)
        m_p_expanded = self.length_regulator.expand(alignment, e.m_p)
        logs_p_expanded = self.length_regulator.expand(alignment, e.logs_p)
        z_p = self.prior_sample(m_p_expanded, logs_p_expanded, inputs.scaled_eps_p)
        z = self.flow_reverse(z_p, alignment, e.g, b)
        audio, decoded = self.decode(z, alignment, e.g, b, max_len, inputs.mask_decoder)
        return TtMeloOutputs(
            audio=audio,
            alignment=alignment,
            durations=e.durations,
            y_lengths=[],
            z=z,
            z_p=z_p,
            m_p_expanded=m_p_expanded,
            logs_p_expanded=logs_p_expanded,
            enc_x=e.enc_x,
            m_p=e.m_p,
            logs_p=e.logs_p,
            logw_sdp=e.logw_sdp,
            logw_dp=e.logw_dp,
            decoded_frames=decoded,
        )

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
    ) -> torch.Tensor:
        """The reference's `infer` signature -> audio [B, 1, T_dec * hop] float32 (torch)."""
        inputs = self.prepare_inputs(x, x_lengths, sid, tone, language, bert, ja_bert, noise_scale_w, eps_sdp)
        outputs = self.infer_all(inputs, noise_scale, length_scale, sdp_ratio, eps_p, max_len, mask_decoder)
        return self.download_audio(outputs, inputs.batch_size)[: inputs.items]

    # ---- download -----------------------------------------------------------------------------
    def download_audio(self, outputs: TtMeloOutputs, batch_size: int) -> torch.Tensor:
        """The audio download: [B, 1, T_dec * hop] (`batch_size` items per chip; a mesh's chips' items in order)."""
        audio = download_chips(outputs.audio, self.device).float().reshape(1, 1, -1, 1)
        return from_time_major(audio, batch_size * self.chips)

    def download(self, inputs: TtMeloInputs, outputs: TtMeloOutputs) -> MeloTTSOutput:
        """Every output and intermediate as the reference's `MeloTTSOutput` (tests, golden checks)."""
        b, t_x, t_y = inputs.batch_size, inputs.length, outputs.alignment.frames
        down = lambda t: from_time_major(ttnn.to_torch(t).float(), b)  # noqa: E731
        path = ttnn.to_torch(outputs.alignment.path).float().reshape(b * t_y, b * t_x)
        attn = torch.stack([path[i * t_y : (i + 1) * t_y, i * t_x : (i + 1) * t_x] for i in range(b)]).unsqueeze(1)
        return MeloTTSOutput(
            audio=down(outputs.audio),
            attn=attn,
            y_mask=down(outputs.alignment.y_mask),
            z=down(outputs.z),
            z_p=down(outputs.z_p),
            m_p_expanded=down(outputs.m_p_expanded),
            logs_p_expanded=down(outputs.logs_p_expanded),
            enc_x=down(outputs.enc_x),
            m_p=down(outputs.m_p),
            logs_p=down(outputs.logs_p),
            x_mask=down(inputs.x_mask),
            logw_sdp=down(outputs.logw_sdp),
            logw_dp=down(outputs.logw_dp),
            y_lengths=torch.tensor(outputs.y_lengths, dtype=torch.long),
        )
