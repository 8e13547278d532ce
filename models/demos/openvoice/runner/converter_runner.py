# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Converter forwards on persistent device buffers per (batch size, frame bucket, input kind) (`regions.py`:
traced with two command queues on a card, eagerly on the mock).

A request is padded to its bucket on the host, either as a spectrogram (`prepare_inputs(bucket=True,
on_host=True)`) or as the waveforms of a batch of requests (`convert_batch`, `prepare_batch(on_host=True)`:
the STFT then runs inside the region); zeros and masks make every item equal its unpadded run. The audio is
read from the region's output and cut to each item.
"""

from __future__ import annotations

from typing import Sequence

import torch

from models.demos.openvoice.runner.regions import Region, Regions
from models.demos.openvoice.tt.tone_color_converter import TtConverterInputs, TtToneColorConverter


class ConverterRunner(Regions):
    def __init__(
        self, tt: TtToneColorConverter, traced: bool | None = None, max_regions: int = 8, write_queue: int | None = None
    ) -> None:
        super().__init__(tt.device, tt.forward, "converter", traced, max_regions, write_queue)
        self.tt = tt

    def __call__(
        self,
        spec: torch.Tensor,
        spec_lengths: torch.Tensor,
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        tau: float = 0.3,
        noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Torch in, audio [B, 1, T*hop] out (T the unpadded frames), as `voice_conversion`."""
        host = self.tt.prepare_inputs(spec, spec_lengths, g_src, g_tgt, tau, noise, bucket=True, on_host=True)
        return self.tt.download_audio(self.execute(self.region(host)), host)

    def convert_batch(
        self,
        waveforms: Sequence[torch.Tensor],
        g_src: torch.Tensor,
        g_tgt: torch.Tensor,
        taus: Sequence[float],
        noises: Sequence[torch.Tensor | None],
    ) -> list[torch.Tensor]:
        """Requests from their waveforms (`prepare_batch`: the STFT inside the region) -> each item's audio."""
        host = self.tt.prepare_batch(waveforms, g_src, g_tgt, taus, noises, on_host=True)
        return self.tt.download_items(self.execute(self.region(host)), host)

    def region(self, host: TtConverterInputs) -> Region:
        """The region of `host`'s shape (items per chip, frames, from waveforms or not) with `host` written in."""
        return self.region_for(host, (host.batch_size, host.length, host.waveform is not None))
