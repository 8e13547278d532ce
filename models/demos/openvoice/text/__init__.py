# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS text frontend (host): upstream g2p run offline (`frontend`) and phone-level BERT features (`bert`)."""

from models.demos.openvoice.text.frontend import (
    BERT_MODELS,
    MAX_BERT_TOKENS,
    MODEL_TEXT_LANGUAGE,
    SPEAKERS,
    TEXT_LANGUAGES,
    Frontend,
    FrontendError,
    FrontendOutput,
    check_speaker,
    check_text_language,
    checkpoint_text_dirs,
    model_text_language,
    split_sentences,
)

__all__ = [
    "BERT_MODELS",
    "MAX_BERT_TOKENS",
    "MODEL_TEXT_LANGUAGE",
    "SPEAKERS",
    "TEXT_LANGUAGES",
    "Frontend",
    "FrontendError",
    "FrontendOutput",
    "check_speaker",
    "check_text_language",
    "checkpoint_text_dirs",
    "model_text_language",
    "split_sentences",
]
