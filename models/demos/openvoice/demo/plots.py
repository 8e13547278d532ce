# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Demo figures: ONE PNG per demo run with the waveform (top row, each at its own scale, peak in the title) and the log-magnitude spectrogram
(bottom row) of each clip of the run side by side (source, reference(s), result(s)).

Matplotlib's Agg backend (no display needed). The spectrogram is a plain STFT for viewing only
(1024-point Hann window, hop 256, dB relative to the clip's peak, floor -80 dB), not the model's.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Sequence

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

N_FFT, HOP = 1024, 256
FLOOR_DB = -80.0


class Panel(NamedTuple):
    title: str
    audio: np.ndarray  # mono float
    sampling_rate: int


def spectrogram_db(audio: np.ndarray) -> np.ndarray:
    """|STFT| in dB re the clip's peak, [freq, frames]."""
    x = torch.from_numpy(np.asarray(audio, dtype=np.float32))
    if x.numel() < N_FFT:  # too short for one window: pad so the panel still renders
        x = torch.nn.functional.pad(x, (0, N_FFT - x.numel()))
    magnitude = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True).abs().numpy()
    db = 20 * np.log10(np.maximum(magnitude, 1e-10) / max(float(magnitude.max()), 1e-10))
    return np.maximum(db, FLOOR_DB)


def _latin(text: str) -> str:
    """Titles in Latin script: matplotlib's bundled DejaVu font has no CJK / Hangul glyphs, so
    ZH, JP and KR sentences are transliterated (unidecode) instead of drawn as empty boxes."""
    from unidecode import unidecode

    return text if text.isascii() else f"{unidecode(text).strip()} [transliterated]"


def save_comparison(path: Path, panels: Sequence[Panel], title: str) -> Path:
    """Write the side-by-side waveform + spectrogram figure of `panels` to `path` (PNG)."""
    if not panels:
        raise ValueError("nothing to plot")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(2, len(panels), figsize=(3.6 * len(panels), 5.2), squeeze=False)
    for column, panel in enumerate(panels):
        audio = np.asarray(panel.audio, dtype=np.float32)
        seconds = audio.size / panel.sampling_rate
        wave, spec = axes[0, column], axes[1, column]
        wave.plot(np.arange(audio.size) / panel.sampling_rate, audio, linewidth=0.4, color="tab:blue")
        peak = float(np.abs(audio).max()) if audio.size else 0.0
        wave.set_title(f"{_latin(panel.title)}\n{seconds:.2f} s @ {panel.sampling_rate / 1000:g} kHz, peak {peak:.3g}", fontsize=9)
        wave.set_xlim(0, max(seconds, 1e-3))
        limit = max(peak, 1e-4) * 1.05  # each clip at its own scale: a quiet result stays visible
        wave.set_ylim(-limit, limit)
        wave.set_xlabel("s", fontsize=8)
        spec.imshow(
            spectrogram_db(audio), origin="lower", aspect="auto", cmap="magma", vmin=FLOOR_DB, vmax=0,
            extent=(0, max(seconds, 1e-3), 0, panel.sampling_rate / 2000),
        )  # fmt: skip
        spec.set_xlabel("s", fontsize=8)
        spec.set_ylabel("kHz", fontsize=8)
        for ax in (wave, spec):
            ax.tick_params(labelsize=7)
    fig.suptitle(_latin(title), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
