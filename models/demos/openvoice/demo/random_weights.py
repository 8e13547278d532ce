# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Seeded random weights in the release shapes: the whole speak path without any checkpoint.

Where no official checkpoint can be downloaded (CI, this machine), `openvoice speak --random-weights SEED`
builds every model of the path from its release shape with seeded random weights:

* the tone-colour converter (and its reference encoder): the V2 `converter/config.json` values, which are
  `utils/config.py`'s defaults (`converter_config`);
* MeloTTS per language: the release `config.json` shape (hidden 192, filter 768, 2 heads, 6 layers,
  transformer flow of 3 layers, the 44.1 kHz decoder with rates 8,8,2,2,2; hop 512) with MeloTTS's real
  symbol table sizes (219 symbols, 16 tones, 8 languages, read from `melo.text.symbols`) and the language's
  release speakers as spk2id (`melo_config`);
* the language's BERT encoder: its real `config.json` when the tokenizer folder has one (EN, JP and ZH here), else
  BERT-base (`transformers.BertConfig` defaults, which are bert-base's) with the hub model's vocabulary size
  (`STAND_IN_VOCAB`);
* tokenizers: the real one when `<tokenizer_dir>/<hub id>/` exists; otherwise (KR, ES, FR and ZH_MIX_EN here)
  `WholeWordTokenizer`, a documented STAND-IN: BERT's normaliser and pre-tokeniser, every word one token
  (id = crc32 of the word within the vocabulary). The g2p, ids and word2ph bookkeeping stay upstream's; what
  differs from the real tokenizer is sub-word splitting (it changes word2ph, not the phones).

The audio is noise: only shapes, the data flow and the numerics of the composition are real.
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from models.demos.openvoice.utils.config import DataConfig, ModelConfig, OpenVoiceConfig
from models.demos.openvoice.reference.melo_tts import MeloTTS
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.text.bert import BertFeatures
from models.demos.openvoice.text.frontend import BERT_MODELS, SPEAKERS, Frontend, load_tokenizer

# Vocabulary sizes of the hub configs of the BERTs whose files are not available here.
STAND_IN_VOCAB = {
    "bert-base-uncased": 30522,
    "bert-base-multilingual-uncased": 105879,
    "dccuchile/bert-base-spanish-wwm-uncased": 31002,
    "dbmdz/bert-base-french-europeana-cased": 32000,
    "kykim/bert-kor-base": 42000,
    "tohoku-nlp/bert-base-japanese-v3": 32768,
}
# Lower-casing of each hub tokenizer (its tokenizer_config do_lower_case).
STAND_IN_LOWER = {
    "bert-base-multilingual-uncased": True,
    "dccuchile/bert-base-spanish-wwm-uncased": True,
    "dbmdz/bert-base-french-europeana-cased": False,
    "kykim/bert-kor-base": False,
}
MELO_N_SPEAKERS = 256  # emb_g rows of the release MeloTTS configs (data.n_speakers)
SPECIAL_TOKENS = 5  # [PAD] [UNK] [CLS] [SEP] [MASK]: ids 0..4, as BERT vocabularies start
CLS_ID, SEP_ID = 2, 3


def converter_config() -> OpenVoiceConfig:
    """The V2 converter config.json (utils/config.py's defaults are its values; V2 sets zero_g)."""
    return OpenVoiceConfig(data=DataConfig(), model=ModelConfig(zero_g=True), version="v2")


def random_converter(seed: int) -> ToneColorConverter:
    """The V2 converter (enc_q, flow, dec, ref_enc) with seeded random weights, eval mode."""
    torch.manual_seed(seed)
    return ToneColorConverter.from_config(converter_config()).eval()


def melo_config(language: str) -> OpenVoiceConfig:
    """The release MeloTTS config.json shape of `language` (EN, ES, FR, ZH, JP, KR)."""
    symbols = importlib.import_module("melo.text.symbols")
    data = DataConfig(
        sampling_rate=44100, filter_length=2048, hop_length=512, win_length=2048, n_speakers=MELO_N_SPEAKERS,
        add_blank=True, spk2id={name: index for index, name in enumerate(SPEAKERS[language])},
    )  # fmt: skip
    model = replace(
        ModelConfig(), upsample_rates=(8, 8, 2, 2, 2), upsample_kernel_sizes=(16, 16, 8, 2, 2), n_layers_trans_flow=3
    )
    return OpenVoiceConfig(
        data=data, model=model, version="melotts", n_symbols=len(symbols.symbols), num_tones=symbols.num_tones,
        num_languages=symbols.num_languages,
    )  # fmt: skip


def random_melo(language: str, seed: int) -> MeloTTS:
    """MeloTTS of `language` in the release shape with seeded random weights (seed mixed with the language)."""
    torch.manual_seed(seed * 1000 + zlib.crc32(language.encode()) % 1000)
    return MeloTTS.from_config(melo_config(language)).eval()


def random_speaker_embedding(seed: int, speaker: str, gin_channels: int = 256) -> torch.Tensor:
    """A base speaker's SE [1, gin, 1] when its file is absent in random-weights mode."""
    generator = torch.Generator().manual_seed(seed * 1000 + zlib.crc32(speaker.encode()) % 1000)
    return torch.randn(1, gin_channels, 1, generator=generator) * 0.1


class WholeWordTokenizer:
    """STAND-IN tokenizer (see the module docstring): BERT normalisation and pre-tokenisation, one token per
    word. Offers what the g2p (`tokenize`) and the BERT features (`__call__`) use."""

    def __init__(self, repo: str, lowercase: bool, vocab_size: int) -> None:
        from tokenizers.normalizers import BertNormalizer
        from tokenizers.pre_tokenizers import BertPreTokenizer

        self.repo = repo
        self.vocab_size = vocab_size
        self._normalizer = BertNormalizer(lowercase=lowercase, strip_accents=False)
        self._pre_tokenizer = BertPreTokenizer()

    def tokenize(self, text: str) -> list[str]:
        return [word for word, _ in self._pre_tokenizer.pre_tokenize_str(self._normalizer.normalize_str(text))]

    def __call__(self, text: str, return_tensors: str = "pt") -> dict[str, torch.Tensor]:
        words = self.tokenize(text)
        span = self.vocab_size - SPECIAL_TOKENS
        ids = [CLS_ID] + [SPECIAL_TOKENS + zlib.crc32(w.encode()) % span for w in words] + [SEP_ID]
        input_ids = torch.tensor([ids])
        return {"input_ids": input_ids, "token_type_ids": torch.zeros_like(input_ids),
                "attention_mask": torch.ones_like(input_ids)}  # fmt: skip


def _tokenizer(tokenizer_dir: Path | None, text_lang: str) -> Any:
    repo = BERT_MODELS[text_lang]
    if tokenizer_dir is not None and (Path(tokenizer_dir) / repo).is_dir():
        return load_tokenizer(Path(tokenizer_dir) / repo)
    return _stand_in(repo)


@lru_cache(maxsize=None)
def _stand_in(repo: str) -> WholeWordTokenizer:
    return WholeWordTokenizer(repo, STAND_IN_LOWER.get(repo, True), STAND_IN_VOCAB.get(repo, 30522))


class StandInFrontend(Frontend):
    """`Frontend` whose missing tokenizers are `WholeWordTokenizer` stand-ins (random-weights mode only)."""

    def tokenizer(self, text_lang: str) -> Any:
        return _tokenizer(self.tokenizer_dir, text_lang)

    def _has_tokenizer(self, text_lang: str) -> bool:
        return True


class RandomBertFeatures(BertFeatures):
    """`BertFeatures` over seeded random BERTs of the release shapes, tokenised as `StandInFrontend`."""

    def __init__(self, tokenizer_dir: Path | None, seed: int) -> None:
        super().__init__(model_dir=None, tokenizer_dir=tokenizer_dir)
        self.seed = seed

    def tokenizer(self, text_lang: str) -> Any:
        return _tokenizer(self.tokenizer_dir, text_lang)

    def model(self, text_lang: str) -> Any:
        with self._lock:
            if text_lang not in self._models:
                self._models[text_lang] = _random_bert(self.tokenizer_dir, BERT_MODELS[text_lang], self.seed)
            return self._models[text_lang]


@lru_cache(maxsize=4)
def _random_bert(tokenizer_dir: Path | None, repo: str, seed: int) -> Any:
    """The BERT encoder only (`BertModel`): MeloTTS reads hidden states, never the masked-LM head, and
    skipping that head's random init saves seconds per language (text/bert.py `random_bert` builds the
    whole BertForMaskedLM)."""
    from transformers import BertConfig, BertModel

    config_file = Path(tokenizer_dir) / repo / "config.json" if tokenizer_dir is not None else None
    if config_file is not None and config_file.is_file():
        config = BertConfig.from_json_file(str(config_file))
    else:
        config = BertConfig(vocab_size=STAND_IN_VOCAB.get(repo, 30522))
    torch.manual_seed(seed)
    return BertModel(config, add_pooling_layer=False).eval()
