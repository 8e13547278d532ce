# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""MeloTTS text frontend: upstream's own g2p code (`melo.text`, PyPI `melotts-krqnf==0.1.2`, byte-identical
to myshell-ai/MeloTTS@209145371c), run offline, with every snag of importing it isolated here.

What upstream does per sentence (`melo.utils.get_text_for_tts_infer`, called by `melo.api.TTS.tts_to_file`):

    text --(EN, ZH_MIX_EN: split camelCase "aB" -> "a B", api.py)--> text_normalize --> g2p
         --> phones, tones, word2ph --> ids (symbol table: 219 symbols, 16 tones, 8 languages; tones shifted by
         the language's tone start) --> add_blank (a 0 between ids and at both ends: N -> 2N+1;
         word2ph[i] *= 2, word2ph[0] += 1, so sum(word2ph) == len(phones) still holds)

`word2ph[i]` is the number of phones of the i-th BERT token ([CLS] and [SEP] included, they own the padding
"_" phones), which is how `text/bert.py` expands token features to phones.

Languages: `Frontend` takes upstream's text language (get_text_for_tts_infer's `language_str`: EN, ES, FR,
ZH, ZH_MIX_EN, JP, KR). A MeloTTS *model* language selects one as `melo.api.TTS` does
(`model_text_language`): the release ZH model runs the ZH_MIX_EN frontend (Chinese g2p, English words through
the EN g2p, BERT = bert-base-multilingual-uncased as `ja_bert`, `bert` zeros), not the ZH one (chinese-roberta
as the 1024-d `bert`). Callers holding a model language must map it first.
EN accents (EN-US, EN-BR, EN_INDIA, EN-AU, EN-Default) are speakers of one EN model: same frontend.

Snags of `melo.text`, and what this module does about each (nothing here ever downloads):
- `melo/__init__.py` is empty in 0.1.2 (it does not import the TTS API); `melo.text.cleaner` imports all seven
  language modules, so it is never imported: each language module is imported on first use.
- Every language module builds a Hugging Face tokenizer from a hub id at import time (`english` also imports
  `japanese` for one helper). During those imports `AutoTokenizer.from_pretrained` returns a placeholder that
  fails with a clear message if used; `Frontend` then installs the real tokenizer, loaded from a local folder
  (`<tokenizer_dir>/<hub id>/`), for the language it runs.
- `japanese` constructs `MeCab.Tagger()` at import: needs mecab-python3 + unidic-lite (pinned).
- `g2p_en` (used by `english` for words missing from MeloTTS's own CMU dictionary) calls `nltk.download` at
  import when NLTK data is missing, and `nltk.pos_tag` per word. NLTK data is looked up only in the given
  `nltk_dir` (cmudict is required: a clear error if absent); `nltk.download` is blocked during the import.
  The POS-tagger data is not available here: without it every word is tagged "NN" (logged once). This matters
  only for the 18 g2p_en homographs absent from MeloTTS's dictionary (`FALLBACK_HOMOGRAPHS`, all of the
  "-s" verb/noun kind, e.g. "refits", "prefixes"): they always get their noun reading.
- `g2pkk` (KR) runs `pip install python-mecab-ko` at construction if `mecab` is not importable: we check first
  and raise instead (python-mecab-ko is pinned).
- `melo.split_utils` (upstream's sentence splitter) and `melo.utils` import torchaudio, which the text path
  never uses and which is not a dependency here: a placeholder module stands in during those imports only.
- pykakasi (JP) and cn2an (ZH) import `pkg_resources`, gone from setuptools >= 81 (the lock has 84): when it
  is missing a minimal stand-in (`resource_filename` / `resource_stream` over `importlib.resources`) is
  registered before they load.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import re
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from loguru import logger

from models.demos.openvoice.text import pkg_resources_stand_in

# ---- languages ---------------------------------------------------------------------------------------------
# model language -> text language, as melo.api.TTS sets self.language
MODEL_TEXT_LANGUAGE = {"EN": "EN", "EN_V2": "EN", "EN_NEWEST": "EN", "ES": "ES", "FR": "FR", "ZH": "ZH_MIX_EN", "JP": "JP",
                       "KR": "KR"}
TEXT_LANGUAGES = ("EN", "ES", "FR", "ZH", "ZH_MIX_EN", "JP", "KR")
# text language -> melo.text module
_MODULES = {"EN": "english", "ES": "spanish", "FR": "french", "ZH": "chinese", "ZH_MIX_EN": "chinese_mix",
            "JP": "japanese", "KR": "korean"}
# Speakers (spk2id keys) of the release checkpoints; the EN ones are the accents.
SPEAKERS = {"EN": ("EN-US", "EN-BR", "EN_INDIA", "EN-AU", "EN-Default"), "ES": ("ES",), "FR": ("FR",),
            "ZH": ("ZH",), "JP": ("JP",), "KR": ("KR",), "EN_NEWEST": ("EN-Newest",)}
# Hub id of the BERT (tokenizer and model) each text language uses, as in melo/text/*.py and *_bert.py.
BERT_MODELS = {"EN": "bert-base-uncased", "ES": "dccuchile/bert-base-spanish-wwm-uncased",
               "FR": "dbmdz/bert-base-french-europeana-cased", "ZH": "hfl/chinese-roberta-wwm-ext-large",
               "ZH_MIX_EN": "bert-base-multilingual-uncased", "JP": "tohoku-nlp/bert-base-japanese-v3",
               "KR": "kykim/bert-kor-base"}
# The tokenizer each language's g2p calls (ZH: none; ZH_MIX_EN: only for English words).
G2P_TOKENIZERS = {language: repo for language, repo in BERT_MODELS.items() if language != "ZH"}
# A sentence may have at most this many BERT tokens ([CLS] and [SEP] included): the position-embedding table
# of every MeloTTS BERT has 512 rows (config max_position_embeddings), so upstream fails beyond it.
# Split longer text into sentences first (upstream's split_sentence makes pieces of <= 512 characters).
MAX_BERT_TOKENS = 512
# g2p_en homographs missing from MeloTTS's CMU dictionary: the only words the POS tagger can change.
FALLBACK_HOMOGRAPHS = ("confederates", "counterbalances", "ejaculates", "indents", "inebriate", "inebriates",
                       "inlays", "insets", "interdicts", "introverts", "misprints", "prefixes", "quadruples",
                       "refits", "rehashes", "retakes", "rethinks", "triplicates")


class FrontendError(ValueError):
    """The text, the language or a local frontend file is unusable; the message says which and why."""


@dataclass(frozen=True)
class FrontendOutput:
    """One sentence through the frontend (after add_blank when `add_blank`), as get_text_for_tts_infer builds it.

    phones: MeloTTS symbols (before add_blank, for reading); the id tensors and word2ph include the blanks.
    """

    text_language: str
    norm_text: str
    phones: tuple[str, ...]
    phone_ids: torch.Tensor  # int64 [N]
    tone_ids: torch.Tensor  # int64 [N], already offset by the language's tone start
    language_ids: torch.Tensor  # int64 [N]
    word2ph: tuple[int, ...]  # phones per BERT token; sum == N

    def __len__(self) -> int:
        return int(self.phone_ids.numel())


def model_text_language(model_language: str) -> str:
    """The text language the release MeloTTS model of `model_language` runs: ZH -> ZH_MIX_EN, as melo.api.TTS."""
    if model_language not in MODEL_TEXT_LANGUAGE:
        raise FrontendError(f"unknown language {model_language!r}; choose one of {sorted(MODEL_TEXT_LANGUAGE)}")
    return MODEL_TEXT_LANGUAGE[model_language]


def checkpoint_text_dirs(checkpoint_dir: Path) -> tuple[Path, Path]:
    """(BERT + tokenizer folder, NLTK data folder) under a checkpoint folder, as demo/download.py writes them
    (--bert, --nltk): Frontend(*checkpoint_text_dirs(d)) and BertFeatures(checkpoint_text_dirs(d)[0])."""
    return Path(checkpoint_dir) / "bert", Path(checkpoint_dir) / "nltk_data"


def check_text_language(text_lang: str) -> str:
    if text_lang not in TEXT_LANGUAGES:
        raise FrontendError(f"unknown text language {text_lang!r}; choose one of {list(TEXT_LANGUAGES)} "
                            "(model languages map to these through model_text_language)")
    return text_lang


def check_speaker(language: str, speaker: str | None) -> str:
    """The release speaker (EN: accent) name for `language`; None picks the first (EN-US for EN)."""
    if language not in SPEAKERS:
        raise FrontendError(f"unknown language {language!r}; choose one of {sorted(SPEAKERS)}")
    if speaker is None:
        return SPEAKERS[language][0]
    if speaker not in SPEAKERS[language]:
        raise FrontendError(f"unknown speaker/accent {speaker!r} for {language}; choose one of {list(SPEAKERS[language])}")
    return speaker


# ---- import isolation --------------------------------------------------------------------------------------
_IMPORT_LOCK = threading.RLock()


class _UnboundTokenizer:
    """Stands in for a tokenizer that a melo module builds at import time, until `Frontend` installs one."""

    def __init__(self, repo_id: str) -> None:
        self.repo_id = repo_id

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # keep hasattr / copy / repr machinery working
            raise AttributeError(name)
        raise FrontendError(f"the {self.repo_id} tokenizer is not loaded: pass a tokenizer_dir holding "
                            f"{self.repo_id}/ (python -m models.demos.openvoice.demo.download --bert LANGUAGE)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__getattr__("tokenize")


@contextlib.contextmanager
def _deferred_hub_tokenizers() -> Iterator[None]:
    from transformers import AutoTokenizer

    original = AutoTokenizer.__dict__["from_pretrained"]
    AutoTokenizer.from_pretrained = classmethod(lambda cls, repo_id, *a, **k: _UnboundTokenizer(str(repo_id)))
    try:
        yield
    finally:
        AutoTokenizer.from_pretrained = original


def _configure_nltk(nltk_dir: Path | None) -> None:
    import nltk

    if nltk_dir is not None and str(nltk_dir) not in nltk.data.path:
        nltk.data.path.insert(0, str(nltk_dir))


@contextlib.contextmanager
def _torchaudio_placeholder() -> Iterator[None]:
    """melo.split_utils and melo.utils import torchaudio and never use it on the text path."""
    placeholder = None
    if importlib.util.find_spec("torchaudio") is None:
        placeholder = sys.modules["torchaudio"] = types.ModuleType("torchaudio")
    try:
        yield
    finally:
        if placeholder is not None and sys.modules.get("torchaudio") is placeholder:
            del sys.modules["torchaudio"]


@contextlib.contextmanager
def _no_nltk_download() -> Iterator[None]:
    import nltk

    def refuse(package: str = "", *args: Any, **kwargs: Any) -> bool:
        logger.debug(f"blocked nltk.download({package!r}) during the MeloTTS frontend import")
        return False

    original = nltk.download
    nltk.download = refuse
    try:
        yield
    finally:
        nltk.download = original


_TAGGER_WARNED = False


def _noun_tagger(tokens: list[str], *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
    global _TAGGER_WARNED
    if not _TAGGER_WARNED:
        _TAGGER_WARNED = True
        logger.warning("NLTK POS-tagger data not found: g2p_en tags every word NN; of its homographs only "
                       f"{', '.join(FALLBACK_HOMOGRAPHS)} are affected (noun reading)")
    return [(token, "NN") for token in tokens]


def _install_pos_tag_fallback() -> None:
    import nltk

    g2p_module = sys.modules["g2p_en.g2p"]
    for resource in ("taggers/averaged_perceptron_tagger_eng/", "taggers/averaged_perceptron_tagger_eng.zip"):
        try:
            nltk.data.find(resource)
            g2p_module.pos_tag = nltk.pos_tag
            return
        except LookupError:
            continue
    g2p_module.pos_tag = _noun_tagger


def import_melo_text(text_lang: str, nltk_dir: Path | None = None) -> types.ModuleType:
    """Import `melo.text.<module>` for a text language without any download or hub access."""
    module = import_melo_module(_MODULES[text_lang], nltk_dir)
    if text_lang == "KR" and importlib.util.find_spec("mecab") is None:
        raise FrontendError("Korean g2p (g2pkk) needs python-mecab-ko; without it g2pkk would pip-install it at "
                            "run time. Install python-mecab-ko (pinned in requirements-text.in).")
    return module


def import_melo_module(module_name: str, nltk_dir: Path | None = None) -> types.ModuleType:
    """Import `melo.text.<module_name>` (a g2p or *_bert module) with the import-time snags contained."""
    return import_upstream(f"melo.text.{module_name}", nltk_dir)


_UPSTREAM_BERT_MODULES = ("chinese_bert", "english_bert", "japanese_bert", "chinese_mix", "spanish_bert", "french_bert",
                          "korean")


def import_upstream(name: str, nltk_dir: Path | None = None) -> types.ModuleType:
    """Import a `melo` module (melo.text.*, melo.split_utils, melo.utils) offline, snags contained."""
    with _IMPORT_LOCK:
        if name in sys.modules:
            return sys.modules[name]
        if importlib.util.find_spec("melo") is None:
            raise FrontendError("MeloTTS's text code is not installed: pip install --no-deps melotts-krqnf==0.1.2 "
                                "(see requirements-text.in)")
        pkg_resources_stand_in.install()
        _configure_nltk(nltk_dir)
        with _deferred_hub_tokenizers(), _no_nltk_download(), _torchaudio_placeholder():
            try:
                importlib.import_module("melo.text.japanese")  # english/chinese_mix import it; MeCab.Tagger() at import
                module = importlib.import_module(name)
                if name == "melo.utils":  # its get_bert imports every *_bert module at call time (hub tokenizers)
                    for bert_module in _UPSTREAM_BERT_MODULES:
                        importlib.import_module(f"melo.text.{bert_module}")
            except LookupError as error:  # g2p_en / g2pkk read NLTK's cmudict at import
                import nltk

                raise FrontendError(f"NLTK's cmudict corpus is missing (looked in {nltk.data.path[:3]}...): pass nltk_dir "
                                    "holding corpora/cmudict.zip (python -m models.demos.openvoice.demo.download "
                                    "--nltk)") from error
        if "g2p_en.g2p" in sys.modules:
            _install_pos_tag_fallback()
        return module


def split_sentences(text: str, text_lang: str) -> list[str]:
    """Upstream's sentence split (`melo.split_utils.split_sentence`, language_str = the text language, as
    melo.api.TTS passes it): EN/ES/FR by txtsplit into pieces of <= 512 characters, the others (ZH_MIX_EN, JP,
    KR) after each punctuation mark, merging pieces of <= 10 characters."""
    check_text_language(text_lang)
    if not isinstance(text, str) or not text.strip():
        raise FrontendError("empty text: nothing to say")
    splitter = import_upstream("melo.split_utils")
    return splitter.split_sentence(text, language_str=text_lang)


# ---- tokenizers --------------------------------------------------------------------------------------------
_TOKENIZERS: dict[Path, Any] = {}


def load_tokenizer(folder: Path) -> Any:
    """A local tokenizer folder (vocab + tokenizer_config.json), loaded once per process."""
    folder = Path(folder)
    with _IMPORT_LOCK:
        if folder not in _TOKENIZERS:
            if not any((folder / name).is_file() for name in ("tokenizer_config.json", "tokenizer.json", "vocab.txt")):
                raise FrontendError(f"tokenizer files missing in {folder} (tokenizer_config.json / vocab): fetch them with "
                                    "python -m models.demos.openvoice.demo.download --bert LANGUAGE")
            from transformers import AutoTokenizer

            _TOKENIZERS[folder] = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        return _TOKENIZERS[folder]


def _module_tokenizer_owner(text_lang: str) -> list[types.ModuleType]:
    """The melo modules whose global `tokenizer` the g2p of `text_lang` reads."""
    return [sys.modules[f"melo.text.{_MODULES[text_lang]}"]]


# ---- the frontend ------------------------------------------------------------------------------------------
_CAMEL = re.compile(r"([a-z])([A-Z])")


class Frontend:
    """get_text_for_tts_infer's text half: text -> normalised text, phone/tone/language ids, word2ph.

    tokenizer_dir: folder holding `<hub id>/` tokenizer folders (e.g. tokenizer_dir/bert-base-uncased/).
    nltk_dir: NLTK data folder with corpora/cmudict.zip (EN, ZH_MIX_EN and KR g2p read it).
    add_blank: the config's data.add_blank (true in every release config).
    """

    def __init__(self, tokenizer_dir: Path | None, nltk_dir: Path | None = None, add_blank: bool = True) -> None:
        self.tokenizer_dir = Path(tokenizer_dir) if tokenizer_dir is not None else None
        self.nltk_dir = Path(nltk_dir) if nltk_dir is not None else None
        self.add_blank = add_blank
        self._symbols = self._symbol_tables()

    @staticmethod
    def _symbol_tables() -> Any:
        if importlib.util.find_spec("melo") is None:
            raise FrontendError("MeloTTS's text code is not installed: pip install --no-deps melotts-krqnf==0.1.2")
        return importlib.import_module("melo.text.symbols")

    @property
    def symbols(self) -> list[str]:
        return list(self._symbols.symbols)

    def tokenizer(self, text_lang: str) -> Any:
        """The tokenizer of `text_lang`'s BERT, from `tokenizer_dir/<hub id>`."""
        repo = BERT_MODELS[check_text_language(text_lang)]
        if self.tokenizer_dir is None:
            raise FrontendError(f"no tokenizer_dir given: the {repo} tokenizer is needed")
        return load_tokenizer(self.tokenizer_dir / repo)

    def _has_tokenizer(self, text_lang: str) -> bool:
        return self.tokenizer_dir is not None and (self.tokenizer_dir / BERT_MODELS[text_lang]).is_dir()

    def _bind(self, text_lang: str) -> types.ModuleType:
        """Import the language's melo module and point its global `tokenizer` at this frontend's one (caller
        holds _IMPORT_LOCK: the global is process-wide, so bind and g2p run under the lock)."""
        module = import_melo_text(text_lang, self.nltk_dir)
        if text_lang in G2P_TOKENIZERS:
            repo = G2P_TOKENIZERS[text_lang]
            if text_lang == "ZH_MIX_EN" and not self._has_tokenizer(text_lang):
                # only English words use it: the placeholder names the missing folder if one comes
                tokenizer: Any = _UnboundTokenizer(repo)
            else:
                tokenizer = self.tokenizer(text_lang)
            for owner in _module_tokenizer_owner(text_lang):
                owner.tokenizer = tokenizer
        return module

    def normalize(self, text: str, text_lang: str) -> tuple[str, str]:
        """(text language, normalised text); checks the language and that the text is not empty."""
        check_text_language(text_lang)
        if not isinstance(text, str) or not text.strip():
            raise FrontendError("empty text: nothing to say")
        if text_lang in ("EN", "ZH_MIX_EN"):
            text = _CAMEL.sub(r"\1 \2", text)  # melo.api.TTS.tts_to_file does this before the frontend
        with _IMPORT_LOCK:
            return text_lang, self._bind(text_lang).text_normalize(text)

    def __call__(self, text: str, text_lang: str) -> FrontendOutput:
        """One sentence in text language `text_lang` (upstream's language_str; see model_text_language)."""
        with _IMPORT_LOCK:
            text_lang, norm_text = self.normalize(text, text_lang)
            try:
                phones, tones, word2ph = self._bind(text_lang).g2p(norm_text)
            except AssertionError as error:  # upstream's own consistency asserts (e.g. a symbol outside the table)
                raise FrontendError(f"{text_lang} g2p rejected {norm_text!r}: {error}") from error
        silent = set(self._symbols.punctuation) | {"_", "UNK", "SP"}
        if not any(p not in silent for p in phones):
            raise FrontendError(f"nothing pronounceable in {text!r} for {text_lang} (normalised: {norm_text!r})")
        if len(word2ph) > MAX_BERT_TOKENS:
            raise FrontendError(f"sentence too long: {len(word2ph)} BERT tokens > {MAX_BERT_TOKENS} (the BERT position "
                                "table's size); split the text into sentences first")
        if sum(word2ph) != len(phones) or len(tones) != len(phones):
            raise FrontendError(f"{text_lang} g2p is inconsistent on {norm_text!r}: {len(phones)} phones, "
                                f"{len(tones)} tones, sum(word2ph) {sum(word2ph)}")
        ids, tone_ids, lang_ids = self._to_ids(phones, tones, text_lang)
        word2ph = list(word2ph)
        if self.add_blank:
            ids, tone_ids, lang_ids = (_intersperse(seq) for seq in (ids, tone_ids, lang_ids))
            word2ph = [2 * n for n in word2ph]
            word2ph[0] += 1
        return FrontendOutput(text_lang, norm_text, tuple(phones), torch.LongTensor(ids), torch.LongTensor(tone_ids),
                              torch.LongTensor(lang_ids), tuple(word2ph))

    def _to_ids(self, phones: list[str], tones: list[int], text_lang: str) -> tuple[list[int], list[int], list[int]]:
        # melo.text.cleaned_text_to_sequence, with an error naming the symbol instead of a KeyError
        table = {s: i for i, s in enumerate(self._symbols.symbols)}
        unknown = sorted({p for p in phones if p not in table})
        if unknown:
            raise FrontendError(f"{text_lang} g2p produced symbols outside MeloTTS's table: {unknown}")
        start = self._symbols.language_tone_start_map[text_lang]
        lang_id = self._symbols.language_id_map[text_lang]
        return [table[p] for p in phones], [t + start for t in tones], [lang_id] * len(phones)


def _intersperse(seq: list[int], item: int = 0) -> list[int]:
    # melo.commons.intersperse
    result = [item] * (len(seq) * 2 + 1)
    result[1::2] = seq
    return result
