# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS text frontend (upstream `melo.text` run offline) and BERT features.

Tokenizers: EN (bert-base-uncased), JP (tohoku-nlp/bert-base-japanese-v3) and ZH (hfl/chinese-roberta-wwm-ext-large)
are the REAL ones from $OPENVOICE_SHARED_DATA/text/tokenizers. The KR, ES, FR and ZH_MIX_EN tokenizers exist
nowhere here, so those languages run with a STAND-IN WordPiece tokenizer whose vocabulary holds every whole word
of the corpus (same lower-casing as the real one): the normalisation, the g2p (phonemizers, g2pkk, the mixed
Chinese/English split), the ids and the word2ph bookkeeping are upstream's and pinned; what the stand-in cannot
show is how the real tokenizer splits words into sub-words (which changes word2ph, not the phones).

BERT weights do not exist here: models are built from the real configs (hidden size, vocabulary, positions,
heads) with seeded random weights and 3 layers instead of 12/24, to keep the file fast. For every text language
(EN, JP, ZH real; KR, ES, FR, ZH_MIX_EN with the stand-in and a 768-wide random BERT over its vocabulary) the
output equals upstream's own `melo.utils.get_text_for_tts_infer` run on the same model and tokenizer, exactly.

Pinned outputs: text_frontend_corpus.json next to this file (regenerate with
`OPENVOICE_REPIN_TEXT=1 pytest ...test_text_frontend.py -k pinned` after an intended change, and review the diff).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

pytest.importorskip("melo", reason="MeloTTS text code not installed (melotts-krqnf, see requirements-text.in)")

from models.demos.openvoice.text import bert as text_bert  # noqa: E402
from models.demos.openvoice.text.frontend import (  # noqa: E402
    BERT_MODELS,
    Frontend,
    FrontendError,
    MAX_BERT_TOKENS,
    check_speaker,
    import_melo_module,
    import_melo_text,
    import_upstream,
    model_text_language,
    split_sentences,
)

CORPUS_FILE = Path(__file__).with_name("text_frontend_corpus.json")
CORPUS: dict[str, list[str]] = {
    "EN": [
        "Hello world! It is 3:30pm on Jan. 5th, 2024; Dr. Smith paid $12.50.",
        "The U.S. economy grew 2.5% in Q3, faster than expected?",
        "I read the book yesterday - and I'll read it again tomorrow...",
        "OpenVoice runs on a WormHole card.",
        "He refits the boat for the 1st time.",
    ],
    "ES": [
        "Hola, ¿cómo estás? Son las 3 de la tarde.",
        "El Sr. García pagó 12 euros el 5 de enero de 2024.",
    ],
    "FR": [
        "Bonjour, comment allez-vous ? Il est 15 heures.",
        "Le Dr. Dupont a payé 12 euros le 5 janvier 2024 !",
    ],
    "ZH": [
        "2024年1月5日，气温是-3.5度！",
        "你好，世界。今天天气很好，我们去公园吧？",
    ],
    "ZH_MIX_EN": [
        "今天天气很好，我们去公园吧。",
        "我最近在学习machine learning，希望能够有所建树。",
    ],
    "JP": [
        "こんにちは、世界！今日は2024年1月5日です。",
        "東京タワーの高さは333メートルです。",
        "私はPythonが好きです。",
    ],
    "KR": [
        "안녕하세요, 세계! 오늘은 2024년 1월 5일입니다.",
        "저는 음악을 좋아해요. 3시에 만나요?",
    ],
}
REAL_TOKENIZERS = ("EN", "ZH", "JP")
# Stand-in tokenizers: lower-casing as the real tokenizer_config of each hub model
STAND_IN_LOWER = {"ES": True, "FR": False, "KR": False, "ZH_MIX_EN": True}


@pytest.fixture(scope="module")
def text_data(shared_data: Path) -> Path:
    return shared_data / "text"


@pytest.fixture(scope="module")
def tokenizer_dir(text_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real tokenizer folders (linked) plus stand-ins for KR, ES, FR, ZH_MIX_EN built from the corpus."""
    root = tmp_path_factory.mktemp("tokenizers")
    for language in REAL_TOKENIZERS:
        target = root / BERT_MODELS[language]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(text_data / "tokenizers" / BERT_MODELS[language])
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    for language, lower in STAND_IN_LOWER.items():
        module = import_melo_text(language, text_data / "nltk_data")
        normalizer = BertNormalizer(lowercase=lower, strip_accents=False)
        words = sorted({w for text in CORPUS[language] for w, _ in
                        BertPreTokenizer().pre_tokenize_str(normalizer.normalize_str(module.text_normalize(text)))})
        folder = root / BERT_MODELS[language]
        folder.mkdir(parents=True)
        (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
        config = {"tokenizer_class": "BertTokenizer", "do_lower_case": lower, "strip_accents": False}
        (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return root


@pytest.fixture(scope="module")
def frontend(tokenizer_dir: Path, text_data: Path) -> Frontend:
    return Frontend(tokenizer_dir, text_data / "nltk_data")


def _record(frontend: Frontend, text: str, language: str) -> dict:
    out = frontend(text, language)
    return {"text": text, "norm_text": out.norm_text, "phones": " ".join(out.phones),
            "tones": out.tone_ids[1::2].tolist(), "word2ph": list(out.word2ph)}


def test_symbol_table(frontend):
    symbols = import_melo_module("symbols")
    assert len(frontend.symbols) == 219 and symbols.num_tones == 16 and symbols.num_languages == 8
    assert frontend.symbols[0] == "_"  # the blank add_blank inserts is id 0, the pad symbol


@pytest.mark.parametrize("language", list(CORPUS))
def test_pinned_corpus(frontend, language):
    """Every corpus sentence gives the pinned normalised text, phones, tones and word2ph."""
    got = [_record(frontend, text, language) for text in CORPUS[language]]
    if os.environ.get("OPENVOICE_REPIN_TEXT"):
        pinned = json.loads(CORPUS_FILE.read_text()) if CORPUS_FILE.is_file() else {}
        pinned[language] = got
        CORPUS_FILE.write_text(json.dumps(pinned, ensure_ascii=False, indent=1) + "\n")
    pinned = json.loads(CORPUS_FILE.read_text())[language]
    assert got == pinned


@pytest.mark.parametrize("language", list(CORPUS))
def test_matches_upstream_and_is_consistent(frontend, language):
    """ids == upstream cleaned_text_to_sequence + commons.intersperse; lengths agree; blanks where upstream puts them."""
    import_melo_module("symbols")
    import melo.text as melo_text
    from melo.commons import intersperse

    for text in CORPUS[language]:
        out = frontend(text, language)
        # tone ids are shifted by the language's tone start; undo it to feed upstream the raw g2p tones
        start = melo_text.language_tone_start_map[language]
        phone, tone, lang = melo_text.cleaned_text_to_sequence(
            list(out.phones), [t - start for t in out.tone_ids[1::2].tolist()], language)
        assert out.phone_ids.tolist() == intersperse(phone, 0)
        assert out.tone_ids.tolist() == intersperse(tone, 0)
        assert out.language_ids.tolist() == intersperse(lang, 0)
        n = len(out.phones)
        assert len(out) == 2 * n + 1 == sum(out.word2ph)
        assert out.phones[0] == out.phones[-1] == "_" and out.word2ph[0] % 2 == 1 and out.word2ph[-1] == 2


def test_tokens_align_with_word2ph(frontend, tokenizer_dir):
    """One word2ph entry per BERT token ([CLS], [SEP] included) with the real tokenizers."""
    for language in REAL_TOKENIZERS:
        tokenizer = frontend.tokenizer(language)
        for text in CORPUS[language]:
            out = frontend(text, language)
            ids = tokenizer(out.norm_text)["input_ids"]
            assert len(ids) == len(out.word2ph), (language, text)
            assert tokenizer.unk_token_id not in ids[1:-1] or language == "JP", (language, text)


def test_language_mapping_and_speakers():
    assert model_text_language("ZH") == "ZH_MIX_EN"  # what melo.api.TTS runs for the release ZH model
    assert [model_text_language(lang) for lang in ("EN", "ES", "FR", "JP", "KR")] == ["EN", "ES", "FR", "JP", "KR"]
    assert check_speaker("EN", None) == "EN-US"
    for accent in ("EN-US", "EN-BR", "EN_INDIA", "EN-AU", "EN-Default"):
        assert check_speaker("EN", accent) == accent
    with pytest.raises(FrontendError, match="unknown speaker/accent 'EN-XX'"):
        check_speaker("EN", "EN-XX")
    with pytest.raises(FrontendError, match="unknown language 'DE'"):
        model_text_language("DE")


@pytest.mark.parametrize(
    "text, language, message",
    [
        ("", "EN", "empty text"),
        ("   \n", "JP", "empty text"),
        ("Hello", "DE", "unknown text language 'DE'"),
        ("?!...", "EN", "nothing pronounceable"),
        ("Hello world", "JP", "nothing pronounceable"),  # the JP normaliser drops Latin letters
        ("word " * 600, "EN", "too long: 602 BERT tokens > 512"),
    ],
)
def test_bad_text(frontend, text, language, message):
    with pytest.raises(FrontendError, match=message):
        frontend(text, language)
    assert MAX_BERT_TOKENS == 512


def test_split_sentences_as_upstream():
    """melo.split_utils.split_sentence, imported without torchaudio: Latin text by txtsplit (<= 512 chars per
    piece, so short sentences stay together), the others at punctuation with pieces of <= 10 chars merged."""
    import sys

    assert split_sentences("Hello world. How are you?", "EN") == ["Hello world. How are you?"]
    long_text = " ".join(["This sentence is about forty characters."] * 20)
    pieces = split_sentences(long_text, "EN")
    assert len(pieces) > 1 and all(len(p) <= 512 for p in pieces)
    assert split_sentences("你好。今天天气很好，我们去公园吧！好的。", "ZH_MIX_EN") == ["你好. 今天天气很好, 我们去公园吧.", "好的."]
    assert "torchaudio" not in sys.modules or sys.modules["torchaudio"].__spec__ is not None
    with pytest.raises(FrontendError, match="empty text"):
        split_sentences(" ", "FR")


def test_missing_files_are_named(text_data, tmp_path, frontend):
    with pytest.raises(FrontendError, match="tokenizer files missing in .*bert-base-uncased"):
        Frontend(tmp_path, text_data / "nltk_data")("Hello", "EN")
    with pytest.raises(FrontendError, match="BERT model bert-base-uncased \\(EN\\) not found"):
        text_bert.BertFeatures(tmp_path).model("EN")
    # ZH_MIX_EN needs its (multilingual) tokenizer only for English words: pure Chinese works without it
    only_real = Frontend(text_data / "tokenizers", text_data / "nltk_data")
    assert only_real(CORPUS["ZH_MIX_EN"][0], "ZH_MIX_EN").phones == frontend(CORPUS["ZH_MIX_EN"][0], "ZH_MIX_EN").phones
    with pytest.raises(FrontendError, match="bert-base-multilingual-uncased tokenizer is not loaded"):
        only_real(CORPUS["ZH_MIX_EN"][1], "ZH_MIX_EN")
    frontend(CORPUS["ZH_MIX_EN"][1], "ZH_MIX_EN")  # each frontend binds its own tokenizer again


# ---- BERT --------------------------------------------------------------------------------------------------
BERT_LAYERS = 3  # real configs, depth cut to 3 for speed (layer -3 is then the first layer's output)


@pytest.fixture(scope="module")
def bert_models(text_data):
    folder = text_data / "tokenizers"
    return {language: text_bert.random_bert(folder / BERT_MODELS[language] / "config.json", seed=0,
                                            num_hidden_layers=BERT_LAYERS) for language in REAL_TOKENIZERS}


@pytest.mark.parametrize("language", REAL_TOKENIZERS)
def test_bert_matches_upstream(frontend, tokenizer_dir, bert_models, language):
    """(bert, ja_bert, phone, tone, language) == upstream melo.utils.get_text_for_tts_infer itself (same BERT
    model and tokenizer injected into upstream's caches); shapes, zero input and word2ph expansion per sentence."""
    from types import SimpleNamespace

    features = text_bert.BertFeatures(models=bert_models, tokenizer_dir=tokenizer_dir)
    tokenizer = frontend.tokenizer(language)
    model = bert_models[language]
    repo = BERT_MODELS[language]
    if language == "EN":
        upstream_bert = import_melo_module("english_bert")
        upstream_bert.tokenizer, upstream_bert.model = tokenizer, model
    else:  # japanese_bert / chinese_bert cache per hub id
        upstream_bert = import_melo_module("japanese_bert" if language == "JP" else "chinese_bert")
        upstream_bert.models[repo], upstream_bert.tokenizers[repo] = model, tokenizer
    melo_utils = import_upstream("melo.utils")
    hps = SimpleNamespace(data=SimpleNamespace(add_blank=True))
    for index, text in enumerate(CORPUS[language]):
        out = frontend(text, language)
        bert, ja_bert = features.for_tts(out)
        used, unused = (bert, ja_bert) if language == "ZH" else (ja_bert, bert)
        assert bert.shape == (1024, len(out)) and ja_bert.shape == (768, len(out))
        assert not unused.any()  # the other input is zeros, as upstream assigns them
        if index == 0:  # upstream end to end (full MLM forward) on the first sentence: identical
            expected = melo_utils.get_text_for_tts_infer(text, language, hps, "cpu")
            ours = (bert, ja_bert, out.phone_ids, out.tone_ids, out.language_ids)
            assert all(torch.equal(a, b) for a, b in zip(ours, expected))
            # layer -3 of the 3-layer model is the first layer's output: neither embeddings nor last layer
            with torch.no_grad():
                hidden = model(**tokenizer(out.norm_text, return_tensors="pt"), output_hidden_states=True).hidden_states
            assert torch.equal(used[:, 0], hidden[1][0, 0]) and not torch.equal(used[:, 0], hidden[-1][0, 0])
        # phone j carries the features of the token that owns it (word2ph): per token, a constant run
        runs = torch.split(used.T, list(out.word2ph))
        assert all(torch.equal(run, run[:1].expand_as(run)) for run in runs if len(run))
        assert len(runs) == len(tokenizer(out.norm_text)["input_ids"])


@pytest.mark.parametrize("language", list(STAND_IN_LOWER))
def test_bert_stand_in_languages(frontend, tokenizer_dir, language):
    """KR, ES, FR, ZH_MIX_EN (no real tokenizer or config here): a 768-wide random BERT over the stand-in
    vocabulary; (bert, ja_bert, ids) == upstream get_text_for_tts_infer with the same model/tokenizer injected
    (spanish_bert / french_bert globals, japanese_bert cache for KR, chinese_bert cache for ZH_MIX_EN)."""
    from types import SimpleNamespace

    from transformers import BertConfig, BertForMaskedLM

    tokenizer = frontend.tokenizer(language)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=3, num_attention_heads=12,
                        intermediate_size=256)
    torch.manual_seed(2)
    model = BertForMaskedLM(config).eval()
    repo = BERT_MODELS[language]
    if language in ("ES", "FR"):
        upstream_bert = import_melo_module("spanish_bert" if language == "ES" else "french_bert")
        upstream_bert.tokenizer, upstream_bert.model = tokenizer, model
    else:
        upstream_bert = import_melo_module("japanese_bert" if language == "KR" else "chinese_bert")
        upstream_bert.models[repo], upstream_bert.tokenizers[repo] = model, tokenizer
    features = text_bert.BertFeatures(models={language: model}, tokenizer_dir=tokenizer_dir)
    melo_utils = import_upstream("melo.utils")
    hps = SimpleNamespace(data=SimpleNamespace(add_blank=True))
    for text in CORPUS[language]:
        out = frontend(text, language)
        bert, ja_bert = features.for_tts(out)
        assert not bert.any() and ja_bert.shape == (768, len(out))
        expected = melo_utils.get_text_for_tts_infer(text, language, hps, "cpu")
        ours = (bert, ja_bert, out.phone_ids, out.tone_ids, out.language_ids)
        assert all(torch.equal(a, b) for a, b in zip(ours, expected))


def test_bert_loads_from_a_local_folder(frontend, text_data, tmp_path):
    """The user path: model + tokenizer from <dir>/<hub id>/ (what download --bert writes), never the hub.
    A narrow model (hidden 32) of the real vocabulary keeps the saved file small."""
    from transformers import BertConfig, BertForMaskedLM

    source = text_data / "tokenizers" / BERT_MODELS["EN"]
    config = BertConfig.from_json_file(str(source / "config.json"))
    config.update({"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2, "intermediate_size": 64})
    torch.manual_seed(1)
    model = BertForMaskedLM(config).eval()
    folder = tmp_path / BERT_MODELS["EN"]
    model.save_pretrained(folder)
    for name in ("vocab.txt", "tokenizer_config.json"):
        (folder / name).symlink_to(source / name)
    out = frontend(CORPUS["EN"][0], "EN")
    loaded = text_bert.BertFeatures(tmp_path).phone_features(out.norm_text, out.word2ph, "EN")
    in_memory = text_bert.BertFeatures(models={"EN": model}, tokenizer_dir=tmp_path).phone_features(
        out.norm_text, out.word2ph, "EN")
    assert loaded.shape == (32, len(out)) and torch.equal(loaded, in_memory)


def test_get_text_for_tts_infer_and_disable_bert(frontend, tokenizer_dir, bert_models):
    features = text_bert.BertFeatures(models=bert_models, tokenizer_dir=tokenizer_dir)
    bert, ja_bert, phone, tone, lang = text_bert.get_text_for_tts_infer("Hello world.", "EN", frontend, features)
    assert bert.shape[-1] == ja_bert.shape[-1] == phone.shape[0] == tone.shape[0] == lang.shape[0]
    zeros = text_bert.get_text_for_tts_infer("Hello world.", "EN", frontend, features, disable_bert=True)
    assert not zeros[0].any() and not zeros[1].any() and torch.equal(zeros[2], phone)
    with pytest.raises(FrontendError, match="expects \\(768"):
        wrong = text_bert.BertFeatures(models={"EN": bert_models["ZH"]}, tokenizer_dir=tokenizer_dir)
        wrong.for_tts(frontend("Hello world.", "EN"))
