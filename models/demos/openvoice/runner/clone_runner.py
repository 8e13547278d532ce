# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Clone forwards on persistent device buffers per frame bucket (`regions.py`: traced with two command queues on
a card, eagerly on the mock): a reference segment padded to its bucket with the masks that make it equal its
unpadded clone (`TtSpeakerEncoder.prepare_inputs`), the STFT, reference encoder and GRU inside the region."""

from __future__ import annotations

import torch
import ttnn

from models.demos.openvoice.runner.regions import Region, Regions
from models.demos.openvoice.tt.reference_encoder import TtCloneInputs, TtSpeakerEncoder


class CloneRunner(Regions):
    def __init__(
        self, encoder: TtSpeakerEncoder, traced: bool | None = None, max_regions: int = 8, write_queue: int | None = None
    ) -> None:
        super().__init__(encoder.device, encoder.forward, "clone", traced, max_regions, write_queue)
        self.encoder = encoder

    def region(self, host: TtCloneInputs) -> Region:
        return self.region_for(host, host.frames)

    def embedding(self, waveform: torch.Tensor) -> ttnn.Tensor:
        """One segment's embedding [1, 1, 1, gin] on device. The region's output buffer is rewritten by the next
        run of its trace: copy it (or consume it) before the next call at this bucket."""
        return self.execute(self.region(self.encoder.prepare_inputs(waveform, on_host=True)))
