# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS `infer` as two regions around its one host sync (`regions.py`: traced with two command queues on a
card, eagerly on the mock):

    encode region, per (B, T_x bucket, sdp_ratio, length_scale): the request's tokens, BERT features, sid and
    duration draw (padded to the token bucket, masked) -> g, the text encoder, both duration predictors, the
    durations -- the region's outputs stay on device
    == the sync: y_lengths read; T_y bucket = the frame bucket of max(y_lengths) ==
    decode region, per (encode region, T_y bucket): the prior draw (host-written, zero past each y_length) ->
    alignment, expansion, prior sample, reversed flow, masked decoder -> audio

The decode region reads the encode region's output tensors (on a card: the buffers its trace writes), so it is
keyed by that region's serial: a re-created encode region gets new decode regions. The decoder is always masked
per item (`mask_decoder`), so padded tokens and frames change no item: each equals its unbucketed run.
"""

from __future__ import annotations

import torch

from models.demos.openvoice.reference.melo_tts import PriorDraw
from models.demos.openvoice.runner.regions import Regions
from models.demos.openvoice.tt.buckets import MELO_FRAMES, bucket_length
from models.demos.openvoice.tt.commons import download_chips, from_time_major
from models.demos.openvoice.tt.melo_tts import TtMeloInputs, TtMeloTTS


class MeloRunner:
    def __init__(self, tt: TtMeloTTS, traced: bool | None = None, max_regions: int = 8) -> None:
        self.tt = tt
        encode = lambda inputs: tt.encode_durations(inputs, inputs.sdp_ratio, inputs.length_scale)  # noqa: E731
        self.encode = Regions(tt.device, encode, "melotts encode", traced, max_regions)
        self.decode = Regions(tt.device, lambda inputs: tt.decode_frames(inputs).audio, "melotts decode", traced, max_regions)

    def infer(
        self,
        host: TtMeloInputs,
        noise_scale: float,
        eps_p: torch.Tensor | PriorDraw | None,
    ) -> tuple[torch.Tensor, list[int]]:
        """`host` = `prepare_inputs(..., bucket=True, on_host=True)` -> (audio [B, 1, T_y_bucket * hop], y_lengths):
        each item's first y_length * hop samples are its audio."""
        encode_region = self.encode.region_for(host, (host.batch_size, host.length, host.sdp_ratio, host.length_scale))
        encoded = self.encode.execute(encode_region)
        y_lengths = self.tt.length_regulator.read_lengths(encoded.durations)  # THE host sync
        frames = bucket_length(max(y_lengths), MELO_FRAMES)
        decode_host = self.tt.decode_inputs(encoded, y_lengths, frames, eps_p, noise_scale, host.items, None)
        decode_region = self.decode.region_for(decode_host, (encode_region.serial, frames))
        decode_region.inputs.encoded = encoded  # a card: the same tensors every run; the mock: this run's
        audio = self.decode.execute(decode_region)
        audio = from_time_major(download_chips(audio, self.tt.device).float().reshape(1, 1, -1, 1), len(y_lengths))
        return audio[: host.items], y_lengths[: host.items]  # a mesh's filler items dropped

    def release(self) -> None:
        self.decode.release()
        self.encode.release()
