# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Shape buckets: input lengths padded up to a small fixed set, so programs and prepared conv weights exist
per bucket (bounded) instead of per input length, and a traced region has a fixed shape.

Converter frames (`CONVERTER_FRAMES`): 64 frames (0.74 s at hop 256 / 22.05 kHz), then steps of x1.25
rounded up to a multiple of 32 frames (one tile of rows), up to 5,920 frames (68.7 s): 19 buckets. Padding
costs at most 25 % more device work from 480 frames (5.6 s) up, up to 50 % on the smallest buckets, where
the forward is dispatch-bound anyway (the device-time model: TRADEOFFS.md "TTNN: device-time model"); 19
shapes per batch size bound the programs and the prepared-weight cache; a longer input (a rare, very long
source) rounds up to a multiple of `LONG_STEP`. Padded frames are masked
everywhere, the decoder included (its per-item mask), so a bucketed item equals the item run alone at its
own length.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

TILE_ROWS = 32


def geometric_buckets(first: int, last: int, ratio: float = 1.25, multiple: int = TILE_ROWS) -> tuple[int, ...]:
    """`first`, then x`ratio` rounded up to a multiple of `multiple`, until one reaches `last`."""
    buckets = [first]
    while buckets[-1] < last:
        buckets.append(math.ceil(buckets[-1] * ratio / multiple) * multiple)
    return tuple(buckets)


CONVERTER_FRAMES = geometric_buckets(64, 5184)
# MeloTTS: tokens per sentence (T_x, with the blanks between phones) from 32 in x1.25 steps; frames (T_y) as the
# converter's (a MeloTTS frame, 512 samples at 44.1 kHz, is a converter frame, 256 samples at 22.05 kHz).
MELO_TOKENS = geometric_buckets(32, 1024)
MELO_FRAMES = CONVERTER_FRAMES
LONG_STEP = 1024  # frames (11.9 s): past the largest bucket a length rounds up to a multiple of this
# Device batches of concurrent requests hold at most this many (bucketed) frames / tokens per chip. Converter:
# past ~1,000 rows batching buys nothing once traced -- the device-time model, 2 s requests, traced, per item:
# B=1 22.2 ms, B=4 18.9, B=8 22.5, B=16 32.0 (kernels grow faster than B as activations leave L1; MODELLED,
# NOT MEASURED; TRADEOFFS.md "Serving") -- while untraced (dispatch-bound) B=4..8 halve the per-item time.
# MeloTTS: one 1,024-token sentence's worth (~500 phones, ~35 s of speech). Either way a batch never needs more
# device memory than one long single request (a longer request runs alone).
CONVERTER_BATCH_FRAMES = 1024
MELO_BATCH_TOKENS = 1024


def bucket_length(length: int, buckets: Sequence[int] = CONVERTER_FRAMES, beyond: int = LONG_STEP) -> int:
    """The smallest bucket holding `length`; past the largest, the next multiple of `beyond` (rare, very long
    inputs: still one shape per `beyond` frames, never a silent cut)."""
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    for bucket in buckets:
        if bucket >= length:
            return bucket
    return math.ceil(length / beyond) * beyond


def pad_time(x: torch.Tensor, length: int) -> torch.Tensor:
    """`x` [..., T] zero-padded on the right to `length` frames."""
    if x.shape[-1] > length:
        raise ValueError(f"cannot pad {x.shape[-1]} frames down to {length}")
    return torch.nn.functional.pad(x, (0, length - x.shape[-1]))
