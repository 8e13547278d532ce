"""Real data for the clone tests: the trained reference-encoder weights, the spec_se_real golden
case and the speech clips of $OPENVOICE_SHARED_DATA (see its README)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from models.demos.openvoice.common.audio import load_audio
from models.demos.openvoice.reference.reference_encoder import ReferenceEncoder, load_reference_encoder
from tests.shared_data import require_shared_data

SAMPLING_RATE = 22050
REF_ENC = "openvoice_v2/ref_enc/ref_enc.pt"
CONFIG = "openvoice_v2/config.json"
GOLDEN = "golden/spec_se_real/case.pt"
GOLDEN_CLIPS = ("jfk", "one_two_three", "quick_brown_fox")
# Speaker of each clip in audio/ (README: three clips share one synthetic voice).
SPEAKERS = {
    "jfk": "jfk",
    "one_two_three": "one_two_three",
    "quick_brown_fox": "synthetic",
    "counting": "synthetic",
    "hello_world": "synthetic",
}


def data_dir() -> Path:
    return require_shared_data()


@lru_cache(maxsize=1)
def reference_encoder() -> ReferenceEncoder:
    """The real trained reference encoder (weight norm folded), eval mode."""
    return load_reference_encoder(data_dir() / REF_ENC)


@lru_cache(maxsize=1)
def golden_case() -> dict:
    import torch

    return torch.load(data_dir() / GOLDEN, weights_only=False)


def clip_path(name: str) -> Path:
    return next((data_dir() / "audio").glob(f"{name}.*"))


@lru_cache(maxsize=1)
def clip_halves() -> list[tuple[str, str, np.ndarray]]:
    """(clip name, speaker, half waveform at 22.05 kHz) for both halves of every clip in audio/."""
    halves = []
    for path in sorted((data_dir() / "audio").iterdir()):
        audio = load_audio(path, SAMPLING_RATE)
        middle = audio.size // 2
        for half in (audio[:middle], audio[middle:]):
            halves.append((path.stem, SPEAKERS[path.stem], np.ascontiguousarray(half)))
    return halves
