# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The real speech clips of the shared test data (`$OPENVOICE_SHARED_DATA/audio`, its README) with
their transcripts and speakers: what WER and speaker similarity are validated on, for the tests and
the run report alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clip:
    filename: str
    rate: int  # native rate of the file
    speaker: str
    text: str


CLIPS: dict[str, Clip] = {
    "jfk": Clip(
        "jfk.flac",
        44100,
        "jfk",
        "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
    ),
    "one_two_three": Clip("one_two_three.wav", 44100, "speaker_b", "one two three"),
    "quick_brown_fox": Clip("quick_brown_fox.wav", 16000, "synthetic", "The quick brown fox jumps over the lazy dog."),
    "counting": Clip("counting.wav", 16000, "synthetic", "One two three four five six seven eight nine ten."),
    "hello_world": Clip("hello_world.wav", 16000, "synthetic", "Hello world."),
}
