# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""BERT features of MeloTTS (`melo/text/*_bert.py` and `get_text_for_tts_infer`), computed on the host.

Per sentence: tokenize the normalised text with the language's tokenizer, run its BertForMaskedLM with
`output_hidden_states=True`, take hidden state -3 (the output of layer L-2 of L), and repeat token i's
vector word2ph[i] times, so features are phone-aligned: [hidden, sum(word2ph)] = [hidden, N phones].

Which input gets it (upstream's assignment in get_text_for_tts_infer):
    ZH                                  -> `bert`    [1024, N] (hfl/chinese-roberta-wwm-ext-large); ja_bert zeros [768, N]
    EN, ZH_MIX_EN, JP, KR, ES, FR       -> `ja_bert` [768, N];  bert zeros [1024, N]
(The release ZH model runs ZH_MIX_EN, i.e. bert-base-multilingual-uncased in `ja_bert`.)

Models load from `<model_dir>/<hub id>/` (config.json + weights + tokenizer files: what
`demo/download.py --bert` writes) and never from the hub at run time. Tests pass models built from the
real configs with seeded random weights instead (`models=`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch
from loguru import logger

from models.demos.openvoice.text.frontend import BERT_MODELS, Frontend, FrontendError, FrontendOutput, load_tokenizer

BERT_DIM = 1024  # `bert` input of MeloTTS (ZH)
JA_BERT_DIM = 768  # `ja_bert` input (every other language)
HIDDEN_LAYER = -3  # torch.cat(res["hidden_states"][-3:-2], -1): one layer, the third from the end


class BertFeatures:
    """Phone-level BERT features per text language.

    model_dir: folder of `<hub id>/` model folders (also used for the tokenizer when no `frontend` is given).
    models: text language -> an already built BertForMaskedLM-like model (tests: seeded random weights).
    """

    def __init__(self, model_dir: Path | None = None, models: dict[str, Any] | None = None,
                 tokenizer_dir: Path | None = None) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.tokenizer_dir = Path(tokenizer_dir) if tokenizer_dir is not None else self.model_dir
        self._models: dict[str, Any] = dict(models or {})
        self._lock = threading.Lock()

    def model(self, text_lang: str) -> Any:
        """The language's BERT (eval mode), loaded once from model_dir/<hub id>."""
        with self._lock:
            if text_lang not in self._models:
                repo = BERT_MODELS[text_lang]
                folder = self.model_dir / repo if self.model_dir is not None else None
                if folder is None or not (folder / "config.json").is_file():
                    raise FrontendError(f"BERT model {repo} ({text_lang}) not found in {folder}: fetch it with "
                                        f"python -m models.demos.openvoice.demo.download --bert {text_lang}")
                from transformers import AutoModelForMaskedLM

                logger.info(f"loading BERT {repo} from {folder}")
                self._models[text_lang] = AutoModelForMaskedLM.from_pretrained(str(folder), local_files_only=True)
            return self._models[text_lang].eval()

    def tokenizer(self, text_lang: str) -> Any:
        if self.tokenizer_dir is None:
            raise FrontendError(f"no tokenizer folder for {BERT_MODELS[text_lang]}")
        return load_tokenizer(self.tokenizer_dir / BERT_MODELS[text_lang])

    def token_features(self, norm_text: str, text_lang: str) -> torch.Tensor:
        """Hidden state -3 per token ([CLS] and [SEP] included): [tokens, hidden]."""
        inputs = self.tokenizer(text_lang)(norm_text, return_tensors="pt")
        model = self.model(text_lang)
        # Upstream runs the whole BertForMaskedLM; its hidden states are the encoder's (base_model), and the
        # MLM head's vocabulary logits are never used, so only the encoder runs here.
        encoder = getattr(model, "base_model", model)
        with torch.inference_mode():
            out = encoder(**inputs, output_hidden_states=True)
        return out["hidden_states"][HIDDEN_LAYER][0].float()

    def phone_features(self, norm_text: str, word2ph: tuple[int, ...] | list[int], text_lang: str) -> torch.Tensor:
        """Token features repeated word2ph[i] times: [hidden, sum(word2ph)]."""
        tokens = self.token_features(norm_text, text_lang)
        if tokens.shape[0] != len(word2ph):
            raise FrontendError(f"{text_lang}: {tokens.shape[0]} BERT tokens but {len(word2ph)} word2ph entries for "
                                f"{norm_text!r}; the g2p and the BERT tokenizer disagree")
        counts = torch.tensor(list(word2ph), dtype=torch.long)
        return torch.repeat_interleave(tokens, counts, dim=0).T.contiguous()

    def for_tts(self, features: FrontendOutput, disable_bert: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(bert [1024, N], ja_bert [768, N]) for one sentence, assigned as get_text_for_tts_infer does."""
        n = len(features)
        bert, ja_bert = torch.zeros(BERT_DIM, n), torch.zeros(JA_BERT_DIM, n)
        if disable_bert:  # config data.disable_bert
            return bert, ja_bert
        phone_level = self.phone_features(features.norm_text, features.word2ph, features.text_language)
        expected = BERT_DIM if features.text_language == "ZH" else JA_BERT_DIM
        if phone_level.shape != (expected, n):
            raise FrontendError(f"{features.text_language} BERT gives {tuple(phone_level.shape)}, MeloTTS expects "
                                f"({expected}, {n}): wrong model for the language?")
        if features.text_language == "ZH":
            return phone_level, ja_bert
        return bert, phone_level


def random_bert(config_file: Path, seed: int, num_hidden_layers: int | None = None) -> Any:
    """A BertForMaskedLM of a real config.json with seeded random weights (no checkpoint needed): tests and the
    pipeline's random-weights mode. `num_hidden_layers` may cut the depth (tests, for speed)."""
    from transformers import BertConfig, BertForMaskedLM

    config = BertConfig.from_json_file(str(config_file))
    if num_hidden_layers is not None:
        config.num_hidden_layers = num_hidden_layers
    torch.manual_seed(seed)
    return BertForMaskedLM(config).eval()


def get_text_for_tts_infer(text: str, text_lang: str, frontend: Frontend, bert: BertFeatures,
                           disable_bert: bool = False) -> tuple[torch.Tensor, ...]:
    """Upstream's `melo.utils.get_text_for_tts_infer`: (bert, ja_bert, phone, tone, language) of one sentence."""
    features = frontend(text, text_lang)
    bert_features, ja_bert = bert.for_tts(features, disable_bert)
    return bert_features, ja_bert, features.phone_ids, features.tone_ids, features.language_ids
