"""pytest demo targets (tt-metal style): `pytest models/demos/openvoice/demo/demo.py`.

* `test_demo_clone`: clone voices from real speech with the real V2 reference-encoder
  weights on the device (real card, or the mock Wormhole here), compared with the reference.
* `test_demo_convert`: the full OpenVoice V2 conversion with the official converter
  checkpoint (`$OPENVOICE_CHECKPOINT_DIR`, default `checkpoints_v2/`); skips with
  "official checkpoint not found" until it is downloaded.

Outputs (embeddings, converted audio) go to `outputs/demo/`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from loguru import logger

from models.demos.openvoice.common.audio import write_wav
from models.demos.openvoice.common.config import load_config
from models.demos.openvoice.demo.pipeline import ReferenceBackend, SpeakerEmbeddingCache, VoiceCloner, model_fingerprint
from models.demos.openvoice.reference.reference_encoder import load_reference_encoder
from models.demos.openvoice.reference.tone_color_converter import ToneColorConverter
from models.demos.openvoice.tests.helpers import module_pcc
from models.demos.openvoice.tt.backend import L1_SMALL_SIZE, TtnnBackend

OUTPUT_DIR = Path("outputs/demo")
CLIPS = {"jfk": "jfk.flac", "one_two_three": "one_two_three.wav", "quick_brown_fox": "quick_brown_fox.wav"}


def _cloner(backend, config) -> VoiceCloner:
    return VoiceCloner(config, backend, SpeakerEmbeddingCache(backend.name))


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_demo_clone(device, shared_data: Path) -> None:
    v2 = shared_data / "openvoice_v2"
    config = load_config(v2 / "config.json")
    ref_enc = load_reference_encoder(v2 / "ref_enc" / "ref_enc.pt")
    on_device = _cloner(TtnnBackend(config, device, ref_enc), config)
    on_host = _cloner(ReferenceBackend(config, ref_enc), config)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, filename in CLIPS.items():
        clip = shared_data / "audio" / filename
        se = on_device.extract_se([clip])
        timing = on_device.last_timing
        expected = on_host.extract_se([clip])
        cosine = float(torch.nn.functional.cosine_similarity(se.flatten(), expected.flatten(), dim=0))
        logger.info(f"{name}: {timing.audio_seconds:.1f} s reference, {timing.seconds * 1000:.0f} ms on {on_device.backend.name}, cosine to reference {cosine:.5f}")
        torch.save(se, OUTPUT_DIR / f"{name}_se.pt")
        # Embedding agreement with the float32 reference, expressed as cosine: the project's embedding
        # bars (tests/helpers.py: module_pcc). Everything on the clone path stores float32
        # (tt/reference_encoder.py CONV_DTYPE); mock = golden numerics, device = tf32 operands at HiFi3.
        assert cosine >= module_pcc(device), name


@pytest.mark.parametrize("device_params", [{"l1_small_size": L1_SMALL_SIZE}], indirect=True)
def test_demo_convert(device, shared_data: Path) -> None:
    checkpoint_dir = Path(os.environ.get("OPENVOICE_CHECKPOINT_DIR", "checkpoints_v2"))
    checkpoint = checkpoint_dir / "converter" / "checkpoint.pth"
    if not checkpoint.is_file():
        pytest.skip(f"official checkpoint not found: {checkpoint} (python -m models.demos.openvoice.common.download)")
    config = load_config(checkpoint_dir / "converter" / "config.json")
    converter = ToneColorConverter.load(checkpoint_dir / "converter" / "config.json", checkpoint)
    cloner = _cloner(TtnnBackend(config, device, converter.ref_enc, converter), config)
    source = shared_data / "audio" / "quick_brown_fox.wav"
    g_src = cloner.extract_se([source])
    g_tgt = cloner.extract_se([shared_data / "audio" / "jfk.flac"])
    audio = cloner.convert(source, g_src, g_tgt, tau=0.3)
    timing = cloner.last_timing
    path = write_wav(OUTPUT_DIR / "quick_brown_fox_as_jfk.wav", audio, config.data.sampling_rate)
    logger.info(f"converted {timing.audio_seconds:.2f} s in {timing.seconds:.2f} s (RTF {timing.rtf:.3f}) -> {path}")
    assert audio.ndim == 1 and audio.size > 0 and bool(torch.isfinite(torch.from_numpy(audio)).all())
    assert float(abs(audio).max()) <= 1.0  # tanh output
