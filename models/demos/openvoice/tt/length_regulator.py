# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""TTNN length regulation (reference `length_regulator.py`, upstream `SynthesizerTrn.infer`).

    w = ceil(exp(logw) * x_mask * length_scale)   per token, float32 on device
    y_lengths = clamp_min(sum_x w, 1)             per item
    --- THE host sync: y_lengths are read (B floats) to size T_y = max(y_lengths) ---
    path [B*T_y, B*T_x], y_mask [B*T_y, 1], segments S_y [B*T_y, B]   built on device
    m_p / logs_p repeated over their frames: one matmul each (path @ stats)

Why one sync: every tensor after the durations has T_y rows per item, and ttnn shapes are
host values, so T_y must be known on the host. Reading the B lengths (not the B*T_x
durations) is the smallest read that fixes it; everything else stays on device.

Layout (time-major, as everywhere in `tt/`): tokens are rows ``b*T_x + x`` of
``[1, 1, B*T_x, *]``, frames rows ``r = b*T_y + t`` of ``[1, 1, B*T_y, *]``. The alignment is
the block-diagonal 0/1 matrix

    path[r, c] = (r >= start_c) & (r < end_c),   c = b'*T_x + x,
    start_c = b'*T_y + cum_excl[b', x],   end_c = b'*T_y + cum_incl[b', x],

so frame r takes token c's statistics iff it lies in that token's run of its own item's
frames (a token of another item has its run in another block of rows; padded tokens have
w = 0, an empty run; frames past an item's length match no token, as in the reference's
masked `generate_path`). The cumulative sums are `ttnn.cumsum` over each item's row of the
``[1, 1, B, T_x]`` view. The row indices r come from a frame-index table ``0, 1, 2, ...``
uploaded once at load (`FRAME_INDEX_ROWS`, grown if a batch ever needs more) and sliced on
device: `ttnn.arange` / `ttnn.full` build their tensors on the host and upload them, which
would add a host transfer to every call. The item index of a token row c is
floor((c + 0.5) / T_x) computed on device from the same table (the +0.5 keeps the quotient
half a step away from an integer, so the float32 product never rounds across one).

Precision: every duration, cumulative sum, frame index and offset is float32 and an integer
<= 2^24, so exact; comparisons run on float32 and produce bf16 0/1 values (exact). The
expansion path @ stats copies one bf16 value per row (1.0 * x with fp32 accumulation:
exact). y_mask and S_y are built the same way with one "token" per item: S_y's run is
[b*T_y, (b+1)*T_y), y_mask's [b*T_y, b*T_y + y_lengths[b]).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import ttnn
from loguru import logger

from models.demos.openvoice.tt.commons import cast, download_chips, select_rows_float32, upload

# Rows of the frame-index table uploaded at load (B*T_y and B*T_x must fit; 8192 frames is
# about 95 s of 44.1 kHz speech at hop 512 for B = 1, 24 s each for B = 4). A longer batch
# re-uploads a larger table once (logged), like a cold conv shape.
FRAME_INDEX_ROWS = 8192


@dataclass
class TtDurations:
    """Device durations of one batch: `w_ceil` [1, 1, B, T_x] and `y_lengths` [1, 1, B, 1], float32."""

    w_ceil: ttnn.Tensor
    y_lengths: ttnn.Tensor
    batch_size: int
    length: int  # T_x


@dataclass
class TtAlignment:
    """Frame-level tensors once T_y is known (all on device)."""

    path: ttnn.Tensor  # [1, 1, B*T_y, B*T_x] bf16 0/1, block diagonal
    y_mask: ttnn.Tensor  # [1, 1, B*T_y, 1] bf16 0/1
    segments: ttnn.Tensor  # S_y [1, 1, B*T_y, B] bf16 0/1 (row -> its item), for `SpeakerRows`
    frames: int  # T_y


class TtLengthRegulator:
    """Durations, the host sync on their totals, and the alignment, for a [1, 1, B*T_x, *] batch."""

    def __init__(self, device: ttnn.Device, frame_index_rows: int = FRAME_INDEX_ROWS) -> None:
        self.device = device
        self._upload_frame_index(frame_index_rows)

    def _upload_frame_index(self, rows: int) -> None:
        table = torch.arange(rows, dtype=torch.float32).reshape(1, 1, rows, 1)
        self.frame_index = upload(self.device, table, ttnn.float32)
        self.frame_index_rows = rows

    def _indices(self, count: int) -> ttnn.Tensor:
        """Column [1, 1, count, 1] float32 of 0..count-1 (a device slice of the table)."""
        if count > self.frame_index_rows:
            rows = 1 << (count - 1).bit_length()
            logger.info(f"frame-index table grown to {rows} rows for {count} frames")
            self._upload_frame_index(rows)
        return ttnn.slice(self.frame_index, [0, 0, 0, 0], [1, 1, count, 1])

    def durations(
        self, logw: ttnn.Tensor, x_mask: ttnn.Tensor, batch_size: int, length: int, length_scale: float
    ) -> TtDurations:
        """logw, x_mask [1, 1, B*T_x, 1] -> integer-valued float32 durations and per-item totals."""
        logw, mask = cast(logw, ttnn.float32), cast(x_mask, ttnn.float32)
        w = ttnn.multiply(ttnn.multiply(ttnn.exp(logw), mask), float(length_scale))
        w_ceil = ttnn.reshape(ttnn.ceil(w), (1, 1, batch_size, length))  # one item per row
        totals = ttnn.sum(w_ceil, dim=-1, keepdim=True)  # [1, 1, B, 1]
        y_lengths = ttnn.clamp(totals, min=1.0)  # clamp_min(., 1), as the reference
        return TtDurations(w_ceil=w_ceil, y_lengths=y_lengths, batch_size=batch_size, length=length)

    def read_lengths(self, durations: TtDurations) -> list[int]:
        """THE device->host read of a MeloTTS run (listed in TRADEOFFS.md): the B frame counts,
        which size T_y = max(y_lengths) for every later tensor."""
        # on a mesh: every chip's items, in order (data parallel)
        return [int(v) for v in download_chips(durations.y_lengths, self.device).float().reshape(-1).round().tolist()]

    @staticmethod
    def _runs(
        rows: ttnn.Tensor, start: ttnn.Tensor, end: ttnn.Tensor, dtype: ttnn.DataType = ttnn.bfloat16
    ) -> ttnn.Tensor:
        """0/1 [1, 1, R, N]: row index in [start_n, end_n) (rows [1,1,R,1], start/end [1,1,1,N], float32)."""
        inside = ttnn.ge(rows, start, dtype=dtype)
        before_end = ttnn.lt(rows, end, dtype=dtype)
        return ttnn.multiply(inside, before_end)

    def _item_starts(self, count: int, items_of: int, period: int) -> ttnn.Tensor:
        """Row [1, 1, 1, count]: period * floor((i + 0.5) / items_of) for i < count (float32)."""
        index = ttnn.reshape(self._indices(count), (1, 1, 1, count))
        item = ttnn.floor(ttnn.multiply(ttnn.add(index, 0.5), 1.0 / items_of))
        return ttnn.multiply(item, float(period))

    def segments(self, batch_size: int, frames: int, dtype: ttnn.DataType = ttnn.bfloat16) -> ttnn.Tensor:
        """S [1, 1, B*frames, B] (0/1 in `dtype`): row b*frames + t has its 1 in column b."""
        rows = self._indices(batch_size * frames)
        start = self._item_starts(batch_size, 1, frames)
        return self._runs(rows, start, ttnn.add(start, float(frames)), dtype)

    def align(self, durations: TtDurations, frames: int) -> TtAlignment:
        """path, y_mask and S_y for T_y = `frames` (>= every y_length)."""
        b, t_x = durations.batch_size, durations.length
        rows = self._indices(b * frames)
        w = ttnn.reshape(durations.w_ceil, (1, 1, 1, b * t_x))
        cum = ttnn.reshape(ttnn.cumsum(durations.w_ceil, dim=-1), (1, 1, 1, b * t_x))
        end = ttnn.add(cum, self._item_starts(b * t_x, t_x, frames))
        path = self._runs(rows, ttnn.subtract(end, w), end)
        item_start = self._item_starts(b, 1, frames)
        lengths = ttnn.reshape(durations.y_lengths, (1, 1, 1, b))
        y_mask = ttnn.sum(self._runs(rows, item_start, ttnn.add(item_start, lengths)), dim=-1, keepdim=True)
        segments = self._runs(rows, item_start, ttnn.add(item_start, float(frames)))
        return TtAlignment(path=path, y_mask=y_mask, segments=segments, frames=frames)

    @staticmethod
    def expand(alignment: TtAlignment, stats: ttnn.Tensor) -> ttnn.Tensor:
        """Per-token stats [1, 1, B*T_x, C] -> per-frame [1, 1, B*T_y, C] (each frame copies its token).

        float32 stats are copied exactly: as three BF16 parts, each an exact product with the 0/1 path
        (one matmul would read them as TF32, 2**-10 off)."""
        if stats.dtype == ttnn.float32:
            return select_rows_float32(alignment.path, stats)
        return ttnn.matmul(alignment.path, stats, dtype=stats.dtype)
