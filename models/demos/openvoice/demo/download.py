# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Fetch the official checkpoints from the Hugging Face hub, verified by sha256.

Layout written under `--checkpoint-dir` (default `checkpoints_v2/`, as upstream):

    checkpoints_v2/converter/config.json, checkpoint.pth     (myshell-ai/OpenVoiceV2)
    checkpoints_v2/base_speakers/ses/<speaker>.pth           (myshell-ai/OpenVoiceV2)
    checkpoints_v2/melotts/<language>/config.json, checkpoint.pth   (myshell-ai/MeloTTS-<Language>, as melo's
                                                                   LANG_TO_HF_REPO_ID; no published sha256)
    checkpoints_v2/bert/<hub id>/config.json, weights, tokenizer files   (the text frontend's BERTs: --bert)
    checkpoints_v2/nltk_data/corpora/cmudict.zip, taggers/...          (g2p_en's NLTK data: --nltk)

The text frontend reads tokenizers from checkpoints_v2/bert and NLTK data from checkpoints_v2/nltk_data; it never
downloads by itself.

Usage: `python -m models.demos.openvoice.demo.download [--checkpoint-dir DIR] [--melotts EN] [--bert EN] [--nltk]`
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

from loguru import logger

CONVERTER_REPO = "myshell-ai/OpenVoiceV2"
# sha256 of the official converter/checkpoint.pth (131,320,490 bytes).
CONVERTER_SHA256 = "9652c27e92b6b2a91632590ac9962ef7ae2b712e5c5b7f4c34ec55ee2b37ab9e"
BASE_SPEAKERS = ("en-au", "en-br", "en-default", "en-india", "en-newest", "en-us", "es", "fr", "jp", "kr", "zh")
MELOTTS_REPOS = {"EN": "myshell-ai/MeloTTS-English", "EN_V2": "myshell-ai/MeloTTS-English-v2", "ES": "myshell-ai/MeloTTS-Spanish",
                 "FR": "myshell-ai/MeloTTS-French", "ZH": "myshell-ai/MeloTTS-Chinese", "JP": "myshell-ai/MeloTTS-Japanese",
                 "KR": "myshell-ai/MeloTTS-Korean", "EN_NEWEST": "myshell-ai/MeloTTS-English-v3"}
# Files of a BERT folder: required, then optional tokenizer files (repos differ), then weights (first found).
BERT_REQUIRED = ("config.json", "vocab.txt")
BERT_OPTIONAL = ("tokenizer_config.json", "tokenizer.json", "special_tokens_map.json", "added_tokens.json")
BERT_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
# NLTK packages g2p_en reads: the CMU dictionary and the POS tagger (both names: g2p_en checks the old one,
# nltk >= 3.9 pos_tag loads the _eng one).
NLTK_PACKAGES = ("cmudict", "averaged_perceptron_tagger", "averaged_perceptron_tagger_eng")
DEFAULT_DIR = Path("checkpoints_v2")


class DownloadError(RuntimeError):
    """A checkpoint could not be fetched or failed verification."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> None:
    """Raise DownloadError when `path` does not hash to `expected`."""
    actual = sha256_of(path)
    if actual != expected:
        raise DownloadError(f"{path}: sha256 {actual} does not match the official {expected}; delete it and download again")


def _fetch(repo_id: str, filename: str, destination: Path, optional: bool = False) -> Path | None:
    """Copy one hub file to `destination`; an `optional` file the repo does not have gives None."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        cached = hf_hub_download(repo_id=repo_id, filename=filename)
    except (HfHubHTTPError, EntryNotFoundError, OSError) as error:
        # LocalEntryNotFoundError (offline / unreachable) is itself an EntryNotFoundError: test it first
        if isinstance(error, EntryNotFoundError) and not isinstance(error, LocalEntryNotFoundError):
            if optional:
                return None
            raise DownloadError(f"{repo_id} has no file {filename} ({error})") from error
        raise DownloadError(
            f"could not download {repo_id}/{filename} ({type(error).__name__}: {error}). "
            f"The Hugging Face hub must be reachable; otherwise copy the file to {destination} by hand."
        ) from error
    shutil.copyfile(cached, destination)
    return destination


def download_converter(checkpoint_dir: Path = DEFAULT_DIR) -> Path:
    """Fetch converter config + checkpoint (sha256-checked) and the base-speaker embeddings."""
    converter = checkpoint_dir / "converter"
    checkpoint = converter / "checkpoint.pth"
    if checkpoint.is_file():
        verify_sha256(checkpoint, CONVERTER_SHA256)
        logger.info(f"{checkpoint} present and verified")
    else:
        _fetch(CONVERTER_REPO, "converter/checkpoint.pth", checkpoint)
        verify_sha256(checkpoint, CONVERTER_SHA256)
    if not (converter / "config.json").is_file():
        _fetch(CONVERTER_REPO, "converter/config.json", converter / "config.json")
    for speaker in BASE_SPEAKERS:
        target = checkpoint_dir / "base_speakers" / "ses" / f"{speaker}.pth"
        if not target.is_file():
            _fetch(CONVERTER_REPO, f"base_speakers/ses/{speaker}.pth", target)
    return converter


def download_melotts(language: str, checkpoint_dir: Path = DEFAULT_DIR) -> Path:
    """Fetch one MeloTTS language model (config.json + checkpoint.pth)."""
    if language not in MELOTTS_REPOS:
        raise DownloadError(f"unknown MeloTTS language {language!r}; choose one of {sorted(MELOTTS_REPOS)}")
    folder = checkpoint_dir / "melotts" / language
    for filename in ("config.json", "checkpoint.pth"):
        if not (folder / filename).is_file():
            _fetch(MELOTTS_REPOS[language], filename, folder / filename)
    return folder


def download_bert(text_language: str, checkpoint_dir: Path = DEFAULT_DIR) -> Path:
    """Fetch the BERT (config, tokenizer files, weights) the MeloTTS frontend uses for a text language."""
    from models.demos.openvoice.text.frontend import BERT_MODELS, MODEL_TEXT_LANGUAGE

    language = MODEL_TEXT_LANGUAGE.get(text_language, text_language)
    if language not in BERT_MODELS:
        raise DownloadError(f"unknown language {text_language!r}; choose one of {sorted(BERT_MODELS)}")
    repo = BERT_MODELS[language]
    folder = checkpoint_dir / "bert" / repo
    if all((folder / name).is_file() for name in BERT_REQUIRED) and any((folder / name).is_file() for name in BERT_WEIGHTS):
        return folder  # complete: no hub access
    for filename in BERT_REQUIRED:
        if not (folder / filename).is_file():
            _fetch(repo, filename, folder / filename)
    for filename in BERT_OPTIONAL:
        if not (folder / filename).is_file():
            _fetch(repo, filename, folder / filename, optional=True)
    if not any((folder / name).is_file() for name in BERT_WEIGHTS):
        if _fetch(repo, BERT_WEIGHTS[0], folder / BERT_WEIGHTS[0], optional=True) is None:
            _fetch(repo, BERT_WEIGHTS[1], folder / BERT_WEIGHTS[1])
    return folder


def download_nltk(checkpoint_dir: Path = DEFAULT_DIR) -> Path:
    """Fetch g2p_en's NLTK data (cmudict, POS tagger) into checkpoint_dir/nltk_data with NLTK's downloader."""
    import nltk

    target = checkpoint_dir / "nltk_data"
    for package in NLTK_PACKAGES:
        try:
            ok = nltk.download(package, download_dir=str(target), quiet=True, raise_on_error=True)
        except Exception as error:  # nltk raises bare ValueError / URLError subclasses
            raise DownloadError(f"could not download NLTK package {package} ({type(error).__name__}: {error})") from error
        if not ok:
            raise DownloadError(f"could not download NLTK package {package}; copy it to {target} by hand")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--melotts", action="append", default=[], help="MeloTTS language(s) to fetch, e.g. EN")
    parser.add_argument("--bert", action="append", default=[], help="text-frontend BERT(s) to fetch, e.g. EN, ZH")
    parser.add_argument("--nltk", action="store_true", help="fetch g2p_en's NLTK data (cmudict, POS tagger)")
    args = parser.parse_args(argv)
    try:
        download_converter(args.checkpoint_dir)
        for language in args.melotts:
            download_melotts(language, args.checkpoint_dir)
        for language in args.bert:
            download_bert(language, args.checkpoint_dir)
        if args.nltk:
            download_nltk(args.checkpoint_dir)
    except DownloadError as error:
        logger.error(str(error))
        return 1
    logger.info(f"checkpoints ready under {args.checkpoint_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
