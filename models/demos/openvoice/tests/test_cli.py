# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""The demo CLI on the reference backend: clone on real clips with the real reference-encoder
weights, convert with a converter checkpoint in the official layout, clear errors otherwise."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile
import torch

from models.demos.openvoice.utils.audio import load_audio
from models.demos.openvoice.demo import cli
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter


@pytest.fixture
def real_weights(shared_data):
    v2 = shared_data / "openvoice_v2"
    return ["--config", str(v2 / "config.json"), "--ref-enc", str(v2 / "ref_enc" / "ref_enc.pt"), "--backend", "reference"]


def test_clone_equals_golden_embedding(shared_data, real_weights, tmp_path):
    """Audio already at 22.05 kHz goes through the CLI untouched: the embedding is the golden one."""
    case = torch.load(shared_data / "golden" / "spec_se_real" / "case.pt", weights_only=False)
    for name, waveform in case["inputs"]["wav_22k"].items():
        clip = tmp_path / f"{name}.wav"
        soundfile.write(clip, np.asarray(waveform, dtype=np.float32).reshape(-1), 22050, subtype="FLOAT")
        out = tmp_path / f"{name}_se.pt"
        assert cli.main(["clone", str(clip), "--out", str(out), "--checkpoint-dir", str(tmp_path)] + real_weights) == 0
        se = torch.load(out, weights_only=True)
        assert (se - case["outputs"]["se"][name]).abs().max() < 1e-4, name


def test_clone_every_real_clip(shared_data, real_weights, tmp_path, capsys):
    """44.1 kHz stereo flac, 44.1 kHz and 16 kHz wav: all resampled and cloned, averaged into one embedding."""
    clips = sorted(str(p) for p in (shared_data / "audio").iterdir())
    out = tmp_path / "se.pt"
    assert cli.main(["clone", *clips, "--out", str(out), "--checkpoint-dir", str(tmp_path)] + real_weights) == 0
    printed = capsys.readouterr().out
    assert "RTF" in printed and "backend reference" in printed
    assert torch.load(out, weights_only=True).shape == (1, 256, 1)


def test_clone_bad_input_is_a_clear_error(shared_data, real_weights, tmp_path):
    silent = tmp_path / "silent.wav"
    soundfile.write(silent, np.zeros(22050, dtype=np.float32), 22050)
    assert cli.main(["clone", str(silent), "--checkpoint-dir", str(tmp_path)] + real_weights) == 2


def test_missing_checkpoint_says_how_to_download(tmp_path, caplog_loguru):
    code = cli.main(["convert", "x.wav", "--reference", "y.wav", "--checkpoint-dir", str(tmp_path / "none"), "--backend", "reference"])
    assert code == 2
    assert "models.demos.openvoice.demo.download" in caplog_loguru.text


def test_convert_with_official_layout_checkpoint(shared_data, tmp_path):
    """A converter checkpoint laid out like the official download converts a real clip.

    The golden small model stands in for the official weights (not available here);
    tau=0 makes the conversion deterministic, so the written audio equals the reference's.
    """
    converter_dir = tmp_path / "ckpt" / "converter"
    converter_dir.mkdir(parents=True)
    golden = shared_data / "golden" / "vc_small_tau0"
    shutil.copy(golden / "config.json", converter_dir / "config.json")
    shutil.copy(golden / "checkpoint.pth", converter_dir / "checkpoint.pth")
    source = shared_data / "audio" / "hello_world.wav"
    out = tmp_path / "out.wav"
    args = ["convert", str(source), "--reference", str(shared_data / "audio" / "counting.wav"), "--tau", "0",
            "--checkpoint-dir", str(tmp_path / "ckpt"), "--backend", "reference", "--out", str(out)]
    assert cli.main(args) == 0

    model = ToneColorConverter.load(converter_dir / "config.json", converter_dir / "checkpoint.pth")
    wave_src = load_audio(source, 22050)
    spec_src = spectrogram(torch.from_numpy(wave_src).unsqueeze(0))
    spec_ref = spectrogram(torch.from_numpy(load_audio(shared_data / "audio" / "counting.wav", 22050)).unsqueeze(0))
    with torch.no_grad():
        expected = model.voice_conversion(
            spec_src, torch.tensor([spec_src.shape[-1]]), model.extract_se(spec_src), model.extract_se(spec_ref), tau=0.0
        ).audio[0, 0].numpy()
    written, rate = soundfile.read(out, dtype="float32")
    assert rate == 22050 and written.shape == expected.shape == (spec_src.shape[-1] * 256,)
    np.testing.assert_allclose(written, expected, atol=1.0 / 32768 + 1e-6)  # 16-bit PCM quantisation


def test_wrong_checkpoint_is_refused_naming_keys(shared_data, tmp_path, caplog_loguru):
    """A MeloTTS checkpoint where the converter's should be: strict loading names the mismatch."""
    converter_dir = tmp_path / "ckpt" / "converter"
    converter_dir.mkdir(parents=True)
    shutil.copy(shared_data / "golden" / "vc_small_tau0" / "config.json", converter_dir / "config.json")
    shutil.copy(shared_data / "golden" / "tts_small_en" / "checkpoint.pth", converter_dir / "checkpoint.pth")
    args = ["clone", str(shared_data / "audio" / "hello_world.wav"), "--checkpoint-dir", str(tmp_path / "ckpt"), "--backend", "reference"]
    assert cli.main(args) == 2
    assert "unexpected keys" in caplog_loguru.text and "enc_p." in caplog_loguru.text


def test_corrupt_checkpoint_is_a_clear_error(shared_data, tmp_path, caplog_loguru):
    converter_dir = tmp_path / "ckpt" / "converter"
    converter_dir.mkdir(parents=True)
    shutil.copy(shared_data / "openvoice_v2" / "config.json", converter_dir / "config.json")
    (converter_dir / "checkpoint.pth").write_bytes(b"truncated download" * 10)
    args = ["clone", str(shared_data / "audio" / "hello_world.wav"), "--checkpoint-dir", str(tmp_path / "ckpt"), "--backend", "reference"]
    assert cli.main(args) == 2
    assert "not a readable PyTorch checkpoint" in caplog_loguru.text


@pytest.mark.parametrize(
    "target_se, message",
    [("wav", "not a saved speaker embedding"), ("dir", "not a saved speaker embedding"), ("wide", "expected a finite speaker embedding of shape (1, 32, 1)")],
)
def test_convert_rejects_bad_target_embeddings(shared_data, tmp_path, caplog_loguru, target_se, message):
    converter_dir = tmp_path / "ckpt" / "converter"
    converter_dir.mkdir(parents=True)
    for name in ("config.json", "checkpoint.pth"):
        shutil.copy(shared_data / "golden" / "vc_small_tau0" / name, converter_dir / name)
    path = {"wav": shared_data / "audio" / "hello_world.wav", "dir": tmp_path, "wide": tmp_path / "se.pt"}[target_se]
    torch.save(torch.randn(1, 256, 1), tmp_path / "se.pt")  # a V2 (gin 256) embedding for a gin-32 model
    args = ["convert", str(shared_data / "audio" / "hello_world.wav"), "--target-se", str(path),
            "--checkpoint-dir", str(tmp_path / "ckpt"), "--backend", "reference", "--out", str(tmp_path / "o.wav")]
    assert cli.main(args) == 2
    assert message in caplog_loguru.text


def test_cli_errors_are_messages_not_tracebacks(shared_data, real_weights, tmp_path, caplog_loguru):
    tiny = tmp_path / "tiny.wav"
    soundfile.write(tiny, np.random.default_rng(0).normal(0, 0.1, 2000).astype(np.float32), 8000)
    base = ["--checkpoint-dir", str(tmp_path)] + real_weights
    assert cli.main(["clone", str(tiny)] + base) == 2 and "too short" in caplog_loguru.text
    assert cli.main(["clone", str(tmp_path)] + base) == 2 and "is a directory" in caplog_loguru.text
    fake_mp3 = tmp_path / "speech.mp3"
    fake_mp3.write_text("not audio")
    assert cli.main(["clone", str(fake_mp3)] + base) == 2 and "cannot decode" in caplog_loguru.text
    clip = str(shared_data / "audio" / "hello_world.wav")
    assert cli.main(["clone", clip, "--out", str(tmp_path)] + base) == 2  # --out is a directory
