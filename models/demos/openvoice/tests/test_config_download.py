# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Typed config parsing and the checkpoint download helper (offline here: it must fail clearly)."""

from __future__ import annotations

import json

import pytest

from models.demos.openvoice.demo import download
from models.demos.openvoice.utils.config import ConfigError, ModelConfig, load_config


def test_release_config_parses_to_release_values(shared_data):
    cfg = load_config(shared_data / "openvoice_v2" / "config.json")
    assert cfg.is_converter and cfg.version == "v2"
    assert cfg.data.spec_channels == 513 and cfg.data.sampling_rate == 22050
    assert cfg.model.zero_g and cfg.model.gin_channels == 256
    assert cfg.model.upsample_factor == cfg.data.hop_length == 256
    # The dataclass defaults are the release values.
    assert ModelConfig(zero_g=True) == cfg.model


def test_melotts_config_parses(shared_data):
    cfg = load_config(shared_data / "golden" / "tts_small_en" / "config.json")
    assert not cfg.is_converter
    assert cfg.n_symbols == 219 and cfg.num_tones == 16 and cfg.num_languages == 8
    assert cfg.data.spk2id["EN-US"] == 0


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"model": {}}, "'data' and a 'model'"),
        ({"data": {}, "model": {"resblock": "3"}}, "resblock"),
        ({"data": {}, "model": {"upsample_rates": [8, 8], "upsample_kernel_sizes": [16]}}, "differ in length"),
    ],
)
def test_bad_configs_are_named(tmp_path, raw, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_not_json(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(path)


@pytest.fixture
def hub_offline(monkeypatch):
    """Offline hub. The env var alone is read when huggingface_hub is first imported: once another test (e.g.
    transformers in test_text_frontend) imported it, only the module constant works (else a ~45 s network wait)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def test_download_fails_clearly_offline(tmp_path, hub_offline):
    with pytest.raises(download.DownloadError, match="could not download myshell-ai/OpenVoiceV2/converter/checkpoint.pth"):
        download.download_converter(tmp_path)
    assert download.main(["--checkpoint-dir", str(tmp_path)]) == 1


def test_sha256_mismatch_is_refused(tmp_path):
    fake = tmp_path / "converter" / "checkpoint.pth"
    fake.parent.mkdir()
    fake.write_bytes(b"not the official checkpoint")
    with pytest.raises(download.DownloadError, match="does not match the official"):
        download.download_converter(tmp_path)
    download.verify_sha256(fake, download.sha256_of(fake))


def test_melotts_repos_as_upstream():
    # melo/download_utils.py LANG_TO_HF_REPO_ID
    assert download.MELOTTS_REPOS["EN_NEWEST"] == "myshell-ai/MeloTTS-English-v3"
    assert download.MELOTTS_REPOS["ZH"] == "myshell-ai/MeloTTS-Chinese" and download.MELOTTS_REPOS["KR"] == "myshell-ai/MeloTTS-Korean"


def test_bert_download_fails_clearly_offline(tmp_path, hub_offline):
    with pytest.raises(download.DownloadError, match="could not download kykim/bert-kor-base/config.json"):
        download.download_bert("KR", tmp_path)
    # the model language ZH uses the ZH_MIX_EN frontend, whose BERT is the multilingual one
    with pytest.raises(download.DownloadError, match="bert-base-multilingual-uncased/config.json"):
        download.download_bert("ZH", tmp_path)
    with pytest.raises(download.DownloadError, match="unknown language 'DE'"):
        download.download_bert("DE", tmp_path)


def test_complete_bert_folder_needs_no_hub(tmp_path, hub_offline):
    from models.demos.openvoice.text.frontend import checkpoint_text_dirs

    folder = checkpoint_text_dirs(tmp_path)[0] / "bert-base-uncased"  # where the frontend looks
    folder.mkdir(parents=True)
    for name in ("config.json", "vocab.txt", "model.safetensors"):
        (folder / name).write_text("x")
    assert download.download_bert("EN", tmp_path) == folder
