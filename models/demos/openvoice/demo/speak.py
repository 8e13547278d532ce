# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Text to a cloned voice: upstream OpenVoice V2's demo (MeloTTS `tts_to_file`, then `ToneColorConverter.convert`).

    text + language (+ speaker / EN accent)
    -> sentences, split as upstream (`melo.split_utils.split_sentence` on the model's TEXT language: EN/ES/FR
       pieces of <= 512 characters, ZH (= ZH_MIX_EN), JP, KR after punctuation)
    -> per sentence the frontend (g2p, ids, BERT features; host, text/)
    -> MeloTTS: the sentences in padded batches (`sentence_batches`; upstream loops over them one by one), on the backend
    -> base-speaker audio at 44.1 kHz, each item cut to its own y_length * 512 samples
    -> resampled to 22.05 kHz by utils/audio.py (soxr_hq, as upstream's librosa.load)
    -> converter per sentence: source SE = the base speaker's SE, target SE = the clone's
    -> sentences joined with upstream's inter-sentence silence (`audio_numpy_concat`: int(sr * 0.05 / speed)
       zeros after EVERY sentence; 1102 samples at 22.05 kHz and speed 1)

Two deliberate differences from upstream, both for streaming (`stream` yields a sentence as soon as it is
converted, and `speak` is exactly the joined stream):
* upstream converts the whole joined 44.1 kHz file at once; here each sentence is converted alone and the
  silence is added after conversion (the converter's receptive field spans sentence boundaries upstream);
* upstream writes the 44.1 kHz file as 16-bit PCM and reads it back; here the float audio is resampled.

Randomness, seedable (`SpeakOptions.seed`): every draw -- the duration predictor's eps_sdp, the prior's eps_p
and the converter's posterior noise -- is keyed by (seed, purpose, sentence text), so a sentence sounds the same
whatever batch it is in and on either backend. eps_p is only shaped once the durations are known, so the
request carries it as a function of the y_lengths (`SentencePriorDraw`). With the decoder masked per item
(`SynthesisRequest.mask_decoder`) a batch of sentences equals the sentences one by one.

Any length: a text is spoken as consecutive batches of sentences (`sentence_batches`: one sentence first, for
the time to first audio, then up to `max_batch` sentences within `max_batch_tokens`), each synthesized, converted
and yielded before the next one's frontend runs, so memory is bounded by one batch.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from loguru import logger

from models.demos.openvoice.utils.audio import prepare_waveform
from models.demos.openvoice.demo.backends import MELO_SAMPLING_RATE, SynthesisRequest
from models.demos.openvoice.demo.pipeline import MAX_BATCH, VoiceCloner
from models.demos.openvoice.reference.spectrogram import spectrogram_lengths
from models.demos.openvoice.reference.text_encoder import BERT_CHANNELS, JA_BERT_CHANNELS
from models.demos.openvoice.text.bert import BertFeatures
from models.demos.openvoice.tt.buckets import MELO_BATCH_TOKENS
from models.demos.openvoice.text.frontend import (
    Frontend,
    FrontendError,
    FrontendOutput,
    check_speaker,
    model_text_language,
    split_sentences,
)

LANGUAGES = ("EN", "ES", "FR", "ZH", "JP", "KR")  # the MeloTTS models OpenVoice V2 ships base speakers for
SENTENCE_SILENCE_SECONDS = 0.05  # upstream audio_numpy_concat, divided by speed
# A text of any length is spoken as consecutive MeloTTS batches of sentences (`sentence_batches`): the first
# batch is ONE sentence (time to first audio is one sentence's work), the next ones hold at most
# MAX_BATCH sentences and MELO_BATCH_TOKENS padded tokens, so device and host memory stay bounded by one batch.
FIRST_BATCH_SENTENCES = 1


@dataclass(frozen=True)
class SpeakOptions:
    """Upstream's style controls (`tts_to_file` defaults; `convert`'s tau) and the seed (None: a fresh one)."""

    speed: float = 1.0  # length_scale = 1 / speed
    sdp_ratio: float = 0.2
    noise_scale: float = 0.6
    noise_scale_w: float = 0.8
    tau: float = 0.3
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("speed", "sdp_ratio", "noise_scale", "noise_scale_w", "tau"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if self.speed <= 0:
            raise ValueError(f"speed must be > 0, got {self.speed}")
        if not 0 <= self.sdp_ratio <= 1:
            raise ValueError(f"sdp_ratio must be in [0, 1], got {self.sdp_ratio}")


@dataclass
class SpokenSentence:
    """One sentence, converted: `audio` at the converter's rate (no trailing silence)."""

    index: int
    text: str
    audio: np.ndarray
    base_audio: np.ndarray  # MeloTTS output at 44.1 kHz
    frames: int  # MeloTTS y_length
    ready_seconds: float  # since the request started


@dataclass
class SpeakResult:
    audio: np.ndarray  # the sentences joined with upstream's silence
    sampling_rate: int
    sentences: list[SpokenSentence]
    seed: int
    seconds: float
    first_audio_seconds: float = field(default=float("nan"))


def _sub_seed(seed: int, purpose: str, text: str) -> int:
    digest = hashlib.sha256(f"{seed}|{purpose}|{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def _randn(seed: int, purpose: str, text: str, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(_sub_seed(seed, purpose, text)))


@dataclass(frozen=True)
class SentencePriorDraw:
    """The prior's eps_p for a batch of sentences (`reference.melo_tts.PriorDraw`): item i's [C, y_i] frames
    from (seed, "prior", sentence i), zeros on its padded frames (masked before they reach anything)."""

    seed: int
    sentences: tuple[str, ...]

    def __call__(self, y_lengths: Sequence[int], channels: int) -> torch.Tensor:
        if len(y_lengths) != len(self.sentences):
            raise ValueError(f"{len(y_lengths)} y_lengths for {len(self.sentences)} sentences")
        eps = torch.zeros(len(y_lengths), channels, max(y_lengths))
        for i, (sentence, n) in enumerate(zip(self.sentences, y_lengths)):
            eps[i, :, :n] = _randn(self.seed, "prior", sentence, channels, n)
        return eps


def silence_samples(sampling_rate: int, speed: float) -> int:
    """Upstream's zeros after each sentence: int(sr * 0.05 / speed)."""
    return int(sampling_rate * SENTENCE_SILENCE_SECONDS / speed)


class TextToSpeech:
    """text -> base speaker (MeloTTS) -> cloned voice, on the cloner's backend (reference or TTNN).

    spk2id: model language -> the MeloTTS config's speaker ids; base_se: speaker name -> its SE [1, gin, 1].
    """

    def __init__(
        self,
        cloner: VoiceCloner,
        frontend: Frontend,
        bert: BertFeatures,
        spk2id: Callable[[str], dict[str, int]],
        base_se: Callable[[str], torch.Tensor],
        max_batch: int = MAX_BATCH,
        max_batch_tokens: int = MELO_BATCH_TOKENS,
        first_batch: int = FIRST_BATCH_SENTENCES,
    ) -> None:
        """Per MeloTTS batch of one text: at most `max_batch` sentences and `max_batch_tokens` padded tokens, the
        first batch at most `first_batch` sentences."""
        self.cloner = cloner
        self.frontend = frontend
        self.bert = bert
        self.spk2id = spk2id
        self.base_se = base_se
        self.max_batch, self.max_batch_tokens, self.first_batch = max_batch, max_batch_tokens, first_batch

    def with_cloner(self, cloner: VoiceCloner, **limits: int) -> "TextToSpeech":
        """The same frontend, BERT, speakers and batch limits (or `limits` instead) on another cloner."""
        kept = {"max_batch": self.max_batch, "max_batch_tokens": self.max_batch_tokens, "first_batch": self.first_batch}
        return TextToSpeech(cloner, self.frontend, self.bert, self.spk2id, self.base_se, **{**kept, **limits})

    @property
    def sampling_rate(self) -> int:
        return self.cloner.sampling_rate

    @staticmethod
    def check_language(language: str, speaker: str | None) -> str:
        """Validated speaker name (None: the language's first, EN-US for EN)."""
        if language not in LANGUAGES:
            raise FrontendError(f"unknown language {language!r}; choose one of {list(LANGUAGES)}")
        return check_speaker(language, speaker)

    def sentences(self, text: str, language: str) -> list[str]:
        """Upstream's split, after the empty-text check."""
        if not isinstance(text, str) or not text.strip():
            raise FrontendError("empty text: nothing to say")
        pieces = [p for p in split_sentences(text, model_text_language(language)) if p.strip()]
        if not pieces:  # the splitter drops pieces of punctuation only
            raise FrontendError(f"nothing pronounceable in {text!r} for {language}")
        return pieces

    def features(self, sentence: str, language: str) -> tuple[FrontendOutput, torch.Tensor, torch.Tensor]:
        text_lang = model_text_language(language)
        try:
            features = self.frontend(sentence, text_lang)
        except FrontendError as error:
            raise FrontendError(f"sentence {sentence!r}: {error}") from error
        bert, ja_bert = self.bert.for_tts(features)
        return features, bert, ja_bert

    def sentence_batches(
        self, sentences: Sequence[str], language: str
    ) -> Iterator[list[tuple[str, FrontendOutput, torch.Tensor, torch.Tensor]]]:
        """The sentences with their frontend features, in order, as MeloTTS batches: first `first_batch` sentences,
        then up to `max_batch` sentences whose padded tokens (count x longest) stay within `max_batch_tokens` (a
        longer sentence goes alone). Lazy: the frontend runs one batch ahead of the device at most."""
        batch: list[tuple[str, FrontendOutput, torch.Tensor, torch.Tensor]] = []
        limit = self.first_batch
        for sentence in sentences:
            item = (sentence, *self.features(sentence, language))
            longest = max([len(item[1])] + [len(f) for _, f, _, _ in batch])
            if batch and (len(batch) >= limit or (len(batch) + 1) * longest > self.max_batch_tokens):
                yield batch
                batch, limit = [], self.max_batch
            batch.append(item)
        if batch:
            yield batch

    def request(self, sentences: Sequence[str], language: str, speaker: str, options: SpeakOptions, seed: int) -> SynthesisRequest:
        """The frontend per sentence, padded into one MeloTTS batch with the seeded duration draws."""
        return self.batch_request([(s, *self.features(s, language)) for s in sentences], language, speaker, options, seed)

    def batch_request(
        self,
        items: Sequence[tuple[str, FrontendOutput, torch.Tensor, torch.Tensor]],
        language: str,
        speaker: str,
        options: SpeakOptions,
        seed: int,
    ) -> SynthesisRequest:
        """Sentences with their features (`sentence_batches`), padded into one MeloTTS batch with the seeded
        duration draws."""
        sentences = [sentence for sentence, _, _, _ in items]
        b, t = len(items), max(len(f) for _, f, _, _ in items)
        spk2id = self.spk2id(language)
        if speaker not in spk2id:
            raise FrontendError(f"speaker {speaker!r} is not in the {language} model's spk2id {sorted(spk2id)}")
        x, tone, lang = (torch.zeros(b, t, dtype=torch.long) for _ in range(3))
        bert, ja_bert = torch.zeros(b, BERT_CHANNELS, t), torch.zeros(b, JA_BERT_CHANNELS, t)
        eps_sdp = torch.zeros(b, 2, t)
        for i, (sentence, f, bert_i, ja_bert_i) in enumerate(items):
            n = len(f)
            x[i, :n], tone[i, :n], lang[i, :n] = f.phone_ids, f.tone_ids, f.language_ids
            bert[i, :, :n], ja_bert[i, :, :n] = bert_i, ja_bert_i
            eps_sdp[i, :, :n] = _randn(seed, "sdp", sentence, 2, n)
        return SynthesisRequest(
            language=language, x=x, x_lengths=torch.tensor([len(f) for _, f, _, _ in items]),
            sid=torch.full((b,), spk2id[speaker], dtype=torch.long), tone=tone, languages=lang, bert=bert,
            ja_bert=ja_bert, eps_sdp=eps_sdp, eps_p=SentencePriorDraw(seed, tuple(sentences)),
            noise_scale=options.noise_scale, length_scale=1.0 / options.speed, noise_scale_w=options.noise_scale_w,
            sdp_ratio=options.sdp_ratio,
        )  # fmt: skip

    def stream(
        self,
        text: str,
        language: str,
        target_se: torch.Tensor,
        speaker: str | None = None,
        options: SpeakOptions = SpeakOptions(),
    ) -> Iterator[SpokenSentence]:
        """Each sentence's converted audio, in order, as soon as its batch is ready: MeloTTS per batch of sentences
        (`sentence_batches`), then the batch's sentences converted together (one converter batch where they share
        a shape bucket). Memory is bounded by one batch whatever the text's length."""
        start = time.perf_counter()
        speaker = self.check_language(language, speaker)
        seed = options.seed if options.seed is not None else secrets.randbits(31)
        sentences = self.sentences(text, language)
        logger.info(f"{len(sentences)} sentence(s), {language} speaker {speaker}, seed {seed}")
        g_src = self.base_se(speaker)
        d = self.cloner.config.data
        index = 0
        for items in self.sentence_batches(sentences, language):
            synthesized = self.cloner.synthesize(self.batch_request(items, language, speaker, options, seed))
            requests = []
            for i, (sentence, _, _, _) in enumerate(items):
                audio = prepare_waveform(
                    synthesized.audio[i], MELO_SAMPLING_RATE, self.sampling_rate, name=f"sentence {index + i + 1} (MeloTTS)"
                )
                frames = int(spectrogram_lengths([audio.size], d.filter_length, d.hop_length)[0])
                noise = _randn(seed, "converter", sentence, 1, self.cloner.config.model.inter_channels, frames)
                requests.append((audio, noise))
            converted = self.cloner.convert_many([(audio, g_src, target_se, options.tau, noise) for audio, noise in requests])
            for i, (sentence, _, _, _) in enumerate(items):
                ready = time.perf_counter() - start
                yield SpokenSentence(index, sentence, converted[i], synthesized.audio[i], synthesized.frames[i], ready)
                index += 1

    def speak(
        self,
        text: str,
        language: str,
        target_se: torch.Tensor,
        speaker: str | None = None,
        options: SpeakOptions = SpeakOptions(),
    ) -> SpeakResult:
        """The whole text: `stream`'s sentences joined with upstream's inter-sentence silence."""
        if options.seed is None:  # fix it here so the result can report it
            options = replace(options, seed=secrets.randbits(31))
        start = time.perf_counter()
        sentences = list(self.stream(text, language, target_se, speaker, options))
        return SpeakResult(
            audio=join_sentences([s.audio for s in sentences], self.sampling_rate, options.speed),
            sampling_rate=self.sampling_rate,
            sentences=sentences,
            seed=int(options.seed),
            seconds=time.perf_counter() - start,
            first_audio_seconds=sentences[0].ready_seconds,
        )


def join_sentences(audio: list[np.ndarray], sampling_rate: int, speed: float) -> np.ndarray:
    """Upstream's audio_numpy_concat: each sentence followed by int(sr * 0.05 / speed) zeros."""
    gap = np.zeros(silence_samples(sampling_rate, speed), dtype=np.float32)
    return np.concatenate([piece for a in audio for piece in (np.asarray(a, dtype=np.float32), gap)])
