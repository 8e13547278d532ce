"""Voice cloning (`extract_se`) on device: TtnnBackend, VoiceCloner and the CLI, on real weights and speech."""

from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
import ttnn

from models.demos.openvoice.common.audio import AudioError, load_audio
from models.demos.openvoice.common.config import load_config
from models.demos.openvoice.demo.pipeline import ReferenceBackend, SpeakerEmbeddingCache, VoiceCloner, model_fingerprint
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.reference.spectrogram import spectrogram
from models.demos.openvoice.tests.helpers import (
    CONFIG,
    REF_ENC,
    SPEAKERS,
    assert_items_close,
    assert_spectrogram_close,
    bar,
    clip_halves,
    clip_path,
    device_to_host_transfers,
    golden_case,
    reference_encoder,
)
from models.demos.openvoice.tt import backend as backend_module
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE, TtnnBackend
from models.demos.openvoice.tt.conv import PREPARED_SHAPES
from models.common.mock_device import assert_no_host_round_trip, capture
from tests.shared_data import REPO_ROOT, require_shared_data
from tests.ttnn.utils_for_testing import assert_with_pcc

# Embedding bars: helpers.bar(device, "embedding") (PCC and max |error| relative to the embedding's
# peak; float32 convs: bf16 conv storage gave 0.9986 on counting.wav). Spectrograms of real clips:
# helpers.assert_spectrogram_close (first / last frames against their own peak: reflect padding).
DEVICE = pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)


@pytest.fixture
def backend(device) -> TtnnBackend:
    return TtnnBackend(load_config(require_shared_data() / CONFIG), device, reference_encoder())


def _cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a.reshape(1, -1), b.reshape(1, -1)))


def check_embedding(device, name: str, expected: torch.Tensor, actual: torch.Tensor, module: str = "embedding") -> float:
    """[1, gin, 1] embeddings: PCC and max |error| relative to the embedding's peak; returns the PCC."""
    limits = bar(device, module)
    pcc = assert_with_pcc(expected, actual, pcc=limits.pcc)
    assert_items_close(name, expected, actual, pcc=limits.pcc, max_rel=limits.max_rel)
    return pcc


@DEVICE
def test_clips_of_different_lengths_and_speakers_alone_and_averaged(backend: TtnnBackend, device) -> None:
    """The clone entry point `speaker_embedding` on the golden's three real clips (11.0 / 2.7 / 2.9 s,
    three speakers): each clip alone vs upstream's embedding of it, and the average of all three vs
    the reference backend's average AND vs the average of the device's single-clip embeddings (a
    clip embedded twice, dropped or weighted wrongly in the on-device mean fails)."""
    case = golden_case()
    names = list(case["inputs"]["wav_22k"])
    waves = [case["inputs"]["wav_22k"][n].numpy() for n in names]
    assert len({SPEAKERS[n] for n in names}) == len({w.size for w in waves}) == len(names) == 3
    alone = []
    for name, wave in zip(names, waves):
        alone.append(backend.speaker_embedding([wave]))
        # measured PCC > 0.9999995, max_rel <= 9.9e-7 (mock); bar 0.99999 / 1e-5
        check_embedding(device, f"embedding {name}", case["outputs"]["se"][name], alone[-1])
    reference = ReferenceBackend(backend.config, reference_encoder()).speaker_embedding(waves)
    actual = backend.speaker_embedding(waves)
    assert actual.shape == reference.shape == (1, 256, 1)
    check_embedding(device, "mean embedding", reference, actual)  # measured > 0.9999995 / 6.1e-7; bar 0.99999 / 1e-5
    # The same ops on the same shapes: the on-device mean equals the mean of the single-clip runs
    # up to float32 rounding of the sum.
    check_embedding(device, "mean vs alone", torch.stack(alone).mean(0), actual, module="mean_vs_alone")  # measured 7.2e-8; bar 1e-6


@DEVICE
@pytest.mark.parametrize("clip", ["jfk", "one_two_three", "quick_brown_fox", "counting", "hello_world"])
def test_every_real_clip_embeds_like_the_reference(backend: TtnnBackend, device, clip: str) -> None:
    """Whole clips as the CLI loads them (resampled from 44.1/16 kHz), one embedding each."""
    waveform = load_audio(clip_path(clip), 22050)
    reference = ReferenceBackend(backend.config, reference_encoder()).speaker_embedding([waveform])
    # measured PCC > 0.9999995, max_rel <= 1.2e-6 (mock); bar 0.99999 / 1e-5
    check_embedding(device, f"embedding {clip}", reference, backend.speaker_embedding([waveform]))
    # The device spectrogram of the same upload, edge frames at their own scale (reflect padding).
    spec = ttnn.to_torch(backend.speaker_encoder.spectrogram(backend.upload(waveform))).float()
    expected = spectrogram(torch.from_numpy(waveform)[None]).transpose(1, 2).unsqueeze(0)
    assert_spectrogram_close(device, f"spectrogram {clip}", expected, spec)  # measured <= 3.5e-7, edges <= 4.6e-7; bars 1e-5


@DEVICE
def test_clone_forward_has_no_host_round_trip(backend: TtnnBackend) -> None:
    """Waveform upload -> spectrogram -> encoder -> on-device mean: no transfer until the download."""
    uploaded = [backend.upload(w.numpy()) for w in list(golden_case()["inputs"]["wav_22k"].values())[1:]]
    backend.mean_embedding(uploaded)  # first call per input shape prepares (uploads) the conv weights
    report = capture(backend.mean_embedding, uploaded)
    assert_no_host_round_trip(report)
    assert report.operations.count("ttnn.conv2d") == 12 and report.operations[-1] == "ttnn.multiply"


def _speaker_separation(embeddings: list[torch.Tensor], speakers: list[str]) -> tuple[float, float]:
    same, cross = [], []
    for (a, sa), (b, sb) in itertools.combinations(zip(embeddings, speakers), 2):
        (same if sa == sb else cross).append(_cosine(a, b))
    return min(same), max(cross)


@DEVICE
def test_many_reference_lengths_keep_device_memory_bounded(backend: TtnnBackend, device) -> None:
    """A long-lived backend sees a new input shape per reference length: cached conv programs must
    not fill L1_SMALL (their configs live in DRAM) and prepared conv weights stay bounded."""
    rng = np.random.default_rng(0)
    free = []
    for i in range(PREPARED_SHAPES + 3):  # every length a new conv input height (16 frames more)
        backend.speaker_embedding([rng.normal(0, 0.1, 11025 + 4096 * i).astype(np.float32)])
        free.append(ttnn.get_memory_view(device, ttnn.BufferType.L1_SMALL).largest_contiguous_bytes_free_per_bank)
    assert len(set(free)) == 1, f"L1_SMALL shrinks with every new length: {free}"
    assert all(len(conv.prepared.entries) <= PREPARED_SHAPES for conv in backend.speaker_encoder.encoder.convs)


@DEVICE
def test_same_speaker_halves_are_closer_than_other_speakers(backend: TtnnBackend) -> None:
    """On every clip half: min same-speaker cosine > max cross-speaker cosine, reference and TTNN."""
    halves = clip_halves()
    speakers = [speaker for _, speaker, _ in halves]
    reference = ReferenceBackend(backend.config, reference_encoder())
    ref_same, ref_cross = _speaker_separation([reference.speaker_embedding([w]) for _, _, w in halves], speakers)
    tt_same, tt_cross = _speaker_separation([backend.speaker_embedding([w]) for _, _, w in halves], speakers)
    print(f"reference: min same {ref_same:.4f} max cross {ref_cross:.4f}; ttnn: min same {tt_same:.4f} max cross {tt_cross:.4f}")
    assert ref_same > ref_cross
    assert tt_same > tt_cross


def test_cli_clone_matches_reference(tmp_path: Path, device_is_mock: bool) -> None:
    """`cli clone --backend ttnn --device-mode <this session's mode>` in its own process (it opens
    its own device, so this test holds none: a card cannot be opened by two processes)."""
    out = tmp_path / "se.pt"
    clip = clip_path("one_two_three")
    command = [sys.executable, "-m", "models.demos.openvoice.demo.cli", "clone", str(clip), "--out", str(out),
               "--checkpoint-dir", str(tmp_path / "none"), "--config", str(require_shared_data() / CONFIG),
               "--ref-enc", str(require_shared_data() / REF_ENC), "--backend", "ttnn",
               "--device-mode", "mock" if device_is_mock else "real"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert f"backend {'ttnn-mock' if device_is_mock else 'ttnn'})" in proc.stdout
    config = load_config(require_shared_data() / CONFIG)
    cloner = VoiceCloner(config, ReferenceBackend(config, reference_encoder()), SpeakerEmbeddingCache("test"))
    expected = cloner.extract_se([clip])
    actual = torch.load(out, weights_only=True)
    check_embedding(device_is_mock, "cli embedding", expected, actual)  # the subprocess runs in this session's mode


def _cloner(backend: TtnnBackend) -> VoiceCloner:
    return VoiceCloner(backend.config, backend, SpeakerEmbeddingCache(model_fingerprint(reference_encoder().state_dict())))


@DEVICE
@pytest.mark.parametrize(
    "make_clip, message",
    [
        (lambda tmp: [], "at least one reference clip"),
        (lambda tmp: [np.zeros(0, dtype=np.float32)], "empty audio"),  # checked before the length (common/audio.py)
        (lambda tmp: [np.zeros(22050, dtype=np.float32)], "silent"),
        (lambda tmp: [np.random.default_rng(0).normal(0, 0.1, 5000).astype(np.float32)], "too short"),
        (lambda tmp: [_write(tmp / "corrupt.wav", b"RIFF....not audio")], "cannot decode"),
        (lambda tmp: [_write_wav(tmp / "empty.wav", np.zeros(0, dtype=np.float32))], "empty audio"),
        (lambda tmp: [tmp / "missing.wav"], "file not found"),
    ],
    ids=["no-clips", "empty-array", "silent", "short", "corrupt-file", "empty-file", "missing-file"],
)
def test_bad_references_give_clear_errors(backend: TtnnBackend, tmp_path: Path, make_clip, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        _cloner(backend).extract_se(make_clip(tmp_path))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _write_wav(path: Path, audio: np.ndarray) -> Path:
    soundfile.write(path, audio, 22050)
    return path


@DEVICE
def test_repeated_clone_is_served_from_the_cache(backend: TtnnBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    run = backend.speaker_embedding
    monkeypatch.setattr(backend, "speaker_embedding", lambda waveforms: calls.append(len(waveforms)) or run(waveforms))
    cloner = _cloner(backend)
    clip = clip_path("hello_world")
    first = cloner.extract_se([clip])
    second = cloner.extract_se([clip])
    assert calls == [1] and cloner.cache.hits == 1
    assert torch.equal(first, second)


@DEVICE
def test_convert_on_device_matches_reference(device) -> None:
    """Device spectrogram + TtToneColorConverter through the backend, on the small golden converter
    (the real enc_q/flow/dec are not available) with tau = 0 so both sides are deterministic."""
    folder = require_shared_data() / "golden/vc_small_tau0"
    config = load_config(folder / "config.json")
    converter = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    waveform = load_audio(clip_path("hello_world"), config.data.sampling_rate)
    g_src, g_tgt = (torch.randn(1, config.model.gin_channels, 1, generator=torch.Generator().manual_seed(s)) for s in (1, 2))
    expected = ReferenceBackend(config, converter.ref_enc, converter).voice_conversion(waveform, g_src, g_tgt, tau=0.0)
    actual = TtnnBackend(config, device, converter.ref_enc, converter).voice_conversion(waveform, g_src, g_tgt, tau=0.0)
    assert actual.shape == expected.shape == (waveform.size // 256 * 256,)
    # The converter's end-to-end audio bar (helpers.bar "audio"), whole and at the audio's scale
    # (first / last samples too); measured 0.999969 / 6.7e-3 (mock); bar 0.9988 / 0.04
    limits = bar(device, "audio")
    assert_with_pcc(torch.from_numpy(expected), torch.from_numpy(actual), pcc=limits.pcc)
    assert_items_close("backend audio", expected[None, None], actual[None, None], pcc=limits.pcc, max_rel=limits.max_rel)


@DEVICE
def test_convert_from_waveform_has_no_host_round_trip(device) -> None:
    """Waveform upload -> device spectrogram -> converter -> audio: the spectrogram never leaves the device."""
    folder = require_shared_data() / "golden/vc_small_tau0"
    config = load_config(folder / "config.json")
    converter = ToneColorConverter.load(folder / "config.json", folder / "checkpoint.pth")
    backend = TtnnBackend(config, device, converter.ref_enc, converter)
    waveform = load_audio(clip_path("hello_world"), config.data.sampling_rate)
    g = torch.zeros(1, config.model.gin_channels, 1)
    backend.voice_conversion(waveform, g, g, tau=0.0)  # first call per length prepares the conv weights
    uploaded = backend.upload(waveform)
    report = capture(lambda: backend.tt_converter.forward(backend.prepare_conversion(uploaded, g, g, tau=0.0)))
    # No read-back at all; the only transfers are prepare_inputs' uploads of host-built inputs
    # (mask, tau*noise, segment matrix S, g_src, g_tgt), never the spectrogram.
    assert report.host_transfers == ["ttnn.from_torch"] * 5, report.host_transfers


@DEVICE
def test_convert_needs_the_converter_checkpoint(backend: TtnnBackend) -> None:
    with pytest.raises(RuntimeError, match="converter checkpoint"):
        backend.voice_conversion(np.zeros(22050, dtype=np.float32), torch.zeros(1, 256, 1), torch.zeros(1, 256, 1), 0.3)


@DEVICE
def test_clone_cold_call_at_a_new_length_only_uploads(backend: TtnnBackend) -> None:
    """The FIRST call at a new reference length prepares the conv2d weights for that shape: host->device
    uploads (prepared weights, conv configs) only, never a read-back (to_torch / Tensor::cpu /
    from_device). Warm calls make no transfer at all (test_clone_forward_has_no_host_round_trip)."""
    uploaded = [backend.upload(w.numpy()) for w in list(golden_case()["inputs"]["wav_22k"].values())[1:]]
    report = capture(backend.mean_embedding, uploaded)  # cold: a fresh backend has nothing prepared
    assert report.num_host_transfers > 0, "a cold call must upload the prepared conv weights"
    assert device_to_host_transfers(report) == [], report.host_transfers
    assert report.operations.count("ttnn.conv2d") == 12


def _noise(samples: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, samples).astype(np.float32)


@DEVICE
def test_program_cache_stays_bounded_over_many_lengths(device) -> None:
    """A long-lived backend sees a new input length per call and ~4 new programs per conv per length:
    `TtnnBackend` clears the program cache between calls once it exceeds its cap, so the entry
    count stays below cap + one call's programs; results after a clear are unchanged."""
    config = load_config(require_shared_data() / CONFIG)
    lengths = [11025 + 4096 * i for i in range(8)]  # every one a new conv input height
    probe = TtnnBackend(config, device, reference_encoder())
    start = device.num_program_cache_entries()
    probe.speaker_embedding([_noise(lengths[0])])
    per_call = device.num_program_cache_entries() - start  # programs one new length adds (at most)
    assert per_call > 0
    cap = 2 * per_call
    backend = TtnnBackend(config, device, reference_encoder(), max_program_cache_entries=cap)
    first = backend.speaker_embedding([_noise(lengths[1])])
    counts = []
    for samples in lengths[2:]:
        backend.speaker_embedding([_noise(samples)])
        counts.append(device.num_program_cache_entries())
    assert backend.program_cache_clears >= 1, counts
    assert max(counts) <= cap + per_call, (counts, cap, per_call)
    assert torch.equal(backend.speaker_embedding([_noise(lengths[1])]), first)  # programs rebuilt after a clear


@DEVICE
def test_close_waits_for_an_in_flight_call(backend: TtnnBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """close() takes the call lock: it returns only after a running call finished; later calls fail clearly."""
    started, release, results = threading.Event(), threading.Event(), []
    run = backend.mean_embedding

    def slow(uploaded):
        started.set()
        assert release.wait(30)
        return run(uploaded)

    monkeypatch.setattr(backend, "mean_embedding", slow)
    worker = threading.Thread(target=lambda: results.append(backend.speaker_embedding([_noise(11025)])))
    worker.start()
    assert started.wait(30)
    closer = threading.Thread(target=backend.close)
    closer.start()
    closer.join(0.5)
    assert closer.is_alive(), "close() did not wait for the in-flight call"
    release.set()
    worker.join(120)
    closer.join(30)
    assert not closer.is_alive() and results and results[0].shape == (1, 256, 1)
    with pytest.raises(RuntimeError, match="closed"):
        backend.speaker_embedding([_noise(11025)])


@DEVICE
def test_open_exit_hook_holds_the_device_not_the_backend(device, monkeypatch: pytest.MonkeyPatch) -> None:
    """TtnnBackend.open registers one exit hook that closes its device; the hook does not keep the
    backend (and its model) alive, and close() unregisters it."""
    hooks, closed = [], []
    monkeypatch.setattr(backend_module, "open_device", lambda mode, l1_small_size: (device, True))
    monkeypatch.setattr(backend_module, "close_device", closed.append)
    monkeypatch.setattr(backend_module.atexit, "register", hooks.append)
    monkeypatch.setattr(backend_module.atexit, "unregister", hooks.remove)
    config = load_config(require_shared_data() / CONFIG)

    backend = TtnnBackend.open(config, reference_encoder())
    assert len(hooks) == 1
    backend.close()
    assert hooks == [] and closed == [device]

    backend = TtnnBackend.open(config, reference_encoder())
    alive = weakref.ref(backend)
    del backend
    gc.collect()
    assert alive() is None, "the exit hook keeps the backend alive"
    hooks.pop()()  # what interpreter exit would run
    assert closed == [device, device]
